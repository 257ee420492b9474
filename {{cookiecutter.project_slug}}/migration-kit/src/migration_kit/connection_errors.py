"""Why connecting to a URL failed, as one line that says what to do.

The same failures reach ``alembic`` (DATABASE_URL) and the test harness
(TEST_POSTGRES_URL, TEST_MYSQL_URL): a query option the driver refuses, a
login the server refuses, a database that does not exist, a server that
cannot be reached. The URL is shown masked and the driver's message redacted.
"""

import re

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from .errors import one_line
from .urls import redacted, shown

# What creating an engine or connecting raises for a bad URL or server:
# TypeError, ValueError for a query option the driver cannot take; asyncpg
# reports some refusals as DBAPIError, and a closed port as OSError.
CONNECT_ERRORS = (DBAPIError, OSError, TypeError, ValueError)
# PostgreSQL: invalid_authorization_specification (no such role), invalid_password.
# MySQL/MariaDB: access denied (to the server, to the database, by auth plugin).
LOGIN_REFUSED = {"28000", "28P01", 1044, 1045, 1698}
NO_DATABASE = {"3D000", 1049}
# libpq reports a refused start-up without its SQLSTATE: psycopg's messages.
LOGIN_REFUSED_TEXT = re.compile(
    r"authentication failed|role \S+ does not exist|no pg_hba\.conf entry"
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
    if option:
        return (
            f"{where}: the driver refused the query option {option} ({reason}): "
            "correct or remove it."
        )
    if _codes(cause) & LOGIN_REFUSED or LOGIN_REFUSED_TEXT.search(reason):
        return (
            f"{where}: the server refused the login ({reason}): check the user "
            "name and password, and that this user may log in from here."
        )
    if _codes(cause) & NO_DATABASE or NO_DATABASE_TEXT.search(reason):
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


def _codes(cause: BaseException) -> set[str | int]:
    """The error's SQLSTATE (psycopg, asyncpg, PyMySQL) and MySQL error number."""
    args = getattr(cause, "args", ())
    number = args[0] if args and isinstance(args[0], int) else None
    return {code for code in (getattr(cause, "sqlstate", None), number) if code}
