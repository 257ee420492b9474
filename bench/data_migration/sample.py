"""Run the sample revision's upgrade with its data step swapped for another.

The schema steps stay exactly the sample's, so a contender differs from the
sample revision only in how it moves the data. The sample revision runs its
data statements through the one ``migration_session()`` of its upgrade(); a
contender's data step runs where that session opens, and the session the
sample gets leaves its statements unrun. ``set_from()`` is swapped too: on
SQLite the sample's table copy would compute team_id itself otherwise.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class UnrunStatements:
    """The sample's session, once a contender has moved the data instead."""

    def execute(self, *sample_statement: Any, **_: Any) -> None:
        return None


def upgrade_with(data_step: Callable[[ModuleType], Any]) -> None:
    """Upgrade DATABASE_URL from revision 1 with ``data_step(revision)``."""
    revision = sample_revision()

    @contextmanager
    def contender_session() -> Iterator[UnrunStatements]:
        data_step(revision)
        yield UnrunStatements()

    revision.migration_session = contender_session
    revision.set_from = lambda *sample_update: None
    engine = bench_engine()
    with (
        engine.begin() as connection,
        Operations.context(MigrationContext.configure(connection)),
    ):
        revision.upgrade()
    engine.dispose()
