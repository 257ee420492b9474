"""Time `make test-migrations` against pytest-alembic's built-in tests.

    .venv/bin/python bench/adoption/compare.py build/adoption/mlflow-migrations \
        [--backend sqlite|postgresql|mysql] [--repeat 3]

On one adopted project (adopt.py) and one backend, runs the project's own
harness, then pytest-alembic's four built-in tests (single head, upgrade,
models match, up/down consistency) on a disposable database of the same
backend, made by the harness's own `disposable_database`. Prints the wall
time of each (the median of --repeat runs, interleaved, and every run) and
pytest's summary line. One warm-up round of both runs comes first, and is
not counted. pytest-alembic is installed into the project's venv if
it is not there. PostgreSQL and MySQL need TEST_POSTGRES_URL
and TEST_MYSQL_URL, as the harness does.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTEST_ALEMBIC = "pytest-alembic==0.13.1"
FOLDER = "pytest_alembic_bench"
CONFTEST = '''"""pytest-alembic's engine: a disposable database of one backend."""

import os

import pytest
from migration_kit.harness import disposable_database


@pytest.fixture
def alembic_engine(tmp_path):
    with disposable_database(os.environ["BENCH_BACKEND"], tmp_path) as engine:
        yield engine
'''
BUILT_IN_TESTS = """from pytest_alembic.tests import (  # noqa: F401
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
"""
# The generic tests a bake brings in through tests/test_migrations.py.
HISTORY_TESTS = [
    f"tests/test_migrations.py::{name}"
    for name in (
        "test_history_has_one_head",
        "test_irreversible_revisions_say_why",
        "test_stairway",
        "test_downgrade_leaves_no_trace",
        "test_upgrade_to_head_and_downgrade_to_base",
        "test_models_match_migrations_at_head",
    )
]
OTHER_BACKENDS = {
    "sqlite": ("postgresql", "mysql"),
    "postgresql": ("sqlite", "mysql"),
    "mysql": ("sqlite", "postgresql"),
}


def one_backend(backend: str) -> dict[str, str]:
    """The environment that leaves the harness one backend."""
    env = {**os.environ, "BENCH_BACKEND": backend}
    # As on a developer's machine: Python caches compiled modules (env.py,
    # the revisions, the tests) after the first run. This sandbox turns that
    # off; both sides get it back, and a warm-up round writes the caches.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if backend != "mysql":
        env.pop("TEST_MYSQL_URL", None)
    if backend != "postgresql":
        env["TEST_POSTGRES"] = "off"
        env.pop("TEST_POSTGRES_URL", None)
    others = " and ".join(f"not {name}" for name in OTHER_BACKENDS[backend])
    env["PYTEST_ADDOPTS"] = f"-k '{others}'" if backend != "sqlite" else ""
    return env


def without_pytest_alembic(env: dict[str, str]) -> dict[str, str]:
    """The harness alone: pytest-alembic 0.13.1's plugin, once installed, breaks
    the collection of tests/ on pytest 9 (TestCollector has no _nodeid)."""
    return {**env, "PYTEST_ADDOPTS": f"{env['PYTEST_ADDOPTS']} -p no:pytest_alembic"}


def timed(
    name: str, command: list[str], project: Path, env: dict[str, str]
) -> tuple[float, str]:
    """Wall seconds and pytest's last summary line."""
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    (project / FOLDER / f"{name}.log").write_text(output)
    summary = [line for line in output.splitlines() if re.search(r" in [\d.]+s", line)]
    return seconds, (summary[-1].strip("= ") if summary else output.strip()[-300:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--backend", choices=sorted(OTHER_BACKENDS), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side")
    arguments = parser.parse_args()
    project = arguments.project.resolve()
    python = str(project / ".venv/bin/python")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", PYTEST_ALEMBIC], check=True
    )
    (project / FOLDER).mkdir(exist_ok=True)
    (project / FOLDER / "conftest.py").write_text(CONFTEST)
    (project / FOLDER / "test_built_in.py").write_text(BUILT_IN_TESTS)
    env = one_backend(arguments.backend)

    alone = without_pytest_alembic(env)
    sides = {
        "make test-migrations": ("harness", ["make", "test-migrations"], alone),
        # The harness's tests of the history itself, the counterparts of the
        # four built-ins, without the offline rendering.
        "its history tests only": (
            "harness-history",
            [python, "-m", "pytest", *HISTORY_TESTS],
            alone,
        ),
        "pytest-alembic built-ins": (
            "pytest-alembic",
            [python, "-m", "pytest", "-p", "no:cacheprovider", FOLDER],
            env,
        ),
    }
    # Interleaved, so that a busy moment of a shared machine hits both sides;
    # the first round only warms up (bytecode caches, the servers' catalogs).
    rounds = [
        {
            name: timed(log, command, project, side_env)
            for name, (log, command, side_env) in sides.items()
        }
        for _ in range(arguments.repeat + 1)
    ][1:]
    runs = {name: [found[name] for found in rounds] for name in sides}
    print(f"{project.name} on {arguments.backend}, median of {arguments.repeat}:")
    medians = {
        name: statistics.median(t for t, _ in found) for name, found in runs.items()
    }
    for name, found in runs.items():
        each = " ".join(f"{seconds:.1f}" for seconds, _ in found)
        print(f"  {name:26} {medians[name]:7.1f} s  ({each})  {found[-1][1]}")
    ratio = medians["make test-migrations"] / medians["pytest-alembic built-ins"]
    print(f"  make test-migrations / pytest-alembic: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
