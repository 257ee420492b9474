"""Each environment mistake ends a baked project's command with one line, no secret.

Two commands, run as a user runs them, on one baked and installed project:

- ``alembic upgrade head`` with DATABASE_URL: exit code 255, and besides
  alembic's INFO lines exactly one line, the ``FAILED:`` one (``failure_line``).
- the harness, ``pytest tests/test_upgrade_downgrade.py`` with TEST_*_URL: exit
  code 4 (pytest's usage error) before any test runs; stderr holds exactly one
  non-blank line, the ``ERROR:`` one; stdout still ends with pytest's summary,
  "no tests ran" (or only "N deselected"), and holds no error, failure or
  traceback (``harness_error``).

Every run uses a distinctive password, and no 4-character piece of it may
appear in stdout or stderr.
"""

import os
import re
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from .baking import WHOLE_HISTORY
from .logins import alembic_failure, assert_no_password, databases, throwaway_user
from .production import HEAD, alembic, extra_revision, quoted, server_url

PASSWORD = "s3cr3t-Pa55"
USAGE_ERROR = 4  # pytest's ExitCode.USAGE_ERROR
HARNESS_TEST = WHOLE_HISTORY


@pytest.fixture(scope="module")
def project(install) -> Path:
    return install("default")


@pytest.fixture(scope="module")
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def upgrade_fails(project: Path, url: str, password=PASSWORD, **env: str) -> str:
    """Run alembic upgrade head on ``url``: its one FAILED line."""
    return alembic_failure(alembic(project, url, "upgrade", "head", **env), password)


