"""Which database the migrations run against, from the environment.

DATABASE_URL may name an async driver (``postgresql+asyncpg``,
``sqlite+aiosqlite``, ``mysql+aiomysql``), so an async application can keep
one URL: Alembic still runs on a sync Connection, which SQLAlchemy drives
through the async driver as Alembic's ``async`` template does.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.pool import NullPool

from .connection_errors import connection_failure
from .errors import one_line
from .settings import setting
from .urls import BadURL, parse_url, shown

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

VARIABLE = "DATABASE_URL"


def database_url(config: Config | None = None) -> URL:
    """The URL in DATABASE_URL, or a local SQLite file when it is unset.

    Raises CommandError, which alembic prints as one line, for a value that
    cannot work (see urls.py); no message shows the password.
    """
    # default_url is relative to the directory alembic runs in (the project root).
    raw = os.environ.get(VARIABLE, "").strip() or setting("default_url", config)
    try:
        return parse_url(raw, VARIABLE)
    except BadURL as error:
        raise CommandError(str(error)) from None


def listing_history(config: Config) -> bool:
    """True for ``alembic history`` without ``-i`` or a ``current`` range.

    That listing reads only the revision files, though Alembic runs env.py
    for it (revision_environment in alembic.ini): no database is opened.
    """
    options = config.cmd_opts
    command_function = getattr(options, "cmd", (None,))[0]
    if getattr(command_function, "__name__", None) != "history":
        return False
    bounds = (getattr(options, "rev_range", None) or "").split(":")
    return not options.indicate_current and "current" not in bounds


def migration_engine(url: URL) -> Engine | AsyncEngine:
    """An engine for one migration run, or one line naming the missing driver."""
    try:
        if url.get_dialect().is_async:
            return _async_engine(url)
        # One connection, closed after the run: nothing to pool.
        return create_engine(url, poolclass=NullPool)
    # ImportError: an async driver without greenlet (sqlalchemy[asyncio]).
    except (NoSuchModuleError, ImportError) as error:
        raise CommandError(
            f"{VARIABLE} {shown(url)} needs the driver {url.drivername!r}, which "
            f"is not installed ({one_line(error)}): install it (async drivers: "
            "pip install -e '.[async]'), or use one that is, e.g. "
            "postgresql+psycopg:// or mysql+pymysql://."
        ) from None
    # A query option the dialect reads itself, with a value it cannot use.
    except (TypeError, ValueError) as error:
        raise CommandError(connection_failure(error, url, VARIABLE)) from None


def run_with_engine(
    engine: Engine | AsyncEngine, work: Callable[[Engine], None]
) -> None:
    """Call ``work`` with the sync face of ``engine``, then dispose of it.

    For an async driver, ``work`` runs inside ``asyncio.run`` in the greenlet
    that ``AsyncConnection.run_sync`` (Alembic's async template) runs in:
    there each sync call waits on the async driver.
    """
    if isinstance(engine, Engine):
        try:
            work(engine)
        finally:
            engine.dispose()
        return
    asyncio.run(_run_async(engine, work))


def _async_engine(url: URL) -> AsyncEngine:
    # Imported here: SQLAlchemy's asyncio needs greenlet, from the async extra.
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine(url, poolclass=NullPool)


async def _run_async(engine: AsyncEngine, work: Callable[[Engine], None]) -> None:
    from sqlalchemy.util import greenlet_spawn

    try:
        await greenlet_spawn(work, engine.sync_engine)
    finally:
        await engine.dispose()


def commit(connection: Connection) -> None:
    """Commit what ran on ``connection`` outside any revision.

    On SQLAlchemy 1.4 (an application pinned to it, docs/adopting.md) the
    Connection is 1.4's own, without ``commit()``: its revisions pass plain
    strings to ``execute``, which only that mode takes. The driver's
    transaction is committed instead.
    """
    if hasattr(connection, "commit"):
        connection.commit()
    else:
        connection.connection.commit()


def rollback(connection: Connection) -> None:
    """Roll back what ran on ``connection`` outside any revision (as ``commit``)."""
    if hasattr(connection, "rollback"):
        connection.rollback()
    else:
        connection.connection.rollback()
