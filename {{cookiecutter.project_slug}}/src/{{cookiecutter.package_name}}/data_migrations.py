"""Helpers for the data steps of a revision.

These are tools, like Alembic's ``op``: they never describe tables. Tables are
described by the frozen models inside each revision.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context, op
from alembic.util import CommandError
from sqlalchemy import Unicode
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable


@contextmanager
def migration_session() -> Iterator[Session]:
    """A Session on the connection Alembic is migrating with.

    Alembic owns the transaction: it commits after the revision (or rolls back
    if it fails), so never call ``session.commit()`` here. Pending changes are
    flushed when the block ends.
    """
    if context.is_offline_mode():
        raise CommandError(
            "this revision loads rows through a Session, which --sql cannot render: "
            "run it against a database, or write its data step as set-based "
            "statements passed to execute()."
        )
    with Session(bind=op.get_bind()) as session:
        yield session
        session.flush()


def execute(*statements: Executable) -> None:
    """Run set-based statements, or render them as SQL with ``--sql``.

    Set-based statements (INSERT ... SELECT, UPDATE ... WHERE) do the work in
    the database, so they take the same time and memory for ten rows or ten
    million, and they can be printed for review in offline mode.
    """
    if context.is_offline_mode():
        for statement in statements:
            op.execute(statement)
        return
    with migration_session() as session:
        for statement in statements:
            session.execute(statement)


def exact_unicode(length: int) -> Unicode:
    """Unicode text compared exactly: "Reds", "reds" and "Reds " all differ.

    SQLite and PostgreSQL compare text exactly already. The default collations
    of MySQL and MariaDB ignore case and trailing spaces, which would merge
    different names into one row and break unique constraints on them.
    """
    dialect = op.get_context().dialect
    if dialect.name not in ("mysql", "mariadb"):
        return Unicode(length)
    collation = "utf8mb4_nopad_bin" if dialect.is_mariadb else "utf8mb4_0900_bin"
    return Unicode(length, collation=collation)
