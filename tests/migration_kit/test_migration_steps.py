"""MigrationSteps reads a table's shape once, until a statement changes it,
and leaves each step's connection as if new for the next."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from migration_kit.harness import MigrationSteps
from migration_kit.harness.migration_steps import as_if_new


def test_a_table_is_reflected_once_until_a_schema_changes(
    database: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A project to run in: no revision is run here.
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    monkeypatch.chdir(tmp_path)
    steps = MigrationSteps(database)
    with database.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(10))"
        )
    steps.insert("t", [{"id": 2, "name": "b"}, {"id": 1, "name": "a"}])
    statements: list[str] = []

    def seen(connection, cursor, statement: str, *args: object) -> None:
        statements.append(statement)

    sa.event.listen(database, "after_cursor_execute", seen)
    try:
        assert steps.rows("t") == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
        steps.delete("t")
        # SQLite's BEGIN aside (sqlite.py), the SELECT and the DELETE only.
        assert [s.split()[0] for s in statements if s != "BEGIN"] == [
            "SELECT",
            "DELETE",
        ]
        with database.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE t ADD COLUMN score INTEGER")
        steps.insert("t", [{"id": 3, "name": "c", "score": 7}])
        assert steps.rows("t") == [{"id": 3, "name": "c", "score": 7}]
    finally:
        sa.event.remove(database, "after_cursor_execute", seen)


def test_a_statement_runs_at_every_step_on_a_connection_handed_back(
    database: sa.Engine,
) -> None:
    # As Alembic's look for its version table does, at every step, on the
    # connection the step before handed back (psycopg prepares it at the fifth).
    for step in range(10):
        with database.connect() as connection:
            query = sa.text("SELECT :step WHERE 1 = 1")
            assert connection.scalar(query, {"step": step}) == step
            connection.commit()
            as_if_new(connection)
