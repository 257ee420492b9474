"""Every revision, on every backend: up, down and up again, leaving no trace.

The revisions are read from migrations/versions when the tests are collected,
so a new revision is tested here without a line of test code.
"""

import pytest

from .migration_steps import revisions
from .stairway import Stair

REVISIONS = [script.revision for script in revisions()]


def stair_of(stairway: dict[str, Stair], revision: str) -> Stair:
    if revision not in stairway:
        [stopped] = [s.name for s in stairway.values() if s.failure]
        pytest.skip(f"not reached: the stairway stopped at {stopped}")
    return stairway[revision]


@pytest.mark.parametrize("revision", REVISIONS)
def test_stairway(stairway: dict[str, Stair], revision: str) -> None:
    stair = stair_of(stairway, revision)
    if stair.failure:
        pytest.fail(f"revision {stair.name}: {stair.failure}", pytrace=False)


@pytest.mark.parametrize("revision", REVISIONS)
def test_downgrade_leaves_no_trace(stairway: dict[str, Stair], revision: str) -> None:
    stair = stair_of(stairway, revision)
    if stair.trace:
        lines = "\n  ".join(stair.trace)
        message = f"revision {stair.name}: its downgrade left a trace:\n  {lines}"
        pytest.fail(message, pytrace=False)
