"""One history, many tenants: where a tenant lives, and running inside it.

A tenant is named by ``-x tenant=<name>`` (``make migrate tenant=<name>``) or
listed for ``make migrate-tenants`` (rollout.py). A name lives beside
DATABASE_URL's database:

- PostgreSQL: a schema in that database. The run sets ``search_path`` to it
  alone, so revisions, frozen models, ``migration_session()``,
  ``update_in_batches()`` and ``backfill()`` name no schema and still work in
  the tenant's, and ``alembic_version`` is the tenant's own. The lock is
  per schema: two tenants migrate at once, one tenant never twice.
- MySQL/MariaDB: a database of that name on the same server (a schema is a
  database there); the lock names the database already.
- SQLite: a file beside DATABASE_URL's, ``app.sqlite3`` -> ``app.<name>.sqlite3``.

A tenant with a database of its own is a URL instead of a name (a line of the
tenants file, rollout.py). Migrating a tenant never creates it: a name with
no schema, database or file is one line pointing at ``make create-tenant``,
which builds a new tenant from the models at head and stamps it (no replay).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from .database import commit, database_url
from .urls import BadURL, parse_url, shown

# Letters, digits and underscores, as a schema or database name needs no
# quoting anywhere; 63 is PostgreSQL's limit (MySQL's is 64).
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
ATTRIBUTE = "tenant"  # config.attributes[...]: a Tenant, set by the rollout
CREATE = "create_tenant"  # config.attributes[...]: build from the models, stamp
UNKNOWN_DATABASE = 1049  # MySQL's ER_BAD_DB_ERROR


@dataclass(frozen=True)
class Tenant:
    """Where one tenant's migrations run."""

    name: str  # as the ledger and the report show it: no password in it
    url: URL  # the database to connect to
    schema: str | None = None  # PostgreSQL: the schema to run in


def tenant(entry: str, base: URL) -> Tenant:
    """The tenant a name or URL means, next to DATABASE_URL's ``base``."""
    entry = entry.strip()
    if "://" in entry:
        try:
            url = parse_url(entry, "the tenants list")
        except BadURL as error:
            raise CommandError(str(error)) from None
        return Tenant(shown(url), url)
    if not NAME.fullmatch(entry):
        raise CommandError(
            f"tenant {entry!r} is not a name of letters, digits and underscores "
            "(at most 63, not starting with a digit): use e.g. tenant=acme_corp."
        )
    backend = base.get_backend_name()
    if backend == "postgresql":
        return Tenant(entry, base, schema=entry)
    if backend in ("mysql", "mariadb"):
        return Tenant(entry, base.set(database=entry))
    if not base.database or base.database == ":memory:":
        raise CommandError(
            "tenants on SQLite are files beside DATABASE_URL's: set it to a file, "
            "e.g. sqlite:///app.sqlite3."
        )
    path = Path(base.database)
    beside = path.with_suffix(f".{entry}{path.suffix}")
    return Tenant(entry, base.set(database=str(beside)))


def create(name: str, config: Config) -> Tenant:
    """A new tenant at head, built from the models and stamped: no replay.

    What ``make create-tenant name=...`` runs, and what an application calls
    at sign-up with its alembic.ini's Config. A tenant that exists already is
    refused, and a failed create leaves nothing behind.
    """
    base = database_url(config)
    if "://" in name:
        raise CommandError("create-tenant takes a tenant's name, not a URL.")
    found = tenant(name, base)
    create_storage(found, base)
    config.attributes[ATTRIBUTE] = found
    config.attributes[CREATE] = True
    try:
        command.stamp(config, "head")
    except BaseException:
        drop_storage(found, base)
        raise
    return found


def requested(config: Config, base: URL) -> Tenant | None:
    """The tenant this run migrates: the rollout's, or ``-x tenant=``; None for none."""
    given = config.attributes.get(ATTRIBUTE)
    if given is not None:
        return given
    name = context.get_x_argument(as_dictionary=True).get("tenant")
    return None if name is None else tenant(name, base)


def creating(config: Config) -> bool:
    return bool(config.attributes.get(CREATE))


def check_exists(found: Tenant) -> None:
    """Refuse a SQLite tenant without its file: connecting would create it."""
    sqlite = found.url.get_backend_name() == "sqlite"
    if sqlite and not Path(found.url.database or "").is_file():
        raise _missing(found)


@contextmanager
def inside(connection: Connection, found: Tenant) -> Iterator[None]:
    """Run the block with ``connection`` in the tenant's schema (PostgreSQL)."""
    if found.schema is None:
        yield
        return
    exists = text("SELECT 1 FROM pg_namespace WHERE nspname = :name")
    if connection.scalar(exists, {"name": found.schema}) is None:
        connection.rollback()
        raise _missing(found)
    # The tenant's schema alone: a table a revision names without a schema
    # is the tenant's, and one in another schema is not found by mistake.
    search_path = text("SELECT set_config('search_path', :path, false)")
    connection.execute(search_path, {"path": f'"{found.schema}"'})
    # Alembic never commits what ran before context.configure(): commit it.
    commit(connection)
    yield


def refuse_missing(found: Tenant, error: Exception) -> None:
    """A MySQL tenant's database that is not there is a missing tenant."""
    code = getattr(getattr(error, "orig", None), "args", (None,))[0]
    if (
        found.url.get_backend_name() in ("mysql", "mariadb")
        and code == UNKNOWN_DATABASE
    ):
        raise _missing(found) from None


def _missing(found: Tenant) -> CommandError:
    return CommandError(
        f"tenant {found.name!r} does not exist: create it with "
        f"make create-tenant name={found.name}, or check its name."
    )


def create_storage(found: Tenant, base: URL) -> None:
    """The empty schema, database or file of a new tenant; refused if it exists."""
    backend = found.url.get_backend_name()
    if backend == "sqlite":
        path = Path(found.url.database or "")
        if path.exists():
            raise _exists(found)
        path.touch()
        return
    engine = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if _storage_exists(connection, found):
                raise _exists(found)
            connection.exec_driver_sql(_create_statement(found))
    finally:
        engine.dispose()


def drop_storage(found: Tenant, base: URL) -> None:
    """Undo ``create_storage`` after a failed create: the tenant is new, so empty."""
    if found.url.get_backend_name() == "sqlite":
        Path(found.url.database or "").unlink(missing_ok=True)
        return
    engine = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if found.schema:
                drop = f'DROP SCHEMA IF EXISTS "{found.schema}" CASCADE'
            else:
                drop = f"DROP DATABASE IF EXISTS `{found.url.database}`"
            connection.exec_driver_sql(drop)
    finally:
        engine.dispose()


def _storage_exists(connection: Connection, found: Tenant) -> bool:
    if found.schema:
        query = "SELECT 1 FROM pg_namespace WHERE nspname = :name"
    else:
        query = "SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"
    name = found.schema or found.url.database
    return connection.scalar(text(query), {"name": name}) is not None


def _create_statement(found: Tenant) -> str:
    if found.schema:
        return f'CREATE SCHEMA "{found.schema}"'
    return f"CREATE DATABASE `{found.url.database}` CHARACTER SET utf8mb4"


def _exists(found: Tenant) -> CommandError:
    return CommandError(
        f"tenant {found.name!r} exists already: bring it to head with "
        f"make migrate tenant={found.name}."
    )
