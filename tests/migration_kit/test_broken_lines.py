"""What a BROKEN line says of an upgrade that failed on generated rows."""

from types import SimpleNamespace

from migration_kit.harness.stairway import Stair

ON_ROWS = "OperationalError: (1364, \"Field 'trial_id' doesn't have a default value\")"
ON_EMPTY_TABLES = (
    "OperationalError: (1072, \"Key column 'step' doesn't exist in table\")"
)


def failed_upgrade(cause: str, on_empty_tables: str | None) -> Stair:
    """A stair whose upgrade failed on rows, then again on empty tables."""
    script = SimpleNamespace(revision="v2.4.0.a", doc="Split trial values.")
    stair = Stair(script, "mariadb", direction="upgrade", cause=cause)
    if on_empty_tables is not None:
        stair.on_empty_tables = Stair(
            script, "mariadb", direction="upgrade", cause=on_empty_tables
        )
    return stair


def test_another_error_on_empty_tables_is_named_in_the_same_line() -> None:
    stair = failed_upgrade(ON_ROWS, ON_EMPTY_TABLES)

    assert stair.broken == (
        f"BROKEN v2.4.0.a (Split trial values.) upgrade on mariadb: {ON_ROWS}; "
        f"on empty tables, upgrade failed: {ON_EMPTY_TABLES}"
    )
    assert stair.blocks


def test_the_same_error_on_empty_tables_is_not_repeated() -> None:
    stair = failed_upgrade(ON_ROWS, ON_ROWS)

    assert stair.broken == (
        f"BROKEN v2.4.0.a (Split trial values.) upgrade on mariadb: {ON_ROWS}"
    )
    assert stair.blocks
