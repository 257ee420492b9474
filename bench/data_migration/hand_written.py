"""The reference: the same schema and data change as hand-written SQL.

The best SQL a DBA would write for each backend, run in one transaction where
the backend has transactional DDL: whatever a bulk write would maintain (an
index, a foreign key) is dropped before it and built after it. The bench runs
it two ways, in the baked project with DATABASE_URL set:
- as revision 2 of a copy of the project's history (``revision_file``), by
  the same ``alembic upgrade head`` / ``alembic downgrade -1`` as the sample;
- as a bare process, without Alembic:
  ``python hand_written.py upgrade|downgrade [VARIANT]``.

The variant ``index-kept`` is the reference the bench used before: its
downgrade UPDATE runs with the index and the foreign key on team_id still in
place. It is kept to show what that order costs.
"""

import argparse
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from database import bench_engine

PLAYERS, TEAMS = "5d3e0a1c2b01", "8f7a6b5c4d02"

# SQLite cannot add a foreign key or drop a column in place: its documented
# procedure rebuilds the table, and the rebuild's SELECT moves the data too.
SQLITE = {
    "upgrade": [
        "CREATE TABLE teams (id INTEGER NOT NULL, name VARCHAR(100) NOT NULL,"
        " CONSTRAINT pk_teams PRIMARY KEY (id),"
        " CONSTRAINT uq_teams_name UNIQUE (name))",
        "INSERT INTO teams (name)"
        " SELECT DISTINCT team FROM players WHERE team IS NOT NULL",
        "CREATE TABLE players_new (id INTEGER NOT NULL,"
        " name VARCHAR(200) NOT NULL, position VARCHAR(200), team_id INTEGER,"
        " CONSTRAINT pk_players PRIMARY KEY (id),"
        " CONSTRAINT fk_players_team_id_teams"
        " FOREIGN KEY(team_id) REFERENCES teams (id))",
        "INSERT INTO players_new (id, name, position, team_id)"
        " SELECT players.id, players.name, players.position, teams.id"
        " FROM players LEFT JOIN teams ON teams.name = players.team",
        "DROP TABLE players",
        "ALTER TABLE players_new RENAME TO players",
        "CREATE INDEX ix_players_team_id ON players (team_id)",
    ],
    "downgrade": [
        "CREATE TABLE players_old (id INTEGER NOT NULL,"
        " name VARCHAR(200) NOT NULL, position VARCHAR(200), team VARCHAR(100),"
        " CONSTRAINT pk_players PRIMARY KEY (id))",
        "INSERT INTO players_old (id, name, position, team)"
        " SELECT players.id, players.name, players.position, teams.name"
        " FROM players LEFT JOIN teams ON teams.id = players.team_id",
        "DROP TABLE players",
        "ALTER TABLE players_old RENAME TO players",
        "DROP TABLE teams",
    ],
}

# The index and the foreign key come after the UPDATE, so the UPDATE neither
# maintains the index nor checks the key row by row.
POSTGRESQL = {
    "upgrade": [
        "CREATE TABLE teams (id SERIAL NOT NULL, name VARCHAR(100) NOT NULL,"
        " CONSTRAINT pk_teams PRIMARY KEY (id),"
        " CONSTRAINT uq_teams_name UNIQUE (name))",
        "INSERT INTO teams (name)"
        " SELECT DISTINCT team FROM players WHERE team IS NOT NULL",
        "ALTER TABLE players ADD COLUMN team_id INTEGER",
        "UPDATE players SET team_id = teams.id FROM teams"
        " WHERE teams.name = players.team",
        "ALTER TABLE players DROP COLUMN team",
        "CREATE INDEX ix_players_team_id ON players (team_id)",
        "ALTER TABLE players ADD CONSTRAINT fk_players_team_id_teams"
        " FOREIGN KEY (team_id) REFERENCES teams (id)",
    ],
    # The key and the index go first: the UPDATE writes a new version of every
    # row, and each version would get an entry in ix_players_team_id.
    "downgrade": [
        "ALTER TABLE players DROP CONSTRAINT fk_players_team_id_teams",
        "DROP INDEX ix_players_team_id",
        "ALTER TABLE players ADD COLUMN team VARCHAR(100)",
        "UPDATE players SET team = teams.name FROM teams"
        " WHERE teams.id = players.team_id",
        "ALTER TABLE players DROP COLUMN team_id",
        "DROP TABLE teams",
    ],
}

