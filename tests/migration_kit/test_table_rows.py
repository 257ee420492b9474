"""A downgrade that loses rows is reported with a count per table, not one row."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from migration_kit.harness.disposable_database import disposable_database
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
        yield engine


def test_every_changed_row_is_counted_and_the_first_few_shown(
    engine: sa.Engine,
) -> None:
    rows = TableRows()
    tables = ["archive", "settings", "untouched"]
    with engine.connect() as connection:
        before = rows.fingerprints(connection, tables)
        rows.remember(connection, before)
    with engine.begin() as connection:  # what a careless downgrade does
        connection.execute(ARCHIVE.delete())
        connection.execute(SETTINGS.update().where(SETTINGS.c.id > 3), {"value": "b"})

    with engine.connect() as connection:
        found = rows.changes(connection, before)

    assert found == [
        'archive: 20 of 20 rows differ: row {"id": 1} is gone; '
        'row {"id": 2} is gone; row {"id": 3} is gone (and 17 more)',
        "settings: 2 of 5 rows differ: row {\"id\": 4} value 'a' became 'b'; "
        "row {\"id\": 5} value 'a' became 'b'",
    ]
