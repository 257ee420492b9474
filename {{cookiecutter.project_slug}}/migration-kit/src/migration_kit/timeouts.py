"""Timeouts for migration runs, so a migration never stalls the app.

ALTER TABLE waits for an ACCESS EXCLUSIVE lock, and while it waits, every
query on that table queues behind it: one long transaction elsewhere and the
application stops. ``lock_timeout`` makes the migration give up instead, so it
can simply run again later. ``statement_timeout`` bounds any single statement.

MySQL and MariaDB queue reads behind a waiting ALTER TABLE the same way (its
metadata lock): there MIGRATION_LOCK_TIMEOUT sets the session's
``lock_wait_timeout``, and ``innodb_lock_wait_timeout`` for row locks, in whole
seconds rounded up. Their default waits are a day (MariaDB) or a year (MySQL)
for the first, 50 s for the second.

Override the defaults with MIGRATION_LOCK_TIMEOUT and
MIGRATION_STATEMENT_TIMEOUT, in PostgreSQL's units: 500ms, 10s, 15min, 0 (none).
"""

import math
import os
import re
from typing import Any

from alembic.util import CommandError

from .driver_errors import mysql_error_number, sqlstate

DEFAULTS = {
    "lock_timeout": ("MIGRATION_LOCK_TIMEOUT", "5s"),
    "statement_timeout": ("MIGRATION_STATEMENT_TIMEOUT", "15min"),
}
# PostgreSQL's units; a number alone is milliseconds.
DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s|min|h|d)?")
MILLISECONDS = {
    "us": 0.001,
    "ms": 1,
    "s": 1000,
    "min": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
}
# PostgreSQL keeps a timeout as a 32-bit count of milliseconds: about 24 days.
MAX_MILLISECONDS = 2**31 - 1
# MySQL's and MariaDB's lock waits, in seconds, with the longest each accepts
# (what MIGRATION_LOCK_TIMEOUT=0, no limit, sets).
MYSQL_LOCK_WAITS = {
    "lock_wait_timeout": 31_536_000,
    "innodb_lock_wait_timeout": 1_073_741_824,
}
# MySQL/MariaDB: lock wait timeout exceeded (metadata or row lock).
MYSQL_LOCK_WAIT_TIMEOUT = 1205


def timeout_statements(dialect: str = "postgresql") -> list[str]:
    """The SET statements for a run on ``dialect``, checked to be safe to inline."""
    if dialect in ("mysql", "mariadb"):
        return mysql_lock_waits()
    if dialect != "postgresql":
        return []
    return [
        f"SET {setting} = '{duration(variable, default)}'"
        for setting, (variable, default) in DEFAULTS.items()
    ]


def mysql_lock_waits() -> list[str]:
    """MIGRATION_LOCK_TIMEOUT as MySQL's lock waits: whole seconds, at least 1."""
    variable, default = DEFAULTS["lock_timeout"]
    wait = milliseconds(DURATION.fullmatch(duration(variable, default)))
    return [
        f"SET SESSION {setting} = {max(math.ceil(wait / 1000), 1) if wait else longest}"
        for setting, longest in MYSQL_LOCK_WAITS.items()
    ]


def duration(variable: str, default: str) -> str:
    value = os.environ.get(variable, "").strip() or default
    match = DURATION.fullmatch(value)
    if not match or milliseconds(match) > MAX_MILLISECONDS:
        raise CommandError(
            f"{variable}={value!r} is not a PostgreSQL duration of at most 24 "
            "days: use e.g. 500ms, 10s or 15min, or 0 for no limit."
        )
    return value


def milliseconds(match: re.Match[str]) -> float:
    number, unit = match.groups()
    return float(number) * MILLISECONDS[unit or "ms"]


def hint(cause: Any) -> str:
    """What to do when a statement failed because a timeout expired."""
    state = sqlstate(cause)
    # PostgreSQL's lock_not_available, or MySQL's lock wait timeout.
    if state == "55P03" or mysql_error_number(cause) == MYSQL_LOCK_WAIT_TIMEOUT:
        variable = DEFAULTS["lock_timeout"][0]
        return (
            "another session holds a lock on the table or its rows: run it again "
            f"when that is done, or wait longer with {variable}"
        )
    if state == "57014":  # query_canceled
        variable = DEFAULTS["statement_timeout"][0]
        return f"a statement ran too long: raise {variable} for this run"
    return ""
