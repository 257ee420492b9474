import sqlalchemy as sa

from .migration_steps import MigrationSteps, script_directory


def test_upgrade_to_head_and_downgrade_to_base(steps: MigrationSteps) -> None:
    steps.upgrade("head")
    assert steps.current() == set(script_directory().get_heads())

    steps.downgrade("base")
    assert steps.current() == set()
    left = set(sa.inspect(steps.engine).get_table_names()) - {"alembic_version"}
    assert not left, f"tables left after downgrading to base: {sorted(left)}"
