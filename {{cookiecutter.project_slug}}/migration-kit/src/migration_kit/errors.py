"""A failed revision as one line: which one, why, and what state it left.

Alembic prints a CommandError as one ``FAILED:`` line and anything else as a
traceback. An error raised inside a revision's ``upgrade()`` or
``downgrade()`` becomes one CommandError here; the original stays chained to
it, so ``alembic --raiseerr ...`` shows the traceback. So does a database
error outside any revision (reading or creating alembic_version, moving it
between revisions). Anything else raised outside a revision (an Alembic hook,
another tool's comparison, pytest-alembic's own failures) passes through
unchanged: it is not ours to reword.
"""

import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from alembic.script import Script
from alembic.script.revision import MultipleHeads
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from .privileges import privilege_problem
from .timeouts import hint

REPAIR = "see docs/production.md"
# pysqlite's words when another connection holds the file's write lock.
SQLITE_LOCKED = "database is locked"
# What a failure before the first revision started leaves behind.
NOTHING_MIGRATED = "this run changed nothing in the database"
# alembic_version after a failed step: it moves only after a step succeeds,
# so a failed upgrade leaves it at the revision before.
VERSION_AFTER = {"upgrade": "the revision before it", "downgrade": "this revision"}


class PartlyCommitted(Exception):
    """A revision's step that commits as it goes (backfill()) failed half way.

    ``committed`` says what stays committed. It is raised from the first
    error, so the line names that one, not whatever failed after it while
    cleaning up (a PendingRollbackError on a connection that was lost).
    """

    def __init__(self, committed: str) -> None:
        super().__init__(committed)
        self.committed = committed


@dataclass(frozen=True)
class FailedStep:
    """The revision whose code raised, and in which direction it ran."""

    revision: str
    title: str
    direction: str  # "upgrade", "downgrade", or "" when called some other way

    def __str__(self) -> str:
        return f"revision {self.revision}" + (f" ({self.title})" if self.title else "")


@contextmanager
def one_line_failures(dialect: str, user: str | None = None) -> Iterator[None]:
    """Turn an error raised by a revision into a CommandError that names it.

    ``user`` is the user the run connects as, for the GRANT to advise.
    """
    try:
        yield
    except CommandError as error:
        if isinstance(error.__cause__, MultipleHeads):
            raise CommandError(several_heads(error.__cause__.heads)) from error
        raise
    except Exception as error:
        step = failed_step(error)
        if step is not None:
            message = failure_message(first_error(error), step, dialect)
            raise CommandError(message) from error
        if dialect == "sqlite" and SQLITE_LOCKED in str(error):
            raise CommandError(sqlite_locked(error)) from error
        if isinstance(error, DBAPIError):
            raise CommandError(outside_revisions(error, dialect, user)) from error
        raise


def first_error(error: BaseException) -> BaseException:
    """A PartlyCommitted that ``error`` was raised while handling, else ``error``."""
    earlier: BaseException | None = error
    while earlier is not None:
        if isinstance(earlier, PartlyCommitted):
            return earlier
        earlier = earlier.__context__
    return error


def failure_message(error: BaseException, step: FailedStep, dialect: str) -> str:
    partly = error if isinstance(error, PartlyCommitted) else None
    if partly is not None and partly.__cause__ is not None:
        error = partly.__cause__
    cause = error.orig if isinstance(error, DBAPIError) else error
    if partly is not None:
        state = resumable(partly, step.direction)
    elif dialect == "sqlite" and SQLITE_LOCKED in str(cause):
        # Another run held the file: it may have moved the database since.
        state = (
            "it was rolled back, but another process was migrating the SQLite "
            "file and may have taken it further, even to head: check with "
            "alembic current before running again"
        )
    else:
        state = state_after(step.direction, dialect)
    parts = [
        f"{step} failed: {type(cause).__name__}: {one_line(cause)}",
        state,
        hint(cause),
    ]
    return "; ".join(part for part in parts if part) + "."


def resumable(partly: PartlyCommitted, direction: str) -> str:
    """The state after a step that commits as it goes, and how to finish it."""
    at = VERSION_AFTER.get(direction, "where it was before this revision ran")
    again = "make migrate" if direction == "upgrade" else "the same command"
    return (
        f"{partly.committed}; alembic_version still names {at}: run {again} "
        "again to resume with the rows left"
    )


