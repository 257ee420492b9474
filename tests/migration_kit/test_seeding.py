"""seeding.py fills every kind of column and keeps every constraint, on each backend.

``.venv/bin/python -m tests.migration_kit.test_seeding`` prints the kinds per backend.
"""

import sqlalchemy as sa
from migration_kit.harness.seeding import (
    LOOKALIKES,
    Settings,
    fill_new_columns,
    read_rows,
    replace_rows,
    seed_empty_tables,
)
from sqlalchemy.dialects import mysql, postgresql

COMMON = [
    sa.Integer(),
    sa.SmallInteger(),
    sa.BigInteger(),
    sa.Numeric(7, 3),
    sa.Float(),
    sa.Unicode(12),
    sa.String(3),
    sa.UnicodeText(),
    sa.Date(),
    sa.DateTime(),
    sa.DateTime(timezone=True),
    sa.Time(),
    sa.Boolean(),
    sa.JSON(),
    sa.Enum("red", "green", "blue", name="colour"),
    sa.Uuid(),
    sa.LargeBinary(),
]
EXTRA = {
    "sqlite": [],
    "postgresql": [
        postgresql.INTERVAL(),
        postgresql.ARRAY(sa.Integer()),
        postgresql.JSONB(),
        postgresql.TIME(timezone=True),
        postgresql.INET(),
        postgresql.CIDR(),
        postgresql.MACADDR(),
        postgresql.MONEY(),
        postgresql.TSVECTOR(),
        postgresql.REAL(),
    ],
    "mysql": [
        mysql.TINYINT(),
        mysql.MEDIUMINT(),
        mysql.INTEGER(unsigned=True),
        mysql.YEAR(),
        mysql.SET("a", "b"),
        mysql.BIT(3),
        mysql.VARBINARY(8),
        mysql.VARCHAR(10, charset="latin1"),
        mysql.TIMESTAMP(),
        mysql.DOUBLE(),
    ],
}


def column_kinds(backend: str) -> list[sa.types.TypeEngine]:
    """The column kinds this test makes seeding fill on ``backend``."""
    return COMMON + EXTRA[backend]


