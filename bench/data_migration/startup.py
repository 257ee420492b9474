"""Where the `alembic` process's own start-up goes, layer by layer.

    python startup.py PROJECT [--runs N]      (make bench prints it too)

Each row is a fresh process that does a little more than the row before it;
the table shows the median wall time of N runs and what the row adds. The
last row is a whole ``alembic upgrade head`` on a database already at head:
everything a migration run costs before and after its revisions' SQL.
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def project_package(project: Path) -> str:
    """The baked project's package name (the one folder under src/)."""
    (models,) = (project / "src").glob("*/models.py")
    return models.parent.name


def layers(package: str) -> list[tuple[str, str]]:
    """(what the row adds, Python code the process runs)."""
    alembic = "import alembic.config, alembic.command"
    env_imports = f"; import {package}.models, migration_kit, migration_kit.environment"
    revisions = (
        "; from alembic.script import ScriptDirectory"
        "; s = ScriptDirectory.from_config(alembic.config.Config('alembic.ini'))"
        "; list(s.walk_revisions())"
    )
    return [
        ("Python interpreter", "pass"),
        ("SQLAlchemy Core and Alembic", alembic),
        (
            "env.py's imports: the project's package, SQLAlchemy ORM",
            alembic + env_imports,
        ),
        ("revision files loaded", alembic + env_imports + revisions),
    ]


def median_seconds(command: list[str], runs: int, project: Path, env: dict) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def breakdown(project: Path, runs: int) -> list[tuple[str, float]]:
    """Median seconds per layer, in the project's own virtual environment."""
    python = str(project / ".venv" / "bin" / "python")
    upgrade = [str(project / ".venv" / "bin" / "alembic"), "upgrade", "head"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/at-head.sqlite3"}
        subprocess.run(upgrade, cwd=project, env=env, check=True, capture_output=True)
        rows = [
            (name, median_seconds([python, "-c", code], runs, project, env))
            for name, code in layers(project_package(project))
        ]
        whole = median_seconds(upgrade, runs, project, env)
    rows.append(("`alembic upgrade head` at head (env.py, connect, version)", whole))
    return rows


def table(rows: list[tuple[str, float]], runs: int) -> str:
    lines = [
        f"Start-up of the `alembic` process, SQLite, median of {runs} runs:",
        "",
        "| process runs | median | adds |",
        "| --- | ---: | ---: |",
    ]
    before = 0.0
    for name, seconds in rows:
        lines.append(f"| {name} | {seconds:.3f} s | {seconds - before:+.3f} s |")
        before = seconds
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a baked, installed project")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(table(breakdown(args.project.resolve(), args.runs), args.runs))


if __name__ == "__main__":
    main()
