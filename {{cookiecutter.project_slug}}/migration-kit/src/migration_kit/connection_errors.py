"""Why connecting to a URL failed, as one line that says what to do.

The same failures reach ``alembic`` (DATABASE_URL) and the test harness
(TEST_POSTGRES_URL, TEST_MYSQL_URL): a query option the driver refuses, a
login the server refuses, a user with no connection left, a database that
does not exist, a server that cannot be reached. The URL is shown masked and
the driver's message redacted.

``raised_connecting`` tells a failed connection from a failed statement,
wherever it happens: a traceback of one shows the driver's connect arguments,
password included, so the harness reports it as one line (lost_connections.py).
"""

import re
import traceback
from types import FrameType

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from .driver_errors import error_codes
from .errors import one_line
from .urls import redacted, shown

# What creating an engine or connecting raises for a bad URL or server:
# TypeError, ValueError for a query option the driver cannot take; asyncpg
# reports some refusals as DBAPIError, and a closed port as OSError.
CONNECT_ERRORS = (DBAPIError, OSError, TypeError, ValueError)
# PostgreSQL: invalid_authorization_specification (no such role), invalid_password.
# MySQL/MariaDB: access denied (to the server, to the database, by auth plugin),
# and a locked account (MySQL 3118, MariaDB 4151).
LOGIN_REFUSED = {"28000", "28P01", 1044, 1045, 1698, 3118, 4151}
NO_DATABASE = {"3D000", 1049}
# PostgreSQL too_many_connections; MySQL/MariaDB: the server's max_connections,
# the user's max_user_connections, and its hourly connection limit.
NO_CONNECTION_LEFT = {"53300", 1040, 1203, 1226}
# libpq reports a refused start-up without its SQLSTATE: psycopg's messages.
LOGIN_REFUSED_TEXT = re.compile(
    r"authentication failed|role \S+ does not exist|no pg_hba\.conf entry"
    r"|is not permitted to log in"
)
NO_CONNECTION_LEFT_TEXT = re.compile(
    r"too many connections|too many clients|connection slots are reserved"
)
NO_DATABASE_TEXT = re.compile(r"database \S+ does not exist")
# How drivers say that an option's name or value is wrong.
OPTION_PROBLEM = re.compile(
    r"invalid|bad value|unexpected keyword|unrecognized|not supported",
    re.IGNORECASE,
)


def connection_failure(error: Exception, url: URL, variable: str) -> str:
    """One line for an error raised while creating an engine or connecting."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    reason = redacted(one_line(cause), url)
    where = f"{variable} {shown(url)}"
    option = refused_option(cause, reason, url)
    codes = error_codes(cause)
    if option:
        return (
            f"{where}: the driver refused the query option {option} ({reason}): "
            "correct or remove it."
        )
    if codes & LOGIN_REFUSED or LOGIN_REFUSED_TEXT.search(reason):
        return (
            f"{where}: the server refused the login ({reason}): check the user "
            "name and password, and that this user may log in from here."
        )
    if codes & NO_CONNECTION_LEFT or NO_CONNECTION_LEFT_TEXT.search(reason):
        return (
            f"{where}: the server has no connection left for user {url.username} "
            f"({reason}): {raise_limit(url)}, or end that user's idle sessions."
        )
    if codes & NO_DATABASE or NO_DATABASE_TEXT.search(reason):
        return f"{where}: {reason}: create the database or correct its name."
    if url.get_backend_name() == "sqlite":
        return (
            f"cannot open {where} ({reason}): check that its folder exists and "
            "that you may write there."
        )
    return (
        f"cannot connect to {where} ({reason}): check that the server is running "
        "and that the host and port are right."
    )


def raise_limit(url: URL) -> str:
    """How to give ``url``'s user more connections."""
    if url.get_backend_name() == "postgresql":
        return (
            f"raise its limit (ALTER ROLE {url.username} CONNECTION LIMIT -1) "
            "or the server's max_connections"
        )
    return (
        f"raise its limit (ALTER USER '{url.username}' WITH MAX_USER_CONNECTIONS 0) "
        "or the server's max_connections"
    )


def raised_connecting(error: BaseException) -> Exception | None:
    """The error in ``error``'s chain that opening a connection raised, if any.

    SQLAlchemy opens every connection, pooled or not, in its pool's
    ``_ConnectionRecord.__connect``: an error raised below that frame is a
    connection refused or lost on the way in, not a statement that failed.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, CONNECT_ERRORS) and any(
            _opens_a_connection(frame)
            for frame, _line in traceback.walk_tb(current.__traceback__)
        ):
            return current
        current = current.__cause__ or current.__context__
    return None


def _opens_a_connection(frame: FrameType) -> bool:
    return (
        frame.f_code.co_name == "__connect"
        and frame.f_globals.get("__name__") == "sqlalchemy.pool.base"
    )


def refused_option(cause: BaseException, reason: str, url: URL) -> str:
    """The query option(s) to blame for ``cause``, or "" if it is not about one."""
    named = [
        name
        for name in url.query
        if re.search(rf"\b{re.escape(name)}\b", reason, re.IGNORECASE)
    ]
    # "host" in "is the server running on that host" blames no option.
    if named and OPTION_PROBLEM.search(reason):
        return ", ".join(named)
    # Drivers take query options as keyword arguments: a wrong name or value
    # fails in Python, before any server is asked.
    if isinstance(cause, TypeError | ValueError) and url.query:
        return ", ".join(url.query)
    return ""
