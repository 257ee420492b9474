"""The models describe the schema the migrations build, on every backend.

The check is `alembic check`'s comparison, run through env.py on the test
database, so it compares with the very options `make check` and `make
autorevision` use (``comparison.py``). A difference names the likely fix
first: what the migrations create and models.py lacks calls for an update of
models.py (or alembic.ini's not_ours), what models.py adds for a revision;
then the operations autogenerate would write, one per line.
"""

import pytest

from ..app_python import handed_in
from ..comparison import models_advice
from . import app_revisions
from .migration_steps import (
    MigrationSteps,
    alembic_config,
    one_line_failure,
    script_directory,
)


def test_models_match_migrations_at_head(steps_near_head: MigrationSteps) -> None:
    with one_line_failure():
        steps_near_head.upgrade("head")

    found = differences_from_models(steps_near_head)

    if found:
        pytest.fail(found)


def differences_from_models(steps: MigrationSteps) -> str:
    """``comparison.models_advice`` on this database, where models.py imports."""
    if app_revisions.python():
        return app_revisions.models_advice(steps.engine.url)
    config = alembic_config()
    with steps.engine.connect() as connection, handed_in(config, connection):
        return models_advice(config, script_directory())
