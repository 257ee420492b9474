"""PostgreSQL timeouts for migration runs, so a migration never stalls the app.

ALTER TABLE waits for an ACCESS EXCLUSIVE lock, and while it waits, every
query on that table queues behind it: one long transaction elsewhere and the
application stops. ``lock_timeout`` makes the migration give up instead, so it
can simply run again later. ``statement_timeout`` bounds any single statement.

Override the defaults with MIGRATION_LOCK_TIMEOUT and
MIGRATION_STATEMENT_TIMEOUT, in PostgreSQL's units: 500ms, 10s, 15min, 0 (none).
"""

import os
import re

from alembic.util import CommandError

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


def timeout_statements() -> list[str]:
    """The SET statements for this run, checked so they are safe to inline."""
    return [
        f"SET {setting} = '{duration(variable, default)}'"
        for setting, (variable, default) in DEFAULTS.items()
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


def hint(sqlstate: str | None) -> str:
    """What to do when a statement failed because a timeout expired."""
    if sqlstate == "55P03":  # lock_not_available
        variable = DEFAULTS["lock_timeout"][0]
        return (
            "another session holds a lock on the table: run it again when that "
            f"is done, or wait longer with {variable}"
        )
    if sqlstate == "57014":  # query_canceled
        variable = DEFAULTS["statement_timeout"][0]
        return f"a statement ran too long: raise {variable} for this run"
    return ""
