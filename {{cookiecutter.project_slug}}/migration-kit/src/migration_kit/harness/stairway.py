"""The stairway: every revision upgraded, downgraded and upgraded again.

One database climbs the whole history once, parents before children, so a
run costs a few steps per revision instead of a rebuild from base for each
one. Each step runs exactly one revision, so a merge steps down to both its
parents and a branch is climbed like the trunk. On each stair the schema is
compared before the upgrade and after the downgrade: what a downgrade leaves
behind is reported with the revision that left it.

A broken revision does not hide the ones after it. The climb goes on from a
fresh database, upgraded only through every revision that upgraded so far
(the broken one too, when only its downgrade failed; on SQLite, from a copy
of the last fresh database, empty_copy.py), and seeded again; or,
when SQLite or PostgreSQL rolled a failed downgrade back as a whole, from
where its upgrade left the database. A revision whose upgrade failed on
generated rows is climbed again, downgrade included, on a fresh database
whose tables hold none: when its upgrade passes there, the climb goes on from
there, the tables seeded anew before the next revision, and its BROKEN line
says so and names a downgrade that failed there; what its downgrade left
there is its trace. Only an upgrade that fails on empty tables too cannot be
passed: the revisions built on it are not reached, and those on other
branches still are; its line names the error it gave there, if another.
Irreversible revisions (irreversible.py) are upgraded only.

Every stair runs on rows: before the upgrade, the tables that hold none are
seeded (seeding.py, and the revision's own ``seed_rows`` hook), and after the
downgrade every table must hold the same rows again (table_rows.py). A run
selected with -k climbs only the revisions it tests and those they are built
on, seeded exactly as in a whole run, so the replay command a failure prints
is quick.
"""

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic.script import Script
from pytest import Item

from ..connection_errors import raised_connecting
from ..errors import one_line, raised_under, titled
from . import irreversible
from .empty_copy import EmptyCopy
from .migration_steps import MigrationSteps, revisions, script_directory
from .schema_snapshot import Snapshot, differences, snapshot
from .seeding import (
    RowsOnDemand,
    Settings,
    fill_new_columns,
    replace_rows,
    seed_empty_tables,
)
from .table_rows import TableRows

OpenDatabase = Callable[[], AbstractContextManager[sa.Engine]]

# Where a failed step leaves the database, when it is not where it started:
# MySQL and MariaDB commit each DDL statement at once, whatever the transaction,
# and any backend keeps what a revision committed of itself (autocommit_block).
KEPT = {
    "mysql": "MySQL/MariaDB kept what ran before the error",
    "committed": "the revision committed part of itself before the error",
}
PARTLY_DONE = {
    "upgrade": "the database may be partly upgraded, while alembic_version "
    "still names the revisions before it",
    "downgrade": "the database may be partly downgraded, while alembic_version "
    "still names the revision itself",
}


