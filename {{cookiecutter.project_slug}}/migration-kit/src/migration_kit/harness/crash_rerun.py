"""Runs again after a crash, wherever it stops.

MySQL and MariaDB commit each schema change as it runs, so a deploy killed in
the middle of a revision leaves part of it done, and ``make migrate`` runs the
whole revision again (rerun.py). On these backends, for every revision, the
stairway stops its upgrade after each statement that writes in turn (as a
kill would, at that point), runs the upgrade again, and compares the schema
and the rows it wrote with those of the uninterrupted upgrade.

A ``backfill()`` commits batch by batch on every backend: a revision that
uses one is stopped after its first batches on every backend, resumed, and
compared the same way; its batches must not write a row the stopped run had
finished (its ``pending`` condition must turn false once a row is done).

Each stop costs an upgrade, a rerun and a downgrade: at most
MIGRATION_CRASH_STOPS of them per revision (alembic.ini ``crash_stops``,
default 8, ``all`` for no limit), spread over the revision; after MAX_FAILED
revisions fail, the rest are not checked. The run's closing lines say what
was left out.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .. import backfills
from ..settings import setting
from . import same_answer
from .schema_snapshot import differences, of_tables
from .stairway import cause
from .statements import Stopped, Watcher, described, watching

# Rows per batch while a backfill is stopped and resumed: seeded tables hold
# about 20 rows, and a stop needs batch boundaries.
SMALL_BATCH = 3
BATCH_STOPS = 2
# Each failure leaves the database anywhere, and a new one is upgraded through
# the history so far: after this many, the run checks no more revisions.
MAX_FAILED = 5


@dataclass
class Tally:
    """What the check did in this run, per backend, for the closing lines."""

    revisions: int = 0
    stops: int = 0
    left_out: dict[str, int] = field(default_factory=dict)  # revision -> stops
    irreversible: int = 0  # revisions not stopped: no downgrade to go back
    failed: int = 0  # revisions that failed the check
    not_checked: int = 0  # revisions after MAX_FAILED failures


TALLY: dict[str, Tally] = {}


@dataclass
class Reference:
    """The uninterrupted upgrade: what the reruns must end with."""

    writes: list[str]  # the statements that wrote, in order
    rows_backfilled: int
    schema: Any
    answer: same_answer.Answer
    tables: list[str]
    generated: set[str]
    touched: dict[str, set[str]]  # per table, the words of its statements


def spread(count: int, limit: int | None) -> list[int]:
    """Which of ``count`` stops (1-based) to take, evenly, the last one always."""
    if limit is None or count <= limit:
        return list(range(1, count + 1))
    if limit <= 0:
        return []
    step = count / limit
    return sorted({count - int(i * step) for i in range(limit)})


@contextmanager
def counting_backfills() -> Iterator[list[int]]:
    written: list[int] = []
    backfills.BATCH_WATCHERS.append(written.append)
    try:
        yield written
    finally:
        backfills.BATCH_WATCHERS.remove(written.append)


class StopAfterBatch:
    def __init__(self, batches: int) -> None:
        self.batches = batches
        self.written: list[int] = []
        self.stopped = False

    def __call__(self, rows: int) -> None:
        self.written.append(rows)
        if len(self.written) == self.batches:
            self.stopped = True
            raise Stopped(f"stopped after batch {self.batches}")


Stop = tuple[str, Callable[[], Any]]  # what it stops after, and the stopper


def check(climber: Any, stair: Any, reference: Reference, limit: int | None) -> str:
    """Stop and rerun the stair's upgrade; the first failure as one line, or ''."""
    tally = TALLY.setdefault(stair.backend, Tally())
    if not stair.downgraded:  # irreversible: no way back to stop it again
        tally.irreversible += 1
        return ""
    stops = _stops(climber, stair, reference, limit, tally)
    if not stops:
        return ""
    tally.revisions += 1
    steps, script = climber.steps, stair.script
    steps.step(script, upgrading=False)
    for what, stopper in stops:
        tally.stops += 1
        problem = _stop_and_rerun(climber, stair, reference, stopper())
        if problem:
            where = f"revision {stair.name} on {stair.backend}"
            return f"{where}, stopped after {what}: {problem}"
        steps.step(script, upgrading=False)
    steps.step(script, upgrading=True)
    return ""


def _stops(
    climber: Any, stair: Any, reference: Reference, limit: int | None, tally: Tally
) -> list[Stop]:
    """After each writing statement on MySQL/MariaDB (at most ``limit``), and
    after the first batches of a backfill() on every backend."""
    stops: list[Stop] = []
    if climber.steps.engine.dialect.name == "mysql" and deploys_to_mysql():
        count = len(reference.writes)
        chosen = spread(count, limit)
        tally.left_out[stair.name] = count - len(chosen)
        for k in chosen:
            what = f"statement {k} of {count} ({described(reference.writes[k - 1])})"
            stops.append((what, lambda k=k: Watcher(stop_after=k)))
    if uses_backfill(stair.script.module):
        for j in range(1, BATCH_STOPS + 1):
            stops.append((f"backfill batch {j}", lambda j=j: StopAfterBatch(j)))
    return stops


