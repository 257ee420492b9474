"""A baked project's migrations are safe to run for real (README: production).

Each test runs the project's own ``alembic`` as a deploy would, on a new
database, and checks the database afterwards.
"""

from pathlib import Path

import pytest
import sqlalchemy as sa

from .baking import bake
from .production import (
    FIRST,
    HEAD,
    PLAYER_TEAMS,
    PLAYERS,
    alembic,
    execute,
    extra_revision,
    failure_line,
    finish,
    fresh_database,
    migration_lock_held,
    rows,
    start_alembic,
    succeeded,
    table_names,
    through,
    version,
)

# A schema step, a batch rebuild and a data change, then a data step that
# fails: every team name it inserts is taken already.
FAILING_REVISION = """\
    op.create_table("coaches", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("players", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
    op.execute("UPDATE players SET name = 'changed'")
    op.execute("INSERT INTO teams (name) SELECT name FROM teams")
"""


def at_head_with_players(project: Path, url: str) -> None:
    succeeded(alembic(project, url, "upgrade", FIRST))
    execute(url, PLAYERS)
    succeeded(alembic(project, url, "upgrade", HEAD))


def snapshot(url: str) -> tuple:
    return (
        table_names(url),
        version(url),
        rows(url, "SELECT * FROM players ORDER BY id"),
        rows(url, "SELECT * FROM teams ORDER BY id"),
    )


@pytest.mark.parametrize(
    ("backend", "driver"),
    [
        ("postgresql", "sync"),
        ("mysql", "sync"),
        ("sqlite", "async"),
        ("postgresql", "async"),
        ("mysql", "async"),
    ],
)
def test_concurrent_upgrades_apply_each_revision_once(
    project, backend, driver, tmp_path
):
    with fresh_database(backend, tmp_path) as url:
        succeeded(alembic(project, url, "upgrade", FIRST))
        execute(url, PLAYERS)
        target = through(driver, url)
        runs = [start_alembic(project, target, "upgrade", "head") for _ in range(4)]
        outputs = [succeeded(finish(run)) for run in runs]
        applied = "".join(outputs).count(f"Running upgrade {FIRST} -> {HEAD}")
        assert applied == 1, outputs
        assert version(url) == [HEAD]
        assert rows(url, "SELECT name FROM teams ORDER BY name") == [
            ("Blues",),
            ("Reds",),
        ]
        assert rows(url, PLAYER_TEAMS) == [
            (1, "Reds"),
            (2, "Blues"),
            (3, "Reds"),
            (4, None),
        ]


@pytest.mark.parametrize("driver", ["sync", "async"])
@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_waiting_for_the_lock_gives_up_with_one_line(
    project, backend, driver, tmp_path
):
    with fresh_database(backend, tmp_path) as url, migration_lock_held(project, url):
        target = through(driver, url)
        result = alembic(project, target, "upgrade", "head", MIGRATION_LOCK_WAIT="1")
        line = failure_line(result)
        assert "holds the migration lock after 1s" in line
        assert "MIGRATION_LOCK_WAIT" in line
        assert "alembic_version" not in table_names(url)


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_another_project_on_the_same_database_is_not_blocked(
    project, backend, tmp_path, cookies_session
):
    other = bake(cookies_session, project_name="Other Project")
    with fresh_database(backend, tmp_path) as url, migration_lock_held(project, url):
        # The installed environment runs the other project's code, from `other`.
        result = alembic(
            project,
            url,
            "upgrade",
            "head",
            cwd=other,
            PYTHONPATH=str(other / "src"),
            MIGRATION_LOCK_WAIT="1",
        )
        succeeded(result)
        assert version(url) == [HEAD]


@pytest.mark.parametrize("driver", ["sync", "async"])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_failed_revision_leaves_the_previous_revision_intact(
    project, backend, driver, tmp_path
):
    with (
        fresh_database(backend, tmp_path) as url,
        extra_revision(project, "f00dbad00001", HEAD, FAILING_REVISION),
    ):
        at_head_with_players(project, url)
        before = snapshot(url)
        target = through(driver, url)
        line = failure_line(alembic(project, target, "upgrade", "head"))
        assert "revision f00dbad00001 (Test revision f00dbad00001.) failed" in line
        assert "rolled back" in line
        assert snapshot(url) == before
        assert not any(name.startswith("_alembic_tmp") for name in table_names(url))


