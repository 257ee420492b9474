"""Helpers for tests that run a baked project's alembic as production would."""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from .baking import STAIRWAY, bake, install, run

URL_VARIABLES = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
# What an async application puts in DATABASE_URL for each backend.
ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
}
# What alembic keeps in a migrated database, besides the schema: the
# revision, and each applied revision's fingerprint (docs/history.md).
BOOKKEEPING = {"alembic_version", "alembic_version_sums"}
FIRST = "5d3e0a1c2b01"
HEAD = "8f7a6b5c4d02"
PLAYERS = (
    "INSERT INTO players (id, name, team) VALUES "
    "(1, 'Ann', 'Reds'), (2, 'Bob', 'Blues'), (3, 'Cy', 'Reds'), (4, 'Di', NULL)"
)
PLAYER_TEAMS = (
    "SELECT p.id, t.name FROM players p LEFT JOIN teams t ON t.id = p.team_id "
    "ORDER BY p.id"
)
_installed: list[Path] = []


def installed_project(cookies_session) -> Path:
    """The default project, baked and installed once for the whole session."""
    if not _installed:
        project = bake(cookies_session)
        install(project)
        _installed.append(project)
    return _installed[0]


def server_url(backend: str) -> sa.URL:
    """The test server in TEST_*_URL; the test is skipped (or failed) without it."""
    variable = URL_VARIABLES[backend]
    raw = os.environ.get(variable)
    if not raw:
        required = os.environ.get("REQUIRE_TEST_BACKENDS", "").split(",")
        (pytest.fail if backend in required else pytest.skip)(f"set {variable}")
    return sa.make_url(raw)


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a new database with a unique name, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'production.sqlite3'}"
        return
    server = server_url(backend)
    name = f"test_production_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {quoted(backend, name)}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(drop_database(backend, name))
        admin.dispose()


def quoted(backend: str, name: str) -> str:
    return f'"{name}"' if backend == "postgresql" else f"`{name}`"


def drop_database(backend: str, name: str) -> str:
    """Dropped even while a connection a test left behind is still open on it."""
    force = " WITH (FORCE)" if backend == "postgresql" else ""
    return f"DROP DATABASE IF EXISTS {quoted(backend, name)}{force}"


def through(driver: str, url: str) -> str:
    """``url`` as given ("sync"), or through the async driver an async app uses.

    Checks read the database through ``url``; only alembic gets the async one.
    """
    if driver == "sync":
        return url
    parsed = sa.make_url(url)
    async_driver = ASYNC_DRIVERS[parsed.get_backend_name()]
    return parsed.set(drivername=async_driver).render_as_string(hide_password=False)


def harness_on_async_urls(project: Path) -> subprocess.CompletedProcess[str]:
    """The baked harness on TEST_*_URLs turned async, PostgreSQL and MySQL only."""
    servers = {
        variable: through(
            "async", server_url(backend).render_as_string(hide_password=False)
        )
        for backend, variable in URL_VARIABLES.items()
    }
    tests = [*STAIRWAY, "tests/test_sample_teams.py"]
    result = run(
        [".venv/bin/pytest", *tests, "-k", "postgresql or mysql"],
        cwd=project,
        env=servers,
    )
    summary = result.stdout.splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, result.stdout
    return result


def start_alembic(
    project: Path, url: str, *arguments: str, cwd: Path | None = None, **env: str
):
    """Start the project's alembic on ``url``, as a deploy script would."""
    return subprocess.Popen(
        [str(project / ".venv/bin/alembic"), *arguments],
        cwd=cwd or project,
        env={**os.environ, "DATABASE_URL": url, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def alembic(
    project: Path, url: str, *arguments: str, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the project's alembic on ``url``, whatever its exit code."""
    return finish(start_alembic(project, url, *arguments, cwd=cwd, **env))


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def failure_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed command printed, besides alembic's INFO lines."""
    assert result.returncode != 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if not line.startswith("INFO ")]
    assert len(lines) == 1, output
    assert lines[0].startswith("FAILED: "), output
    return lines[0]


@contextmanager
def extra_revision(
    project: Path, revision: str, down: str | None, body: str, module: str = ""
) -> Iterator[None]:
    """Add a revision on top of ``down`` for the duration of a test.

    ``module`` goes between the revision identifiers and ``upgrade()``.
    """
    path = project / f"migrations/versions/2099_01_01_0000-{revision}_extra.py"
    path.write_text(
        f'"""Test revision {revision}."""\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\n"
        f"branch_labels = None\ndepends_on = None\n{module}\n\n"
        f"def upgrade() -> None:\n{body}\n\n"
        "def downgrade() -> None:\n    pass\n"
    )
    try:
        yield
    finally:
        path.unlink()


def rows(url: str, query: str) -> list[tuple]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.exec_driver_sql(query)]
    finally:
        engine.dispose()


def version(url: str) -> list[str]:
    """The revisions in alembic_version: one, unless the history branches."""
    return [row[0] for row in rows(url, "SELECT version_num FROM alembic_version")]


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


HOLD_MIGRATION_LOCK = """
import sys, time
from sqlalchemy import create_engine
from migration_kit.locking import migration_lock

with create_engine(sys.argv[1]).connect() as connection, migration_lock(connection):
    print("held", flush=True)
    time.sleep(120)
"""


@contextmanager
def migration_lock_held(project: Path, url: str) -> Iterator[None]:
    """Another process holds the project's migration lock on ``url``."""
    with held_by(project, HOLD_MIGRATION_LOCK, url):
        yield


@contextmanager
def held_by(project: Path, script: str, *arguments: str) -> Iterator[None]:
    """The project's Python runs ``script``, which prints "held" once it holds
    a lock, until the block ends."""
    holder = subprocess.Popen(
        [str(project / ".venv/bin/python"), "-c", script, *arguments],
        # The lock's name comes from the project's alembic.ini.
        cwd=project,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


@contextmanager
def holding(url: str, statement: str) -> Iterator[None]:
    """A transaction on ``url`` that ran ``statement`` stays open: the locks it
    took (a row's, a table's metadata lock) are held until the block ends."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
            yield
    finally:
        engine.dispose()


def waiting_session(url: str, query: str, process: subprocess.Popen) -> int:
    """The first id ``query`` finds on ``url`` while ``process`` runs: the server
    session in which it waits for a lock."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if found := rows(url, query):
            return found[0][0]
        time.sleep(0.1)
    raise AssertionError(f"the run never waited: nothing found by {query}")
