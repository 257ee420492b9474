"""Migrate a fresh SQLite database with sample players and print the result.

Runs inside a baked project (its .venv and alembic.ini): upgrades to revision 1,
adds players with team names, upgrades to head, which moves the names into the
teams table, and prints players with their teams.
"""

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

DATABASE = Path("demo.sqlite3")
PLAYERS_REVISION = "5d3e0a1c2b01"
PLAYERS = [
    {"name": "Ann Lee", "position": "keeper", "team": "Reds"},
    {"name": "Bob Roy", "position": "wing", "team": "Blues"},
    {"name": "Cy Tam", "position": None, "team": "Reds"},
    {"name": "Dee Oz", "position": "back", "team": None},
]


def main() -> None:
    DATABASE.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{DATABASE}"
    config = Config("alembic.ini")
    command.upgrade(config, PLAYERS_REVISION)
    engine = sa.create_engine(os.environ["DATABASE_URL"])
    with engine.begin() as connection:
        players = sa.Table("players", sa.MetaData(), autoload_with=connection)
        connection.execute(players.insert(), PLAYERS)
    command.upgrade(config, "head")
    print_players(engine)


def print_players(engine: sa.Engine) -> None:
    query = sa.text(
        "SELECT players.name, players.position, teams.name AS team "
        "FROM players LEFT JOIN teams ON teams.id = players.team_id "
        "ORDER BY players.id"
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    print(f"\n{DATABASE} at head: players.team moved into teams\n")
    print(f"{'player':<10} {'position':<10} team")
    for name, position, team in rows:
        print(f"{name:<10} {position or '-':<10} {team or '-'}")


if __name__ == "__main__":
    main()
