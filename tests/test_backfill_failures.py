"""A failed backfill says how far it got, why it stopped, and that a new run resumes.

backfill() commits batch by batch, so when one batch fails the batches before
it stay: the line must say so (not "rolled back"), name the first error (not
one raised while cleaning up after it), and a new run must finish the rest.
"""

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from .logins import assert_no_password, database_with_login
from .production import (
    HEAD,
    alembic,
    execute,
    extra_revision,
    failure_line,
    finish,
    installed_project,
    rows,
    start_alembic,
    succeeded,
    version,
)

PLAYERS, BATCH = 20_000, 500
# Another session holds this row: the batch that holds it is the 20th.
LOCKED = 10_000
COMMITTED = "had committed 19 batches (9,500 of 20,000 rows)"
EXPAND, BACKFILL = "0b0000000f01", "0b0000000f02"
ADD_RATING = (
    '    op.add_column("players", sa.Column("rating", sa.Integer(), nullable=True))\n'
)
RATE_PLAYERS = f"""\
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    from migration_kit import backfill

    class Base(DeclarativeBase):
        metadata = sa.MetaData()

    class Player(Base):
        __tablename__ = "players"

        id: Mapped[int] = mapped_column(primary_key=True)
        rating: Mapped[int | None]

    backfill(
        Player,
        {{"rating": Player.id * 2}},
        pending=Player.rating.is_(None),
        batch_size={BATCH},
    )
"""
DONE = "SELECT count(*) FROM players WHERE rating IS NOT NULL"
WRONG = "SELECT count(*) FROM players WHERE rating IS NULL OR rating <> id * 2"
# The migration's session, once its UPDATE waits for the locked row.
WAITING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND query LIKE 'UPDATE players%%'"
)


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    return installed_project(cookies_session)


def at_expand_with_players(project: Path, url: str) -> None:
    succeeded(alembic(project, url, "upgrade", EXPAND))
    values = ", ".join(f"({i}, 'player {i}')" for i in range(1, PLAYERS + 1))
    execute(url, f"INSERT INTO players (id, name) VALUES {values}")


def one_line(result) -> str:
    assert result.returncode == 255, result.stdout + result.stderr
    assert_no_password(result.stdout + result.stderr)
    line = failure_line(result)
    assert f"revision {BACKFILL}" in line
    assert COMMITTED in line
    assert "run make migrate again to resume" in line
    assert "rolled back" not in line
    return line


def resumes(project: Path, url: str) -> None:
    """The next run finishes the rows left, and every row is right."""
    assert rows(url, DONE) == [(19 * BATCH,)]
    assert version(url) == [EXPAND]
    succeeded(alembic(project, url, "upgrade", "head"))
    assert version(url) == [BACKFILL]
    assert rows(url, DONE) == [(PLAYERS,)]
    assert rows(url, WRONG) == [(0,)]


def wait_for_the_lock(admin_url: str, process) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if found := rows(admin_url, WAITING):
            return found[0][0]
        time.sleep(0.1)
    raise AssertionError("the backfill never waited for the locked row")


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_a_lock_timeout_half_way_says_what_was_committed(project, backend, tmp_path):
    with (
        database_with_login(backend, tmp_path) as (url, admin_url),
        extra_revision(project, EXPAND, HEAD, ADD_RATING),
        extra_revision(project, BACKFILL, EXPAND, RATE_PLAYERS),
    ):
        at_expand_with_players(project, url)
        holder = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
        try:
            with holder.begin() as connection:
                connection.exec_driver_sql(
                    f"SELECT id FROM players WHERE id = {LOCKED} FOR UPDATE"
                )
                result = alembic(
                    project, url, "upgrade", "head", MIGRATION_LOCK_TIMEOUT="1s"
                )
        finally:
            holder.dispose()
        line = one_line(result)
        timed_out = {
            "postgresql": "LockNotAvailable: canceling statement due to lock timeout",
            "mysql": "Lock wait timeout exceeded",
        }[backend]
        assert timed_out in line
        assert "MIGRATION_LOCK_TIMEOUT" in line
        resumes(project, url)


def test_a_terminated_connection_names_the_first_error(project, tmp_path):
    with (
        database_with_login("postgresql", tmp_path) as (url, admin_url),
        extra_revision(project, EXPAND, HEAD, ADD_RATING),
        extra_revision(project, BACKFILL, EXPAND, RATE_PLAYERS),
    ):
        at_expand_with_players(project, url)
        holder = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
        try:
            with holder.begin() as connection:
                connection.exec_driver_sql(
                    f"SELECT id FROM players WHERE id = {LOCKED} FOR UPDATE"
                )
                process = start_alembic(
                    project, url, "upgrade", "head", MIGRATION_LOCK_TIMEOUT="60s"
                )
                session = wait_for_the_lock(admin_url, process)
                execute(admin_url, f"SELECT pg_terminate_backend({session})")
                result = finish(process)
        finally:
            holder.dispose()
        line = one_line(result)
        assert (
            "AdminShutdown: terminating connection due to administrator command" in line
        )
        assert "PendingRollback" not in line
        resumes(project, url)
