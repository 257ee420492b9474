"""The no-trace check sees every kind of change a downgrade may forget."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from migration_kit.harness.disposable_database import disposable_database
from migration_kit.harness.schema_snapshot import differences, snapshot


def table(*changes: sa.schema.SchemaItem, name_type: sa.types.TypeEngine | None = None):
    """A small table; ``changes`` differ from the plain version in one aspect."""
    metadata = sa.MetaData()
    sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return sa.Table(
        "child",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.Integer, nullable=True),
        sa.Column("name", name_type or sa.Unicode(50), nullable=True),
        *changes,
    )


CHANGES = {
    "columns": lambda: table(sa.Column("extra", sa.Integer)),
    "type": lambda: table(name_type=sa.Unicode(60)),
    "nullability": lambda: table(sa.Column("flag", sa.Integer, nullable=False)),
    "default": lambda: table(sa.Column("flag", sa.Integer, server_default="1")),
    "indexes": lambda: table(sa.Index("ix_child_code", "code")),
    "unique constraints": lambda: table(sa.UniqueConstraint("code", name="uq_code")),
    "foreign keys": lambda: table(
        sa.ForeignKeyConstraint(["code"], ["parent.id"], name="fk_code")
    ),
    "check constraints": lambda: table(sa.CheckConstraint("code > 0", name="ck_code")),
}

# Differences inside a column are reported on the table's columns.
COLUMN_ASPECTS = {"type", "nullability", "default"}


@pytest.fixture(scope="module")
def engine(backend: str, tmp_path_factory) -> Iterator[sa.Engine]:
    with disposable_database(backend, tmp_path_factory.mktemp(backend)) as engine:
        yield engine


def shape_of(engine: sa.Engine, child: sa.Table, previous: dict | None = None) -> dict:
    child.metadata.create_all(engine)
    try:
        with engine.connect() as connection:
            return snapshot(connection, previous)
    finally:
        child.metadata.drop_all(engine)


def test_same_schema_has_no_differences(engine: sa.Engine) -> None:
    assert differences(shape_of(engine, table()), shape_of(engine, table())) == []


@pytest.mark.parametrize("aspect", CHANGES)
def test_a_change_is_reported(engine: sa.Engine, aspect: str) -> None:
    before = shape_of(engine, table())
    after = shape_of(engine, CHANGES[aspect]())

    found = differences(before, after)

    reported = "columns" if aspect in COLUMN_ASPECTS else aspect
    assert any(line.startswith(f"table child, {reported}: ") for line in found), (
        f"a change of {aspect} went unnoticed: {found}"
    )


@pytest.mark.parametrize("aspect", CHANGES)
def test_a_change_is_seen_without_reflecting_everything(
    engine: sa.Engine, aspect: str
) -> None:
    """The stairway passes the previous snapshot: only changed tables are reflected."""
    before = shape_of(engine, table())
    after = shape_of(engine, CHANGES[aspect](), previous=before)

    assert differences(before, after) == differences(
        before, shape_of(engine, CHANGES[aspect]())
    )
    assert differences(before, after), f"a change of {aspect} went unnoticed"


def flag(**options: object) -> sa.Column:
    return sa.Column("flag", sa.Integer, **options)


def key(**options: object) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["code"], ["parent.id"], name="fk_code", **options)


# Two tables alike but in one detail of one kind: the fingerprint must see it,
# or the stale description hides the change.
WITHIN = {
    "default": lambda: (flag(server_default="1"), flag(server_default="2")),
    "nullability": lambda: (flag(nullable=True), flag(nullable=False)),
    "index columns": lambda: (
        sa.Index("ix_child", "code", "name"),
        sa.Index("ix_child", "name", "code"),
    ),
    "uniqueness": lambda: (
        sa.Index("ix_child", "code"),
        sa.Index("ix_child", "code", unique=True),
    ),
    "on delete": lambda: (key(), key(ondelete="CASCADE")),
    "check": lambda: (
        sa.CheckConstraint("code > 0", name="ck_code"),
        sa.CheckConstraint("code > 1", name="ck_code"),
    ),
}


@pytest.mark.parametrize("detail", WITHIN)
def test_a_change_within_a_kind_is_seen_without_reflecting_everything(
    engine: sa.Engine, detail: str
) -> None:
    old, new = WITHIN[detail]()
    before = shape_of(engine, table(old))

    after = shape_of(engine, table(new), previous=before)

    assert differences(before, after), f"a change of {detail} went unnoticed"


POSTGRESQL_ONLY = {
    "exclusion constraint": (
        "ALTER TABLE booking ADD CONSTRAINT no_overlap "
        "EXCLUDE USING gist (during WITH &&)",
        "table booking, exclusion constraints: "
        "left no_overlap EXCLUDE USING gist (during WITH &&)",
    ),
    "enum type": (
        "CREATE TYPE mood AS ENUM ('sad', 'ok')",
        "enums: [] became ['mood (sad, ok)']",
    ),
}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("change", POSTGRESQL_ONLY)
def test_a_postgresql_kind_is_reported(engine: sa.Engine, change: str) -> None:
    """PostgreSQL is described from its catalogs: its own kinds are seen too."""
    statement, line = POSTGRESQL_ONLY[change]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE booking (id int PRIMARY KEY, during tsrange)"
        )
    try:
        with engine.connect() as connection:
            before = snapshot(connection)
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
        with engine.connect() as connection:
            after = snapshot(connection)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE booking")
            connection.exec_driver_sql("DROP TYPE IF EXISTS mood")

    assert differences(before, after) == [line]


def test_a_partial_index_reflected_twice_has_no_differences(engine: sa.Engine) -> None:
    """What the database says is compared, never an object's address: SQLite's
    and PostgreSQL's WHERE clause is reflected as a new object each time.
    (MySQL/MariaDB have no partial index: the index is a plain one there.)"""
    partial = table(
        sa.Index(
            "ix_child_code_positive",
            "code",
            sqlite_where=sa.text("code > 0"),
            postgresql_where=sa.text("code > 0"),
        )
    )
    partial.metadata.create_all(engine)
    try:
        with engine.connect() as connection:
            first, second = snapshot(connection), snapshot(connection)
    finally:
        partial.metadata.drop_all(engine)

    assert differences(first, second) == []
    assert "code > 0" in repr(first) or engine.dialect.name == "mysql"


@pytest.mark.parametrize("backend", ["sqlite", "mysql"], indirect=True)
def test_an_unchanged_table_is_not_reflected_again(engine: sa.Engine) -> None:
    """SQLite and MySQL/MariaDB fingerprint each table's schema in one place
    (sqlite_master, information_schema): only a changed table is reflected."""
    before = shape_of(engine, table())
    child = CHANGES["indexes"]()
    child.metadata.create_all(engine)
    statements: list[str] = []

    def seen(connection, cursor, statement: str, *args: object) -> None:
        statements.append(statement)

    sa.event.listen(engine, "after_cursor_execute", seen)
    try:
        with engine.connect() as connection:
            after = snapshot(connection, before)
    finally:
        sa.event.remove(engine, "after_cursor_execute", seen)
        child.metadata.drop_all(engine)

    assert differences(before, after) == differences(before, shape_of(engine, child))
    assert [s for s in statements if "parent" in s] == []
    assert [s for s in statements if "child" in s]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_describes_only_the_changed_table(engine: sa.Engine) -> None:
    plain = table()
    plain.metadata.create_all(engine)
    described: list[list[str]] = []

    def seen(connection, cursor, statement: str, parameters, *args: object) -> None:
        if isinstance(parameters, dict) and "only" in parameters:
            described.append(parameters["only"])

    sa.event.listen(engine, "after_cursor_execute", seen)
    try:
        with engine.begin() as connection:
            before = snapshot(connection)
            connection.exec_driver_sql("CREATE INDEX ix_child_code ON child (code)")
            after = snapshot(connection, before)
            again = snapshot(connection, after)
    finally:
        sa.event.remove(engine, "after_cursor_execute", seen)
        plain.metadata.drop_all(engine)

    assert described == [["parent", "child"], ["child"], []]
    (change,) = differences(before, after)
    assert change.startswith("table child, indexes: left CREATE INDEX ix_child_code ON")
    assert after == again
