"""The stairway: every revision upgraded, downgraded and upgraded again.

One database climbs the whole history once, so a run costs a few steps per
revision instead of a rebuild from base for each one. On each stair the schema
is compared before the upgrade and after the downgrade: what a downgrade
leaves behind is reported with the revision that left it.
"""

import time
from dataclasses import dataclass, field

from alembic.script import Script

from .migration_steps import MigrationSteps, revisions
from .schema_snapshot import differences, snapshot


@dataclass
class Stair:
    """What happened to one revision on the way up."""

    script: Script
    seconds: float = 0.0
    failure: str | None = None  # the step that raised, and why
    trace: list[str] = field(default_factory=list)  # left by the downgrade

    @property
    def name(self) -> str:
        return f"{self.script.revision} ({self.script.doc})"


def climb(steps: MigrationSteps) -> dict[str, Stair]:
    """Walk every revision up, down and up; stop at the first that fails."""
    stairs: dict[str, Stair] = {}
    before = _snapshot(steps)
    for script in revisions():
        stair = stairs[script.revision] = Stair(script)
        started = time.perf_counter()
        before = _step(steps, stair, before)
        stair.seconds = time.perf_counter() - started
        if stair.failure:
            break
    return stairs


def _step(steps: MigrationSteps, stair: Stair, before: dict) -> dict:
    revision = stair.script.revision
    down = stair.script.down_revision
    action = f"upgrade to {revision}"
    try:
        steps.upgrade(revision)
        action = f"downgrade to {down or 'base'}"
        steps.downgrade(down if isinstance(down, str) else "-1")
        after = _snapshot(steps, before)
        stair.trace = differences(before, after)
        action = f"upgrade to {revision} again"
        steps.upgrade(revision)
        return _snapshot(steps, after)
    except Exception as error:  # reported by the test of this revision
        stair.failure = f"{action} failed: {' '.join(str(error).split())}"
        return before


def _snapshot(steps: MigrationSteps, previous: dict | None = None) -> dict:
    with steps.engine.connect() as connection:
        return snapshot(connection, previous)
