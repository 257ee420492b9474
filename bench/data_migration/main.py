"""make bench: bake the default project, install it, and run the bench in it.

    python bench/data_migration/main.py [--build DIR] [--rows N] [--no-per-row]
                                        [--json FILE]

Runs with the template's own virtual environment (it needs cookiecutter); the
measuring itself runs in the baked project's, which has the database drivers.
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parents[1]
# batched.py imports the helper from this project's package.
PROJECT_NAME = "Data Migration Bench"
PROJECT_SLUG = "data-migration-bench"


def bake(build: Path) -> Path:
    """Bake the project into ``build`` and install it (again, if it is there)."""
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    subprocess.run(
        [cookiecutter, "--no-input", "--overwrite-if-exists", "--output-dir", build]
        + [str(TEMPLATE), f"project_name={PROJECT_NAME}"],
        check=True,
    )
    project = build / PROJECT_SLUG
    subprocess.run(["make", "--no-print-directory", "install"], cwd=project, check=True)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=TEMPLATE / "build" / "bench")
    args, runner_args = parser.parse_known_args()
    project = bake(args.build.resolve())
    python = project / ".venv" / "bin" / "python"
    command = [python, HERE / "runner.py", "--project", project, *runner_args]
    sys.exit(subprocess.run(command, check=False).returncode)


if __name__ == "__main__":
    main()
