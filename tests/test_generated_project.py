"""Install baked projects and use them exactly as their README says.

The generated suite reads TEST_POSTGRES_URL, TEST_MYSQL_URL and
REQUIRE_TEST_BACKENDS from the environment, so `.ci/run` decides which servers
these tests must reach.
"""

import os
import subprocess
from pathlib import Path

import pytest

from .baking import run

# Every database with and without the samples: those answers change what the
# generated suite runs. docker and ci only add or remove files, so they vary
# here without doubling the installs (test_bake.py covers all combinations).
VARIANTS = {
    "default": {},
    "sqlite-bare": {"include_sample_revisions": False, "ci": "none"},
    "postgresql": {"database": "postgresql", "include_docker": False},
    "postgresql-bare": {
        "database": "postgresql",
        "include_sample_revisions": False,
        "include_docker": False,
        "ci": "none",
    },
    "mysql": {"database": "mysql"},
    "mysql-bare": {
        "database": "mysql",
        "include_sample_revisions": False,
        "ci": "none",
    },
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def installed(request, install) -> Path:
    return install(request.param, **VARIANTS[request.param])


def local_database(project: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{project / 'local.sqlite3'}"}


def test_make_test_migrations_passes(install) -> None:
    # make test (below, for every variant) runs the same harness after lint.
    result = run(["make", "test-migrations"], cwd=install("default"))
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_make_test_passes(installed: Path) -> None:
    run(["make", "test"], cwd=installed)


def test_new_revision_from_scaffold_is_clean_and_runs(installed: Path) -> None:
    env = local_database(installed)
    run(["make", "revision", "m=add coach"], cwd=installed, env=env)
    [revision] = installed.glob("migrations/versions/*_add_coach.py")
    try:
        run([".venv/bin/ruff", "check", "--no-cache", str(revision)], cwd=installed)
        run([".venv/bin/ruff", "format", "--check", str(revision)], cwd=installed)
        migrated = run(["make", "migrate"], cwd=installed, env=env)
        assert "add coach" in migrated.stderr
        down = run([".venv/bin/alembic", "downgrade", "-1"], cwd=installed, env=env)
        assert "Running downgrade" in down.stderr and "add coach" in down.stderr
    finally:
        revision.unlink()
        (installed / "local.sqlite3").unlink(missing_ok=True)


def test_alembic_check_at_head_finds_nothing(installed: Path) -> None:
    env = local_database(installed)
    try:
        run(["make", "migrate"], cwd=installed, env=env)
        result = run(["make", "check"], cwd=installed, env=env)
        assert "No new upgrade operations detected" in result.stdout
    finally:
        (installed / "local.sqlite3").unlink(missing_ok=True)


def test_bad_database_url_is_one_line_without_the_password(installed: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql+psycopg://app:s3cret@127.0.0.1:9/x",
    }
    result = subprocess.run(
        [".venv/bin/alembic", "upgrade", "head"],
        cwd=installed,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "s3cret" not in output
    assert "Traceback" not in output
    assert (
        "FAILED: cannot connect to DATABASE_URL "
        "postgresql+psycopg://app:***@127.0.0.1:9/x" in output
    )


def test_the_kit_command_prints_frozen_models_and_refuses_in_one_line(
    install,
) -> None:
    project = install("default")
    version = run([".venv/bin/migration-kit", "version"], cwd=project).stdout
    frozen = run([".venv/bin/migration-kit", "frozen-models", "teams"], cwd=project)
    unknown = subprocess.run(
        [".venv/bin/migration-kit", "frozen-models", "coaches"],
        cwd=project,
        capture_output=True,
        text=True,
    )

    assert version.startswith("migration-kit ")
    assert 'class Team(Base):\n    __tablename__ = "teams"' in frozen.stdout
    assert unknown.returncode == 1
    assert unknown.stderr == (
        "ERROR: unknown table coaches: the tables at the head of the migrations "
        "are players, teams.\n"
    )
