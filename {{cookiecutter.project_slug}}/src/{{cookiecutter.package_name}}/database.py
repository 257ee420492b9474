"""Which database the migrations run against, from the environment."""

import os

from alembic.util import CommandError
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.pool import NullPool

from .connection_errors import connection_failure
from .errors import one_line
from .urls import BadURL, parse_url, shown

# Relative to the directory alembic runs in (the project root, for make).
DEFAULT_URL = "sqlite:///{{ cookiecutter.package_name }}.sqlite3"
VARIABLE = "DATABASE_URL"


def database_url() -> URL:
    """The URL in DATABASE_URL, or a local SQLite file when it is unset.

    Raises CommandError, which alembic prints as one line, for a value that
    cannot work (see urls.py); no message shows the password.
    """
    raw = os.environ.get(VARIABLE, "").strip() or DEFAULT_URL
    try:
        return parse_url(raw, VARIABLE)
    except BadURL as error:
        raise CommandError(str(error)) from None


def migration_engine(url: URL) -> Engine:
    """An engine for one migration run, or one line naming the missing driver."""
    try:
        # One connection, closed after the run: nothing to pool.
        return create_engine(url, poolclass=NullPool)
    except (NoSuchModuleError, ModuleNotFoundError) as error:
        raise CommandError(
            f"{VARIABLE} {shown(url)} needs the driver {url.drivername!r}, which "
            f"is not installed ({one_line(error)}): install it, or use one that "
            "is, e.g. postgresql+psycopg:// or mysql+pymysql://."
        ) from None
    # A query option the dialect reads itself, with a value it cannot use.
    except (TypeError, ValueError) as error:
        raise CommandError(connection_failure(error, url, VARIABLE)) from None