def test_failed_revision_on_mysql_names_it_and_asks_for_repair(project, tmp_path):
    failing = (
        '    op.add_column("players", sa.Column("rating", sa.Integer()))\n'
        '    op.execute("INSERT INTO teams (name) SELECT name FROM teams")\n'
    )
    with (
        fresh_database("mysql", tmp_path) as url,
        extra_revision(project, "f00dbad00002", HEAD, failing),
    ):
        at_head_with_players(project, url)
        line = failure_line(alembic(project, url, "upgrade", "head"))
        assert "revision f00dbad00002" in line
        assert "Duplicate entry" in line
        assert "manual repair" in line
        assert version(url) == [HEAD]


CONTRACTS = """\
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "team_id",
            sa.Integer(),
            sa.ForeignKey("teams.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )
"""
# SQLite rebuilds teams: copy, drop the original, rename the copy.
REBUILD_TEAMS = """\
    with op.batch_alter_table("teams", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("city", sa.Unicode(100)))
"""


def test_sqlite_batch_rebuild_keeps_cascading_children(project, tmp_path):
    with (
        fresh_database("sqlite", tmp_path) as url,
        extra_revision(project, "c0ffee000001", HEAD, CONTRACTS),
        extra_revision(project, "c0ffee000002", "c0ffee000001", REBUILD_TEAMS),
    ):
        at_head_with_players(project, url)
        succeeded(alembic(project, url, "upgrade", "c0ffee000001"))
        execute(url, "INSERT INTO contracts (id, team_id) VALUES (1, 1), (2, 2)")
        succeeded(alembic(project, url, "upgrade", "head"))
        assert rows(url, "SELECT id, team_id FROM contracts") == [(1, 1), (2, 2)]
        assert version(url) == ["c0ffee000002"]


def test_sqlite_foreign_key_violation_fails_the_revision(project, tmp_path):
    orphan = '    op.execute("INSERT INTO contracts (id, team_id) VALUES (9, 999)")\n'
    with (
        fresh_database("sqlite", tmp_path) as url,
        extra_revision(project, "c0ffee000001", HEAD, CONTRACTS),
        extra_revision(project, "c0ffee000003", "c0ffee000001", orphan),
    ):
        at_head_with_players(project, url)
        line = failure_line(alembic(project, url, "upgrade", "head"))
        assert "revision c0ffee000003 was rolled back" in line
        assert "1 row(s) in contracts" in line and "no row of teams" in line
        assert rows(url, "SELECT count(*) FROM contracts") == [(0,)]
        assert version(url) == ["c0ffee000001"]


def test_postgresql_migration_blocked_by_a_lock_fails_fast(project, tmp_path):
    add_rating = '    op.add_column("players", sa.Column("rating", sa.Integer()))\n'
    with (
        fresh_database("postgresql", tmp_path) as url,
        extra_revision(project, "f00dbad00003", HEAD, add_rating),
    ):
        at_head_with_players(project, url)
        reader = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            # A long transaction that has read players holds a lock on it.
            with reader.begin() as connection:
                connection.exec_driver_sql("SELECT count(*) FROM players")
                result = alembic(
                    project, url, "upgrade", "head", MIGRATION_LOCK_TIMEOUT="1s"
                )
        finally:
            reader.dispose()
        line = failure_line(result)
        assert "revision f00dbad00003" in line and "lock timeout" in line
        assert "MIGRATION_LOCK_TIMEOUT" in line
        assert version(url) == [HEAD]


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_postgresql_statement_timeout_stops_a_long_statement(project, driver, tmp_path):
    slow = '    op.execute("SELECT pg_sleep(30)")\n'
    with (
        fresh_database("postgresql", tmp_path) as url,
        extra_revision(project, "f00dbad00004", HEAD, slow),
    ):
        at_head_with_players(project, url)
        target = through(driver, url)
        result = alembic(
            project, target, "upgrade", "head", MIGRATION_STATEMENT_TIMEOUT="1s"
        )
        line = failure_line(result)
        assert "revision f00dbad00004" in line and "statement timeout" in line
        assert "MIGRATION_STATEMENT_TIMEOUT" in line
