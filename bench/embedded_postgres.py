"""What the embedded PostgreSQL adds to a test run: its start and its stop.

    make bench-embedded           (RUNS=5 by default)

Bakes the default project into a temporary folder and installs it, then, in a
new Python process each run (as a test run starts one), times the generated
project's own ``embedded_server.py``, as its harness uses it: from asking for
the server to the end of the first query on it (initdb, start, connect), and
its stop, which deletes the data. Each run's server is a new one in a new
temporary folder.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
# Runs in the baked project's virtual environment, from its root (str.format:
# {{ }} are braces).
ONE_RUN = """
import json, time
from sqlalchemy import create_engine, text
from migration_kit import embedded_server

asked = time.perf_counter()
engine = create_engine(embedded_server.server_url())
with engine.connect() as connection:
    connection.execute(text("SELECT 1"))
answered = time.perf_counter()
engine.dispose()
embedded_server.stop()
stopped = time.perf_counter()
print(json.dumps({{"start": answered - asked, "stop": stopped - answered}}))
"""


def one_run(project: Path) -> dict[str, float]:
    result = subprocess.run(
        [".venv/bin/python", "-c", ONE_RUN.format()],
        cwd=project,
        env={**os.environ, "TEST_POSTGRES_URL": "", "TEST_POSTGRES": ""},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"ERROR: the embedded server did not run:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def main() -> None:
    runs = int(os.environ.get("RUNS", "5"))
    with tempfile.TemporaryDirectory() as folder:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=folder))
        subprocess.run(["make", "install"], cwd=project, check=True)
        times = [one_run(project) for _ in range(runs)]
    print(f"{'run':>4}{'start s':>10}{'stop s':>10}")
    for number, run in enumerate(times, 1):
        print(f"{number:>4}{run['start']:>10.2f}{run['stop']:>10.2f}")
    for phase in ("start", "stop"):
        seconds = [run[phase] for run in times]
        print(
            f"{phase}: median {statistics.median(seconds):.2f} s, "
            f"min {min(seconds):.2f} s, max {max(seconds):.2f} s"
        )


if __name__ == "__main__":
    main()
