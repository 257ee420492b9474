"""The harness's data checks catch, on a default bake with no test written for
the case, the data bugs that the stairway alone lets pass:

- a ``lower()`` join that MariaDB's collation answers differently than SQLite
  and PostgreSQL (same answer on every backend);
- a MySQL revision without ``done()`` guards (runs again after a crash);
- a ``backfill()`` whose ``pending`` condition writes finished rows again;
- a revision whose ``verify()`` fails on the seeded rows;

and the sample passes all three checks on SQLite, PostgreSQL and MariaDB.

One bake (the module's installed default project) serves every case: each
copies its revision files in (tests/fixtures/data_checks), runs
``make test-migrations`` narrowed with -k to the added revisions' tests of
its check (the climb then runs only them, their parents, and that check),
and takes them out again.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .baking import unchecked
from .production import (
    HEAD,
    alembic,
    execute,
    failure_line,
    server_url,
    succeeded,
    version,
)

FIXTURES = Path(__file__).parent / "fixtures" / "data_checks"
ADDED = "c0ffee00000"  # the added revisions' ids start so
ALL_BACKENDS = {
    "TEST_POSTGRES_URL": os.environ.get("TEST_POSTGRES_URL", ""),
    "TEST_MYSQL_URL": os.environ.get("TEST_MYSQL_URL", ""),
}
SQLITE_ONLY = {
    "TEST_POSTGRES_URL": "",
    "TEST_POSTGRES": "off",
    "TEST_MYSQL_URL": "",
    "REQUIRE_TEST_BACKENDS": "",
}


@contextmanager
def revisions_added(project: Path, *names: str) -> Iterator[None]:
    """These fixture revisions on top of the sample's head, removed afterwards."""
    versions = project / "migrations" / "versions"
    added = []
    try:
        for number, name in enumerate(names, 3):
            target = versions / f"2026_01_0{number}_0000-{ADDED}{number}_{name}.py"
            shutil.copy(FIXTURES / f"{name}.py", target)
            added.append(target)
        yield
    finally:
        for path in added:
            path.unlink()
        shutil.rmtree(versions / "__pycache__", ignore_errors=True)


def migrations_run(
    project: Path, selection: str, env: dict[str, str]
) -> subprocess.CompletedProcess:
    """``make test-migrations`` on the tests ``-k selection`` picks."""
    return unchecked(
        ["make", "test-migrations"],
        cwd=project,
        env={**env, "PYTEST_ADDOPTS": f"-k '{selection}' -p no:cacheprovider"},
    )


def failing_run(project: Path, selection: str, env: dict[str, str]) -> str:
    """``make test-migrations`` on the selected tests, which must fail: its output."""
    result = migrations_run(project, selection, env)
    assert result.returncode != 0, result.stdout[-3000:]
    return result.stdout + result.stderr


def needs_mysql() -> dict[str, str]:
    server_url("mysql")  # skipped, or failed when required, without a server
    return ALL_BACKENDS


def test_lower_join_differs_on_mariadb(project: Path) -> None:
    env = needs_mysql()
    with revisions_added(project, "lower_join"):
        output = failing_run(project, f"{ADDED} and (stairway or same_answer)", env)
    assert (
        "FAILED tests/test_migrations.py::test_same_answer_on_every_backend" in output
    )
    line = next(
        line
        for line in output.splitlines()
        if line.startswith("revision c0ffee000003 writes players.nickname_id")
    )
    assert "differently: id 4 -> sqlite 2 ('reds ')" in line, line
    assert "mariadb 1 ('reds')" in line, line
    assert "MySQL/MariaDB's default collation compares as equal" in line, line


@contextmanager
def deploying_to(project: Path, database: str) -> Iterator[None]:
    """alembic.ini's ``database`` set to ``database``, put back afterwards."""
    ini = project / "alembic.ini"
    text = ini.read_text()
    ini.write_text(re.sub(r"(?m)^database = \w+$", f"database = {database}", text))
    try:
        yield
    finally:
        ini.write_text(text)


def test_revision_without_done_guards_fails_its_rerun(project: Path) -> None:
    env = needs_mysql()
    with revisions_added(project, "no_guards"):
        # A project deploying to SQLite is not held to it: SQLite undoes a
        # failed revision whole (the run's closing lines say so).
        passing = migrations_run(project, f"{ADDED} and mysql", env)
        assert passing.returncode == 0, passing.stdout[-3000:]
        assert "only in a project that deploys to MySQL/MariaDB" in passing.stdout
        with deploying_to(project, "mysql"):
            output = failing_run(project, f"{ADDED} and mysql", env)
    assert (
        "revision c0ffee000003 (Add coaches, and a coach per player (none yet).) on "
        "mariadb, stopped after statement 1 of 2 (CREATE TABLE coaches"
    ) in output
    already = "OperationalError: (1050, \"Table 'coaches' already exists\")"
    assert f"running it again failed: {already}" in output


def test_backfill_whose_pending_stays_true_writes_rows_twice(project: Path) -> None:
    with revisions_added(project, "expand_rating", "backfill_pending"):
        output = failing_run(project, f"{ADDED} and crash", SQLITE_ONLY)
    assert (
        "revision c0ffee000004 (Rate every player with a team, a committed batch at "
        "a time.) on sqlite, stopped after backfill batch 1: the second run wrote "
        "3 rows the first had finished"
    ) in output


def test_verify_that_fails_on_seeded_rows(project: Path) -> None:
    with revisions_added(project, "broken_verify"):
        output = failing_run(project, f"{ADDED} and promise", SQLITE_ONLY)
    assert (
        "revision c0ffee000003 (Add players.short_name: the name, for places with "
        'little room.) on sqlite: its verify() found {"id": 8, "name": "ÄÄÄ'
    ) in output


def test_sample_passes_every_data_check_on_three_backends(project: Path) -> None:
    server_url("postgresql")
    env = needs_mysql()
    selection = "same_answer or crash or promise"
    # Deploying to MySQL: its upgrades are also stopped after each statement.
    with deploying_to(project, "mysql"):
        result = migrations_run(project, selection, env)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "SAME ANSWER compared 2 revisions across mariadb, postgresql, sqlite" in (
        result.stdout
    )
    assert "CRASH AND RERUN on mariadb: " in result.stdout
    assert "VERIFIED 1 revisions' verify() on mariadb, postgresql, sqlite" in (
        result.stdout
    )


def test_production_verifies_on_request_and_rolls_the_revision_back(
    project: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'production.sqlite3'}"
    with revisions_added(project, "broken_verify"):
        succeeded(alembic(project, url, "upgrade", HEAD, MIGRATION_VERIFY="on"))
        execute(
            url,
            "INSERT INTO players (id, name) VALUES (1, 'Ann'), (2, '" + "B" * 30 + "')",
        )
        line = failure_line(
            alembic(project, url, "upgrade", "head", MIGRATION_VERIFY="on")
        )
        assert version(url) == [HEAD]
        succeeded(alembic(project, url, "upgrade", "head"))  # only on request

    assert line == (
        "FAILED: revision c0ffee000003 broke what its verify() promises (it was "
        "rolled back; MIGRATION_VERIFY=off skips the check): "
        '{"id": 2, "name": "' + "B" * 30 + '", "short_name": "' + "B" * 20 + '"}'
    )
