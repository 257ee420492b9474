"""make bench-live at a small N: both backfills leave every row right.

The waits are the bench's business (bench/RESULTS.md); this test proves that
the bench runs end to end on every configured server, that the writer wrote
while the backfill ran, and that neither contender left a wrong rating or
undid a write (the bench checks both and fails otherwise).
"""

import json
import os
import sys
from pathlib import Path

import pytest

from .baking import TEMPLATE, run

ROWS = 2_000
SERVERS = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
CONTENDERS = {"in-transaction", "online"}


def test_bench_live_backfills_every_row_while_the_writer_writes(
    tmp_path: Path,
) -> None:
    backends = {b for b, variable in SERVERS.items() if os.environ.get(variable)}
    if not backends:
        pytest.skip("set TEST_POSTGRES_URL or TEST_MYSQL_URL: the bench needs a server")
    results_file = tmp_path / "results.json"
    bench = TEMPLATE / "bench" / "live_backfill" / "live_bench.py"
    result = run(
        [sys.executable, str(bench), "--build", str(tmp_path / "build")]
        + ["--rows", str(ROWS), "--rate", "50", "--json", str(results_file)],
        cwd=TEMPLATE,
    )
    results = json.loads(results_file.read_text())

    measured = {(r["backend"], r["contender"]) for r in results}
    assert measured == {(b, c) for b in backends for c in CONTENDERS}
    for entry in results:
        assert entry["rows"] == ROWS, entry
        assert entry["facts"]["players"] == ROWS, entry
        assert entry["facts"]["wrong_rating"] == 0, entry
        assert entry["facts"]["lost_writes"] == 0, entry
        assert entry["writes"]["done"] > 0, entry
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + len(results)  # the header, its rule, one per result
