"""MySQL/MariaDB: the sample's revision 2 killed half way, finished by a second run.

These databases commit every schema change at once, so a deploy killed in the
middle of revision 2 leaves it half done. Each test kills `alembic upgrade
head` with SIGKILL at one point of the revision, checks that the database is
left half migrated, then runs `make migrate` as the README says and checks the
result: one team per exact name, every player pointing at its former team.
The last one kills its downgrade in the UPDATE that writes the names back, and
`make downgrade` run again must give every player its team name back exactly.
"""

import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from .baking import run
from .production import (
    FIRST,
    HEAD,
    PLAYER_TEAMS,
    alembic,
    fresh_database,
    rows,
    start_alembic,
    succeeded,
    table_names,
    version,
)

PLAYERS = 100_000
# Names a case- or space-insensitive collation would merge: all must survive.
SPECIAL = ["Reds", "reds", "Reds ", "Zürich", "zürich"]


def team_of(player: int) -> str | None:
    if player <= len(SPECIAL):
        return SPECIAL[player - 1]
    return None if player % 100 == 0 else f"Team {player % 97}"


def seed(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    players = sa.table("players", sa.column("id"), sa.column("name"), sa.column("team"))
    try:
        with engine.begin() as connection:
            for start in range(1, PLAYERS + 1, 10_000):
                batch = range(start, min(start + 10_000, PLAYERS + 1))
                connection.execute(
                    players.insert(),
                    [{"id": i, "name": f"p{i}", "team": team_of(i)} for i in batch],
                )
    finally:
        engine.dispose()


def kill_when_running(process: subprocess.Popen, url: str, prefix: str) -> None:
    """SIGKILL ``process`` once a session on this database runs ``prefix...``."""
    running = sa.text(
        "SELECT count(*) FROM information_schema.processlist"
        " WHERE db = :database AND info LIKE :statement"
    )
    point = {"database": sa.make_url(url).database, "statement": f"{prefix}%"}
    watcher = sa.create_engine(url, poolclass=sa.pool.NullPool)
    deadline = time.monotonic() + 120
    try:
        with watcher.connect() as connection:
            while not connection.scalar(running, point):
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, f"{prefix} never ran"
                time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        watcher.dispose()


@pytest.mark.parametrize(
    "point", ["adding team_id", "moving the data", "indexing team_id"]
)
def test_killed_revision_2_is_finished_by_make_migrate(
    project: Path, point: str, tmp_path: Path
) -> None:
    with fresh_database("mysql", tmp_path) as url:
        succeeded(alembic(project, url, "upgrade", FIRST))
        seed(url)
        blocker = None
        if point == "adding team_id":
            # An open transaction that read players holds a metadata lock, so
            # the ALTER waits for it: a point the test can kill at.
            blocker = sa.create_engine(url, poolclass=sa.pool.NullPool).connect()
            blocker.exec_driver_sql("SELECT id FROM players LIMIT 1").all()
        prefix = {
            "adding team_id": "ALTER TABLE players ADD",
            "moving the data": "UPDATE players",
            "indexing team_id": "CREATE INDEX ix_players_team_id",
        }[point]
        process = start_alembic(project, url, "upgrade", "head")
        try:
            kill_when_running(process, url, prefix)
        finally:
            if blocker is not None:
                blocker.close()
        # Half migrated: teams exists, revision 2 is not recorded.
        assert version(url) == [FIRST]
        assert "teams" in table_names(url)

        run(["make", "migrate"], cwd=project, env={"DATABASE_URL": url})

        assert version(url) == [HEAD]
        expected = [(i, team_of(i)) for i in range(1, PLAYERS + 1)]
        assert rows(url, PLAYER_TEAMS) == expected
        teams = rows(url, "SELECT count(*), count(DISTINCT name) FROM teams")
        assert teams == [(97 + len(SPECIAL),) * 2]
        indexes = rows(
            url,
            "SELECT index_name FROM information_schema.statistics "
            f"WHERE table_schema = '{sa.make_url(url).database}' "
            "AND table_name = 'players' AND index_name = 'ix_players_team_id'",
        )
        assert indexes == [("ix_players_team_id",)]
        keys = rows(
            url,
            "SELECT constraint_name FROM information_schema.referential_constraints "
            f"WHERE constraint_schema = '{sa.make_url(url).database}'",
        )
        assert keys == [("fk_players_team_id_teams",)]


def test_killed_downgrade_of_revision_2_is_finished_by_make_downgrade(
    project: Path, tmp_path: Path
) -> None:
    with fresh_database("mysql", tmp_path) as url:
        succeeded(alembic(project, url, "upgrade", FIRST))
        seed(url)
        succeeded(alembic(project, url, "upgrade", "head"))
        process = start_alembic(project, url, "downgrade", "-1")
        kill_when_running(process, url, "UPDATE players")
        # Half downgraded: team is back and the key is gone (each ALTER
        # committed), the names are not, revision 2 is still recorded.
        assert version(url) == [HEAD]
        keys = rows(
            url,
            "SELECT count(*) FROM information_schema.referential_constraints "
            f"WHERE constraint_schema = '{sa.make_url(url).database}'",
        )
        assert keys == [(0,)]

        run(["make", "downgrade"], cwd=project, env={"DATABASE_URL": url})

        assert version(url) == [FIRST]
        expected = [(i, team_of(i)) for i in range(1, PLAYERS + 1)]
        assert rows(url, "SELECT id, team FROM players ORDER BY id") == expected
        assert "teams" not in table_names(url)
