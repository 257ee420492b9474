"""What each upgrade did to the data, checked while the stairway climbs.

Three checks, each off-switchable by name in MIGRATION_SKIP_CHECKS or
alembic.ini's ``skip_checks`` (comma- or space-separated):

- ``same-answer``: the tables an upgrade wrote hold the same rows on every
  backend of the run (same_answer.py);
- ``crash-rerun``: an upgrade stopped part way runs again to the same end,
  on MySQL/MariaDB after each statement, with ``backfill()`` on every backend
  at a batch boundary (crash_rerun.py);
- ``verify``: what a revision's ``verify()`` promises holds on the seeded
  rows (migration_kit/verify.py).

The stairway calls ``before_upgrade`` and ``after_upgrade`` around each
revision's first upgrade, and ``after_stair`` once the revision is climbed.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import verify
from ..settings import setting
from . import app_revisions, crash_rerun, same_answer
from .crash_rerun import uses_backfill
from .stairway import cause
from .statements import Watcher, watching

CHECKS = ("same-answer", "crash-rerun", "verify")
SKIP_VARIABLE = "MIGRATION_SKIP_CHECKS"
STOPS_VARIABLE = "MIGRATION_CRASH_STOPS"
DEFAULT_STOPS = 8
# The revisions whose verify() ran, by backend.
VERIFIED: dict[str, set[str]] = {}


class BadSetting(Exception):
    """A check's setting that cannot be used, as one line."""


def skipped() -> set[str]:
    """The checks turned off, by the environment or else alembic.ini."""
    raw = os.environ.get(SKIP_VARIABLE)
    if raw is None:
        raw = setting("skip_checks")
    names = set(raw.replace(",", " ").split())
    unknown = names - set(CHECKS)
    if unknown:
        raise BadSetting(
            f"{SKIP_VARIABLE} names no check called {', '.join(sorted(unknown))}: "
            f"use some of {', '.join(CHECKS)}."
        )
    return names


def stop_limit() -> int | None:
    """Stops per revision for crash-rerun; None: every one."""
    raw = os.environ.get(STOPS_VARIABLE) or setting("crash_stops")
    raw = raw.strip().lower()
    if raw == "all":
        return None
    try:
        stops = int(raw)
        if stops < 0:
            raise ValueError(raw)
        return stops
    except ValueError:
        raise BadSetting(
            f"{STOPS_VARIABLE}={raw!r} is not a number of stops per revision: "
            f"give one like {DEFAULT_STOPS}, or all."
        ) from None


def not_run_there() -> set[str]:
    """The checks that need the revisions in this process: off when they run
    in the application's Python (app_revisions.py). Crash-rerun stops a step
    between two statements, verify() is the revision's own code."""
    return {"crash-rerun", "verify"} if app_revisions.python() else set()


