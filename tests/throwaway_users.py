"""Throwaway users on the test servers, with a password, always dropped."""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from .production import server_url

LIST = {
    "postgresql": "SELECT datname FROM pg_database",
    "mysql": "SELECT schema_name FROM information_schema.schemata",
}


@contextmanager
def throwaway_user(
    backend: str, name: str, password: str, create: list[str], prefix: str = ""
) -> Iterator[str]:
    """A URL for user ``name``, made by the ``create`` statements; afterwards
    the user is dropped, with its databases named ``prefix...`` if given."""
    server = server_url(backend)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for statement in create:
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


def account(backend: str, name: str) -> str:
    return f'"{name}"' if backend == "postgresql" else f"'{name}'@'%'"


def drop_database(backend: str, name: str) -> str:
    if backend == "postgresql":
        return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    return f"DROP DATABASE IF EXISTS `{name}`"


def databases(connection: sa.Connection, prefix: str) -> list[str]:
    listed = connection.exec_driver_sql(LIST[connection.dialect.name]).scalars()
    return sorted(name for name in listed if name.startswith(prefix))
