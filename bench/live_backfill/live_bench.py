"""make bench-live: bake the default project, install it, run the live bench in it.

    python bench/live_backfill/live_bench.py [--build DIR] [--rows N] [--rate R]
                                             [--connections C] [--backends B]
                                             [--json FILE]

Runs with the template's own virtual environment (it needs cookiecutter); the
measuring runs in the baked project's, which has the database drivers.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA_MIGRATION = HERE.parent / "data_migration"
TEMPLATE = HERE.parents[1]
# The same baked project as make bench: its bake() and names, not a copy.
sys.path.append(str(DATA_MIGRATION))
from main import PROJECT_SLUG, bake  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=TEMPLATE / "build" / "bench")
    args, runner_args = parser.parse_known_args()
    project = bake(args.build.resolve())
    python = project / ".venv" / "bin" / "python"
    package = PROJECT_SLUG.replace("-", "_")
    command = [python, HERE / "live_runner.py", "--project", project]
    # The runner and its writer import the data-migration bench's modules.
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{DATA_MIGRATION}"}
    status = subprocess.run(
        command + ["--package", package, *runner_args], env=env, check=False
    ).returncode
    sys.exit(status)


if __name__ == "__main__":
    main()
