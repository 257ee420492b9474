"""make bench: bake the default project, install it, and run the bench in it.

    python bench/data_migration/main.py [--rows N] [--no-per-row] [--json FILE]

Runs with the template's own virtual environment (it needs cookiecutter); the
measuring itself runs in the baked project's, which has the database drivers.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parents[1]
BUILD = TEMPLATE / "build" / "bench"
# batched.py imports the helper from this package.
PROJECT_NAME = "Data Migration Bench"
PROJECT = BUILD / "data-migration-bench"


def bake() -> Path:
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    subprocess.run(
        [cookiecutter, "--no-input", "--overwrite-if-exists", "--output-dir", BUILD]
        + [str(TEMPLATE), f"project_name={PROJECT_NAME}"],
        check=True,
    )
    subprocess.run(["make", "--no-print-directory", "install"], cwd=PROJECT, check=True)
    return PROJECT


def main() -> None:
    project = bake()
    python = project / ".venv" / "bin" / "python"
    command = [python, HERE / "runner.py", "--project", project, *sys.argv[1:]]
    sys.exit(subprocess.run(command, check=False).returncode)


if __name__ == "__main__":
    main()
