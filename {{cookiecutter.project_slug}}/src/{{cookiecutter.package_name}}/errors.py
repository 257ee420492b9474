"""A failed migration as one line: which revision, why, and what to do now.

Alembic prints a CommandError as one ``FAILED:`` line and anything else as a
traceback. Errors raised inside a revision become one CommandError here; the
original stays chained to it, so ``alembic --raiseerr ...`` shows the traceback.
"""

import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from alembic.script.revision import MultipleHeads
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from .timeouts import hint

ROLLED_BACK = "it was rolled back, so the database is still at the revision before it"
# MySQL and MariaDB commit every DDL statement at once, whatever the transaction.
MAY_NEED_REPAIR = (
    "MySQL/MariaDB commit schema changes as they run, so the database may be "
    "partly migrated and need manual repair before you run it again "
    "(see 'Running migrations in production' in README.md)"
)


@contextmanager
def one_line_failures(dialect: str) -> Iterator[None]:
    """Turn an error from a revision into a CommandError that names it."""
    try:
        yield
    except CommandError as error:
        if isinstance(error.__cause__, MultipleHeads):
            raise CommandError(several_heads(error.__cause__.heads)) from error
        raise
    except Exception as error:
        raise CommandError(failure_message(error, dialect)) from error


def failure_message(error: Exception, dialect: str) -> str:
    cause = error.orig if isinstance(error, DBAPIError) else error
    parts = [
        f"{failed_revision(error)} failed: {type(cause).__name__}: {one_line(cause)}",
        MAY_NEED_REPAIR if dialect in ("mysql", "mariadb") else ROLLED_BACK,
        hint(getattr(cause, "sqlstate", None)),
    ]
    return "; ".join(part for part in parts if part) + "."


def failed_revision(error: BaseException) -> str:
    """The revision in the traceback, as: revision <id> (<docstring title>)."""
    for frame, _line in traceback.walk_tb(error.__traceback__):
        names = frame.f_globals
        if isinstance(names.get("revision"), str) and "down_revision" in names:
            title = (names.get("__doc__") or "").strip().splitlines()[:1]
            return f"revision {names['revision']}" + "".join(f" ({t})" for t in title)
    return "the migration"


def several_heads(heads: Iterable[str]) -> str:
    """Two branches of the history were written in parallel: merge them."""
    heads = sorted(heads)
    return (
        f"the history has {len(heads)} heads ({', '.join(heads)}), so head is "
        'ambiguous: join them with alembic merge heads -m "merge", then run again.'
    )


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
