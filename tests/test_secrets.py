"""A login refused after it had worked: one line, and never a piece of the password.

Issue 22, break 1. Each test logs in as a throwaway user with a password,
made for it on the test servers and always dropped:

- the harness, where the preflight connects but a later connection is
  refused (the user's connection limit is reached once the stairway holds
  its database): exit code 1, one line per backend that names it and what
  to do, no traceback, its databases dropped; with pytest's default flags
  and with ``-vv --tb=long --showlocals``, which print every argument and
  local of a traceback's frames, the driver's connect arguments included;
- ``make migrate`` and ``migration-kit baseline``, where the server refuses
  the login: one line, exit code non-zero.

No 4-character piece of the password may appear in stdout or stderr.
"""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from .baking import unchecked
from .logins import PASSWORD, account, assert_no_password, databases, throwaway_user
from .production import server_url

ADMIN_ONLY = {"TEST_DOCKER": "", "REQUIRE_TEST_BACKENDS": "", "TEST_POSTGRES": ""}
MAKE_FAILED = 2  # make's exit code when its command fails
# The connections the harness holds while the stairway's database is open
# (its run mark and that database): the next test's database is refused.
HARNESS_LIMIT = 2
VARIABLES = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
LIMIT_ADVICE = {
    "postgresql": "ALTER ROLE {user} CONNECTION LIMIT -1",
    "mysql": "ALTER USER '{user}' WITH MAX_USER_CONNECTIONS 0",
}
VERBOSE = ["-vv", "--tb=long", "--showlocals"]
# What a traceback prints: its header, a frame's source line, an error line.
TRACEBACK = re.compile(r"Traceback|^>|^E |^\S+\.py:\d+: \w+Error", re.MULTILINE)


@pytest.fixture(scope="module")
def project(install) -> Path:
    return install("default")


# --- The harness ----------------------------------------------------------------


@pytest.mark.parametrize("flags", [[], VERBOSE], ids=["default-flags", "verbose"])
def test_harness_connection_refused_after_the_preflight(project, flags) -> None:
    prefix = f"test_secrets_{uuid.uuid4().hex[:6]}_"
    with (
        user("postgresql", prefix, limit=HARNESS_LIMIT) as postgresql,
        user("mysql", prefix, limit=HARNESS_LIMIT) as mysql,
    ):
        env = {"TEST_DATABASE_PREFIX": prefix, **ADMIN_ONLY}
        env |= {VARIABLES["postgresql"]: postgresql, VARIABLES["mysql"]: mysql}
        result = harness(project, flags, env)
        left = leftovers(prefix)
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"

    assert_no_password(result.stdout + result.stderr)
    # pytest's exit code for failed tests; make's own when it runs pytest.
    assert result.returncode == (1 if flags else MAKE_FAILED), output
    assert flags or "Error 1" in result.stderr, output
    assert not TRACEBACK.search(result.stdout + result.stderr), output
    for backend, url in (("postgresql", postgresql), ("mysql", mysql)):
        failed = [
            line
            for line in result.stdout.splitlines()
            if re.match(rf"(ERROR|FAILED) \S+\[{backend}\b", line)
        ]
        assert len(failed) == 1, output
        [line] = lines_of(result.stdout, f"{backend}: connecting failed")
        assert_refused_for_the_limit(line, backend, sa.make_url(url))
    assert left == [], output


def harness(project: Path, flags: list[str], env: dict[str, str]):
    """``make test-migrations``, or the same run with pytest's ``flags``."""
    command = ["make", "test-migrations"]
    if flags:
        command = [".venv/bin/pytest", *flags]
    return unchecked(command, project, env, timeout=600)


def lines_of(output: str, start: str) -> list[str]:
    """The lines that start with ``start``; in a test's report or its summary."""
    summary = re.compile(r"^(ERROR|FAILED) \S+ - Failed: ")
    found = [summary.sub("", line) for line in output.splitlines()]
    # -vv repeats the whole line in the summary: said once, shown twice.
    return sorted({line for line in found if line.startswith(start)})