def schema(backend: str) -> sa.MetaData:
    """Every kind, a composite key and a key to it, a self-reference, unique, check."""
    metadata = sa.MetaData()
    kinds = [
        sa.Column(f"c{n}_{type(kind).__name__.lower()}", kind)
        for n, kind in enumerate(column_kinds(backend))
    ]
    sa.Table("kinds", metadata, sa.Column("id", sa.Integer, primary_key=True), *kinds)
    sa.Table(
        "seasons",
        metadata,
        sa.Column("league", sa.Unicode(20), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("label", sa.Unicode(40), nullable=False, unique=True),
        sa.Column("games", sa.Integer, sa.CheckConstraint("games > 0"), nullable=False),
    )
    sa.Table(
        "matches",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("league", sa.Unicode(20), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("replay_of", sa.ForeignKey("matches.id")),
        sa.ForeignKeyConstraint(["league", "year"], ["seasons.league", "seasons.year"]),
    )
    return metadata


def test_every_kind_and_constraint_gets_rows(database: sa.Engine, backend: str) -> None:
    metadata = schema(backend)
    metadata.create_all(database)

    with database.begin() as connection:
        seeded = seed_empty_tables(connection, list(metadata.tables), Settings(7, 20))

    assert sorted(seeded) == ["kinds", "matches", "seasons"]
    # Read back as reflected: SQLite keeps an Enum as VARCHAR, free text.
    reflected = sa.MetaData()
    with database.connect() as connection:
        reflected.reflect(connection)
        rows = {
            name: [row._asdict() for row in connection.execute(sa.select(table))]
            for name, table in reflected.tables.items()
        }
    for column in metadata.tables["kinds"].columns:
        values = [row[column.name] for row in rows["kinds"]]
        assert any(v is not None for v in values), f"{column.name}: no values"
        assert column.primary_key or None in values, f"{column.name}: never NULL"
    assert [row["c5_unicode"] for row in rows["kinds"][:7]] == LOOKALIKES
    seasons = {(row["league"], row["year"]) for row in rows["seasons"]}
    assert all((row["league"], row["year"]) in seasons for row in rows["matches"])
    ids = {row["id"] for row in rows["matches"]}
    pointing = [row["replay_of"] for row in rows["matches"] if row["replay_of"]]
    assert pointing and set(pointing) <= ids
    assert all(row["games"] > 0 for row in rows["seasons"])


def test_a_boolean_gets_only_true_and_false(database: sa.Engine) -> None:
    """MySQL keeps sa.Boolean as TINYINT(1), with a CHECK (flag IN (0, 1))."""
    metadata = sa.MetaData()
    sa.Table(
        "flags",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("flag", sa.Boolean(create_constraint=True), nullable=False),
    )
    metadata.create_all(database)

    with database.begin() as connection:
        seed_empty_tables(connection, ["flags"], Settings(7, 20))
        flags = connection.execute(sa.text("SELECT flag FROM flags")).scalars().all()

    assert len(flags) == 20, "the check constraint refused some rows"
    assert set(flags) == {0, 1}


def test_replaced_rows_keep_the_rows_pointing_at_them(database: sa.Engine) -> None:
    """A seed_rows hook changes a parent's column: its children stay valid."""
    metadata = schema("sqlite")
    metadata.create_all(database)
    with database.begin() as connection:
        seed_empty_tables(connection, ["seasons", "matches"], Settings(7, 20))
        rows = read_rows(connection, ["seasons", "matches"])
        seasons = [{**season, "games": 38} for season in rows["seasons"]]
        # One match fewer; the others point at no replay (at rows updated).
        matches = [{**match, "replay_of": None} for match in rows["matches"][:-1]]

        replace_rows(connection, {"seasons": seasons, "matches": matches})

        assert read_rows(connection, ["seasons", "matches"]) == {
            "seasons": seasons,
            "matches": matches,
        }


def test_a_column_added_to_rows_gets_values_unless_a_data_step_gave_some(
    database: sa.Engine,
) -> None:
    """A later revision's data step then meets values in it, not only NULL."""
    metadata = sa.MetaData()
    sa.Table("teams", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "players",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Unicode(20), nullable=False),
    )
    metadata.create_all(database)
    added = [
        "nickname VARCHAR(20)",
        "rating INTEGER",
        "level INTEGER",
        # Inline, as SQLite has no ALTER TABLE ... ADD FOREIGN KEY.
        "team_id INTEGER REFERENCES teams (id)"
        if database.dialect.name == "sqlite"
        else "team_id INTEGER, ADD FOREIGN KEY (team_id) REFERENCES teams (id)",
    ]
    with database.begin() as connection:
        seed_empty_tables(connection, ["teams", "players"], Settings(7, 20))
        for column in added:  # as revisions would, after the table got rows
            connection.exec_driver_sql(f"ALTER TABLE players ADD {column}")
        connection.exec_driver_sql("UPDATE players SET level = 1")  # a data step
        before = read_rows(connection, ["players"])["players"]

        new = {"nickname", "rating", "team_id", "level"}
        filled = fill_new_columns(connection, {"players": new}, Settings(7, 20))
        after = read_rows(connection, ["players"])["players"]

    assert filled == ["players"]
    assert {row["id"]: row["name"] for row in after} == {
        row["id"]: row["name"] for row in before
    }
    for column in ("nickname", "rating"):
        values = [row[column] for row in after]
        assert any(value is not None for value in values), column
        assert None in values, f"{column}: NULL in some rows, as seeding does"
    assert {row["team_id"] for row in after} == {None}, "keys to other tables stay NULL"
    assert {row["level"] for row in after} == {1}, "a data step's values stay"


if __name__ == "__main__":
    for backend in EXTRA:
        kinds = ", ".join(repr(kind) for kind in column_kinds(backend))
        print(f"{backend}: {kinds}")


def overlapping_keys() -> sa.MetaData:
    """A table with two composite foreign keys sharing a column (club_id)."""
    metadata = sa.MetaData()
    sa.Table(
        "squads",
        metadata,
        sa.Column("club_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("squad", sa.Integer, primary_key=True, autoincrement=False),
    )
    sa.Table(
        "grounds",
        metadata,
        sa.Column("club_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ground", sa.Integer, primary_key=True, autoincrement=False),
    )
    sa.Table(
        "fixtures",
        metadata,
        # Not a counter: rows seeded again after a DELETE get the same ids.
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("club_id", sa.Integer, nullable=False),
        sa.Column("squad", sa.Integer, nullable=False),
        sa.Column("ground", sa.Integer, nullable=False),
        sa.Column("note", sa.Unicode(20)),
        sa.ForeignKeyConstraint(
            ["club_id", "squad"], ["squads.club_id", "squads.squad"]
        ),
        sa.ForeignKeyConstraint(
            ["club_id", "ground"], ["grounds.club_id", "grounds.ground"]
        ),
    )
    return metadata


def test_overlapping_keys_get_the_same_consistent_rows_run_after_run(
    database: sa.Engine,
) -> None:
    """Each seeding reflects the tables anew, so its keys are new objects in a
    new set order, as in a new run: 20 seedings with one seed, one answer."""
    metadata = overlapping_keys()
    metadata.create_all(database)
    squads, grounds = [
        [{"club_id": club, name: n} for club in (1, 2, 3) for n in (1, 2)]
        for name in ("squad", "ground")
    ]
    with database.begin() as connection:
        connection.execute(metadata.tables["squads"].insert(), squads)
        connection.execute(metadata.tables["grounds"].insert(), grounds)
    seen = []
    for _ in range(20):
        with database.begin() as connection:
            seeded = seed_empty_tables(connection, ["fixtures"], Settings(7, 20))
            seen.append((seeded, read_rows(connection, ["fixtures"])["fixtures"]))
            connection.execute(sa.text("DELETE FROM fixtures"))

    assert all(run == seen[0] for run in seen), "one seed gave different rows"
    seeded, rows = seen[0]
    assert seeded == ["fixtures"] and len(rows) == 20
    squad_keys = {(row["club_id"], row["squad"]) for row in squads}
    ground_keys = {(row["club_id"], row["ground"]) for row in grounds}
    for row in rows:  # SQLite does not enforce the keys while migrating
        assert (row["club_id"], row["squad"]) in squad_keys, row
        assert (row["club_id"], row["ground"]) in ground_keys, row
