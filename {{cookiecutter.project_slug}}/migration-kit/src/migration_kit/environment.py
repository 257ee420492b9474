"""What migrations/env.py calls: connect, lock, configure, report in one line.

env.py keeps Alembic's two functions, offline and online; the work they share
with every project lives here:

- the URL comes from DATABASE_URL, or alembic.ini's ``default_url`` (database.py);
- a Connection or Engine handed in through ``config.attributes["connection"]``
  (the harness, pytest-alembic) is used as it is;
- one run at a time per database (locking.py), lock and statement timeouts
  (timeouts.py), SQLite revisions that roll back as a whole with foreign keys
  checked (sqlite.py), and a failed revision reported as one line (errors.py);
- commands that only read the revision files (revision, merge, history) open
  no database;
- a revision file that cannot be read is one line naming it (history.py), and
  a new revision's message is written into it as data (revision_text.py).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from io import StringIO
from typing import Any

from alembic import context
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection, Engine

from . import applied, frozen_models, history, tenants, verify
from .comparison import context_options
from .connection_errors import CONNECT_ERRORS, connection_failure
from .database import (
    commit,
    database_url,
    listing_history,
    migration_engine,
    run_with_engine,
)
from .errors import one_line_failures
from .locking import migration_lock, wait_seconds
from .offline import one_line_render_failures, refuse_online_only
from .revision_text import docstring
from .sqlite import check_foreign_keys, make_transactional
from .timeouts import timeout_statements

# What script.py.mako uses besides Alembic's own names.
SCAFFOLD_ARGS = {"docstring": docstring}
# config.attributes[...]: an Engine on the tenant's URL that the rollout keeps
# between tenants (rollout.py), used and left open.
KEPT_ENGINE = "kept_engine"


def offline_options(url: URL) -> dict[str, Any]:
    """``context.configure()`` options for ``--sql``, besides the URL."""
    return {
        **context_options(url.get_backend_name()),
        # A revision that needs a database stops --sql with one line (offline.py).
        "on_version_apply": refuse_online_only,
        "template_args": SCAFFOLD_ARGS,  # alembic revision --sql
    }


@contextmanager
def rendering(url: URL) -> Iterator[None]:
    """Around ``run_migrations()`` under ``--sql``: one line per failure, and
    the same timeouts as an online run, in the reviewed SQL."""
    history.load(context.script)
    with one_line_render_failures(context.script, url.get_backend_name()):
        for statement in timeout_statements(url.get_backend_name()):
            context.execute(statement)
        yield


def online_options(connection: Connection) -> dict[str, Any]:
    """``context.configure()`` options for a run on ``connection``."""
    dialect = connection.dialect.name
    return {
        **context_options(dialect),
        # sqlite.py's recipe gives SQLite transactional DDL; Alembic assumes not.
        "transactional_ddl": True if dialect == "sqlite" else None,
        # One transaction per revision: a failure keeps the revisions before it.
        "transaction_per_migration": True,
        # Run inside each revision's transaction, before it commits.
        "on_version_apply": (check_foreign_keys, applied.record_step),
        "template_args": SCAFFOLD_ARGS,  # alembic revision --autogenerate
    }


@contextmanager
def running(connection: Connection) -> Iterator[None]:
    """Around ``run_migrations()``: a failed revision becomes one line naming
    it; a run that moves alembic_version first checks what the database ran.

    MIGRATION_VERIFY=on also checks each revision's verify() after its upgrade
    (verify.py); the harness runs those itself, on its own rows.
    """
    script = history.load(context.script)
    if verify.requested() and "connection" not in context.config.attributes:
        verify.wrap_upgrades(script.walk_revisions())
    user = connection.engine.url.username
    with one_line_failures(connection.dialect.name, user):
        if tenants.creating(context.config):
            _create_from_models(connection)
        if connection.info.get(applied.WANTED):
            applied.prepare(connection, script)
        yield


def _create_from_models(connection: Connection) -> None:
    """A new tenant's tables from the models at head; the stamp follows (tenants.py)."""
    metadata = context.get_context().opts.get("target_metadata")
    if metadata is None:
        raise CommandError(
            "env.py passes no target_metadata to context.configure(), and a new "
            "tenant is built from it: pass the models' Base.metadata."
        )
    metadata.create_all(connection)
    # Committed here: Alembic stamps in a transaction of its own.
    commit(connection)


