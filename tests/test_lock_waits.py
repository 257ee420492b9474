"""Waits for locks end in one line, and no sooner or later than they should.

A run first waits for the migration lock (locking.py): however that wait
ends, by running out, by the server's hand or by a lost connection, the run
prints one ``FAILED:`` line saying that it changed nothing. Then each
statement waits for the locks it needs at most MIGRATION_LOCK_TIMEOUT, on
MySQL/MariaDB as on PostgreSQL (timeouts.py).
"""

import time

import pytest
import sqlalchemy as sa

from .logins import alembic_failure, database_with_login
from .production import (
    FIRST,
    HEAD,
    PLAYERS,
    alembic,
    execute,
    extra_revision,
    finish,
    holding,
    migration_lock_held,
    rows,
    start_alembic,
    succeeded,
    table_names,
    version,
    waiting_session,
)

NOTHING_CHANGED = "this run changed nothing in the database"
# The session of a run that waits for the migration lock, and how to end it.
WAITING = {
    "postgresql": "SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"
    " AND wait_event_type = 'Lock' AND query LIKE '%%pg_advisory_lock%%'",
    "mysql": "SELECT id FROM information_schema.processlist WHERE db = '{database}'"
    " AND info LIKE 'SELECT GET_LOCK%%' AND id <> CONNECTION_ID()",
}
STOPS = {
    "pg_cancel_backend": (
        "postgresql",
        "the server stopped the wait for the migration lock (QueryCanceled: "
        "canceling statement due to user request)",
    ),
    "pg_terminate_backend": (
        "postgresql",
        "the connection to the database was lost while waiting for the migration "
        "lock (AdminShutdown: terminating connection due to administrator command)",
    ),
    "KILL QUERY": (
        "mysql",
        "the server stopped the wait for the migration lock (GET_LOCK returned "
        "NULL: the wait was killed or failed)",
    ),
    "KILL": (
        "mysql",
        "the connection to the database was lost while waiting for the migration "
        "lock (OperationalError: (2013, 'Lost connection to MySQL server during "
        "query'))",
    ),
}


@pytest.mark.parametrize("level", ["ROLE", "DATABASE"])
def test_a_statement_timeout_does_not_cut_the_wait_short(project, level, tmp_path):
    """A role's or database's statement_timeout leaves MIGRATION_LOCK_WAIT in charge."""
    with (
        database_with_login("postgresql", tmp_path) as (url, admin_url),
        migration_lock_held(project, admin_url),
    ):
        target = sa.make_url(url)
        name = target.username if level == "ROLE" else f'"{target.database}"'
        execute(admin_url, f"ALTER {level} {name} SET statement_timeout = '1s'")
        started = time.monotonic()
        result = alembic(project, url, "upgrade", "head", MIGRATION_LOCK_WAIT="3")
        line = alembic_failure(result)
        assert time.monotonic() - started >= 3
        assert "still holds the migration lock after 3s" in line
        assert NOTHING_CHANGED in line and "MIGRATION_LOCK_WAIT" in line
        assert "alembic_version" not in table_names(admin_url)


@pytest.mark.parametrize("stop", list(STOPS))
def test_a_wait_that_the_server_ends_is_one_line(project, stop, tmp_path):
    backend, words = STOPS[stop]
    with (
        database_with_login(backend, tmp_path) as (url, admin_url),
        migration_lock_held(project, admin_url),
    ):
        process = start_alembic(project, url, "upgrade", "head")
        database = sa.make_url(admin_url).database
        waiting = WAITING[backend].format(database=database)
        session = waiting_session(admin_url, waiting, process)
        if backend == "postgresql":
            execute(admin_url, f"SELECT {stop}({session})")
        else:
            execute(admin_url, f"{stop} {session}")
        line = alembic_failure(finish(process))
        assert words in line
        assert NOTHING_CHANGED in line
        assert "after 300s" not in line
        assert "alembic_version" not in table_names(admin_url)


# An open transaction that has read players holds a metadata lock on it until
# it ends; one that locked a row holds that row.
BLOCKERS = {
    "metadata": (
        "SELECT count(*) FROM players",
        '    op.add_column("players", sa.Column("rating", sa.Integer()))\n',
    ),
    "row": (
        "SELECT id FROM players WHERE id = 1 FOR UPDATE",
        "    op.execute(\"UPDATE players SET name = 'changed' WHERE id = 1\")\n",
    ),
}


@pytest.mark.parametrize("lock", list(BLOCKERS))
def test_mysql_migration_blocked_by_a_lock_fails_fast(project, lock, tmp_path):
    """MIGRATION_LOCK_TIMEOUT bounds MySQL's metadata and row lock waits too."""
    blocker, body = BLOCKERS[lock]
    with (
        database_with_login("mysql", tmp_path) as (url, admin_url),
        extra_revision(project, "f00dbad00005", HEAD, body),
    ):
        succeeded(alembic(project, url, "upgrade", FIRST))
        execute(url, PLAYERS)
        succeeded(alembic(project, url, "upgrade", HEAD))
        with holding(admin_url, blocker):
            started = time.monotonic()
            result = alembic(
                project, url, "upgrade", "head", MIGRATION_LOCK_TIMEOUT="1s"
            )
            waited = time.monotonic() - started
        line = alembic_failure(result)
        assert waited < 30
        assert "revision f00dbad00005" in line
        assert "Lock wait timeout exceeded" in line
        assert "another session holds a lock on the table or its rows" in line
        assert "MIGRATION_LOCK_TIMEOUT" in line
        assert version(url) == [HEAD]
        assert rows(url, "SELECT name FROM players WHERE id = 1") == [("Ann",)]
