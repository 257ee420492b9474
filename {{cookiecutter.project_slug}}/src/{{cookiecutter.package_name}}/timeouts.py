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
DURATION = re.compile(r"\d+(\.\d+)?\s*(us|ms|s|min|h|d)?")


def timeout_statements() -> list[str]:
    """The SET statements for this run, checked so they are safe to inline."""
    return [
        f"SET {setting} = '{duration(variable, default)}'"
        for setting, (variable, default) in DEFAULTS.items()
    ]


def duration(variable: str, default: str) -> str:
    value = os.environ.get(variable, "").strip() or default
    if not DURATION.fullmatch(value):
        raise CommandError(
            f"{variable}={value!r} is not a PostgreSQL duration: "
            "use e.g. 500ms, 10s or 15min, or 0 for no limit."
        )
    return value


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
