"""SQLite: a revision that fails leaves nothing behind, and no row is lost.

pysqlite (Python's sqlite3) commits on its own before DDL, so by default a
revision that fails half way keeps what it did, including the
``_alembic_tmp_<table>`` copy of a batch operation. SQLAlchemy's documented
recipe hands transactions back to SQLAlchemy: every revision becomes one real
SQLite transaction, undone as a whole when it fails.

Foreign keys are OFF while migrating: a batch operation rebuilds a table by
copying it and dropping the original, and with foreign keys on, dropping a
referenced table deletes every ``ON DELETE CASCADE`` child row. Instead each
revision ends with ``PRAGMA foreign_key_check``, and any violation fails it.
"""

from typing import Any

from alembic.util import CommandError
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


def make_transactional(engine: Engine, wait_seconds: int | None = None) -> None:
    """Apply the recipe to a SQLite engine: real transactions, foreign keys off.

    For aiosqlite, pass the AsyncEngine's ``sync_engine``: SQLAlchemy's
    aiosqlite documentation gives the same recipe on it.

    ``wait_seconds``, for a migration run: each transaction takes the write
    lock as it begins (BEGIN IMMEDIATE) and waits up to that long for another
    run's. Begun as a reader, a revision that then writes could find another
    run's write pending, and SQLite fails one of them at once rather than let
    both wait: "database is locked".
    """
    begin = "BEGIN" if wait_seconds is None else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop pysqlite from beginning and committing transactions itself.
        dbapi_connection.isolation_level = None
        # Set here, outside any transaction: inside one SQLite ignores it.
        # Through a cursor: aiosqlite's adapted connection has no execute().
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = OFF")
        if wait_seconds is not None:
            cursor.execute(f"PRAGMA busy_timeout = {int(wait_seconds) * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Alembic's autocommit_block() (backfill.py) asks for every statement
        # to commit on its own: no BEGIN then.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql(begin)


def check_foreign_keys(ctx: Any, step: Any, **_: Any) -> None:
    """Fail the revision that just ran if it left rows with a broken foreign key.

    Alembic calls this (``on_version_apply``) inside the revision's transaction,
    so failing here rolls the revision back.
    """
    connection = ctx.connection
    if connection is None or connection.dialect.name != "sqlite":
        return
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if problems:
        table, _rowid, parent, _fk = problems[0]
        revision = ", ".join(step.up_revision_ids)
        raise CommandError(
            f"revision {revision} was rolled back: it leaves {len(problems)} "
            f"row(s) in {table} whose foreign key points at no row of {parent}; "
            "fix its data step so every reference has a parent."
        )
