"""What docs/changing-data.md says about comparing names, checked on each backend.

The default collations of MariaDB and MySQL take 'reds' and 'REDS' (and
'zürich' and 'Zurich') for one name, and MariaDB's 'Reds ' too;
exact_unicode(n) keeps them all apart, as SQLite and PostgreSQL always do.
"""

import unicodedata
from collections import Counter
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from migration_kit.data_migrations import exact_unicode

NAMES = ["Reds", "reds", "REDS", "Reds ", "Zürich", "zurich", "Zurich"]


def loosely(engine: sa.Engine) -> Callable[[str], str]:
    """The name as the default collation sees it: what it compares."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        return as_is
    # MariaDB's utf8mb4_general_ci pads with spaces before comparing; MySQL
    # 8's utf8mb4_0900_ai_ci is NO PAD. Both ignore case and accents.
    with engine.connect():  # the dialect learns which server it is on connect
        pads = engine.dialect.is_mariadb

    def key(name: str) -> str:
        letters = unicodedata.normalize("NFKD", name.rstrip() if pads else name)
        return "".join(c for c in letters if not unicodedata.combining(c)).lower()

    return key


def as_is(name: str) -> str:
    return name


def text_type(engine: sa.Engine, exact: bool) -> sa.Unicode:
    """``exact_unicode(100)`` or ``sa.Unicode(100)``, as a revision declares it."""
    if not exact:
        return sa.Unicode(100)
    with (
        engine.connect() as connection,
        Operations.context(MigrationContext.configure(connection)),
    ):
        return exact_unicode(100)


def names_table(engine: sa.Engine, exact: bool) -> sa.Table:
    """A table of NAMES in a ``name`` column."""
    table = sa.Table(
        "names",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", text_type(engine, exact)),
    )
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"name": n} for n in NAMES])
    return table


def found(engine: sa.Engine, table: sa.Table) -> dict[str, object]:
    """What WHERE, DISTINCT, GROUP BY and a join make of the names."""
    count = sa.select(sa.func.count())
    other = table.alias()
    with engine.connect() as connection:
        run = connection.scalars
        where = run(sa.select(table.c.name).where(table.c.name == "reds"))
        distinct = run(sa.select(table.c.name).distinct())
        group_by = run(count.select_from(table).group_by(table.c.name))
        join = run(count.join_from(table, other, table.c.name == other.c.name))
        return {
            "where": sorted(where),
            "distinct": len(distinct.all()),
            "group by": sorted(group_by),
            "join": join.one(),
        }


def expected(key: Callable[[str], str]) -> dict[str, object]:
    """The same, for a database that compares ``key(name)``."""
    sizes = Counter(map(key, NAMES))
    return {
        "where": sorted(name for name in NAMES if key(name) == key("reds")),
        "distinct": len(sizes),
        "group by": sorted(sizes.values()),
        "join": sum(size * size for size in sizes.values()),
    }


def test_the_default_collation_merges_names_on_mysql(database: sa.Engine) -> None:
    table = names_table(database, exact=False)

    assert found(database, table) == expected(loosely(database))


def test_exact_unicode_keeps_every_name_apart(database: sa.Engine) -> None:
    table = names_table(database, exact=True)

    assert found(database, table) == expected(as_is)
    if database.dialect.name != "postgresql":  # PostgreSQL: the database's order
        with database.connect() as connection:
            query = sa.select(table.c.name).order_by(table.c.name)
            assert connection.scalars(query).all() == sorted(NAMES)  # code points


@pytest.mark.parametrize("exact", [False, True], ids=["default", "exact_unicode"])
def test_a_unique_key_refuses_what_the_collation_merges(
    database: sa.Engine, exact: bool
) -> None:
    name = sa.Column("name", text_type(database, exact), unique=True)
    teams = sa.Table("teams", sa.MetaData(), name)
    teams.create(database)
    key = as_is if exact else loosely(database)

    with database.begin() as connection:
        connection.execute(teams.insert(), [{"name": "Reds"}])
        for other in ["reds", "Reds ", "REDS"]:
            try:
                with connection.begin_nested():
                    connection.execute(teams.insert(), [{"name": other}])
                refused = False
            except sa.exc.IntegrityError:
                refused = True
            assert refused == (key(other) == key("Reds")), other