def harness(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Only the servers a test names: CI's REQUIRE_TEST_BACKENDS would stop the
    # run for the other one before the problem under test shows.
    unset = {
        "TEST_POSTGRES_URL": "",
        "TEST_MYSQL_URL": "",
        "TEST_DOCKER": "",
        "REQUIRE_TEST_BACKENDS": "",
    }
    return subprocess.run(
        [".venv/bin/pytest", "-p", "no:cacheprovider", HARNESS_TEST],
        cwd=project,
        env={**os.environ, **unset, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def harness_error(project: Path, password=PASSWORD, **env: str) -> str:
    """Run the harness: the one ERROR line it ends with, before any test."""
    result = harness(project, **env)
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == USAGE_ERROR, output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("ERROR: "), output
    # "no tests ran", or "N deselected" for a backend this test leaves unset.
    summary = result.stdout.splitlines()[-1]
    assert re.search(r"no tests ran|=+ \d+ deselected in", summary), output
    for word in ("Traceback", "ERROR", "FAILED", "passed", "INTERNALERROR"):
        assert word not in result.stdout, output
    assert_no_password(result.stdout + result.stderr, password)
    return errors[0]


# --- URLs that cannot work, for alembic and for the harness -------------------

BAD_URLS = [
    ("sqlite://x.db", "a SQLite URL has no host: write sqlite:///x.db"),
    (PASSWORD, "is not a database URL: use the form"),
    (
        f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:port/app",
        "is not a database URL",
    ),
    (
        f"postgres://app:{PASSWORD}@127.0.0.1/app",
        "no database dialect 'postgres': did you mean postgresql+psycopg://?",
    ),
    (
        f"postgressql://app:{PASSWORD}@127.0.0.1/app",
        "no database dialect 'postgressql': did you mean postgresql+psycopg://?",
    ),
    (
        f"mysq://app:{PASSWORD}@127.0.0.1/app",
        "no database dialect 'mysq': did you mean mysql+pymysql://?",
    ),
]
BAD_URL_IDS = ["sqlite-two-slashes", "garbage", "bad-port", "postgres", "typo", "mysq"]


@pytest.mark.parametrize(("url", "expected"), BAD_URLS, ids=BAD_URL_IDS)
def test_alembic_bad_url(project, url, expected) -> None:
    line = upgrade_fails(project, url)
    assert line.startswith("FAILED: DATABASE_URL") and expected in line


@pytest.mark.parametrize(("url", "expected"), BAD_URLS[1:], ids=BAD_URL_IDS[1:])
def test_harness_bad_url(project, url, expected) -> None:
    line = harness_error(project, TEST_POSTGRES_URL=url)
    assert line.startswith("ERROR: TEST_POSTGRES_URL") and expected in line


@pytest.mark.parametrize("character", ["@", ":", "/", "%"])
def test_unencoded_password_is_refused_without_showing_it(project, character):
    password = PASSWORD.replace("-", character)
    url = f"postgresql+psycopg://app:{password}@127.0.0.1:5432/app"
    expected = "the password holds an unencoded @, :, / or %"
    encode = 'urllib.parse.quote(getpass.getpass(), safe="")'

    alembic_line = upgrade_fails(project, url, password)
    harness_line = harness_error(project, password, TEST_POSTGRES_URL=url)

    for line in (alembic_line, harness_line):
        assert expected in line and encode in line


def test_sqlite_file_in_a_missing_folder(project, tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/missing/app.sqlite3"
    assert upgrade_fails(project, url) == (
        f"FAILED: cannot open DATABASE_URL {url} (unable to open database file): "
        "check that its folder exists and that you may write there."
    )


def test_make_migrate_reports_one_line(project) -> None:
    result = subprocess.run(
        ["make", "migrate"],
        cwd=project,
        env={**os.environ, "DATABASE_URL": f"postgres://app:{PASSWORD}@db/app"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stdout + result.stderr  # make's failure
    output = (result.stdout + result.stderr).splitlines()
    failed = [line for line in output if "FAILED" in line]
    assert failed == [
        "FAILED: DATABASE_URL: there is no database dialect 'postgres': "
        "did you mean postgresql+psycopg://?"
    ]
    assert_no_password(result.stdout + result.stderr, PASSWORD)


# --- Servers that cannot be used ----------------------------------------------


@pytest.mark.parametrize(
    ("variable", "driver"),
    [("TEST_POSTGRES_URL", "postgresql+psycopg"), ("TEST_MYSQL_URL", "mysql+pymysql")],
)
def test_unreachable_server(project, closed_port, variable, driver) -> None:
    url = f"{driver}://app:{PASSWORD}@127.0.0.1:{closed_port}/app"
    shown = f"{driver}://app:***@127.0.0.1:{closed_port}/app"

    alembic_line = upgrade_fails(project, url)
    harness_line = harness_error(project, **{variable: url})

    assert f"FAILED: cannot connect to DATABASE_URL {shown} (" in alembic_line
    assert f"ERROR: cannot connect to {variable} {shown} (" in harness_line
    assert "check that the server is running" in harness_line


def test_password_in_a_query_option_is_masked(project, closed_port) -> None:
    url = (
        f"postgresql+psycopg://app@127.0.0.1:{closed_port}/app"
        f"?sslpassword={PASSWORD}&password={PASSWORD}"
    )
    masked = "app?password=***&sslpassword=***"
    assert masked in upgrade_fails(project, url)
    assert masked in harness_error(project, TEST_POSTGRES_URL=url)


def test_refused_login(project) -> None:
    postgresql = server_url("postgresql").set(
        username=f"nobody_{uuid.uuid4().hex[:8]}", password=PASSWORD
    )
    mysql = server_url("mysql").set(password=PASSWORD)  # root's is empty
    cases = [("TEST_POSTGRES_URL", postgresql), ("TEST_MYSQL_URL", mysql)]
    for variable, url in cases:
        text = url.render_as_string(hide_password=False)
        alembic_line = upgrade_fails(project, text)
        harness_line = harness_error(project, **{variable: text})
        assert "the server refused the login" in alembic_line
        assert f"{variable} " in harness_line
        assert "the server refused the login" in harness_line


@pytest.mark.parametrize(
    ("option", "variable", "backend"),
    [
        ("sslmode=bogus", "TEST_POSTGRES_URL", "postgresql"),
        ("connect_timeout=abc", "TEST_POSTGRES_URL", "postgresql"),
        ("bogus=1", "TEST_MYSQL_URL", "mysql"),
    ],
)
def test_bad_query_option(project, option, variable, backend) -> None:
    server = server_url(backend).update_query_string(option, append=True)
    url = server.render_as_string(hide_password=False)
    name = option.split("=")[0]
    expected = f"the driver refused the query option {name} ("
    assert expected in upgrade_fails(project, url)
    assert expected in harness_error(project, **{variable: url})


def test_user_that_may_not_create_databases(project) -> None:
    for backend, variable, grant in [
        ("postgresql", "TEST_POSTGRES_URL", "CREATEDB"),
        ("mysql", "TEST_MYSQL_URL", "GRANT ALL ON `test\\_migrations\\_%`.*"),
    ]:
        with user_without_createdb(backend) as url:
            line = harness_error(project, **{variable: url})
        assert f"ERROR: {variable}: user {sa.make_url(url).username} may not " in line
        assert "create databases" in line and grant in line


@contextmanager
def user_without_createdb(backend: str) -> Iterator[str]:
    """A temporary login on the server that may not create databases."""
    # A plain login: PostgreSQL's default is NOCREATEDB, MySQL's no grant.
    name = f"test_nocreate_{uuid.uuid4().hex[:8]}"
    with throwaway_user(backend, name, PASSWORD) as url:
        yield url


def test_docker_without_testcontainers_then_without_a_daemon(project) -> None:
    no_daemon = {"TEST_DOCKER": "1", "DOCKER_HOST": "unix:///nonexistent.sock"}

    missing = harness_error(project, **no_daemon)
    install = subprocess.run(
        [".venv/bin/pip", "install", "--quiet", "-e", ".[docker]"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    no_answer = harness_error(project, **no_daemon)

    install_hint = 'pip install -e ".[docker]"'
    assert missing == f"ERROR: TEST_DOCKER=1 needs testcontainers: {install_hint}"
    assert no_answer.startswith("ERROR: TEST_DOCKER=1, but no docker daemon answers (")
    assert no_answer.endswith(
        "start docker, or unset TEST_DOCKER and set "
        "TEST_POSTGRES_URL and TEST_MYSQL_URL to servers."
    )


def test_several_heads(project, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'heads.sqlite3'}"
    with extra_revision(project, "a1b2c3d4e5f6", "5d3e0a1c2b01", "    pass\n"):
        alembic_line = upgrade_fails(project, url)
        harness_line = harness_error(project)
    heads = f"the history has 2 heads ({HEAD}, a1b2c3d4e5f6), so head is ambiguous"
    merge = 'join them with alembic merge heads -m "merge", then run again.'
    assert alembic_line == f"FAILED: {heads}: {merge}"
    assert harness_line == f"ERROR: {heads}: {merge}"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MIGRATION_LOCK_WAIT", "²", "is not a number of seconds from 1 to 2147483"),
        ("MIGRATION_LOCK_WAIT", "-5", "is not a number of seconds from 1 to"),
        ("MIGRATION_LOCK_WAIT", "9999999", "is not a number of seconds from 1 to"),
        ("MIGRATION_STATEMENT_TIMEOUT", "100000d", "duration of at most 24 days"),
        ("MIGRATION_LOCK_TIMEOUT", "-1s", "is not a PostgreSQL duration"),
    ],
)
def test_setting_out_of_range(project, tmp_path, variable, value, expected) -> None:
    """Refused before connecting, so on any database, even one that is down."""
    url = f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:9/app"
    line = upgrade_fails(project, url, **{variable: value})
    assert line.startswith(f"FAILED: {variable}={value!r} ") and expected in line


# --- Databases a killed run left ----------------------------------------------


@pytest.mark.parametrize(
    ("backend", "variable"),
    [("postgresql", "TEST_POSTGRES_URL"), ("mysql", "TEST_MYSQL_URL")],
)
def test_leftovers_of_a_killed_run_are_listed_then_dropped(
    project, backend, variable
) -> None:
    """A database whose run is gone is listed, then dropped; a live run's is not."""
    server = server_url(backend)
    # A prefix of this test's own: the drop below can only reach its databases.
    prefix = f"test_migrations_t{uuid.uuid4().hex[:6]}_"
    dead, live = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    left, in_use = f"{prefix}{dead}_{'0' * 8}", f"{prefix}{live}_{'0' * 8}"
    env = {
        variable: server.render_as_string(hide_password=False),
        "TEST_DATABASE_PREFIX": prefix,
    }
    with run_alive(server, f"{prefix}{live}") as alive:
        try:
            for name in (left, in_use):
                alive.execute(sa.text(f"CREATE DATABASE {quoted(backend, name)}"))
            listed = harness(project, **env)
            dropped = harness(project, **env, TEST_DROP_LEFTOVERS="1")
            remaining = set(databases(alive, prefix))
        finally:
            for name in (left, in_use):
                drop = f"DROP DATABASE IF EXISTS {quoted(backend, name)}"
                alive.execute(sa.text(drop))

    assert listed.returncode == 0, listed.stdout
    assert dropped.returncode == 0, dropped.stdout
    notes = [line for line in listed.stdout.splitlines() if "killed run" in line]
    assert notes == [
        f"{variable}: 1 database(s) left by a killed run ({left}): "
        "drop them with TEST_DROP_LEFTOVERS=1 make test-migrations."
    ]
    assert f"{variable}: dropped 1 database(s) left by a killed run." in dropped.stdout
    assert left not in remaining and in_use in remaining


@contextmanager
def run_alive(server: sa.URL, mark: str) -> Iterator[sa.Connection]:
    """A connection marked as a live run, the way the harness marks its own."""
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if server.get_backend_name() == "postgresql":
            statement = "SELECT set_config('application_name', :mark, false)"
        else:
            statement = "SELECT GET_LOCK(:mark, 0)"
        connection.execute(sa.text(statement), {"mark": mark})
        yield connection
    engine.dispose()
