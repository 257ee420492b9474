"""The database a project deploys to is never left out of its tests silently.

A `database=mysql` project on a machine without TEST_MYSQL_URL stops before
any test with one `ERROR:` line saying what to set, unless the user opts out
with MIGRATION_DEPLOY_BACKEND_OPTIONAL=1, which leaves the NOT TESTED line.
"""

import os
import subprocess
from pathlib import Path

import pytest

NO_MYSQL = {"TEST_MYSQL_URL": "", "TEST_DOCKER": "", "REQUIRE_TEST_BACKENDS": ""}
MISSING = "mysql: set TEST_MYSQL_URL to a server URL (or TEST_DOCKER=1) to test it"


@pytest.fixture(scope="module")
def mysql_project(install) -> Path:
    return install("mysql", database="mysql")


def harness(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """make test-migrations without a MySQL server; PostgreSQL left out by -k."""
    return subprocess.run(
        ["make", "test-migrations"],
        cwd=project,
        env={**os.environ, **NO_MYSQL, "PYTEST_ADDOPTS": "-k 'not postgresql'", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_no_server_for_the_deploy_backend_is_one_error_line(
    mysql_project: Path,
) -> None:
    result = harness(mysql_project)
    assert result.returncode != 0, result.stdout
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert " passed" not in result.stdout, "tests ran"
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert errors == [
        f"ERROR: {MISSING} (alembic.ini: database = mysql, the database this "
        "project deploys to; MIGRATION_DEPLOY_BACKEND_OPTIONAL=1 leaves it "
        "untested on purpose)"
    ]


def test_opting_out_on_purpose_leaves_the_not_tested_line(mysql_project: Path) -> None:
    result = harness(mysql_project, MIGRATION_DEPLOY_BACKEND_OPTIONAL="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"\nNOT TESTED {MISSING} (" in result.stdout
