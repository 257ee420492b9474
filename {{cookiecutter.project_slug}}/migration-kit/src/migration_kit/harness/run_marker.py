"""Which throwaway databases belong to a run that is still going.

A database's name carries the id of the run that made it:
``<TEST_DATABASE_PREFIX><run id>_<random>``. Before it makes its first
database on a server, a run marks itself alive there on a connection it holds
until it ends: PostgreSQL shows the mark as the connection's application_name,
MySQL/MariaDB as a named lock. When a run is killed, its connection closes and
the mark goes with it, so ``leftovers`` can tell its databases from those of a
run still going, on this machine or another. A name without a run id was not
made by this harness and is never listed.
"""

import os
import re
import uuid

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

PREFIX_VARIABLE = "TEST_DATABASE_PREFIX"
NAME_PREFIX = os.environ.get(PREFIX_VARIABLE, "").strip() or "test_migrations_"
# Room for the run id and a random part within MySQL's 64 and PostgreSQL's 63.
VALID_PREFIX = re.compile(r"[a-z][a-z0-9_]{0,39}")
RUN_ID = uuid.uuid4().hex[:8]
OWN_NAME = re.compile(re.escape(NAME_PREFIX) + r"([0-9a-f]{8})_[0-9a-f]{8}")
DATABASES = {
    "postgresql": "SELECT datname FROM pg_database",
    "mysql": "SELECT schema_name FROM information_schema.schemata",
}
# Databases someone is connected to: never leftovers, whatever their mark says.
IN_USE = {
    "postgresql": "SELECT datname FROM pg_stat_activity",
    "mysql": "SELECT db FROM information_schema.processlist",
}

# Per server URL: the engine and connection that hold this run's mark.
_MARKS: dict[str, tuple[Engine, Connection]] = {}


def prefix_problem() -> str:
    """One line if TEST_DATABASE_PREFIX cannot start a database name, else ""."""
    if VALID_PREFIX.fullmatch(NAME_PREFIX):
        return ""
    return (
        f"{PREFIX_VARIABLE}={NAME_PREFIX!r} cannot start a database name: use "
        "up to 40 lowercase letters, digits and _, starting with a letter."
    )


def database_name() -> str:
    return f"{NAME_PREFIX}{RUN_ID}_{uuid.uuid4().hex[:8]}"


def mark_alive(server: URL) -> None:
    """Mark this run alive on ``server``, once, until ``close_all``."""
    # Password hidden: a local that --showlocals would print if connecting fails.
    key = server.render_as_string()
    if key in _MARKS:
        return
    engine = create_engine(server, poolclass=NullPool)
    connection = engine.connect()
    _MARKS[key] = (engine, connection)
    if _dialect(connection) == "postgresql":
        mark = "SELECT set_config('application_name', :name, false)"
    else:
        mark = "SELECT GET_LOCK(:name, 0)"
    connection.execute(text(mark), {"name": _mark_name(RUN_ID)})
    connection.commit()


def close_all() -> None:
    while _MARKS:
        _, (engine, connection) = _MARKS.popitem()
        connection.close()
        engine.dispose()


def leftovers(connection: Connection) -> list[str]:
    """This harness's databases on the server whose run is no longer alive."""
    query = text(DATABASES[_dialect(connection)])
    owned = {
        name: match[1]
        for name in connection.scalars(query)
        if (match := OWN_NAME.fullmatch(name)) and match[1] != RUN_ID
    }
    alive = _alive_runs(connection, set(owned.values()))
    in_use = set(connection.scalars(text(IN_USE[_dialect(connection)])))
    return sorted(
        name for name, run in owned.items() if run not in alive and name not in in_use
    )


def _alive_runs(connection: Connection, runs: set[str]) -> set[str]:
    if _dialect(connection) == "postgresql":
        # application_name is shown for every session, whoever owns it.
        query = text("SELECT application_name FROM pg_stat_activity")
        marks = set(connection.scalars(query))
        return {run for run in runs if _mark_name(run) in marks}
    held = text("SELECT IS_USED_LOCK(:name)")
    return {
        run
        for run in runs
        if connection.scalar(held, {"name": _mark_name(run)}) is not None
    }


def _mark_name(run: str) -> str:
    return f"{NAME_PREFIX}{run}"


def _dialect(connection: Connection) -> str:
    name = connection.dialect.name
    return "mysql" if name == "mariadb" else name