@dataclass
class Stair:
    """What happened to one revision on the way up."""

    script: Script
    backend: str  # sqlite, postgresql, mysql or mariadb
    downgraded: bool = True  # False: irreversible, upgraded only
    seconds: float = 0.0
    direction: str | None = None  # the step that failed: upgrade, downgrade...
    cause: str = ""  # why, in one line
    state: str = ""  # where the failure left the database, when it matters
    blocked_by: "Stair | None" = None  # a parent whose upgrade failed
    # Its upgrade failed on generated rows: the same revision climbed again on
    # a fresh database without them, downgrade included.
    on_empty_tables: "Stair | None" = None
    trace: list[str] = field(default_factory=list)  # left by the downgrade
    # Per table, the rows the downgrade did not give back: a count, the first few.
    changed_rows: list[str] = field(default_factory=list)
    seeding: Settings | None = None  # None: the stair ran on empty tables
    # What the data checks found (data_checks.py), one line per check's name.
    findings: dict[str, str] = field(default_factory=dict)
    # The warnings it gave while climbed, for the first of its tests to show.
    warned: list[warnings.WarningMessage] = field(default_factory=list)

    @property
    def name(self) -> str:
        return titled(self.script)

    def warn_again(self) -> None:
        """Give its warnings once more, in the test running now, then forget them.

        They were given while the first test of the run climbed the whole
        history, and pytest would have listed them all under that test.
        """
        for caught in self.warned:
            warnings.warn_explicit(
                caught.message, caught.category, caught.filename, caught.lineno
            )
        self.warned = []

    @property
    def broken(self) -> str | None:
        """The line the run ends with, when this revision failed."""
        if self.direction is None:
            return None
        why = f"{self.why}{self.replay}"
        return f"BROKEN {self.name} {self.direction} on {self.backend}: {why}"

    @property
    def failure(self) -> str | None:
        if self.direction is None:
            return None
        return f"{self.direction} failed: {self.why}{self.replay}"

    @property
    def why(self) -> str:
        parts = (self.cause, self.state, self.got_past)
        return "; ".join(part for part in parts if part)

    @property
    def passed_on_empty_tables(self) -> bool:
        return self.on_empty_tables is not None and not self.on_empty_tables.blocks

    @property
    def got_past(self) -> str:
        empty = self.on_empty_tables
        if empty is None:
            return ""
        if empty.blocks:
            # Another error there is a second fault, past the rows: say it now,
            # not after the user has written seed_rows for the first.
            if empty.cause == self.cause:
                return ""
            return f"on empty tables, {empty.direction} failed: {empty.cause}"
        got_past = (
            "it passed on empty tables, so the revisions after it were tested "
            "from there, on rows generated anew"
        )
        if empty.failure:  # its downgrade, or upgrade again, failed there
            return f"{got_past}; on empty tables, {empty.failure}"
        return got_past

    @property
    def blocks(self) -> bool:
        """Whether the revisions built on this one cannot be reached."""
        return self.direction == "upgrade" and not self.passed_on_empty_tables

    @property
    def replay(self) -> str:
        """The seed, and the command that runs this stair again with it."""
        if self.seeding is None:
            return ""
        backend = "mysql" if self.backend == "mariadb" else self.backend
        command = (
            f"{self.seeding.environment()} .venv/bin/pytest {STAIRWAY_FILE[0]}"
            f' -k "(stairway or trace) and {backend} and {self.script.revision}"'
        )
        return f" (seed {self.seeding.seed}; replay: {command})"


# The test file that brings in the stairway tests, for replay commands; the
# plugin sets it from the collected tests.
STAIRWAY_FILE = ["tests/test_migrations.py"]


@contextmanager
def climbed(
    open_database: OpenDatabase,
    seeding: Settings | None = None,
    only: set[str] | None = None,
    checks: Any = None,
) -> Iterator["Climber"]:
    """Walk every revision (or ``only`` these) up, down and up, past any that fails.

    The database the climb ends on stays open until the block ends: at head,
    it is where the models are compared (``Climber.at_head``).
    """
    climber = Climber(open_database, seeding, only, checks)
    try:
        climber.stairs = {stair.script.revision: stair for stair in climber.walk()}
        yield climber
    finally:
        # Those of revisions climbed only to reach the ones tested (-k, a
        # replay command) show at the end instead of nowhere.
        for stair in climber.stairs.values():
            stair.warn_again()
        climber.close()
        climber.empty_copy.remove()


