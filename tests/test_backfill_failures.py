"""A failed backfill says how far it got, why it stopped, and that a new run resumes.

backfill() commits batch by batch, so when one batch fails the batches before
it stay: the line must say so (not "rolled back"), name the first error (not
one raised while cleaning up after it), and a new run must finish the rest.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .backfill_revisions import (
    BACKFILL,
    DONE,
    EXPAND,
    PLAYERS,
    WRONG,
    at_expand_with_players,
    backfill_revisions,
)
from .logins import alembic_failure, database_with_login
from .production import (
    alembic,
    execute,
    finish,
    holding,
    rows,
    start_alembic,
    succeeded,
    version,
    waiting_session,
)

# Another session holds this row: the batch that holds it is the 20th (of 50).
LOCK_A_ROW = "SELECT id FROM players WHERE id = 1000 FOR UPDATE"
COMMITTED = "had committed 19 batches (950 of 3,000 rows)"
# The migration's session, once its UPDATE waits for the locked row.
WAITING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND query LIKE 'UPDATE players%%'"
)


@contextmanager
def at_expand(
    project: Path, backend: str, directory: Path
) -> Iterator[tuple[str, str]]:
    """A login's URL at the expand revision with the backfill to run, and the
    administrator's URL."""
    with (
        database_with_login(backend, directory) as (url, admin_url),
        backfill_revisions(project),
    ):
        at_expand_with_players(project, url)
        yield url, admin_url


def one_line(result) -> str:
    line = alembic_failure(result)
    assert f"revision {BACKFILL}" in line
    assert COMMITTED in line
    assert "run make migrate again to resume" in line
    assert "rolled back" not in line
    return line


def resumes(project: Path, url: str) -> None:
    """The next run finishes the rows left, and every row is right."""
    assert rows(url, DONE) == [(950,)]
    assert version(url) == [EXPAND]
    succeeded(alembic(project, url, "upgrade", "head"))
    assert version(url) == [BACKFILL]
    assert rows(url, DONE) == [(PLAYERS,)]
    assert rows(url, WRONG) == [(0,)]


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_a_lock_timeout_half_way_says_what_was_committed(project, backend, tmp_path):
    with at_expand(project, backend, tmp_path) as (url, admin_url):
        with holding(admin_url, LOCK_A_ROW):
            result = alembic(
                project, url, "upgrade", "head", MIGRATION_LOCK_TIMEOUT="1s"
            )
        line = one_line(result)
        timed_out = {
            "postgresql": "LockNotAvailable: canceling statement due to lock timeout",
            "mysql": "Lock wait timeout exceeded",
        }[backend]
        assert timed_out in line
        assert "MIGRATION_LOCK_TIMEOUT" in line
        resumes(project, url)


def test_a_terminated_connection_names_the_first_error(project, tmp_path):
    with at_expand(project, "postgresql", tmp_path) as (url, admin_url):
        with holding(admin_url, LOCK_A_ROW):
            process = start_alembic(
                project, url, "upgrade", "head", MIGRATION_LOCK_TIMEOUT="60s"
            )
            session = waiting_session(admin_url, WAITING, process)
            execute(admin_url, f"SELECT pg_terminate_backend({session})")
            result = finish(process)
        line = one_line(result)
        assert (
            "AdminShutdown: terminating connection due to administrator command" in line
        )
        assert "PendingRollback" not in line
        resumes(project, url)