class DataChecks:
    """The checks turned on for one stairway."""

    def __init__(self, backend: str, seeded: bool, selected: set[str]) -> None:
        """``selected``: the checks whose tests the run selected (``wanted``)."""
        on = selected - skipped() - not_run_there()
        # Without rows there is nothing to compare or verify.
        self.same_answer = seeded and "same-answer" in on
        self.verify = seeded and "verify" in on
        self.crash = "crash-rerun" in on
        self.limit = stop_limit()
        self.backend = backend
        self.reference: crash_rerun.Reference | None = None
        # Tables a revision created with rows: their keys are in the order
        # each database inserted them, so rows compare by content.
        self.generated: set[str] = set()
        # The tables seeded anew on a fresh database after a failure, and
        # the database the last upgrade ran on (a new one: a fresh database).
        self.seeded_anew: set[str] = set()
        self.database: Any = None

    @contextmanager
    def upgrade(self, climber: Any, stair: Any) -> Iterator[None]:
        """Around a revision's first upgrade: watch it, then check what it did."""
        module = stair.script.module
        has_verify = self.verify and verify.hook(module) is not None
        before = None
        if has_verify:
            with climber.steps.engine.connect() as connection:
                before = verify.rows_before(connection, module)
        watcher = Watcher()
        with (
            watching(climber.steps.engine, watcher),
            crash_rerun.counting_backfills() as backfilled,
        ):
            yield
        for statement in climber.steps.ran_there:  # run in the application's Python
            watcher(None, None, statement)
        try:
            self.reference = self._observed(climber, stair, watcher, before)
        except Exception as error:  # the check's failure, not the revision's
            self.reference = None
            stair.findings["same-answer"] = (
                f"revision {stair.name} on {stair.backend}: its rows could not be "
                f"read after the upgrade: {cause(error)}"
            )
        if self.reference is not None:
            self.reference.rows_backfilled = sum(backfilled)

    def _observed(
        self, climber: Any, stair: Any, watcher: Watcher, before: verify.Rows | None
    ) -> crash_rerun.Reference:
        """Read what the upgrade wrote; verify it; keep it for the other checks."""
        module = stair.script.module
        there = climber.steps.table_names()
        new = there - set(climber.before["tables"])
        written = sorted((watcher.tables() | new) & there)
        wanted = self.same_answer or (
            self.crash
            and (self.backend in ("mysql", "mariadb") or uses_backfill(module))
        )
        with climber.steps.engine.connect() as connection:
            generated = self.generated | new
            answer = same_answer.read_answer(
                connection, written if wanted else [], generated, watcher.words()
            )
            self.generated |= {t for t in new if answer.get(t) and answer[t].count}
            if self.verify and verify.hook(module) is not None:
                self._verify(stair, connection, module, before)
        if self.same_answer:
            self._mark_seeded_anew(climber, stair, answer, new)
            same_answer.ANSWERS.setdefault(stair.script.revision, {})[stair.backend] = (
                answer
            )
        return crash_rerun.Reference(
            watcher.writes, 0, None, answer, written, generated, watcher.words()
        )

    def _mark_seeded_anew(
        self, climber: Any, stair: Any, answer: same_answer.Answer, new: set[str]
    ) -> None:
        """Mark the tables whose rows here came from seeding on a fresh database.

        After a failure the climber goes on on a new database, whose tables
        were seeded before this upgrade, not before the revision that made
        them as on the other backends: other rows, not this revision's doing.
        So are the rows a later revision fills a new table with from them.
        """
        engine = climber.steps.engine
        if self.database is not None and engine is not self.database:
            self.seeded_anew |= set(climber.before["tables"])
            same_answer.SEEDED_ANEW.setdefault(stair.backend, stair.script.revision)
        self.database = engine
        if self.seeded_anew:
            self.seeded_anew |= {t for t in new if t in answer and answer[t].count}
        for table in answer.keys() & self.seeded_anew:
            answer[table].seeded_anew = True

    def _verify(
        self, stair: Any, connection: Any, module: Any, before: verify.Rows | None
    ) -> None:
        VERIFIED.setdefault(stair.script.revision, set()).add(stair.backend)
        try:
            broken = verify.first_broken(connection, module, before)
        except Exception as error:
            broken = f"an error: {cause(error)}"
        if broken is not None:
            stair.findings["verify"] = (
                f"revision {stair.name} on {stair.backend}: its verify() found {broken}"
            )

    def after_stair(self, climber: Any, stair: Any) -> None:
        if not self.crash or stair.direction is not None or self.reference is None:
            return
        tally = crash_rerun.TALLY.setdefault(stair.backend, crash_rerun.Tally())
        if tally.failed >= crash_rerun.MAX_FAILED:
            tally.not_checked += 1  # see the summary: fix those first
            return
        self.reference.schema = climber.before
        try:
            found = crash_rerun.check(climber, stair, self.reference, self.limit)
        except Exception as error:
            found = (
                f"revision {stair.name} on {stair.backend}: stopping and rerunning "
                f"it failed: {cause(error)}"
            )
        if found:
            stair.findings["crash-rerun"] = found
            tally.failed += 1
            # The stops left it anywhere: a database upgraded anew, which
            # costs a run of the history so far, hence MAX_FAILED.
            climber.fresh_database()


