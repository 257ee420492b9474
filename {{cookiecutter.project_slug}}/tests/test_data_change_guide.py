"""Run every example in migrations/README.md, so the guide stays true."""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

GUIDE = Path(__file__).resolve().parents[1] / "migrations" / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)

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


def _load_upgrade(example: str):
    namespace: dict[str, object] = {}
    exec(compile(example, str(GUIDE), "exec"), namespace)
    return namespace["upgrade"]
