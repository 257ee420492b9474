"""Run the sample revision's upgrade with its data step swapped for another.

The schema steps stay exactly the sample's, so a contender differs from the
sample revision only in how it moves the data. The sample revision passes its
data statements to ``execute(...)`` once in upgrade(); a contender replaces
that call.
"""

from collections.abc import Callable
from types import ModuleType
from typing import Any

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory

from database import bench_engine


def sample_revision() -> ModuleType:
    """The head revision of the baked project (run from its root)."""
    script = ScriptDirectory.from_config(Config("alembic.ini"))
    return script.get_revision(script.get_current_head()).module


def upgrade_with(data_step: Callable[[ModuleType], Any]) -> None:
    """Upgrade DATABASE_URL from revision 1 with ``data_step(revision)``."""
    revision = sample_revision()
    revision.execute = lambda *sample_statements: data_step(revision)
    engine = bench_engine()
    with (
        engine.begin() as connection,
        Operations.context(MigrationContext.configure(connection)),
    ):
        revision.upgrade()
    engine.dispose()
