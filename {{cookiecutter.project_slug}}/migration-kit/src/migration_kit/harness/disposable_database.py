"""Throwaway databases: made with a unique name for one test run, always dropped.

SQLite needs nothing. PostgreSQL and MySQL/MariaDB need a server URL whose user
may create databases, in TEST_POSTGRES_URL and TEST_MYSQL_URL (or TEST_DOCKER=1,
see ``docker_servers.py``); without TEST_POSTGRES_URL, PostgreSQL runs on an
embedded server (the package's ``embedded_server.py``) unless TEST_POSTGRES=off.
The harness only ever migrates a database it has created itself:
``created_here`` tells, and ``MigrationSteps`` asks it.

A server URL may name an async driver (``postgresql+asyncpg``,
``mysql+aiomysql``): migrations then run through it, as ``alembic upgrade``
would (``migration_url``), while the harness creates, drops, reads and writes
through the sync driver of the same database (``SYNC_DRIVERS``).

Every database is registered before it is created and dropped when its test
ends; ``drop_leftovers`` drops what an interrupted run (Ctrl-C) left, from
conftest's ``pytest_sessionfinish`` and, as a last resort, at exit. Names start
with TEST_DATABASE_PREFIX and carry the run's id (``run_marker.py``), so what a
killed run left can be told from what a live one uses.
"""

import atexit
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from inspect import signature
from pathlib import Path
from typing import Any

from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from .. import embedded_server
from ..errors import one_line
from ..settings import setting
from ..sqlite import make_transactional
from ..urls import parse_url, redacted, shown
from . import docker_servers, run_marker
from .run_marker import NAME_PREFIX

BACKENDS = ("sqlite", "postgresql", "mysql")
# Set to 1 to run without a server for alembic.ini's database on purpose.
DEPLOY_OPTIONAL = "MIGRATION_DEPLOY_BACKEND_OPTIONAL"
URL_VARIABLES = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
SYNC_DRIVERS = {"asyncpg": "psycopg", "aiomysql": "pymysql", "asyncmy": "pymysql"}
# The schema the PostgreSQL databases work in: not public, as a tenant's.
TENANT_SCHEMA = "tenant_schema"

# Databases this process created and has not dropped yet: name -> server URL.
_LIVE: dict[str, URL] = {}
# Everything this process created, SQLite files included, for created_here().
_CREATED: set[str] = set()
# Databases whose server URL names an async driver: name -> that URL.
_ASYNC: dict[str, URL] = {}


def server_url(backend: str) -> URL | None:
    if backend == "sqlite":
        return None
    raw = os.environ.get(URL_VARIABLES[backend], "").strip()
    if raw:
        # BadURL for a mistake: preflight.py reports it before any test runs.
        return parse_url(raw, URL_VARIABLES[backend])
    if docker_servers.enabled():
        return docker_servers.server_url(backend)
    if backend == "postgresql" and embedded_server.enabled():
        return embedded_server.server_url()
    return None


def required_backends() -> set[str]:
    """REQUIRE_TEST_BACKENDS, and the database the project deploys to."""
    return _listed_as_required() | ({deploy_backend()} & URL_VARIABLES.keys())


def why_required(backend: str) -> str:
    if backend in _listed_as_required():
        return f"REQUIRE_TEST_BACKENDS lists {backend}"
    return (
        f"alembic.ini: database = {backend}, the database this project deploys "
        f"to; {DEPLOY_OPTIONAL}=1 leaves it untested on purpose"
    )


def deploy_backend() -> str:
    """alembic.ini's database, unless DEPLOY_OPTIONAL says to let it go."""
    if os.environ.get(DEPLOY_OPTIONAL, "").strip() == "1":
        return ""
    try:
        return setting("database")
    except CommandError:  # no alembic.ini here: the harness's own tests
        return ""


