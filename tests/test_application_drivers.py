"""The application's own drivers: the harness on psycopg2 and mysqlclient URLs.

Drivers differ in what a revision may do: psycopg 3 binds ``literal("0")``
as VARCHAR (PostgreSQL then refuses ``integer > character varying``), PyMySQL
refuses several statements in one ``execute``. A history written on psycopg2
and mysqlclient must be tested on them (docs/testing.md): with
``postgresql+psycopg2://`` and ``mysql+mysqldb://`` in ``TEST_*_URL`` the
harness makes, migrates and drops its databases through those drivers.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from .baking import GENERIC, run, unchecked
from .logins import alembic_failure, database_with_login
from .production import HEAD, alembic, extra_revision, server_url

# What passes on psycopg2 and mysqlclient only, as in real histories.
DRIVER_BOUND = """\
    players = sa.table("players", sa.column("id", sa.Integer), sa.column("name"))
    named = players.update().where(players.c.id > sa.literal("0"))
    op.execute(named.values(name=players.c.name))
    if op.get_bind().dialect.name == "mysql":
        op.execute("UPDATE players SET name = name; UPDATE players SET name = name")
"""
REVISION = "f00dbad00015"


def urls(postgresql: str, mysql: str) -> dict[str, str]:
    """TEST_*_URL for the test servers, through these drivers."""
    return {
        "TEST_POSTGRES_URL": server_url("postgresql")
        .set(drivername=postgresql)
        .render_as_string(hide_password=False),
        "TEST_MYSQL_URL": server_url("mysql")
        .set(drivername=mysql)
        .render_as_string(hide_password=False),
        "REQUIRE_TEST_BACKENDS": "postgresql,mysql",
    }


@pytest.fixture(scope="module")
def with_drivers(project: Path) -> Iterator[Path]:
    """The default bake with the application's drivers in its venv, installed
    by docs/testing.md's own command (mysqlclient builds against libmariadb-dev),
    and removed afterwards: other modules share the bake and expect the
    project's own drivers only (a plain mysql:// URL must still lack one)."""
    install = DOCUMENTED.search(guide(project))["pip"]
    run(["sh", "-c", install], cwd=project)
    yield project
    wanted = install.split(" install ", 1)[1].split()
    names = [re.split(r"[<>=!~\[]", w.strip("'\""))[0] for w in wanted if w[0] != "-"]
    run([".venv/bin/pip", "uninstall", "--yes", "--quiet", *names], cwd=project)


def guide(project: Path) -> str:
    return (project / "docs/testing.md").read_text()


# docs/testing.md's example: the install line, then the two URLs' drivers.
DOCUMENTED = re.compile(
    r"^(?P<pip>\.venv/bin/pip install .*)\n"
    r"export TEST_POSTGRES_URL='(?P<postgresql>[\w+]+)://.*'\n"
    r"export TEST_MYSQL_URL='(?P<mysql>[\w+]+)://.*'\n",
    re.MULTILINE,
)


def test_harness_runs_on_psycopg2_and_mysqlclient(with_drivers: Path) -> None:
    with extra_revision(with_drivers, REVISION, HEAD, DRIVER_BOUND):
        documented = DOCUMENTED.search(guide(with_drivers))
        result = unchecked(
            [".venv/bin/pytest", GENERIC],
            with_drivers,
            urls(documented["postgresql"], documented["mysql"]),
        )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "NOT TESTED" not in result.stdout + result.stderr
    for backend in ("sqlite", "postgresql", "mysql"):
        assert f"slowest revisions on {backend}" in result.stdout, result.stdout


def test_the_same_revision_fails_on_the_default_drivers(with_drivers: Path) -> None:
    # The contrast that shows the run above really went through the
    # application's drivers: on psycopg and PyMySQL the revision fails.
    with extra_revision(with_drivers, REVISION, HEAD, DRIVER_BOUND):
        result = unchecked(
            [".venv/bin/pytest", f"{GENERIC}::test_stairway"],
            with_drivers,
            urls("postgresql+psycopg", "mysql+pymysql"),
        )

    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout
    assert "operator does not exist: integer > character varying" in output, output
    assert "You have an error in your SQL syntax" in output, output
    assert "test_stairway[sqlite]" not in output.split("short test summary")[-1]


def test_a_refused_privilege_is_named_through_psycopg2(
    with_drivers: Path, tmp_path: Path
) -> None:
    # psycopg2 keeps the SQLSTATE (42501) in pgcode, not in sqlstate.
    with database_with_login("postgresql", tmp_path, may_create=False) as (url, _):
        through_psycopg2 = sa.make_url(url).set(drivername="postgresql+psycopg2")
        shown = through_psycopg2.render_as_string(hide_password=False)
        line = alembic_failure(alembic(with_drivers, shown, "upgrade", "head"))

    assert line.startswith("FAILED: could not create the alembic_version table")
    assert f"the user {through_psycopg2.username} lacks CREATE on schema public" in line