def assert_refused_for_the_limit(line: str, backend: str, url: sa.URL) -> None:
    masked = url.render_as_string(hide_password=True)
    user_name = url.username
    assert line.startswith(
        f"{backend}: connecting failed during the run: {VARIABLES[backend]} "
        f"{masked}: the server has no connection left for user {user_name} ("
    ), line
    assert LIMIT_ADVICE[backend].format(user=user_name) in line, line
    assert line.endswith(f"; the other {backend} tests are skipped."), line


# --- alembic and migration-kit: the server refuses the login ---------------------

REFUSED = [
    # Trust auth here lets a wrong password in on PostgreSQL: the role refuses.
    pytest.param(
        "postgresql",
        {"limit": 0},
        "the server has no connection left for user",
        id="postgresql-connection-limit-0",
    ),
    pytest.param(
        "postgresql", {"login": False}, "the server refused the login", id="nologin"
    ),
    pytest.param(
        "mysql", {"wrong_password": True}, "the server refused the login", id="wrong"
    ),
    pytest.param(
        "mysql", {"locked": True}, "the server refused the login", id="locked"
    ),
]


@pytest.mark.parametrize(("backend", "options", "expected"), REFUSED)
def test_make_migrate_and_baseline_refused(project, backend, options, expected):
    prefix = f"test_secrets_{uuid.uuid4().hex[:6]}_"
    with user(backend, prefix, **options) as url:
        migrate = command(project, ["make", "migrate"], url)
        baseline = command(project, [".venv/bin/migration-kit", "baseline"], url)
    masked = sa.make_url(url).render_as_string(hide_password=True)

    for result, word, code in [
        (migrate, "FAILED", MAKE_FAILED),
        (baseline, "ERROR", 1),
    ]:
        output = result.stdout + result.stderr
        assert result.returncode == code, output
        assert_no_password(output)
        assert "Traceback" not in output, output
        [line] = [line for line in output.splitlines() if word in line]
        assert line.startswith(f"{word}: "), output
        assert f"DATABASE_URL {masked}" in line and expected in line, output
    assert "Error 255" in migrate.stderr  # make names alembic's exit code


def command(project: Path, arguments: list[str], url: str):
    return unchecked(arguments, project, {"DATABASE_URL": url}, timeout=120)


# --- Throwaway users ------------------------------------------------------------


@contextmanager
def user(
    backend: str,
    prefix: str,
    limit: int = -1,
    login: bool = True,
    locked: bool = False,
    wrong_password: bool = False,
) -> Iterator[str]:
    """A URL with PASSWORD for a new user that may create ``prefix``
    databases; the user and its databases are dropped afterwards."""
    name = f"{prefix}user"
    # wrong_password: the user has another one, and the URL still gives PASSWORD.
    secret = "Other-Secret-1" if wrong_password else PASSWORD
    create = CREATE[backend](name, secret, prefix, limit, login, locked)
    with throwaway_user(backend, name, PASSWORD, create, prefix) as url:
        yield url


def create_postgresql(name, secret, prefix, limit, login, locked) -> list[str]:
    can_login = "LOGIN" if login else "NOLOGIN"
    return [
        f"CREATE ROLE {account('postgresql', name)} {can_login} CREATEDB "
        f"CONNECTION LIMIT {limit} PASSWORD '{secret}'"
    ]


def create_mysql(name, secret, prefix, limit, login, locked) -> list[str]:
    pattern = prefix.replace("_", "\\_") + "%"
    lock = " ACCOUNT LOCK" if locked else ""
    return [
        f"CREATE USER {account('mysql', name)} IDENTIFIED BY '{secret}' "
        f"WITH MAX_USER_CONNECTIONS {max(limit, 0)}{lock}",
        f"GRANT ALL ON `{pattern}`.* TO {account('mysql', name)}",
    ]


CREATE = {"postgresql": create_postgresql, "mysql": create_mysql}


def leftovers(prefix: str) -> list[str]:
    """The ``prefix`` databases still on either server."""
    found = []
    for backend in ("postgresql", "mysql"):
        engine = sa.create_engine(server_url(backend), poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            found += databases(connection, prefix)
        engine.dispose()
    return found
