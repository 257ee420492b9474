"""Run every example in migrations/README.md, so the guide stays true."""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

GUIDE = Path(__file__).resolve().parents[2] / "migrations" / "README.md"
WAYS, BUSY_TABLE = GUIDE.read_text().split("\n## 5. ")
EXAMPLES = re.findall(r"```python\n(.*?)```", WAYS, re.DOTALL)
# Expand, backfill, contract: three revisions that run one after the other.
SEQUENCE = re.findall(r"```python\n(.*?)```", BUSY_TABLE, re.DOTALL)

# The tables the examples work on, as the sample revisions leave them.
metadata = sa.MetaData()
teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Unicode(100), nullable=False, unique=True),
)
players = sa.Table(
    "players",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Unicode(200), nullable=False),
    sa.Column("position", sa.Unicode(200)),
    sa.Column("team_id", sa.ForeignKey("teams.id")),
)
ROSTER = [
    {"id": 1, "name": "Ann  Lee", "position": None, "team_id": None},
    {"id": 2, "name": "Bob", "position": "goalie", "team_id": None},
    {"id": 3, "name": " Cy ", "position": "wing", "team_id": None},
]
EXPECTED = [
    ("players", "position", ["unknown", "goalie", "wing"]),
    ("teams", "name", ["Free agents", "Retired"]),
    ("players", "position", [None, "keeper", "wing"]),
    ("players", "name", ["Ann Lee", "Bob", "Cy"]),
]


def test_the_guide_shows_four_ways() -> None:
    assert len(EXAMPLES) == len(EXPECTED)


@pytest.mark.parametrize("number", range(len(EXPECTED)), ids=lambda n: f"way{n + 1}")
def test_guide_example_changes_the_data(database: sa.Engine, number: int) -> None:
    metadata.create_all(database)
    with database.begin() as connection:
        connection.execute(players.insert(), ROSTER)

    with database.begin() as connection:
        upgrade = _load_upgrade(EXAMPLES[number])
        with Operations.context(MigrationContext.configure(connection)):
            upgrade()

    table, column, values = EXPECTED[number]
    query = sa.select(metadata.tables[table].c[column]).order_by(sa.text("id"))
    with database.connect() as connection:
        assert list(connection.scalars(query)) == values


def test_busy_table_sequence_fills_the_column_and_makes_it_not_null(
    database: sa.Engine,
) -> None:
    metadata.create_all(database)
    with database.begin() as connection:
        connection.execute(players.insert(), ROSTER)

    for example in SEQUENCE:
        run_as_revision(database, _load_upgrade(example))

    query = sa.text("SELECT rating FROM players ORDER BY id")
    with database.connect() as connection:
        assert list(connection.scalars(query)) == [1, 2, 1]
        [rating] = [
            column
            for column in sa.inspect(connection).get_columns("players")
            if column["name"] == "rating"
        ]
    assert rating["nullable"] is False
    assert len(SEQUENCE) == 3


def run_as_revision(engine: sa.Engine, upgrade) -> None:
    """Run ``upgrade`` as env.py does: in a transaction of its own."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"transaction_per_migration": True}
        )
        with Operations.context(context), context.begin_transaction(True):
            upgrade()


def _load_upgrade(example: str):
    namespace: dict[str, object] = {}
    exec(compile(example, str(GUIDE), "exec"), namespace)
    return namespace["upgrade"]
