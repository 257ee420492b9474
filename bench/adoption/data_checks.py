"""Time an adopted project's tests with the harness's data checks on and off.

    .venv/bin/python bench/adoption/data_checks.py build/adoption/dagster-migrations \
        [--repeat 2]

Runs the project's tests/test_migrations.py on SQLite and PostgreSQL together
(TEST_POSTGRES_URL; MySQL/MariaDB left out, where only crash-rerun adds
work), once with MIGRATION_SKIP_CHECKS naming the three data checks (the
harness as it was before them) and once with them on, interleaved, after a
warm-up round that is not counted. Prints the median wall time of each, the
ratio on / off (at most 1.5 wanted), and the checks' closing lines.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

OFF = "same-answer crash-rerun verify"


def run(project: Path, skip: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [
            ".venv/bin/pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_migrations.py",
        ],
        cwd=project,
        env={
            **os.environ,
            "TEST_MYSQL_URL": "",
            "REQUIRE_TEST_BACKENDS": "postgresql",
            "MIGRATION_SKIP_CHECKS": skip,
        },
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeat", type=int, default=2)
    arguments = parser.parse_args()
    if not os.environ.get("TEST_POSTGRES_URL"):
        sys.exit("ERROR: set TEST_POSTGRES_URL: the checks compare two backends")
    run(arguments.project, OFF)  # warm-up: imports, .pyc files
    timed: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(arguments.repeat):
        for label, skip in (("off", OFF), ("on", "")):
            seconds, output = run(arguments.project, skip)
            timed[label].append(seconds)
    for label, runs in timed.items():
        shown = ", ".join(f"{s:.1f}" for s in runs)
        print(f"data checks {label}: {statistics.median(runs):.1f} s ({shown})")
    ratio = statistics.median(timed["on"]) / statistics.median(timed["off"])
    print(f"on / off = {ratio:.2f} (at most 1.5 wanted)")
    for line in output.splitlines():
        if line.startswith(
            ("SAME ANSWER", "CRASH AND RERUN", "VERIFIED", "NOT CHECKED")
        ):
            print(line)
    print(output.rstrip().splitlines()[-1])


if __name__ == "__main__":
    main()
