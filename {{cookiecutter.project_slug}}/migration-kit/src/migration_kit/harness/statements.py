"""The statements an upgrade runs, watched as they run, and stopped on demand.

The data checks need to know which tables an upgrade wrote (same_answer.py),
and where it can be stopped, as a kill would stop it (crash_rerun.py). Both
come from the statements the upgrade sends to the database, whatever sent
them: ``op``, a Session, ``backfill()``.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# Statements that change nothing a rerun could trip on. DISCARD and RESET
# clear a session's state only: the harness sends DISCARD ALL after every
# PostgreSQL step (migration_steps.as_if_new), and read as a write it made
# every table's rows be read again at every step.
READS = (
    "SELECT", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "SET", "BEGIN", "COMMIT",
    "ROLLBACK", "SAVEPOINT", "RELEASE", "START", "XA", "PRAGMA", "CHECKSUM",
    "ANALYZE", "DO", "DISCARD", "RESET",
)  # fmt: skip
TABLE_NAMED = re.compile(
    r"\b(?:INSERT\s+(?:IGNORE\s+)?INTO|UPDATE|DELETE\s+FROM|ALTER\s+TABLE|"
    r"CREATE\s+TABLE|TRUNCATE(?:\s+TABLE)?|RENAME\s+TABLE|RENAME\s+TO|"
    r"(?:CREATE\s+(?:UNIQUE\s+)?|DROP\s+)INDEX\s+\S+\s+ON)\s+"
    r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?[`\"\[]?([\w$]+)",
    re.IGNORECASE,
)
ALEMBIC_COPY = "_alembic_tmp_"
WORD = re.compile(r"[\w$]+")
ALL_COLUMNS = re.compile(
    r"\bINSERT\s+(?:IGNORE\s+)?INTO\s+\S+\s+(?:VALUES|SELECT)\b", re.IGNORECASE
)  # SQLite batch mode's copy of a table


class Stopped(Exception):
    """The harness stopped the upgrade here, as a kill would."""


class Watcher:
    """The writing statements run on an engine while watched; stops after the n-th."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.writes: list[str] = []
        self.stop_after = stop_after
        self.stopped = False

    def __call__(self, connection, cursor, statement: str, *args: object) -> None:
        if not writes(statement):
            return
        self.writes.append(statement)
        if self.stop_after is not None and len(self.writes) == self.stop_after:
            self.stopped = True
            raise Stopped(f"stopped after statement {self.stop_after}")

    def tables(self) -> set[str]:
        """The tables the statements named, SQLite's batch copies as their table."""
        return set(self.words())

    def words(self) -> dict[str, set[str]]:
        """Per table named, the words of the statements that name it: the
        columns they write are among them."""
        found: dict[str, set[str]] = {}
        for statement in self.writes:
            words = set(WORD.findall(statement))
            if ALL_COLUMNS.search(statement):
                words.add("*")  # no column list: every column
            for match in TABLE_NAMED.finditer(statement):
                table = match.group(1).removeprefix(ALEMBIC_COPY)
                found.setdefault(table, set()).update(words)
        return found


# Statements that write only the table they name (and SQLite's batch copy of
# it): no cascade, no second table. Any other writing statement (UPDATE and
# DELETE may cascade through foreign keys, a CTE may write anywhere) could
# have written any table.
NAMED_ONLY = re.compile(
    r"^\s*(?:INSERT|CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)|DROP\s+(?:TABLE|INDEX)|"
    r"ALTER\s+TABLE)\b",
    re.IGNORECASE,
)
DROPPED = re.compile(
    r"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?[`\"\[]?([\w$]+)[`\"\]]?\s*$",
    re.IGNORECASE,
)


INDEX = re.compile(r"^\s*(?:CREATE\s+(?:UNIQUE\s+)?|DROP\s+)INDEX\b", re.IGNORECASE)


def tables_written(statement: str) -> set[str] | None:
    """The tables whose rows this statement may have changed; None: any table."""
    if not writes(statement) or INDEX.match(statement):
        return set()  # an index changes no row
    if not NAMED_ONLY.match(statement):
        return None
    dropped = DROPPED.match(statement)
    if dropped:
        return {dropped.group(1)}
    found = set()
    for match in TABLE_NAMED.finditer(statement):
        if statement[match.end() :].lstrip('`"]').startswith("."):
            return None  # schema.table: not a name the fingerprints use
        found.add(match.group(1).removeprefix(ALEMBIC_COPY))
    return found or None


def writes(statement: str) -> bool:
    first = statement.lstrip(" (\n\t").split(None, 1)
    if not first or first[0].upper() in READS:
        return False
    if first[0].upper() == "WITH" and not DATA_MODIFYING.search(statement):
        return False  # a query, as the schema snapshot's own catalog query is
    return "alembic_version" not in statement


# A WITH statement writes only through one of these (PostgreSQL's
# data-modifying CTEs, MySQL's WITH ... UPDATE/DELETE).
DATA_MODIFYING = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


@contextmanager
def watching(engine: sa.Engine, watcher: Watcher) -> Iterator[Watcher]:
    sa.event.listen(engine, "after_cursor_execute", watcher)
    try:
        yield watcher
    finally:
        sa.event.remove(engine, "after_cursor_execute", watcher)


def described(statement: str, limit: int = 70) -> str:
    """A statement in one short line, for a message."""
    flat = " ".join(statement.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