class Climber:
    """One stairway: the database it is on, and the revisions it passed."""

    def __init__(
        self,
        open_database: OpenDatabase,
        seeding: Settings | None = None,
        only: set[str] | None = None,
        checks: Any = None,
    ) -> None:
        self.open_database = open_database
        self.checks = checks  # data_checks.DataChecks, or None
        self.seeding = seeding if seeding and seeding.rows else None
        self.only = only
        self.rows = TableRows()
        # Each table's columns when it last got rows: those added since get
        # values too (seeding.fill_new_columns).
        self.columns_seeded: dict[str, set[str]] = {}
        self.database = ExitStack()
        self.upgraded: list[Script] = []  # replayed on a fresh database
        self.empty_copy = EmptyCopy()  # SQLite: where the last replay ended
        self.stairs: dict[str, Stair] = {}
        self.fresh_database()
        # The schema after each stair, by the revisions upgraded up to there.
        self.schemas: dict[frozenset[str], Snapshot] = {frozenset(): self.before}

    def walk(self) -> list[Stair]:
        stairs: dict[str, Stair] = {}
        upgrade_only = irreversible.not_downgraded()
        for script in revisions():
            if self.only is not None and script.revision not in self.only:
                continue
            stair = stairs[script.revision] = Stair(
                script,
                backend_name(self.steps.engine),
                downgraded=script.revision not in upgrade_only,
                seeding=self.seeding,
            )
            stair.blocked_by = blocker(stairs, script)
            if stair.blocked_by is None:
                self.climb_one(stair)
        return list(stairs.values())

    def climb_one(self, stair: Stair) -> None:
        # Kept for its own test; the filters stay pytest's (-W error raises).
        with warnings.catch_warnings(record=True) as stair.warned:
            self.climb_past(stair)

    def climb_past(self, stair: Stair) -> None:
        started = time.perf_counter()
        self.attempt(stair, self.up_down_up)
        if stair.direction == "upgrade" and self.seeding is not None:
            # A data step that assumes what its application always wrote (a
            # column never NULL, a name unique) fails on generated rows: that
            # is reported, and its downgrade and the revisions after it are
            # still worth testing, on a fresh database without them.
            self.fresh_database()
            empty = Stair(stair.script, stair.backend, stair.downgraded)
            stair.on_empty_tables = empty
            self.attempt(empty, self.up_down_up_on_empty_tables)
        stair.seconds = time.perf_counter() - started
        if not stair.blocks:
            self.upgraded.append(stair.script)
        climbed = stair.on_empty_tables or stair  # the climb the database is on
        if self.rolled_back_to_upgraded(climbed):
            self.before = self.snapshot(self.before)
        elif climbed.direction is not None:
            self.fresh_database()
        elif self.checks is not None:
            self.checks.after_stair(self, stair)
        self.schemas[frozenset(s.revision for s in self.upgraded)] = self.before

    def attempt(self, stair: Stair, climb: Callable[[Stair], None]) -> None:
        """Climb ``stair``; a failure is kept on it for the test of its revision."""
        try:
            climb(stair)
        except Exception as error:  # reported by the test of this revision
            if raised_connecting(error):
                raise  # the server's fault, not the revision's (lost_connections.py)
            stair.cause = cause(error)
            stair.state = self.left_in(stair.direction or "")

    def rolled_back_to_upgraded(self, stair: Stair) -> bool:
        """Whether its failed downgrade left the database as its upgrade did,
        so that the climb can go on from there instead of a fresh database.

        SQLite (sqlite.py) and PostgreSQL roll a failed revision back as a
        whole, unless it committed part of itself first (autocommit_block).
        """
        return (
            stair.direction == "downgrade"
            and self.steps.engine.dialect.name in ("sqlite", "postgresql")
            and not self.steps.partly_committed
            and stair.script.revision in self.steps.current()
        )

    def up_down_up(self, stair: Stair) -> None:
        rows_before = self.seed(stair)
        stair.direction = "upgrade"
        checking = self.checks.upgrade(self, stair) if self.checks else nullcontext()
        with checking:
            self.steps.step(stair.script, upgrading=True)
        self.down_up(stair, rows_before)

    def up_down_up_on_empty_tables(self, stair: Stair) -> None:
        """The same stairway, with no rows to seed, compare or check."""
        stair.direction = "upgrade"
        self.steps.step(stair.script, upgrading=True)
        self.down_up(stair, {})

    def down_up(self, stair: Stair, rows_before: dict[str, str | None]) -> None:
        """Downgrade and upgrade again; what the downgrade left behind is kept."""
        script = stair.script
        if stair.downgraded:
            stair.direction = "downgrade"
            self.steps.step(script, upgrading=False)
            with self.steps.engine.connect() as connection:
                after = snapshot(connection, self.before)
                stair.trace = differences(self.before, after)
                # A table the downgrade dropped is in the trace already.
                kept = {t: f for t, f in rows_before.items() if t in after["tables"]}
                stair.changed_rows = self.rows.changes(connection, kept)
            stair.direction = "upgrade again"
            self.steps.step(script, upgrading=True)
        self.before = self.snapshot(self.before)
        stair.direction = None

    def seed(self, stair: Stair) -> dict[str, str | None]:
        """Fill the empty tables; every table's fingerprint, its rows kept."""
        if self.seeding is None:
            return {}
        stair.direction = "seeding"
        tables = list(self.before["tables"])
        with self.steps.engine.begin() as connection:
            found = self.rows.fingerprints(connection, tables)
            empty = [table for table, rows in found.items() if rows is None]
            changed = seed_empty_tables(connection, empty, self.seeding)
            added = self.columns_added({t for t in tables if t not in empty})
            changed += fill_new_columns(connection, added, self.seeding)
            hook = getattr(stair.script.module, "seed_rows", None)
            if hook is not None:
                stair.direction = "seed_rows"
                wanted = hook(RowsOnDemand(connection, tables)) or {}
                replace_rows(connection, wanted)
                changed += list(wanted)
            if not stair.downgraded:
                return {}  # no downgrade, so no rows to compare after it
            found.update(self.rows.fingerprints(connection, changed))
            self.rows.remember(connection, found)
        return found

    def columns_added(self, with_rows: set[str]) -> dict[str, set[str]]:
        """Per table that held rows already, the columns it did not have then."""
        columns = {
            t: set(self.before["tables"][t]["columns"]) for t in self.before["tables"]
        }
        added = {
            table: columns[table] - self.columns_seeded[table]
            for table in with_rows
            if columns[table] - self.columns_seeded.get(table, columns[table])
        }
        self.columns_seeded = columns
        return added

    def fresh_database(self) -> None:
        """A new database, upgraded only through what has upgraded so far."""
        self.close()
        engine = self.database.enter_context(self.open_database())
        self.steps = MigrationSteps(engine)
        held = self.empty_copy.restore(engine, self.upgraded)
        # Through another engine, statements go unseen.
        self.rows.watch(None if self.steps.elsewhere else engine)
        # In one run, as `alembic upgrade` would: a step per run costs a
        # connection and env.py each, 30 ms on MariaDB.
        self.steps.upgrade_exactly(self.upgraded[held:])
        self.empty_copy.keep(engine, self.upgraded)
        self.before = self.snapshot()

    def snapshot(self, previous: Snapshot | None = None) -> Snapshot:
        with self.steps.engine.connect() as connection:
            return snapshot(connection, previous)

    def at_head(self) -> MigrationSteps | None:
        """The database, if the climb left it at every head, as upgrading does."""
        if self.steps.current() == set(script_directory().get_heads()):
            return self.steps
        return None

    def schema_at(self, revisions: set[str]) -> Snapshot | None:
        """The schema an upgrade to exactly these revisions builds, if the climb
        passed there: it did on a straight history, or a branch climbed last."""
        return self.schemas.get(frozenset(revisions))

    def left_in(self, direction: str) -> str:
        partly = PARTLY_DONE.get(direction.split()[0])
        if partly is None:
            return ""  # not a step that failed: seeding, a hook
        if self.steps.engine.dialect.name == "mysql":
            return f"{KEPT['mysql']}: {partly}"
        if self.steps.partly_committed:
            return f"{KEPT['committed']}: {partly}"
        return ""  # one transaction per revision: rolled back as a whole

    def close(self) -> None:
        self.rows.watch(None)
        self.database.close()
        self.database = ExitStack()


