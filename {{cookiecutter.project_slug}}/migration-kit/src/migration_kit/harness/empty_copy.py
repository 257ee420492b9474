"""SQLite: the last fresh database as its replay left it, to start the next from.

After a failure the stairway goes on on a fresh database, upgraded through
every revision that upgraded so far (stairway.py). Replayed from base each
time, a history with many failures climbed it again and again: mlflow's
naively ported history made 16 fresh databases, a third of its SQLite climb.
A copy is taken right after each replay, before any row is seeded; the next
fresh database starts from it and upgrades only the revisions since. SQLite's
backup API copies the database page by page. Other backends replay from base.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.script import Script


class EmptyCopy:
    """A copy of one fresh database's schema, and the revisions it holds."""

    def __init__(self) -> None:
        self.path: Path | None = None  # set by the first keep()
        self.holds: list[str] = []  # the revisions upgraded in it, in order

    def restore(self, engine: sa.Engine, upgraded: list[Script]) -> int:
        """Fill ``engine``'s new, empty database from the copy when the copy
        holds the first of ``upgraded``; how many of them it holds."""
        names = [script.revision for script in upgraded]
        if not self.holds or not sqlite(engine):
            return 0
        if names[: len(self.holds)] != self.holds:
            return 0
        with closing(sqlite3.connect(self.path)) as copy, driver(engine) as new:
            copy.backup(new)
        return len(self.holds)

    def keep(self, engine: sa.Engine, upgraded: list[Script]) -> None:
        """Copy ``engine``'s database, which holds exactly ``upgraded``."""
        if not sqlite(engine) or not upgraded:
            return
        if self.path is None:
            self.path = Path(engine.url.database or "").with_suffix(".empty-copy")
        with closing(sqlite3.connect(self.path)) as copy, driver(engine) as fresh:
            fresh.backup(copy)
        self.holds = [script.revision for script in upgraded]

    def remove(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def sqlite(engine: sa.Engine) -> bool:
    # A file: an in-memory database has nothing to copy from or to.
    return engine.dialect.name == "sqlite" and bool(engine.url.database)


@contextmanager
def driver(engine: sa.Engine) -> Iterator[sqlite3.Connection]:
    """The sqlite3 connection under one of ``engine``'s, for its backup API."""
    connection = engine.raw_connection()
    try:
        yield connection.driver_connection
    finally:
        connection.close()