# One ALTER TABLE for the drop, the index and the foreign key: MySQL and
# MariaDB rebuild the table once for all three.
MYSQL = {
    "upgrade": [
        "CREATE TABLE teams (id INTEGER NOT NULL AUTO_INCREMENT,"
        " name VARCHAR(100) COLLATE {collation} NOT NULL,"
        " PRIMARY KEY (id), CONSTRAINT uq_teams_name UNIQUE (name))",
        "INSERT INTO teams (name)"
        " SELECT DISTINCT team FROM players WHERE team IS NOT NULL",
        "ALTER TABLE players ADD COLUMN team_id INTEGER",
        "UPDATE players JOIN teams ON teams.name = players.team"
        " SET players.team_id = teams.id",
        "ALTER TABLE players DROP COLUMN team,"
        " ADD INDEX ix_players_team_id (team_id),"
        " ADD CONSTRAINT fk_players_team_id_teams"
        " FOREIGN KEY (team_id) REFERENCES teams (id)",
    ],
    # Dropping the key and the index changes no row (no table rebuild), and
    # adding or dropping a column is instant on MariaDB 10.4+ and MySQL 8.0.29+:
    # each stays its own ALTER, as one ALTER mixing them would copy the table.
    "downgrade": [
        "ALTER TABLE players DROP FOREIGN KEY fk_players_team_id_teams,"
        " DROP INDEX ix_players_team_id",
        "ALTER TABLE players ADD COLUMN team VARCHAR(100) COLLATE {collation}",
        "UPDATE players JOIN teams ON teams.id = players.team_id"
        " SET players.team = teams.name",
        "ALTER TABLE players DROP COLUMN team_id",
        "DROP TABLE teams",
    ],
}

# The previous reference's downgrades: the UPDATE runs with the index and the
# foreign key on team_id in place, and they go with the column afterwards.
INDEX_KEPT_DOWNGRADE = {
    "postgresql": [
        "ALTER TABLE players ADD COLUMN team VARCHAR(100)",
        "UPDATE players SET team = teams.name FROM teams"
        " WHERE teams.id = players.team_id",
        "ALTER TABLE players DROP COLUMN team_id",
        "DROP TABLE teams",
    ],
    "mysql": [
        "ALTER TABLE players ADD COLUMN team VARCHAR(100) COLLATE {collation}",
        "UPDATE players JOIN teams ON teams.id = players.team_id"
        " SET players.team = teams.name",
        "ALTER TABLE players DROP FOREIGN KEY fk_players_team_id_teams,"
        " DROP INDEX ix_players_team_id, DROP COLUMN team_id",
        "DROP TABLE teams",
    ],
}
VARIANTS = ("best", "index-kept")


# Revision 2 of the reference's history: the same SQL, run by Alembic.
REVISION = '''"""Revision 2 as hand-written SQL, written by the bench."""

import sys

sys.path.insert(0, {here!r})

from hand_written import in_revision

revision = "{teams}"
down_revision = "{players}"
branch_labels = depends_on = None


def upgrade():
    in_revision("upgrade", {variant!r})


def downgrade():
    in_revision("downgrade", {variant!r})
'''


def revision_file(versions: Path, variant: str = "best") -> None:
    """Write the reference's revision 2, in ``variant``, into ``versions``."""
    source = REVISION.format(
        here=str(Path(__file__).resolve().parent),
        teams=TEAMS,
        players=PLAYERS,
        variant=variant,
    )
    (versions / f"{TEAMS}_hand_written.py").write_text(source)


def statements(dialect: sa.Dialect, direction: str, variant: str) -> list[str]:
    if dialect.name == "sqlite":
        # SQLite's table rebuild already writes the table once, without index.
        return SQLITE[direction]
    backend = "postgresql" if dialect.name == "postgresql" else "mysql"
    chosen = {"postgresql": POSTGRESQL, "mysql": MYSQL}[backend][direction]
    if variant == "index-kept" and direction == "downgrade":
        chosen = INDEX_KEPT_DOWNGRADE[backend]
    if backend == "postgresql":
        return chosen
    # The byte-exact collation the sample's exact_unicode() picks.
    collation = "utf8mb4_nopad_bin" if dialect.is_mariadb else "utf8mb4_0900_bin"
    return [sql.format(collation=collation) for sql in chosen]


def in_revision(direction: str, variant: str) -> None:
    for sql in statements(op.get_context().dialect, direction, variant):
        op.get_bind().exec_driver_sql(sql)


def migrate(direction: str, variant: str) -> None:
    engine = bench_engine()
    version = TEAMS if direction == "upgrade" else PLAYERS
    with engine.begin() as connection:
        for sql in statements(engine.dialect, direction, variant):
            connection.exec_driver_sql(sql)
        connection.execute(
            sa.text("UPDATE alembic_version SET version_num = :version"),
            {"version": version},
        )
    engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the reference bare.")
    parser.add_argument("direction", choices=("upgrade", "downgrade"))
    parser.add_argument("variant", nargs="?", choices=VARIANTS, default="best")
    args = parser.parse_args()
    migrate(args.direction, args.variant)
