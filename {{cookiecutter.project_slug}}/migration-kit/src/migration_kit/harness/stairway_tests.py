"""Every revision, on every backend: up, down and up again, leaving no trace.

The revisions are read from migrations/versions when the tests are collected,
so a new revision is tested here without a line of test code. An irreversible
one (docs/changing-data.md) is upgraded only, so it has no trace test.
"""

import pytest

from . import irreversible
from .migration_steps import revisions
from .stairway import Stair

REVISIONS = [script.revision for script in revisions()]
try:
    UPGRADE_ONLY = irreversible.not_downgraded()
    DOWNGRADED = [r for r in REVISIONS if r not in UPGRADE_ONLY]
except irreversible.BadSetting:  # reported once, before any test (preflight.py)
    DOWNGRADED = REVISIONS


def stair_of(stairway: dict[str, Stair], revision: str) -> Stair:
    stair = stairway[revision]
    stair.warn_again()
    if stair.blocked_by is not None:
        broken = stair.blocked_by
        pytest.skip(f"not reached: revision {broken.name} failed to upgrade")
    return stair


@pytest.mark.parametrize("revision", REVISIONS)
def test_stairway(stairway: dict[str, Stair], revision: str) -> None:
    stair = stair_of(stairway, revision)
    if stair.failure:
        pytest.fail(f"revision {stair.name}: {stair.failure}", pytrace=False)


@pytest.mark.parametrize("revision", DOWNGRADED)
def test_downgrade_leaves_no_trace(stairway: dict[str, Stair], revision: str) -> None:
    stair = stair_of(stairway, revision)
    # Its upgrade failed on rows: its downgrade was compared on empty tables.
    compared = stair.on_empty_tables or stair
    if compared.direction in ("upgrade", "downgrade"):
        pytest.skip(f"revision {stair.name}: no downgrade to compare, see its stairway")
    if compared.trace:
        where = " on empty tables" if compared is not stair else ""
        lines = "\n  ".join(compared.trace)
        message = (
            f"revision {stair.name}: its downgrade{where} left a trace:\n  {lines}"
        )
        pytest.fail(message, pytrace=False)
    if stair.changed_rows:
        changed = stair.changed_rows
        tables = (
            f"{changed[0]}{stair.replay}"
            if len(changed) == 1
            else f"rows of {len(changed)} tables{stair.replay}:\n  "
            + "\n  ".join(changed)
        )
        message = (
            f"revision {stair.name} on {stair.backend}: its downgrade changed {tables}"
        )
        pytest.fail(message, pytrace=False)