def _listed_as_required() -> set[str]:
    raw = os.environ.get("REQUIRE_TEST_BACKENDS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def untested_backends() -> dict[str, str]:
    """The backends this run has no server for, each with what to do about it."""
    return {
        backend: reason
        for backend in BACKENDS
        if (reason := _missing_server(backend)) is not None
    }


def created_here(engine: Engine) -> bool:
    """Whether this process created the database ``engine`` points at."""
    name = engine.url.database or ""
    if engine.dialect.name == "sqlite":
        return name in _CREATED
    return name.startswith(NAME_PREFIX) and name in _CREATED


@contextmanager
def disposable_database(backend: str, directory: Path) -> Iterator[Engine]:
    """An engine on a new, empty database that is dropped afterwards."""
    if backend == "sqlite":
        path = str(directory / f"{run_marker.database_name()}.sqlite3")
        _CREATED.add(path)
        engine = create_engine(f"sqlite:///{path}")
        # Migrate in the same real transactions as `alembic upgrade` does.
        make_transactional(engine)
        event.listen(engine, "connect", _no_sync)
    else:
        server = server_url(backend)
        assert server is not None, f"{URL_VARIABLES[backend]} is not set"
        # Pooled: the stairway reads the schema and rows a few times per
        # revision, and a new connection costs 2 ms on PostgreSQL, 16 ms on
        # MariaDB. Migration steps never reuse one (MigrationSteps).
        engine = create_engine(sync_url(_create(server)))
        _tls_only_if_offered(engine)
        _no_prepared_statements(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        if backend != "sqlite":
            _drop(engine.url.database or "")


def _no_sync(dbapi_connection: Any, _record: Any) -> None:
    """A throwaway database need not survive a power cut: no fsync per commit.

    Each commit waited for the disk (13 ms here), two thirds of a SQLite
    stairway's time; transactions and what they see are unchanged.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.close()


def _no_prepared_statements(engine: Engine) -> None:
    """psycopg 3 prepares a statement the fifth time it runs on a connection.

    The harness reuses a connection from step to step, and ends each step
    with DISCARD ALL (migration_steps.as_if_new), which drops those statements
    on the server behind the driver's back; psycopg 3.3 notices only the first
    DISCARD ALL of a connection. A test stepping one revision at a time then
    failed at its sixth step: prepared statement "_pg3_0" does not exist.
    """
    if engine.dialect.driver != "psycopg":
        return

    def unprepared(_dialect: Any, _record: Any, _args: Any, params: dict) -> None:
        params["prepare_threshold"] = None

    event.listen(engine, "do_connect", unprepared)


def _tls_only_if_offered(engine: Engine) -> None:
    """PyMySQL 1.2 tries TLS on every connection unless told not to, and builds
    an SSL context for each: 55 ms of OpenSSL reading certificates, at every
    migration step, half of a MariaDB stairway's time. Once a server has
    offered no TLS, this engine's next connections do not prepare for it;
    one that offered it keeps it, as does a URL that asks for it."""
    if engine.dialect.driver != "pymysql":
        return
    import pymysql  # the driver of this engine
    from pymysql.constants import CLIENT

    if "ssl_disabled" not in signature(pymysql.connections.Connection).parameters:
        return  # PyMySQL before 1.0 tries no TLS unless told to

    offered: list[bool] = []

    def learn(dbapi_connection: Any, _record: Any) -> None:
        if not offered:
            capabilities = getattr(dbapi_connection, "server_capabilities", None)
            offered.append(capabilities is None or bool(capabilities & CLIENT.SSL))

    def plain(_dialect: Any, _record: Any, _args: Any, params: dict) -> None:
        if offered == [False] and not any(key.startswith("ssl") for key in params):
            params["ssl_disabled"] = True

    event.listen(engine, "connect", learn)
    event.listen(engine, "do_connect", plain)


def migration_url(engine: Engine) -> URL | None:
    """The async URL to migrate ``engine``'s database through, if it has one."""
    return _ASYNC.get(engine.url.database or "")


def drop_leftovers() -> None:
    """Drop every database this process created and did not drop yet.

    Runs when the session ends: a server that went away meanwhile gets one
    line per database, and the test summary is still printed.
    """
    for name in list(_LIVE):
        server = _LIVE[name]
        try:
            _drop(name)
        except DBAPIError as error:
            print(
                f"could not drop {name} on {shown(server)}: "
                f"{redacted(one_line(error.orig), server)}; "
                "the next run lists it (see TEST_DROP_LEFTOVERS in docs/testing.md).",
                file=sys.stderr,
            )
            del _LIVE[name]
    run_marker.close_all()


atexit.register(drop_leftovers)


def _missing_server(backend: str) -> str | None:
    variable = URL_VARIABLES.get(backend)
    if not variable or os.environ.get(variable, "").strip():
        return None
    if docker_servers.enabled():
        return None
    ask = f"{backend}: set {variable} to a server URL (or TEST_DOCKER=1"
    if backend != "postgresql":
        return f"{ask}) to test it"
    if not embedded_server.enabled():
        return f"{ask}, or unset TEST_POSTGRES=off for an embedded server) to test it"
    if not embedded_server.installed():
        return (
            f"{ask}, or pip install -e '.[test,postgresql]' for an embedded server) "
            "to test it"
        )
    return None


def _create(server: URL) -> URL:
    # Marked first: another run must see this one alive before its databases.
    run_marker.mark_alive(sync_url(server))
    name = run_marker.database_name()
    # Registered first: an interrupt during CREATE still gets it dropped.
    _LIVE[name] = server
    _CREATED.add(name)
    with admin_connection(server) as connection:
        connection.execute(text(create_statement(server, name)))
    url = server.set(database=name)
    if url.get_backend_name() == "postgresql":
        _tenant_schema_by_default(url)
    if url.get_dialect().is_async:
        _ASYNC[name] = url
    return url


def _tenant_schema_by_default(url: URL) -> None:
    """Every connection to the database works in a schema that is not public,
    as a tenant's migrations do (docs/tenants.md): a revision that names
    ``public`` fails here, before it reaches a tenant."""
    with admin_connection(url) as connection:
        connection.execute(text(f'CREATE SCHEMA "{TENANT_SCHEMA}"'))
        connection.execute(
            text(f'ALTER DATABASE "{url.database}" SET search_path = {TENANT_SCHEMA}')
        )


def sync_url(url: URL) -> URL:
    """The same database through the sync driver, for the harness's own queries."""
    driver = SYNC_DRIVERS.get(url.get_driver_name())
    if driver is None:
        return url
    return url.set(drivername=f"{url.get_backend_name()}+{driver}")


def _drop(name: str) -> None:
    server = _LIVE.get(name)
    if server is None:
        return
    with admin_connection(server) as connection:
        drop_database(connection, name)
    del _LIVE[name]


def drop_database(connection: Connection, name: str) -> None:
    if connection.dialect.name in ("mysql", "mariadb"):
        _end_sessions(connection, name)
        connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    else:
        # FORCE ends connections a failed or interrupted test left open.
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def admin_connection(server: URL) -> Iterator[Connection]:
    admin = create_engine(
        sync_url(server), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with admin.connect() as connection:
            yield connection
    finally:
        admin.dispose()


def create_statement(server: URL, name: str) -> str:
    if server.get_backend_name() == "postgresql":
        return f'CREATE DATABASE "{name}"'
    return f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"


def _end_sessions(connection: Connection, name: str) -> None:
    """End the MySQL sessions on database ``name``.

    MySQL has no DROP DATABASE ... FORCE, and DROP waits for any transaction
    still open on one of its tables, as an interrupted test may leave one.
    """
    query = text(
        "SELECT id FROM information_schema.processlist "
        "WHERE db = :name AND id <> CONNECTION_ID()"
    )
    for session in connection.scalars(query, {"name": name}).all():
        with suppress(DBAPIError):  # it may have ended on its own meanwhile
            connection.execute(text(f"KILL {int(session)}"))
