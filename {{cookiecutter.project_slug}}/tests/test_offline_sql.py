"""`alembic upgrade head --sql` renders for every dialect, without a database."""

import io

import pytest
from alembic import command

from .migration_steps import alembic_config, revisions

DIALECTS = ["sqlite", "postgresql", "mysql", "mariadb"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_upgrade_renders_as_sql(dialect: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"{dialect}://")
    config = alembic_config()
    config.output_buffer = io.StringIO()

    command.upgrade(config, "head", sql=True)

    sql = config.output_buffer.getvalue()
    missing = [s.revision for s in revisions() if s.revision not in sql]
    assert not missing, f"--sql stopped before revisions {missing}"
