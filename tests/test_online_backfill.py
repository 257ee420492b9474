"""An online backfill killed with SIGKILL is finished by running upgrade again.

The backfill revision commits each batch on its own, so a run killed half way
leaves some rows done and the revision not applied. Running
``alembic upgrade head`` again must change the remaining rows and none twice.
"""

import signal
import time
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
from .production import (
    alembic,
    fresh_database,
    rows,
    start_alembic,
    succeeded,
    version,
)


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
    project: Path, backend: str, tmp_path: Path
) -> None:
    with fresh_database(backend, tmp_path) as url, backfill_revisions(project):
        at_expand_with_players(project, url)
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