def outside_revisions(error: DBAPIError, dialect: str, user: str | None) -> str:
    """One line for a database error outside any revision's code."""
    reason = f"{type(error.orig).__name__}: {first_line(error.orig)}"
    statement = " ".join((error.statement or "").split())
    # Alembic reads alembic_version, and creates it if it is missing, before
    # the first revision starts; later it only changes its row.
    verb = statement.split(" ", 1)[0].upper()
    if "alembic_version" in statement and verb in ("CREATE", "SELECT"):
        action = "create" if verb == "CREATE" else "read"
        problem, advice = privilege_problem(error.orig, dialect, user, action)
        advice = advice or hint(error.orig) or "correct that and run again"
        return (
            f"could not {action} the alembic_version table{problem} ({reason}), "
            f"so {NOTHING_MIGRATED}: {advice}."
        )
    parts = [
        f"a statement outside the revisions' code failed ({reason}; {statement[:60]})",
        state_between_revisions(dialect),
        hint(error.orig) or "check with alembic current, then run again",
    ]
    return "; ".join(parts) + "."


def state_between_revisions(dialect: str) -> str:
    """Where a run that failed outside the revisions' code leaves the database."""
    finished = "the revisions this run finished stay applied"
    if dialect not in ("mysql", "mariadb"):
        return f"{finished}, and one in progress was rolled back"
    return (
        f"{finished}, but MySQL/MariaDB commit schema changes as they run, so "
        f"one in progress may be partly applied ({REPAIR})"
    )


def state_after(direction: str, dialect: str) -> str:
    """Where a failed step leaves the database, on this backend."""
    at = VERSION_AFTER.get(direction, "where it was before this revision ran")
    if dialect not in ("mysql", "mariadb"):
        undone = f"the {direction}" if direction else "it"
        return f"{undone} was rolled back, so the database is still at {at}"
    # MySQL and MariaDB commit every DDL statement at once, whatever the transaction.
    changed = "downgraded" if direction == "downgrade" else "migrated"
    return (
        f"alembic_version still names {at}, but MySQL/MariaDB commit schema "
        f"changes as they run, so the schema may be partly {changed} and need "
        f"manual repair before you run it again ({REPAIR})"
    )


def failed_step(error: BaseException) -> FailedStep | None:
    """The revision in the traceback, or None if no revision's code raised it."""
    for frame, _line in traceback.walk_tb(error.__traceback__):
        if is_revision(frame):
            # The outermost frame of the revision is what Alembic called.
            name = frame.f_code.co_name
            direction = name if name in ("upgrade", "downgrade") else ""
            names = frame.f_globals
            title = (names.get("__doc__") or "").strip().splitlines()[:1]
            return FailedStep(names["revision"], "".join(title), direction)
    return None


def titled(script: Script) -> str:
    """``<id> (<first line of its docstring>)``, as a FailedStep names it."""
    title = (script.doc or "").strip().splitlines()[:1]
    return script.revision + "".join(f" ({line})" for line in title)


def is_revision(frame: FrameType) -> bool:
    names = frame.f_globals
    return isinstance(names.get("revision"), str) and "down_revision" in names


def sqlite_locked(error: Exception) -> str:
    cause = error.orig if isinstance(error, DBAPIError) else error
    return (
        f"the SQLite file is locked ({one_line(cause)}): another "
        "process is migrating it and may already have taken it to head; check "
        "with alembic current, then run again if it is not there."
    )


def several_heads(heads: Iterable[str]) -> str:
    """Two branches of the history were written in parallel: merge them."""
    heads = sorted(heads)
    return (
        f"the history has {len(heads)} heads ({', '.join(heads)}), so head is "
        'ambiguous: join them with alembic merge heads -m "merge", then run again.'
    )


def raised_under(error: BaseException) -> BaseException:
    """The error under env.py's one-line CommandError: what the revision
    raised, or for a database error the driver's own."""
    raised = error.__cause__ or error
    return getattr(raised, "orig", None) or raised


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def first_line(error: BaseException) -> str:
    """The driver's message without the SQL excerpt that psycopg adds (LINE 2: ...)."""
    diagnosis = getattr(error, "diag", None)
    return getattr(diagnosis, "message_primary", None) or one_line(error)