def blocker(stairs: dict[str, Stair], script: Script) -> Stair | None:
    """The revision, among those this one is built on, whose upgrade failed."""
    for parent in script._all_down_revisions:  # down_revision + depends_on
        stair = stairs[parent]
        if stair.blocked_by is not None:
            return stair.blocked_by
        if stair.blocks:
            return stair
    return None


def cause(error: Exception) -> str:
    """The error a revision raised, in one line, without the revision's name.

    env.py wraps it in a one-line CommandError that names the revision; the
    stairway's messages name it themselves, once.
    """
    raised = raised_under(error)
    return f"{type(raised).__name__}: {one_line(raised)}"


def backend_name(engine: sa.Engine) -> str:
    """sqlite, postgresql, mysql or mariadb: the server the run was on."""
    dialect = engine.dialect
    return "mariadb" if getattr(dialect, "is_mariadb", False) else dialect.name


def needed(items: list[Item], backend: str) -> set[str] | None:
    """The revisions the selected tests of ``backend`` need: theirs and their parents.

    None: a selected test needs the whole stairway.
    """
    wanted: set[str] = set()
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "stairway" not in getattr(item, "fixturenames", ()):
            continue
        if params.get("backend") != backend:
            continue
        STAIRWAY_FILE[0] = item.nodeid.split("::")[0]
        if "revision" not in params:
            return None
        if isinstance(params["revision"], str):  # not pytest's empty-list NOTSET
            wanted.add(params["revision"])
    return wanted | irreversible.ancestors(wanted)
