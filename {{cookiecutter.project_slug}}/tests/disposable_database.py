"""Throwaway databases: made with a unique name for one test run, always dropped.

SQLite needs nothing. PostgreSQL and MySQL/MariaDB need a server URL whose user
may create databases, in TEST_POSTGRES_URL and TEST_MYSQL_URL. The harness only
ever migrates a database it has just created itself.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

BACKENDS = ("sqlite", "postgresql", "mysql")
URL_VARIABLES = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
NAME_PREFIX = "test_migrations_"


def server_url(backend: str) -> URL | None:
    raw = os.environ.get(URL_VARIABLES[backend], "").strip()
    return make_url(raw) if raw else None


def required_backends() -> set[str]:
    raw = os.environ.get("REQUIRE_TEST_BACKENDS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def skip_unless_configured(backend: str) -> None:
    """Skip a server backend without a URL, or fail if it is required."""
    if backend == "sqlite" or server_url(backend) is not None:
        return
    reason = f"{backend}: set {URL_VARIABLES[backend]} to a server URL to test it"
    if backend in required_backends():
        pytest.fail(f"{reason} (REQUIRE_TEST_BACKENDS lists {backend})")
    pytest.skip(reason)


@contextmanager
def disposable_database(backend: str, directory: Path) -> Iterator[Engine]:
    """An engine on a new, empty database that is dropped afterwards."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite:///{directory / 'migrations.sqlite3'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    server = server_url(backend)
    assert server is not None, f"{URL_VARIABLES[backend]} is not set"
    name = f"{NAME_PREFIX}{uuid.uuid4().hex[:12]}"
    with _created(server, name):
        engine = create_engine(server.set(database=name), poolclass=NullPool)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def _created(server: URL, name: str) -> Iterator[None]:
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(_create_statement(server, name)))
        try:
            yield
        finally:
            with admin.connect() as connection:
                connection.execute(text(_drop_statement(server, name)))
    finally:
        admin.dispose()


def _create_statement(server: URL, name: str) -> str:
    if server.get_backend_name() == "postgresql":
        return f'CREATE DATABASE "{name}"'
    return f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"


def _drop_statement(server: URL, name: str) -> str:
    if server.get_backend_name() == "postgresql":
        # FORCE ends connections a failed test may have left open.
        return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    return f"DROP DATABASE IF EXISTS `{name}`"
