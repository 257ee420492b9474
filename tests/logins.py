"""A throwaway database and a user with a password, to prove no output shows it.

PostgreSQL here trusts local logins, so it ignores the password; the URL still
carries it, which is what a masked output must not show.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from .production import execute, fresh_database, server_url

PASSWORD = "S3cr3t-Pa55"


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
    server = server_url(backend).render_as_string(hide_password=False)
    if backend == "postgresql":
        execute(server, f"CREATE ROLE {user} LOGIN PASSWORD '{PASSWORD}'")
        account, drop = user, f"DROP ROLE IF EXISTS {user}"
    else:
        account = f"'{user}'@'%%'"
        execute(server, f"CREATE USER {account} IDENTIFIED BY '{PASSWORD}'")
        drop = f"DROP USER IF EXISTS {account}"
    try:
        with fresh_database(backend, directory) as admin_url:
            database = sa.make_url(admin_url).database
            if statement := grant(backend, account, database, may_create):
                execute(admin_url, statement)
            login = sa.make_url(admin_url).set(username=user, password=PASSWORD)
            yield login.render_as_string(hide_password=False), admin_url
    finally:
        execute(server, drop)


def grant(backend: str, account: str, database: str, may_create: bool) -> str:
    if backend == "postgresql":
        # Any role may connect and read; PostgreSQL 15+ gives it no CREATE on public.
        return f"GRANT ALL ON SCHEMA public TO {account}" if may_create else ""
    privileges = "ALL" if may_create else "SELECT"
    return f"GRANT {privileges} ON `{database}`.* TO {account}"


def assert_no_password(output: str) -> None:
    """No four characters of PASSWORD in a row appear in ``output``."""
    fragments = {PASSWORD[i : i + 4] for i in range(len(PASSWORD) - 3)}
    shown = sorted(fragment for fragment in fragments if fragment in output)
    assert not shown, f"password fragments {shown} in:\n{output}"
