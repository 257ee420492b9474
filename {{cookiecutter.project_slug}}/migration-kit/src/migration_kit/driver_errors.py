"""What a driver's error says about its cause, whichever driver raised it.

Each driver keeps PostgreSQL's SQLSTATE under its own name (psycopg and
asyncpg: ``sqlstate``; psycopg2: ``pgcode``), and MySQL's error number first
in ``args`` (PyMySQL, mysqlclient). An application may test on any of them.
"""

from typing import Any


def sqlstate(cause: Any) -> str | None:
    """PostgreSQL's SQLSTATE of the error, if it has one."""
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def mysql_error_number(cause: Any) -> int | None:
    """MySQL's error number of the error, if it has one."""
    args = getattr(cause, "args", None) or (None,)
    return args[0] if isinstance(args[0], int) else None


def error_codes(cause: Any) -> set[str | int]:
    """The error's SQLSTATE and MySQL error number, those it has."""
    return {code for code in (sqlstate(cause), mysql_error_number(cause)) if code}
