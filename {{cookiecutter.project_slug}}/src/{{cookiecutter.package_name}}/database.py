"""Which database the migrations run against, from the environment."""

import os

from alembic.util import CommandError
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from .errors import one_line

# Relative to the directory alembic runs in (the project root, for make).
DEFAULT_URL = "sqlite:///{{ cookiecutter.package_name }}.sqlite3"


def database_url() -> URL:
    """The URL in DATABASE_URL, or a local SQLite file when it is unset.

    Raises CommandError, which alembic prints as one line, for a value that is
    not a URL; the value itself is not echoed, as it may hold a password.
    """
    raw = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_URL
    try:
        return make_url(raw)
    # ValueError: a port that is not a number.
    except (ArgumentError, ValueError):
        raise CommandError(
            "DATABASE_URL is not a database URL: use the form "
            "dialect+driver://user:password@host:port/database, "
            "e.g. postgresql+psycopg://app@localhost:5432/app."
        ) from None


def safe(url: URL) -> str:
    """The URL with its password masked, for messages and logs."""
    return url.render_as_string(hide_password=True)


def migration_engine(url: URL) -> Engine:
    """An engine for one migration run, or one line naming the missing driver."""
    try:
        # One connection, closed after the run: nothing to pool.
        return create_engine(url, poolclass=NullPool)
    except (NoSuchModuleError, ModuleNotFoundError) as error:
        raise CommandError(
            f"DATABASE_URL {safe(url)} needs the driver {url.drivername!r}, which "
            f"is not installed ({one_line(error)}): install it, or use one that "
            "is, e.g. postgresql+psycopg:// or mysql+pymysql://."
        ) from None
