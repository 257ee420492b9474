"""How Alembic connects: Alembic's own two functions, offline and online.

What we add to ``alembic init``'s version: the URL comes from DATABASE_URL
(see ``database.py``), every command compares with the same options
(``comparison.py``), and a Connection or Engine handed in by the tests or by
pytest-alembic through ``config.attributes["connection"]`` is used as it is.
Commands that only read the revision files (history, revision, merge) open
no database.

For real runs (README: "Running migrations in production"): one run at a time
per database (``locking.py``), PostgreSQL timeouts (``timeouts.py``), SQLite
revisions that roll back as a whole with foreign keys checked (``sqlite.py``),
and a failed revision reported as one line naming it (``errors.py``).
"""

from io import StringIO
from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

from {{ cookiecutter.package_name }} import frozen_models
from {{ cookiecutter.package_name }}.comparison import context_options
from {{ cookiecutter.package_name }}.connection_errors import (
    CONNECT_ERRORS,
    connection_failure,
)
from {{ cookiecutter.package_name }}.database import (
    database_url,
    listing_history,
    migration_engine,
    run_with_engine,
)
from {{ cookiecutter.package_name }}.errors import one_line_failures
from {{ cookiecutter.package_name }}.locking import migration_lock, wait_seconds
from {{ cookiecutter.package_name }}.offline import (
    one_line_render_failures,
    refuse_online_only,
)
from {{ cookiecutter.package_name }}.sqlite import (
    check_foreign_keys,
    make_transactional,
)
from {{ cookiecutter.package_name }}.timeouts import timeout_statements

config = context.config

# Tests pass configure_logger=False to keep pytest's logging as it is.
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    url = database_url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **context_options(url.get_backend_name()),
        # A revision that needs a database stops --sql with one line (offline.py).
        on_version_apply=refuse_online_only,
    )
    with context.begin_transaction(), one_line_render_failures(context.script):
        if url.get_backend_name() == "postgresql":
            # The reviewed SQL sets the same timeouts as an online run.
            for statement in timeout_statements():
                context.execute(statement)
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection or engine, or on DATABASE_URL."""
    given = config.attributes.get("connection")
    if isinstance(given, Engine):
        # pytest-alembic hands in an Engine: connect as alembic would, and
        # leave the engine as it is (it belongs to the caller).
        with connect(given) as connection:
            run_migrations(connection)
        return
    if given is not None:
        run_migrations(given)
        return
    # The URL goes to the engine directly: passing it through
    # config.set_main_option would break on a "%" in the password.
    check_settings()
    engine = migration_engine(database_url())
    # An async driver (asyncpg, aiosqlite, aiomysql) runs the same steps,
    # in asyncio.run as Alembic's async template does (database.py).
    run_with_engine(engine, migrate)


def migrate(engine: Engine) -> None:
    """One connection: take the lock, set the timeouts, run the migrations."""
    if engine.dialect.name == "sqlite":
        make_transactional(engine)
    with connect(engine) as connection, migration_lock(connection):
        set_timeouts(connection)
        run_migrations(connection)


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        **context_options(connection.dialect.name),
        # sqlite.py's recipe gives SQLite transactional DDL; Alembic assumes not.
        transactional_ddl=True if connection.dialect.name == "sqlite" else None,
        # One transaction per revision: a failure keeps the revisions before it.
        transaction_per_migration=True,
        # Runs inside each revision's transaction, before it commits.
        on_version_apply=check_foreign_keys,
    )
    with context.begin_transaction(), one_line_failures(connection.dialect.name):
        context.run_migrations()


def check_settings() -> None:
    """Refuse a bad MIGRATION_* setting before connecting, whatever the server."""
    wait_seconds()
    timeout_statements()


def set_timeouts(connection: Connection) -> None:
    """PostgreSQL: give up on a busy table instead of blocking it (timeouts.py)."""
    if connection.dialect.name != "postgresql":
        return
    for statement in timeout_statements():
        connection.exec_driver_sql(statement)
    # Alembic never commits what ran before context.configure(): commit it.
    connection.commit()


def connect(engine: Engine) -> Connection:
    """Connect, or fail with one line that names the server but not the password."""
    try:
        return engine.connect()
    except CONNECT_ERRORS as error:
        message = connection_failure(error, engine.url, "DATABASE_URL")
        raise CommandError(message) from None


def write_frozen_models() -> None:
    """`alembic revision -x tables=a,b`: frozen models for script.py.mako.

    They come from the migrations alone, upgraded on a scratch database
    (see frozen_models.py); writing a revision opens no database of yours.
    """
    tables = frozen_models.requested_tables(context.get_x_argument(as_dictionary=True))
    template_args = frozen_models.template_args(config, tables)
    # A dialect name is all configure() needs to pass them on: nothing connects.
    with frozen_models.quiet_alembic_log():
        context.configure(dialect_name="sqlite", template_args=template_args)


def list_history() -> None:
    """`alembic history`: Alembic runs env.py for it (revision_environment).

    It only reads the revision files. In --sql mode Alembic asks no database
    for the current revision, so nothing connects or creates a SQLite file.
    The listing goes to stdout; the run's own SQL output is thrown away (older
    Alembic, 1.16, ends such a run with DROP TABLE alembic_version).
    """
    with frozen_models.quiet_alembic_log():
        context.configure(dialect_name="sqlite", as_sql=True, output_buffer=StringIO())
    context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
elif frozen_models.writing_a_revision(config):
    write_frozen_models()
elif listing_history(config):
    list_history()
else:
    run_migrations_online()