def run_online(config: Config, run: Callable[[Connection], None]) -> None:
    """Call ``run(connection)`` on the given connection, or on DATABASE_URL, locked."""
    given = config.attributes.get("connection")
    if isinstance(given, Engine):
        # pytest-alembic hands in an Engine: connect as alembic would, and
        # leave the engine as it is (it belongs to the caller).
        with connect(given) as connection:
            run(connection)
        return
    if given is not None:
        run(given)
        return
    # Refuse a bad MIGRATION_* setting before connecting, whatever the server.
    wait_seconds()
    timeout_statements()
    url = database_url(config)
    tenant = tenants.requested(config, url)
    if tenant is not None:
        url = tenant.url
        tenants.check_exists(tenant)
    kept = config.attributes.get(KEPT_ENGINE)
    if kept is not None and kept.url == url:
        _locked(kept, run, config, tenant)
        return
    # The URL goes to the engine directly: passing it through
    # config.set_main_option would break on a "%" in the password. An async
    # driver runs the same steps in asyncio.run, as Alembic's async template.
    engine = migration_engine(url)
    run_with_engine(engine, lambda engine: _locked(engine, run, config, tenant))


def _locked(
    engine: Engine,
    run: Callable[[Connection], None],
    config: Config,
    tenant: tenants.Tenant | None,
) -> None:
    if engine.dialect.name == "sqlite":
        # No lock table here: SQLite's own write lock, as long as a lock wait.
        make_transactional(engine, wait_seconds())
    schema = tenant.schema if tenant else None
    with (
        connect(engine, tenant) as connection,
        tenants.inside(connection, tenant) if tenant else nullcontext(),
        migration_lock(connection, schema),
    ):
        _set_timeouts(connection)
        keeps_sums = frozen_models.command_name(config) in applied.MOVING
        # What this database ran, kept beside alembic_version (applied.py).
        connection.info[applied.WANTED] = keeps_sums
        run(connection)


def _set_timeouts(connection: Connection) -> None:
    """Give up on a busy table instead of blocking it (timeouts.py)."""
    statements = timeout_statements(connection.dialect.name)
    for statement in statements:
        connection.exec_driver_sql(statement)
    if statements:
        # Alembic never commits what ran before context.configure(): commit it.
        commit(connection)


def connect(engine: Engine, tenant: tenants.Tenant | None = None) -> Connection:
    """Connect, or fail with one line that names the server but not the password."""
    try:
        return engine.connect()
    except CONNECT_ERRORS as error:
        if tenant is not None:
            tenants.refuse_missing(tenant, error)
        message = connection_failure(error, engine.url, "DATABASE_URL")
        raise CommandError(message) from None


def without_database(config: Config) -> bool:
    """Serve the commands that only read the revision files; False for others.

    ``alembic revision`` (``-x tables=a,b`` writes frozen models, computed on
    a scratch database, never yours), ``merge`` and ``history`` run env.py
    because alembic.ini sets revision_environment.
    """
    if frozen_models.writing_a_revision(config):
        _write_frozen_models(config)
    elif listing_history(config):
        _list_history()
    else:
        return False
    return True


def _write_frozen_models(config: Config) -> None:
    history.load(context.script)
    tables = frozen_models.requested_tables(context.get_x_argument(as_dictionary=True))
    template_args = {
        **SCAFFOLD_ARGS,
        # script.py.mako: `alembic revision` gets the data scaffold, a merge
        # (and --autogenerate, which never comes here) the schema-only one.
        "data_step": frozen_models.command_name(config) == "revision",
        **frozen_models.template_args(config, tables),
    }
    # A dialect name is all configure() needs to pass them on: nothing connects.
    with frozen_models.quiet_alembic_log():
        context.configure(dialect_name="sqlite", template_args=template_args)


def _list_history() -> None:
    """``alembic history`` reads only the revision files.

    In --sql mode Alembic asks no database for the current revision, so
    nothing connects or creates a SQLite file. The listing goes to stdout;
    the run's own SQL output is thrown away (older Alembic, 1.16, ends such a
    run with DROP TABLE alembic_version).
    """
    history.load(context.script)
    with frozen_models.quiet_alembic_log():
        context.configure(dialect_name="sqlite", as_sql=True, output_buffer=StringIO())
    context.run_migrations()
