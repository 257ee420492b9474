"""One migration run at a time per database, so every replica may run migrate.

Two deploys that start together both run ``alembic upgrade head``. Each takes
this lock before Alembic reads the database's revision and releases it when
done, so the second one waits, then finds the database at head and does
nothing. Without it the second run applies the same revisions again and fails.

- PostgreSQL: a session-level advisory lock. The transaction-level kind
  (``pg_advisory_xact_lock``) would be released at the first revision's commit.
  Advisory locks belong to one database, so the key only names the project.
- MySQL/MariaDB: ``GET_LOCK``, held by the session. Its names are server-wide,
  so the name holds the database's name too.
- SQLite: no lock here. Each revision takes SQLite's own write lock as it
  begins (sqlite.py), so a second run waits for it as long as for this lock.

MIGRATION_LOCK_WAIT (seconds, default 300) is how long a run waits for another.
Whatever ends the wait early (the server cancels or kills it, the connection
drops) fails the run in one line: nothing has been migrated by then.
"""

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from .database import commit, rollback
from .driver_errors import sqlstate
from .errors import NOTHING_MIGRATED, one_line
from .settings import setting

WAIT_VARIABLE = "MIGRATION_LOCK_WAIT"
DEFAULT_WAIT_SECONDS = 300
WHOLE_NUMBER = re.compile(r"[0-9]+")
# PostgreSQL's lock_timeout is a 32-bit count of milliseconds: about 24 days.
MAX_WAIT_SECONDS = (2**31 - 1) // 1000
# MySQL refuses longer GET_LOCK names.
MYSQL_NAME_LIMIT = 64


def migration_lock(
    connection: Connection, schema: str | None = None
) -> AbstractContextManager[None]:
    """Hold this project's migration lock on the database (or on one tenant's
    ``schema`` in it, tenants.py) while the block runs."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return _postgresql_lock(connection, wait_seconds(), postgresql_key(schema))
    if dialect in ("mysql", "mariadb"):
        return _mysql_lock(connection, wait_seconds())
    return nullcontext()


def wait_seconds() -> int:
    raw = os.environ.get(WAIT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_WAIT_SECONDS
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not WHOLE_NUMBER.fullmatch(raw) or not 0 < int(raw) <= MAX_WAIT_SECONDS:
        raise CommandError(
            f"{WAIT_VARIABLE}={raw!r} is not a number of seconds from 1 to "
            f"{MAX_WAIT_SECONDS}: set e.g. {WAIT_VARIABLE}=600."
        )
    return int(raw)


def postgresql_key(schema: str | None = None) -> int:
    """The advisory lock key: a signed 64-bit number derived from the project,
    and from the tenant's schema for a tenant's run."""
    name = setting("lock_name") + (f":{schema}" if schema else "")
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def mysql_name(database: str) -> str:
    name = f"{setting('lock_name')}:{database}"
    if len(name) <= MYSQL_NAME_LIMIT:
        return name
    return hashlib.sha256(name.encode()).hexdigest()[:MYSQL_NAME_LIMIT]


@contextmanager
def _postgresql_lock(connection: Connection, wait: int, number: int) -> Iterator[None]:
    key = {"key": number}
    # lock_timeout also bounds the wait for an advisory lock. A role's or
    # database's statement_timeout would cut it short: MIGRATION_LOCK_WAIT
    # alone bounds it (the run sets its own statement_timeout once it holds
    # the lock, timeouts.py).
    wait_for = text(
        "SELECT set_config('lock_timeout', :wait, false),"
        " set_config('statement_timeout', '0', false)"
    )
    with _waiting(wait):
        connection.execute(wait_for, {"wait": f"{wait}s"})
        connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
        # Alembic never commits what ran before context.configure(): commit
        # it, or the whole upgrade would be rolled back with it.
        commit(connection)
    try:
        yield
    finally:
        _release(connection, "SELECT pg_advisory_unlock(:key)", key)


@contextmanager
def _mysql_lock(connection: Connection, wait: int) -> Iterator[None]:
    with _waiting(wait):
        name = {"name": mysql_name(connection.scalar(text("SELECT DATABASE()")))}
        get_lock = text("SELECT GET_LOCK(:name, :wait)")
        acquired = connection.scalar(get_lock, {**name, "wait": wait})
        commit(connection)
    # 0: the wait ran out; NULL: it was ended early (KILL QUERY, an error).
    if acquired is None:
        raise _wait_ended("GET_LOCK returned NULL: the wait was killed or failed")
    if acquired != 1:
        raise _still_locked(wait)
    try:
        yield
    finally:
        _release(connection, "SELECT RELEASE_LOCK(:name)", name)


@contextmanager
def _waiting(wait: int) -> Iterator[None]:
    """Any database error while taking the lock becomes one line."""
    try:
        yield
    # DBAPIError: asyncpg's lock_not_available is not an OperationalError.
    except DBAPIError as error:
        if sqlstate(error.orig) == "55P03":  # lock_not_available
            raise _still_locked(wait) from None
        reason = f"{type(error.orig).__name__}: {one_line(error.orig)}"
        raise _wait_ended(reason, lost=error.connection_invalidated) from None


def _release(connection: Connection, statement: str, parameters: dict) -> None:
    # A connection that broke has lost its session, and the lock with it.
    if connection.invalidated:
        return
    rollback(connection)
    connection.execute(text(statement), parameters)
    commit(connection)


def _still_locked(wait: int) -> CommandError:
    return CommandError(
        f"another migration run still holds the migration lock after {wait}s, "
        f"so {NOTHING_MIGRATED}: let it finish and run again, or wait longer "
        f"with {WAIT_VARIABLE}=<seconds>."
    )


def _wait_ended(reason: str, lost: bool = False) -> CommandError:
    """The wait for the lock ended early, by the server's hand or a lost connection."""
    if lost:
        what = "the connection to the database was lost while waiting for"
        do = "check that the server is up, then run again"
    else:
        what = "the server stopped the wait for"
        do = "find out who stopped it and why, then run again"
    return CommandError(
        f"{what} the migration lock ({reason}), so {NOTHING_MIGRATED}: {do}."
    )
