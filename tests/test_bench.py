"""make bench at a small N: every contender leaves the right data.

Speed is the bench's business (bench/RESULTS.md); this test proves that what it
measures is a correct migration: one team per name, every player pointing at
its former team, and the downgrades putting every player back exactly.
"""

import json
import os
import sys
from pathlib import Path

from .baking import TEMPLATE, run

ROWS = 2_000
TEAMS = 1_000
SERVERS = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
CONTENDERS = {
    "sample revision",
    "hand-written SQL",
    "hand-written SQL, no Alembic",
    "hand-written SQL, index kept",
    "per-row ORM loop",
    "batched helper",
}
REVERSIBLE = CONTENDERS - {"per-row ORM loop", "batched helper"}


def test_bench_contenders_migrate_the_data_correctly(tmp_path: Path) -> None:
    results_file = tmp_path / "results.json"
    bench = TEMPLATE / "bench" / "data_migration" / "main.py"
    result = run(
        [sys.executable, str(bench), "--build", str(tmp_path / "build")]
        + ["--rows", str(ROWS), "--teams", str(TEAMS), "--json", str(results_file)]
        + ["--startup-runs", "1"],
        cwd=TEMPLATE,
    )
    results = json.loads(results_file.read_text())

    backends = {"sqlite"} | {b for b, v in SERVERS.items() if os.environ.get(v)}
    measured = {(r["backend"], r["contender"]) for r in results}
    assert measured == {(b, c) for b in backends for c in CONTENDERS}
    for entry in results:
        assert entry["facts"]["teams"] == TEAMS, entry
        assert entry["facts"]["mapped"] == ROWS - ROWS // 100, entry
        assert entry["facts"]["without_team"] == ROWS // 100, entry
        reversible = entry["contender"] in REVERSIBLE
        assert entry["facts"].get("restored", False) is reversible, entry
        assert (entry["downgrade"] is not None) is reversible, entry
    tables = result.stdout.split("\n\n")
    rows = [line for line in tables[1].splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + len(results)  # the header, its rule, one per result
    # The start-up breakdown: header, rule, four layers and the whole command.
    startup = [line for line in tables[-1].splitlines() if line.startswith("| ")]
    assert len(startup) == 7, tables[-1]
    assert startup[-1].startswith("| `alembic upgrade head` at head"), startup
