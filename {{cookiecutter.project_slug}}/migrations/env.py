"""How Alembic connects: Alembic's own two functions, offline and online.

What we add to ``alembic init``'s version is behind a few calls to
migration_kit (docs/production.md): the URL comes from DATABASE_URL, a run
takes a lock so only one migrates a database at a time, PostgreSQL gets
lock and statement timeouts, SQLite revisions roll back as a whole, and a
failed revision is reported as one line naming it.
"""

from logging.config import fileConfig

from alembic import context
from migration_kit import environment
from migration_kit.database import database_url
from sqlalchemy.engine import Connection

from {{ cookiecutter.package_name }}.models import Base

config = context.config

# The tests pass configure_logger=False to keep pytest's logging as it is.
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

# What autogenerate compares the database with: the application's models.
# Their naming convention names every constraint the way revisions do.
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    url = database_url(config)
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **environment.offline_options(url),
    )
    with context.begin_transaction(), environment.rendering(url):
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on DATABASE_URL, or on what the tests hand in."""
    environment.run_online(config, do_run_migrations)


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        **environment.online_options(connection),
    )
    with context.begin_transaction(), environment.running(connection):
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
# `alembic revision`, `merge` and `history` only read the revision files.
elif not environment.without_database(config):
    run_migrations_online()
