"""Run every titled example of the bake's docs/changing-data.md, so it stays true.

The examples are found by their titles (```python title="..."```), not by the
headings around them, so the guide's sections can be renamed and reordered.
"""

import re

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from . import KIT

GUIDE = KIT.parent / "docs" / "changing-data.md"
EXAMPLES = dict(
    re.findall(r'```python title="([^"]+)"\n(.*?)```', GUIDE.read_text(), re.DOTALL)
)
# Expand, backfill, contract: three revisions that run one after the other.
SEQUENCE = ["expand", "backfill", "contract"]

# The tables the examples work on: players, with its team names in teams.
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
EXPECTED = {
    "way 1: op.execute": ("players", "position", ["unknown", "goalie", "wing"]),
    "way 2: op.bulk_insert": ("teams", "name", ["Free agents", "Retired"]),
    "way 3: table() and inline_literal": (
        "players",
        "position",
        [None, "keeper", "wing"],
    ),
    "way 4: a Session with frozen models": (
        "players",
        "name",
        ["Ann Lee", "Bob", "Cy"],
    ),
}


def test_the_guide_shows_four_ways_and_three_steps() -> None:
    ways = {title for title in EXAMPLES if title.startswith("way ")}
    assert ways == set(EXPECTED)
    assert set(SEQUENCE) <= set(EXAMPLES)


@pytest.mark.parametrize(
    "title", list(EXPECTED), ids=lambda title: title.split(":")[0].replace(" ", "")
)
def test_guide_example_changes_the_data(database: sa.Engine, title: str) -> None:
    metadata.create_all(database)
    with database.begin() as connection:
        connection.execute(players.insert(), ROSTER)

    with database.begin() as connection:
        upgrade = _load_upgrade(EXAMPLES[title])
        with Operations.context(MigrationContext.configure(connection)):
            upgrade()

    table, column, values = EXPECTED[title]
    query = sa.select(metadata.tables[table].c[column]).order_by(sa.text("id"))
    with database.connect() as connection:
        assert list(connection.scalars(query)) == values


def test_busy_table_sequence_fills_the_column_and_makes_it_not_null(
    database: sa.Engine,
) -> None:
    metadata.create_all(database)
    with database.begin() as connection:
        connection.execute(players.insert(), ROSTER)

    for title in SEQUENCE:
        run_as_revision(database, _load_upgrade(EXAMPLES[title]))

    query = sa.text("SELECT rating FROM players ORDER BY id")
    with database.connect() as connection:
        assert list(connection.scalars(query)) == [1, 2, 1]
        [rating] = [
            column
            for column in sa.inspect(connection).get_columns("players")
            if column["name"] == "rating"
        ]
    assert rating["nullable"] is False


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
