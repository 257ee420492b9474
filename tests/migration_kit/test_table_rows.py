"""A downgrade that loses rows is reported with a count per table, not one row."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from migration_kit.harness.disposable_database import disposable_database
from migration_kit.harness.statements import tables_written
from migration_kit.harness.table_rows import TableRows

metadata = sa.MetaData()
ARCHIVE = sa.Table(
    "archive",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("note", sa.Unicode(20)),
)
SETTINGS = sa.Table(
    "settings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("value", sa.Unicode(20)),
)
UNTOUCHED = sa.Table(
    "untouched", metadata, sa.Column("id", sa.Integer, primary_key=True)
)
RENUMBERED = sa.Table(
    "renumbered",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
)


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[sa.Engine]:
    with disposable_database(backend, tmp_path) as engine:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                ARCHIVE.insert(), [{"id": n, "note": f"n{n}"} for n in range(1, 21)]
            )
            connection.execute(
                SETTINGS.insert(), [{"id": n, "value": "a"} for n in range(1, 6)]
            )
            connection.execute(UNTOUCHED.insert(), [{"id": 1}])
            connection.execute(RENUMBERED.insert(), [{"id": n} for n in (1, 2)])
        yield engine


def test_every_changed_row_is_counted_and_the_first_few_shown(
    engine: sa.Engine,
) -> None:
    rows = TableRows()
    tables = ["archive", "renumbered", "settings", "untouched"]
    with engine.connect() as connection:
        before = rows.fingerprints(connection, tables)
        rows.remember(connection, before)
    with engine.begin() as connection:  # what a careless downgrade does
        connection.execute(ARCHIVE.delete())
        connection.execute(SETTINGS.update().where(SETTINGS.c.id > 3), {"value": "b"})
        connection.execute(RENUMBERED.update().values(id=RENUMBERED.c.id + 10))

    with engine.connect() as connection:
        found = rows.changes(connection, before)

    assert found == [
        'archive: 20 rows gone (20 before, 0 after): row {"id": 1} is gone; '
        'row {"id": 2} is gone; row {"id": 3} is gone (and 17 more)',
        # Each row's key changed: gone under the old, new under the new, and
        # counted as such, not as "4 of 2 rows".
        'renumbered: 2 rows gone, 2 new (2 before, 2 after): row {"id": 1} is '
        'gone; row {"id": 2} is gone; row {"id": 11} is new (and 1 more)',
        "settings: 2 of 5 rows differ: row {\"id\": 4} value 'a' became 'b'; "
        "row {\"id\": 5} value 'a' became 'b'",
    ]


# A trigger that writes a table its statement does not name, per backend.
TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER copy AFTER INSERT ON settings "
        "BEGIN INSERT INTO untouched (id) VALUES (NEW.id + 100); END"
    ],
    "postgresql": [
        "CREATE FUNCTION copy() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO untouched (id) VALUES (NEW.id + 100); RETURN NEW; END $$",
        "CREATE TRIGGER copy AFTER INSERT ON settings "
        "FOR EACH ROW EXECUTE FUNCTION copy()",
    ],
    "mysql": [
        "CREATE TRIGGER copy AFTER INSERT ON settings "
        "FOR EACH ROW INSERT INTO untouched (id) VALUES (NEW.id + 100)"
    ],
}


def test_kept_fingerprints_are_those_a_fresh_read_finds_after_every_write(
    engine: sa.Engine,
) -> None:
    """Kept fingerprints save reading tables no statement wrote; whatever the
    statements, they must be what reading every table finds."""
    rows = TableRows()
    rows.watch(engine)
    tables = ["archive", "renumbered", "settings", "untouched"]

    def agrees() -> None:
        with engine.connect() as connection:
            kept = rows.fingerprints(connection, tables)
            assert kept == TableRows().fingerprints(connection, tables)

    agrees()
    writes = [
        "INSERT INTO settings (id, value) VALUES (6, 'a')",
        "UPDATE archive SET note = 'x' WHERE id = 1",
        "DELETE FROM untouched",
        "INSERT INTO untouched (id) SELECT id FROM settings",
        *TRIGGER[engine.dialect.name],
        "INSERT INTO settings (id, value) VALUES (7, 'a')",  # the trigger writes
    ]
    for statement in writes:
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
        agrees()
    # Read inside a transaction that is then rolled back.
    with engine.connect() as connection:
        connection.exec_driver_sql("DELETE FROM archive WHERE id > 10")
        rows.fingerprints(connection, tables)
        connection.rollback()
    agrees()
    rows.watch(None)


@pytest.mark.parametrize(
    ("statement", "tables"),
    [
        # The harness's own statements, after every step and at every stair.
        ("DISCARD ALL", set()),
        ("WITH here AS (SELECT 1) SELECT json_build_object('x', 1)", set()),
        ("SELECT 1", set()),
        ("INSERT INTO archive (id) VALUES (1)", {"archive"}),
        ("CREATE INDEX ix_note ON archive (note)", set()),
        # Any table: a CTE that writes, an UPDATE that may cascade.
        ("WITH gone AS (DELETE FROM archive RETURNING id) SELECT 1", None),
        ("UPDATE archive SET note = 'x'", None),
    ],
)
def test_the_tables_a_statement_may_write(statement: str, tables: set | None) -> None:
    """Only a statement that may write a table makes its rows be read again."""
    assert tables_written(statement) == tables
