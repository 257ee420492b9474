"""How Alembic connects: Alembic's own two functions, offline and online.

What we add to ``alembic init``'s version: the URL comes from DATABASE_URL
(see ``database.py``), SQLite gets batch mode, and a connection handed in by
the tests through ``config.attributes["connection"]`` is used as it is.
"""

from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, pool
from sqlalchemy.exc import OperationalError

from {{ cookiecutter.package_name }} import frozen_models
from {{ cookiecutter.package_name }}.database import database_url, safe
from {{ cookiecutter.package_name }}.models import Base

config = context.config

# Tests pass configure_logger=False to keep pytest's logging as it is.
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

# What autogenerate and `alembic check` compare the database against.
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection, or on DATABASE_URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = database_url()
    # The URL goes to the engine directly: passing it through
    # config.set_main_option would break on a "%" in the password.
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with connect(engine) as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # One transaction per revision: a failure keeps the revisions before it.
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def connect(engine: Engine) -> Connection:
    """Connect, or fail with one line that names the server but not the password."""
    try:
        return engine.connect()
    except OperationalError as error:
        raise CommandError(
            f"cannot connect to {safe(engine.url)}: {one_line(error.orig)}. "
            "Check that the server is running and DATABASE_URL is right."
        ) from None


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def write_frozen_models() -> None:
    """`alembic revision -x tables=a,b`: frozen models for script.py.mako.

    They come from the migrations alone, upgraded on a scratch SQLite database
    (see frozen_models.py); writing a revision opens no database of yours.
    """
    tables = frozen_models.requested_tables(context.get_x_argument(as_dictionary=True))
    template_args = frozen_models.template_args(config, tables)
    # A dialect name is all configure() needs to pass them on: nothing connects.
    with frozen_models.quiet_alembic_log():
        context.configure(dialect_name="sqlite", template_args=template_args)


if context.is_offline_mode():
    run_migrations_offline()
elif frozen_models.writing_a_revision(config):
    write_frozen_models()
else:
    run_migrations_online()
