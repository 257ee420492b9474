"""An online backfill killed with SIGKILL is finished by running upgrade again.

The backfill revision commits each batch on its own, so a run killed half way
leaves some rows done and the revision not applied. Running
``alembic upgrade head`` again must change the remaining rows and none twice.
"""

import signal
import time
from pathlib import Path

import pytest

from .production import (
    HEAD,
    alembic,
    execute,
    extra_revision,
    fresh_database,
    installed_project,
    rows,
    start_alembic,
    succeeded,
    version,
)

PLAYERS = 3_000
EXPAND, BACKFILL = "0b0000000e01", "0b0000000e02"
ADD_RATING = """\
    op.add_column("players", sa.Column("rating", sa.Integer(), nullable=True))
    op.add_column("players", sa.Column("visits", sa.Integer(), server_default="0"))
"""
# visits + 1 is not idempotent: a row changed twice would show it.
RATE_PLAYERS = """\
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    from migration_kit import backfill

    class Base(DeclarativeBase):
        metadata = sa.MetaData()

    class Player(Base):
        __tablename__ = "players"

        id: Mapped[int] = mapped_column(primary_key=True)
        rating: Mapped[int | None]
        visits: Mapped[int]

    backfill(
        Player,
        {"rating": Player.id * 2, "visits": Player.visits + 1},
        pending=Player.rating.is_(None),
        batch_size=50,
    )
"""
DONE = "SELECT count(*) FROM players WHERE rating IS NOT NULL"
WRONG = (
    "SELECT count(*) FROM players"
    " WHERE rating IS NULL OR rating <> id * 2 OR visits <> 1"
)


def seed(url: str) -> None:
    values = ", ".join(f"({i}, 'player {i}')" for i in range(1, PLAYERS + 1))
    execute(url, f"INSERT INTO players (id, name) VALUES {values}")


def wait_for_some_batches(url: str, process, timeout: float = 60) -> int:
    """Rows done once at least a few batches are committed (run still going)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        done = rows(url, DONE)[0][0]
        if done >= 300:
            return done
        time.sleep(0.05)
    raise AssertionError("the backfill committed no batch in time")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_backfill_killed_half_way_finishes_on_the_next_run(
    cookies_session, backend: str, tmp_path: Path
) -> None:
    project = installed_project(cookies_session)
    with (
        fresh_database(backend, tmp_path) as url,
        extra_revision(project, EXPAND, HEAD, ADD_RATING),
        extra_revision(project, BACKFILL, EXPAND, RATE_PLAYERS),
    ):
        succeeded(alembic(project, url, "upgrade", EXPAND))
        seed(url)
        # 60 batches, 0.05 s apart: about 3 s, killed after the sixth or so.
        slow = {"MIGRATION_BACKFILL_PAUSE": "0.05"}
        process = start_alembic(project, url, "upgrade", "head", **slow)
        try:
            committed = wait_for_some_batches(url, process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate()
        assert 0 < committed < PLAYERS
        assert version(url) == [EXPAND]

        output = succeeded(alembic(project, url, "upgrade", "head"))

        assert version(url) == [BACKFILL]
        assert rows(url, WRONG) == [(0,)]
        assert rows(url, DONE) == [(PLAYERS,)]
        assert "players:" in output and "rows/s" in output