def _stop_and_rerun(
    climber: Any, stair: Any, reference: Reference, stopper: Any
) -> str:
    steps, script = climber.steps, stair.script
    engine = steps.engine
    if isinstance(stopper, Watcher):
        stopping = watching(engine, stopper)
    else:
        stopping = _batches(stopper)
    try:
        with stopping:
            steps.step(script, upgrading=True)
    except Exception as error:
        if not stopper.stopped:
            return f"the stopped run failed before the stop: {cause(error)}"
    if not stopper.stopped:
        return ""  # fewer statements or batches this time: it finished
    rerun = Watcher()
    try:
        with watching(engine, rerun), counting_backfills() as written:
            steps.step(script, upgrading=True)
    except Exception as error:
        return f"running it again failed: {cause(error)}"
    return _compare(climber, reference, stopper, written, rerun)


@contextmanager
def _batches(stopper: StopAfterBatch) -> Iterator[None]:
    backfills.BATCH_WATCHERS.append(stopper)
    backfills.BATCH_SIZE_IN_TESTS.append(SMALL_BATCH)
    try:
        yield
    finally:
        backfills.BATCH_WATCHERS.remove(stopper)
        backfills.BATCH_SIZE_IN_TESTS.pop()


def _compare(
    climber: Any, reference: Reference, stopper: Any, written: list[int], rerun: Watcher
) -> str:
    if isinstance(stopper, StopAfterBatch):
        twice = sum(stopper.written) + sum(written) - reference.rows_backfilled
        if twice > 0:
            return (
                f"the second run wrote {twice} rows the first had finished: make "
                "backfill()'s pending condition false once a row is done"
            )
    with climber.steps.engine.connect() as connection:
        changed = _schema_change(connection, reference)
        if changed:
            return f"running it again gives another schema: {changed}"
        answer = same_answer.read_answer(
            connection, reference.tables, reference.generated, reference.touched
        )
    there = {"uninterrupted": reference.answer, "after the crash": answer}
    for table in sorted(reference.answer):
        tables = {name: found[table] for name, found in there.items()}
        lines = same_answer.table_lines("", table, tables, {})
        if lines:
            return (
                "running it again gives other rows: " + lines[0].split(" writes ", 1)[1]
            )
    return ""


def _schema_change(connection: Any, reference: Reference) -> str:
    """The first difference from the uninterrupted schema, in the tables
    there and those the upgrade wrote; '' when none."""
    expected = reference.schema["tables"]
    found = of_tables(connection, reference.tables)
    if found["names"] != sorted(expected):
        extra = sorted(set(found["names"]) - set(expected))
        missing = sorted(set(expected) - set(found["names"]))
        return f"tables {extra} left over, {missing} missing"
    wanted = {t: expected[t] for t in found["tables"]}
    changed = differences({"tables": wanted}, {"tables": found["tables"]})
    return changed[0] if changed else ""


def deploys_to_mysql() -> bool:
    """Whether statement stops matter: production on MySQL/MariaDB commits each
    DDL at once, so a crash leaves half a revision. SQLite and PostgreSQL undo
    a failed revision whole, and a project deploying there is not held to it."""
    return setting("database") in ("mysql", "mariadb")


def uses_backfill(module: Any) -> bool:
    return getattr(module, "backfill", None) is backfills.backfill


def summary(limit: int | None) -> list[str]:
    lines = []
    if not deploys_to_mysql():
        lines.append(
            f"CRASH AND RERUN stops upgrades after each statement only in a project "
            f"that deploys to MySQL/MariaDB (alembic.ini: database = "
            f"{setting('database')}); backfill() revisions are stopped everywhere"
        )
    for backend, tally in TALLY.items():
        left = {name: n for name, n in tally.left_out.items() if n}
        line = (
            f"CRASH AND RERUN on {backend}: {tally.stops} stops in "
            f"{tally.revisions} revisions"
        )
        if left:
            line += (
                f"; left out {sum(left.values())} stops of {len(left)} revisions "
                f"with more than {limit} (MIGRATION_CRASH_STOPS=all to take every one)"
            )
        if tally.irreversible:
            line += f"; {tally.irreversible} irreversible revisions not stopped"
        if tally.not_checked:
            line += (
                f"; {tally.not_checked} revisions not checked after {MAX_FAILED} "
                "failed: fix those first"
            )
        lines.append(line)
    return lines
