"""A fresh SQLite database starts from the last one's copy (empty_copy.py)."""

from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from migration_kit.harness.disposable_database import disposable_database
from migration_kit.harness.empty_copy import EmptyCopy

FIRST, SECOND, OTHER = (SimpleNamespace(revision=name) for name in ("r1", "r2", "x1"))


def test_a_new_database_holds_what_the_copy_held(tmp_path: Path) -> None:
    copy = EmptyCopy()
    with disposable_database("sqlite", tmp_path) as first:
        with first.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE players (id INTEGER PRIMARY KEY)")
        copy.keep(first, [FIRST])
        with first.begin() as connection:  # after the copy: not in it
            connection.exec_driver_sql("INSERT INTO players VALUES (1)")

    with disposable_database("sqlite", tmp_path) as fresh:
        assert copy.restore(fresh, [FIRST, SECOND]) == 1
        with fresh.connect() as connection:
            assert connection.scalar(sa.text("SELECT count(*) FROM players")) == 0

    with disposable_database("sqlite", tmp_path) as other:
        # Another climb's revisions: the copy is not its start.
        assert copy.restore(other, [OTHER, SECOND]) == 0
        assert sa.inspect(other).get_table_names() == []

    copy.remove()
    assert not copy.path.exists()


def test_other_backends_replay_from_base(database: sa.Engine) -> None:
    copy = EmptyCopy()
    copy.keep(database, [FIRST])
    assert copy.restore(database, [FIRST]) == (
        1 if database.dialect.name == "sqlite" else 0
    )
    copy.remove()
