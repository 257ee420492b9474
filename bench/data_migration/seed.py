"""Fill players at revision 1 with N deterministic rows, in chunks.

Run in the baked project's virtual environment with DATABASE_URL set:
    python seed.py ROWS TEAMS
The same ``players()`` generator tells the bench what every row must be.
"""

import itertools
import sys
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from database import bench_engine

POSITIONS = ("keeper", "back", "midfield", "wing", None)
CHUNK = 20_000


def team_of(player_id: int, teams: int) -> str | None:
    """1% of players have no team; the rest go round the teams in turn."""
    if player_id % 100 == 0:
        return None
    return f"Team {(player_id - player_id // 100) % teams:04d}"


def players(rows: int, teams: int) -> Iterator[dict[str, Any]]:
    for player_id in range(1, rows + 1):
        yield {
            "id": player_id,
            "name": f"Player {player_id}",
            "position": POSITIONS[player_id % len(POSITIONS)],
            "team": team_of(player_id, teams),
        }


def expected_teams(rows: int, teams: int) -> int:
    with_team = rows - rows // 100
    return min(with_team, teams)


def seed(engine: sa.Engine, rows: int, teams: int) -> None:
    table = sa.Table("players", sa.MetaData(), autoload_with=engine)
    generated = players(rows, teams)
    with engine.begin() as connection:
        while chunk := list(itertools.islice(generated, CHUNK)):
            connection.execute(table.insert(), chunk)
    if engine.dialect.name == "postgresql":
        # A production table has statistics; the planner needs them to join.
        with engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.exec_driver_sql("VACUUM ANALYZE players")


if __name__ == "__main__":
    seed(bench_engine(), int(sys.argv[1]), int(sys.argv[2]))
