"""Every backend gets the same logical rows: the same keys, values and parents.

Where they differed, the same-answer check blamed a revision for its input:
PostgreSQL's sequence numbered rows from where refused inserts left it, and
MariaDB's case-insensitive unique key refused lookalike names, so the rows
after them got other keys, and the rows pointing at them other parents.
"""

from pathlib import Path

import pytest
import sqlalchemy as sa
from migration_kit.harness import same_answer
from migration_kit.harness.disposable_database import (
    BACKENDS,
    disposable_database,
    untested_backends,
)
from migration_kit.harness.seeding import (
    Settings,
    fill_new_columns,
    read_rows,
    seed_empty_tables,
)

metadata = sa.MetaData()
teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Unicode(20), nullable=False, unique=True),
    # Refuses some generated rows on every backend, as real checks do.
    sa.Column("score", sa.Integer, sa.CheckConstraint("score >= 0")),
)
players = sa.Table(
    "players",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Unicode(30)),
    sa.Column("team_id", sa.ForeignKey("teams.id"), nullable=False),
)


def seeded_rows(backend: str, directory: Path) -> dict[str, list[tuple]]:
    """Both tables' rows as normalised values, by key; a later insert works."""
    directory.mkdir()
    with (
        disposable_database(backend, directory) as engine,
        engine.begin() as connection,
    ):
        metadata.create_all(connection)
        seed_empty_tables(connection, ["players", "teams"], Settings(seed=7, rows=20))
        rows = {
            table.name: [
                tuple(same_answer.normal(value) for value in row)
                for row in connection.execute(sa.select(table).order_by(table.c.id))
            ]
            for table in (teams, players)
        }
        # The revision's own insert takes the next key, not a seeded one.
        connection.execute(sa.insert(teams).values(name="new", score=1))
        return rows


def test_every_backend_gets_the_same_rows(tmp_path: Path) -> None:
    here = [b for b in BACKENDS if b not in untested_backends()]
    if len(here) < 2:
        pytest.skip("one backend here: nothing to compare")
    found = {backend: seeded_rows(backend, tmp_path / backend) for backend in here}
    first = found[here[0]]
    assert first["teams"] and first["players"]
    for backend in here[1:]:
        assert found[backend] == first, f"{backend} differs from {here[0]}"


def test_a_column_added_later_gets_what_seeding_gives_it_from_the_start(
    tmp_path: Path,
) -> None:
    """A database made anew at a later revision (after a failure, on one
    backend) is seeded with the column there; the others fill it in later."""
    founded = sa.Column("founded", sa.Integer)
    both = {}
    for when in ("from the start", "added later"):
        engine = sa.create_engine(f"sqlite:///{tmp_path / when}.sqlite3")
        with engine.begin() as connection:
            teams.create(connection)
            if when == "from the start":
                connection.execute(sa.text("ALTER TABLE teams ADD founded INTEGER"))
            seed_empty_tables(connection, ["teams"], Settings(seed=7, rows=20))
            if when == "added later":
                connection.execute(sa.text("ALTER TABLE teams ADD founded INTEGER"))
                fill_new_columns(connection, {"teams": {"founded"}}, Settings(7, 20))
            query = sa.select(teams.c.id, founded).select_from(teams).order_by("id")
            both[when] = connection.execute(query).all()
        engine.dispose()
    ids = [row.id for row in both["from the start"]]
    assert ids != list(range(1, len(ids) + 1)), "a refused row leaves a gap"
    assert both["added later"] == both["from the start"]


def test_rows_for_a_seed_rows_hook_come_in_the_same_order_everywhere(
    database: sa.Engine,
) -> None:
    """A hook numbering them (mlflow's "endpoint {n}") numbers them alike."""
    codes = sa.Table(
        "codes", sa.MetaData(), sa.Column("code", sa.Unicode(5), primary_key=True)
    )
    with database.begin() as connection:
        codes.create(connection)
        connection.execute(sa.insert(codes), [{"code": "a"}, {"code": "B"}])
        # MySQL/MariaDB's collation sorts 'a' before 'B'; Python does not.
        assert read_rows(connection, ["codes"]) == {
            "codes": [{"code": "B"}, {"code": "a"}]
        }
