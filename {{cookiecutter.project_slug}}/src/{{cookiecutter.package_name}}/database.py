"""Which database the migrations run against, from the environment."""

import os

from alembic.util import CommandError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

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
    except ArgumentError:
        raise CommandError(
            "DATABASE_URL is not a database URL: use the form "
            "dialect+driver://user:password@host:port/database, "
            "e.g. postgresql+psycopg://app@localhost:5432/app."
        ) from None


def safe(url: URL) -> str:
    """The URL with its password masked, for messages and logs."""
    return url.render_as_string(hide_password=True)
