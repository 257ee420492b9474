"""The whole history in one go, as `alembic upgrade head` and `downgrade base` run it.

Downgrading stops at the newest irreversible point (irreversible.py) instead
of base: there the database must be exactly as an upgrade to that point left
it, and it must climb back to head. The branches of other roots, which
Alembic's downgrade to one revision keeps, are stepped down one by one.
"""

import pytest

from . import irreversible
from .migration_steps import (
    MigrationSteps,
    one_line_failure,
    revisions,
    script_directory,
)
from .schema_snapshot import Snapshot, differences, snapshot
from .stairway import Climber


def test_upgrade_to_head_and_downgrade_to_base(
    climber: Climber, request: pytest.FixtureRequest
) -> None:
    point = irreversible.newest_point()
    where = ", ".join(sorted(point)) or "base"
    with one_line_failure():
        steps, at_point = at_head_from_the_stairway(climber, point) or at_head_from(
            MigrationSteps(request.getfixturevalue("database")), point
        )
        assert steps.current() == heads()

        for revision in sorted(point) or ["base"]:
            steps.downgrade(revision)
        # Alembic's downgrade to a revision keeps the branches of other roots.
        down_to(steps, point)
        assert steps.current() == point, f"downgrade to {where} stopped elsewhere"
        left = differences(at_point, schema(steps))
        assert not left, f"after downgrading to {where}: " + "; ".join(left)

        steps.upgrade("head")
        assert steps.current() == heads()


def at_head_from_the_stairway(
    climber: Climber, point: set[str]
) -> tuple[MigrationSteps, Snapshot] | None:
    """The stairway's database, at head, and the schema it had at ``point``.

    It saves upgrading a new database through the whole history again.
    """
    steps, at_point = climber.at_head(), climber.schema_at(ancestry(point))
    return None if steps is None or at_point is None else (steps, at_point)


def at_head_from(
    steps: MigrationSteps, point: set[str]
) -> tuple[MigrationSteps, Snapshot]:
    """A new database upgraded to head, and the schema it had at ``point``."""
    for revision in sorted(point):
        steps.upgrade(revision)
    at_point = schema(steps)
    steps.upgrade("head")
    return steps, at_point


def ancestry(point: set[str]) -> set[str]:
    return point | irreversible.ancestors(point)


def down_to(steps: MigrationSteps, point: set[str]) -> None:
    """Step down every revision applied that the point is not built on."""
    kept = ancestry(point)
    applied = steps.current() | irreversible.ancestors(steps.current())
    for script in reversed(revisions()):
        if script.revision in applied - kept:
            steps.step(script, upgrading=False)


def heads() -> set[str]:
    return set(script_directory().get_heads())


def schema(steps: MigrationSteps) -> dict:
    with steps.engine.connect() as connection:
        return snapshot(connection)
