"""Throwaway logins with a password on the test servers, always dropped, and the
check that no output shows a piece of the password.

PostgreSQL here trusts local logins, so it ignores the password; the URL still
carries it, which is what a masked output must not show.
"""

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from .production import drop_database, failure_line, fresh_database, server_url

PASSWORD = "S3cr3t-Pa55"
ALEMBIC_FAILED = 255  # alembic's exit code after its FAILED: line
LIST = {
    "postgresql": "SELECT datname FROM pg_database",
    "mysql": "SELECT schema_name FROM information_schema.schemata",
}


@contextmanager
def throwaway_user(
    backend: str,
    name: str,
    password: str = PASSWORD,
    create: list[str] | None = None,
    prefix: str = "",
) -> Iterator[str]:
    """A URL for user ``name``, made by the ``create`` statements (by default a
    plain login with ``password``); afterwards the user is dropped, with its
    databases named ``prefix...`` if given."""
    server = server_url(backend)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for statement in create or [login(backend, name, password)]:
                connection.execute(sa.text(statement))
        # MySQL: no database, as the user may use none but its own.
        database = server.database if backend == "postgresql" else None
        url = sa.URL.create(
            server.drivername, name, password, server.host, server.port, database
        )
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            for database in databases(connection, prefix) if prefix else []:
                connection.execute(sa.text(drop_database(backend, database)))
            connection.execute(sa.text(f"DROP USER IF EXISTS {account(backend, name)}"))
        admin.dispose()


@contextmanager
def database_with_login(
    backend: str, directory: Path, may_create: bool = True
) -> Iterator[tuple[str, str]]:
    """A new database and a new user: (the user's URL, the administrator's URL).

    The user may create tables there unless ``may_create`` is false (then
    it may only connect and read). Both are dropped afterwards, the database
    first (it holds the user's grants).
    """
    user = f"test_login_{uuid.uuid4().hex[:12]}"
    with (
        throwaway_user(backend, user),
        fresh_database(backend, directory) as admin_url,
    ):
        database = sa.make_url(admin_url).database
        if statement := grant(backend, account(backend, user), database, may_create):
            engine = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
            with engine.begin() as connection:
                connection.execute(sa.text(statement))
            engine.dispose()
        login_url = sa.make_url(admin_url).set(username=user, password=PASSWORD)
        yield login_url.render_as_string(hide_password=False), admin_url


def login(backend: str, name: str, password: str) -> str:
    """The statement that makes a user who may log in, and nothing more."""
    if backend == "postgresql":
        return f"CREATE ROLE {account(backend, name)} LOGIN PASSWORD '{password}'"
    return f"CREATE USER {account(backend, name)} IDENTIFIED BY '{password}'"


def account(backend: str, name: str) -> str:
    return f'"{name}"' if backend == "postgresql" else f"'{name}'@'%'"


def grant(backend: str, user: str, database: str, may_create: bool) -> str:
    if backend == "postgresql":
        # Any role may connect and read; PostgreSQL 15+ gives it no CREATE on public.
        return f"GRANT ALL ON SCHEMA public TO {user}" if may_create else ""
    privileges = "ALL" if may_create else "SELECT"
    return f"GRANT {privileges} ON `{database}`.* TO {user}"


def databases(connection: sa.Connection, prefix: str) -> list[str]:
    listed = connection.exec_driver_sql(LIST[connection.dialect.name]).scalars()
    return sorted(name for name in listed if name.startswith(prefix))


def assert_no_password(output: str, password: str = PASSWORD) -> None:
    """No four characters of ``password`` in a row appear in ``output``."""
    fragments = {password[i : i + 4] for i in range(len(password) - 3)}
    shown = sorted(fragment for fragment in fragments if fragment in output)
    assert not shown, f"password fragments {shown} in:\n{output}"


def alembic_failure(
    result: subprocess.CompletedProcess[str], password: str = PASSWORD
) -> str:
    """The one FAILED: line of a failed alembic run, which shows no password."""
    assert result.returncode == ALEMBIC_FAILED, result.stdout + result.stderr
    assert_no_password(result.stdout + result.stderr, password)
    return failure_line(result)
