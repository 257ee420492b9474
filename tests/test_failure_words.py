"""A failed revision's line says where it left the database, per backend and direction.

alembic_version moves only when a revision succeeds, so a failed upgrade
leaves it at the revision before, a failed downgrade at the revision itself.
PostgreSQL and SQLite roll the revision's changes back; MySQL/MariaDB keep the
schema statements that ran. A SQLite run that lost the file's lock to another
run may find the database further on than it started.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from .production import (
    HEAD,
    alembic,
    execute,
    failure_line,
    finish,
    fresh_database,
    start_alembic,
    succeeded,
    version,
)

REVISION = "badd0e000001"
TITLE = "Add a rating; its downgrade fails half way."
ADD_RATING = '    op.add_column("players", sa.Column("rating", sa.Integer()))\n'
# Drops the rating, then inserts team names that are taken already.
FAILING_DOWNGRADE = (
    '    op.drop_column("players", "rating")\n'
    '    op.execute("INSERT INTO teams (name) SELECT name FROM teams")\n'
)
# Holds SQLite's write lock until the test lets it go.
HOLD_THE_FILE = """\
    op.add_column("players", sa.Column("rating", sa.Integer()))
    Path(FOLDER, "started").touch()
    for _ in range(600):
        if Path(FOLDER, "go").exists():
            break
        time.sleep(0.1)
"""


@contextmanager
def revision(project: Path, upgrade: str, downgrade: str, **names: str) -> Iterator:
    """A revision on top of the sample head, for the duration of a test."""
    path = project / f"migrations/versions/2099_01_01_0000-{REVISION}_extra.py"
    constants = "".join(f"{name} = {value!r}\n" for name, value in names.items())
    path.write_text(
        f'"""{TITLE}"""\n\nimport time\nfrom pathlib import Path\n\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {REVISION!r}\ndown_revision = {HEAD!r}\n"
        f"branch_labels = None\ndepends_on = None\n{constants}\n\n"
        f"def upgrade() -> None:\n{upgrade}\n\n"
        f"def downgrade() -> None:\n{downgrade}"
    )
    try:
        yield
    finally:
        path.unlink()


def columns(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return {column["name"] for column in sa.inspect(engine).get_columns("players")}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_failed_downgrade_is_rolled_back_and_stays_at_the_revision(
    project, backend, tmp_path
):
    with (
        fresh_database(backend, tmp_path) as url,
        revision(project, ADD_RATING, FAILING_DOWNGRADE),
    ):
        succeeded(alembic(project, url, "upgrade", "head"))
        execute(url, "INSERT INTO teams (name) VALUES ('Reds')")

        line = failure_line(alembic(project, url, "downgrade", "-1"))

        assert line.startswith(f"FAILED: revision {REVISION} ({TITLE}) failed: ")
        assert line.endswith(
            "the downgrade was rolled back, so the database is still at this revision."
        )
        assert line.count(REVISION) == 1
        assert version(url) == [REVISION]
        assert "rating" in columns(url)


def test_failed_downgrade_on_mysql_says_the_schema_may_be_partly_downgraded(
    project, tmp_path
):
    with (
        fresh_database("mysql", tmp_path) as url,
        revision(project, ADD_RATING, FAILING_DOWNGRADE),
    ):
        succeeded(alembic(project, url, "upgrade", "head"))
        execute(url, "INSERT INTO teams (name) VALUES ('Reds')")

        line = failure_line(alembic(project, url, "downgrade", "-1"))

        assert f"revision {REVISION} ({TITLE}) failed: IntegrityError" in line
        assert "alembic_version still names this revision" in line
        assert "partly downgraded" in line and "manual repair" in line
        assert version(url) == [REVISION]
        assert "rating" not in columns(url)


def test_failed_upgrade_on_mysql_says_alembic_version_is_at_the_revision_before(
    project, tmp_path
):
    failing_upgrade = ADD_RATING + FAILING_DOWNGRADE.splitlines(keepends=True)[1]
    with (
        fresh_database("mysql", tmp_path) as url,
        revision(project, failing_upgrade, "    pass\n"),
    ):
        succeeded(alembic(project, url, "upgrade", HEAD))
        execute(url, "INSERT INTO teams (name) VALUES ('Reds')")

        line = failure_line(alembic(project, url, "upgrade", "head"))

        assert "alembic_version still names the revision before it" in line
        assert "partly migrated" in line
        assert version(url) == [HEAD]
        assert "rating" in columns(url)


def test_sqlite_run_that_loses_the_lock_may_find_the_database_further(
    project, tmp_path
):
    folder = tmp_path / "signals"
    folder.mkdir()
    with (
        fresh_database("sqlite", tmp_path) as url,
        revision(project, HOLD_THE_FILE, "    pass\n", FOLDER=str(folder)),
    ):
        succeeded(alembic(project, url, "upgrade", HEAD))
        winner = start_alembic(project, url, "upgrade", "head")
        try:
            while not (folder / "started").exists():
                assert winner.poll() is None, finish(winner)
                time.sleep(0.1)
            # The winner holds the write lock: this run waits as long as
            # MIGRATION_LOCK_WAIT says, then gives up.
            loser = alembic(project, url, "upgrade", "head", MIGRATION_LOCK_WAIT="1")
            line = failure_line(loser)
        finally:
            (folder / "go").touch()
        succeeded(finish(winner))

        # Each revision takes the write lock as it begins: the loser stops
        # before its first revision, with nothing of it done.
        assert line.startswith("FAILED: the SQLite file is locked (database is locked)")
        assert "another process is migrating it and may already have taken it" in line
        assert "check with alembic current" in line
        assert version(url) == [REVISION]