def summary() -> list[str]:
    """The closing lines: which checks ran, and what they left out."""
    try:
        off = skipped()
    except BadSetting as error:
        return [str(error)]
    lines = [f"NOT CHECKED {name} ({SKIP_VARIABLE} names it)" for name in sorted(off)]
    there = not_run_there() - off
    lines += [
        f"NOT CHECKED {name}: the revisions run in alembic.ini's revisions_python, "
        "and it needs them in this process"
        for name in sorted(there)
    ]
    off |= there
    if "same-answer" not in off:
        compared = sum(len(a) > 1 for a in same_answer.ANSWERS.values())
        backends = sorted({b for a in same_answer.ANSWERS.values() for b in a})
        across = ", ".join(backends)
        lines.append(
            f"SAME ANSWER compared {compared} revisions across {across}"
            if len(backends) > 1
            else "SAME ANSWER not compared: the run tested one backend"
        )
        lines += [
            f"SAME ANSWER left out {backend}'s rows of the tables seeded anew on a "
            f"fresh database after a failure there, from revision {name} on"
            for backend, name in sorted(same_answer.SEEDED_ANEW.items())
        ]
        lines += same_answer.enums_left_out()
    if "crash-rerun" not in off:
        lines += crash_rerun.summary(stop_limit()) or [
            "CRASH AND RERUN ran nowhere: no MySQL/MariaDB and no backfill() revision"
        ]
    if "verify" not in off:
        backends = ", ".join(sorted(set().union(*VERIFIED.values())))
        lines.append(
            f"VERIFIED {len(VERIFIED)} revisions' verify() on {backends}"
            if VERIFIED
            else "VERIFIED nothing: no revision has a verify()"
        )
    return lines


# The generic tests of each check, by name.
TESTS = {
    "same-answer": "test_same_answer_on_every_backend",
    "crash-rerun": "test_upgrade_runs_again_after_a_crash",
    "verify": "test_upgrade_keeps_its_promise",
}
LAST = TESTS["same-answer"]


def wanted(items: list[Any], backend: str) -> set[str]:
    """The checks with a test selected for ``backend`` (-k narrows the work)."""
    found = set()
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("backend", backend) == backend:
            found.add(getattr(item, "originalname", ""))
    return {name for name, test in TESTS.items() if test in found}


def not_collected(items: list[Any], backends: set[str]) -> list[Any]:
    """The tests of checks turned off, and those with nothing to check: the
    same answer with one backend in the run, crash-rerun's on SQLite and
    PostgreSQL (which roll a revision back as a whole), and on MySQL/MariaDB
    too when the project deploys elsewhere, except backfill()'s."""
    stop_limit()  # a bad setting stops the run before any test
    off = {TESTS[name] for name in skipped()}
    if len(backends) < 2:
        off.add(TESTS["same-answer"])
    left_out = []
    for item in items:
        name = getattr(item, "originalname", "")
        params = getattr(getattr(item, "callspec", None), "params", {})
        if name in off:
            left_out.append(item)
        elif name == TESTS["verify"] and not isinstance(params.get("revision"), str):
            left_out.append(item)  # no revision has a verify(): nothing to run
        elif name == TESTS["crash-rerun"] and (
            params.get("backend") in ("sqlite", "postgresql")
            or not crash_rerun.deploys_to_mysql()
        ):
            module = script_module(params.get("revision"))
            if module is None or not uses_backfill(module):
                left_out.append(item)
    return left_out


def script_module(revision: str | None) -> Any:
    from .migration_steps import script_directory

    if not isinstance(revision, str):
        return None
    return script_directory().get_revision(revision).module
