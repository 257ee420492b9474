"""Rows for every empty table, made from the database's own schema.

The stairway fills each table that exists and holds no row before every
revision's upgrade, so a data step runs on rows, not on empty tables. The
schema is reflected, never taken from models: each column gets values of its
kind (up to its length, precision and range, its enum's values, NULL in some
rows where allowed), foreign keys point at rows that exist, and primary keys
and unique constraints get distinct values.

Text starts with names that differ only by case, a trailing space or an
accent (LOOKALIKES): a collation that merges them (MySQL/MariaDB's defaults)
shows as a changed row. In a primary key or unique column, only the first of
lookalikes is kept, on every backend (such a collation refuses the others).
Check constraints cannot be read in general: a table
whose rows the database refuses as a whole is inserted row by row, keeping the
rows it accepts.

A column added later to a table that already holds rows is given values the
same way, in every row by primary key, when every row holds NULL in it: a
data step of a later revision then meets values there too (``fill_new_columns``).

Generation is deterministic: one random.Random per (seed, table and column),
and per (seed, table and key columns) for a foreign key, so a column's values
depend on its own kind only, not on the other columns beside it, nor on the
order SQLAlchemy keeps a table's keys in (a set). Where the backends reflect
the same kinds, they get the same rows, autoincrement keys included (given
1, 2, ..., not left to a sequence that refused rows have moved on). Foreign
keys that share columns are filled one after the other, each choosing among
the rows it refers to that agree with what the keys before it chose.
MIGRATION_SEED_ROWS (default 20, 0 turns seeding off) and MIGRATION_SEED
(default 20260101) set it from the environment (``settings``).
"""

import json
import os
import random
import re
import string
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from itertools import groupby, pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

ROWS_VARIABLE = "MIGRATION_SEED_ROWS"
SEED_VARIABLE = "MIGRATION_SEED"
DEFAULT_ROWS = 20
DEFAULT_SEED = 20260101
MAX_ROWS = 10_000

# First in every text column, so even a short table has them all.
LOOKALIKES = ["Reds", "reds", "REDS", "Reds ", "Zürich", "zürich", "Zurich"]
EMOJI = "⚽ Blues 🏆"
# Tables left empty in this run: name -> why, printed once at its end.
NOT_SEEDED: dict[str, str] = {}

Row = dict[str, Any]


class BadSetting(Exception):
    """MIGRATION_SEED or MIGRATION_SEED_ROWS is not a number it can use."""


@dataclass(frozen=True)
class Settings:
    seed: int = DEFAULT_SEED
    rows: int = DEFAULT_ROWS

    def environment(self) -> str:
        """The variables that give another run these rows."""
        rows = "" if self.rows == DEFAULT_ROWS else f"{ROWS_VARIABLE}={self.rows} "
        return f"{rows}{SEED_VARIABLE}={self.seed}"


def settings() -> Settings:
    """The seed and rows per table from the environment; BadSetting in one line."""
    rows = _number(ROWS_VARIABLE, DEFAULT_ROWS, f"rows per table, 0 to {MAX_ROWS}")
    if not 0 <= rows <= MAX_ROWS:
        raise BadSetting(_bad(ROWS_VARIABLE, str(rows), f"0 to {MAX_ROWS}"))
    return Settings(_number(SEED_VARIABLE, DEFAULT_SEED, "a whole number"), rows)


def _number(variable: str, default: int, wanted: str) -> int:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadSetting(_bad(variable, raw, wanted)) from None


def _bad(variable: str, raw: str, wanted: str) -> str:
    example = {ROWS_VARIABLE: "20 (0 turns seeding off)", SEED_VARIABLE: "7"}
    return (
        f"{variable}={raw!r} is not usable: give {wanted}, "
        f"e.g. {variable}={example[variable]}."
    )


def summary() -> list[str]:
    """The lines that end a run that climbed a stairway."""
    chosen = settings()
    if not chosen.rows:
        return [f"NOT SEEDED: {ROWS_VARIABLE}=0, every revision ran on empty tables"]
    return [
        f"SEEDED {chosen.rows} rows per empty table before each upgrade "
        f"({chosen.environment()})",
        *(f"NOT SEEDED {table}: {why}" for table, why in NOT_SEEDED.items()),
    ]


def seed_empty_tables(
    connection: sa.Connection, tables: list[str], chosen: Settings
) -> list[str]:
    """Fill ``tables`` (empty ones) parents first; returns those that got rows."""
    if not tables or chosen.rows == 0:
        return []
    metadata = reflected(connection, tables)
    json_text = _mariadb_json_columns(connection, tables)
    seeded = []
    for table in _parents_first(metadata):
        why = _fill(connection, table, chosen, json_text.get(table.name, set()))
        if why:
            NOT_SEEDED.setdefault(table.name, why)
        else:
            seeded.append(table.name)
    return seeded


def fill_new_columns(
    connection: sa.Connection, new_columns: dict[str, set[str]], chosen: Settings
) -> list[str]:
    """Give values to columns added to tables that already hold rows.

    ``new_columns``: per table, its columns that did not exist when it was
    seeded. One that every row holds NULL in gets values of its kind, as a
    seeded row would have; keys to other tables stay NULL, and so do values
    the database refuses. Returns the tables that got values.
    """
    if not new_columns or chosen.rows == 0:
        return []
    metadata = reflected(connection, list(new_columns))
    json_text = _mariadb_json_columns(connection, list(new_columns))
    filled = []
    for table in metadata.tables.values():
        columns = [
            column
            for column in _insertable(table)
            if column.name in new_columns[table.name]
            and column.nullable
            and not column.foreign_keys
        ]
        if not table.primary_key or not columns:
            continue
        found_json = json_text.get(table.name, set())
        took = [
            _fill_column(connection, column, chosen, found_json)
            for column in _all_null(connection, columns)
        ]
        if any(took):
            filled.append(table.name)
    return filled


def _all_null(connection: sa.Connection, columns: list[sa.Column]) -> list[sa.Column]:
    """Those of ``columns`` (of one table) that are NULL in every row.

    A revision's data step may have filled the others: those values stay.
    """
    counts = connection.execute(sa.select(*map(sa.func.count, columns))).one()
    return [column for column, count in zip(columns, counts, strict=True) if not count]


def _fill_column(
    connection: sa.Connection, column: sa.Column, chosen: Settings, json_text: set[str]
) -> bool:
    """Set ``column`` in every row, by primary key; whether any row took a value."""
    rng = _rng(chosen.seed, column.table, [column])
    make = value_maker(column, rng, connection.dialect, column.name in json_text)
    if make is None:
        return False
    pk = list(column.table.primary_key.columns)
    # In Python's order, not the collation's: each backend gives each row the
    # same value (same_answer.py compares them).
    keys = sorted(connection.execute(sa.select(*pk)).all())
    changes = [
        {**_key_of(key, column.table), f"v_{column.name}": value}
        for key, value in zip(keys, _values_by_key(keys, make), strict=True)
    ]
    statement = _update_by_key(column.table, [column])
    return _execute_keeping(connection, statement, changes) > 0


def _values_by_key(keys: list[sa.Row], make: Callable[[int], Any]) -> list[Any]:
    """The values of the rows with these keys, in their order.

    Keys that are seeding's own 1, 2, ...: row k gets the value seeding gives
    row k when the column is there from the start (as in a database made anew
    at a later revision), whichever rows were refused. Other keys: by place.
    """
    numbers = [key[0] if len(key) == 1 else None for key in keys]
    if not all(isinstance(n, int) and 0 < n <= MAX_ROWS for n in numbers):
        return [make(i) for i in range(len(keys))]
    # Made in row order as seeding makes them: a maker's random numbers
    # depend on the rows made before.
    values = [make(i) for i in range(max(numbers, default=0))]
    return [values[n - 1] for n in numbers]


def _update_by_key(table: sa.Table, columns: Iterable[sa.Column]) -> sa.Update:
    """UPDATE ``columns`` of one row: parameters k_<key column> pick the row
    by its primary key (``_key_of``), v_<column> give the new values."""
    pk = table.primary_key.columns
    return (
        sa.update(table)
        .where(*(c == sa.bindparam(f"k_{c.name}") for c in pk))
        .values({c.name: sa.bindparam(f"v_{c.name}") for c in columns})
    )


def _key_of(row: sa.Row, table: sa.Table) -> Row:
    """The k_<key column> parameters of ``_update_by_key`` for this row."""
    return {f"k_{c.name}": row._mapping[c] for c in table.primary_key.columns}


def _execute_keeping(
    connection: sa.Connection, statement: sa.Executable, rows: list[Row]
) -> int:
    """One executemany; if refused, row by row keeping what the database takes."""
    if not rows:
        return 0
    try:
        with connection.begin_nested():
            for _, same_keys in groupby(rows, key=lambda row: sorted(row)):
                connection.execute(statement, list(same_keys))
        return len(rows)
    except DBAPIError:
        pass
    kept = 0
    for row in rows:
        try:
            with connection.begin_nested():
                connection.execute(statement, row)
            kept += 1
        except DBAPIError:
            continue
    return kept


def replace_rows(connection: sa.Connection, wanted: dict[str, list[Row]]) -> None:
    """Make each table hold exactly the rows given (a revision's seed_rows hook).

    A row whose primary key is already there is updated, in the columns that
    differ only: the rows pointing at it stay valid, and generated columns
    are not written. Rows without a key there are inserted; the rest deleted.
    """
    ordered = _parents_first(reflected(connection, list(wanted)))
    gone: dict[str, list[tuple]] = {}
    for table in ordered:
        gone[table.name] = _upsert(connection, table, wanted[table.name])
        _advance_counter(connection, table)
    for table in reversed(ordered):  # children's rows before their parents'
        if gone[table.name]:
            key = sa.tuple_(*table.primary_key.columns)
            connection.execute(sa.delete(table).where(key.in_(gone[table.name])))


def _upsert(connection: sa.Connection, table: sa.Table, rows: list[Row]) -> list[tuple]:
    """Update or insert ``rows``; the keys of the rows there that were not given."""
    key = [column.name for column in table.primary_key.columns]
    if not key:  # nothing to match rows by: the table is filled anew
        connection.execute(sa.delete(table))
        _insert_all(connection, table, rows)
        return []
    there = {
        tuple(row[name] for name in key): dict(row)
        for row in connection.execute(sa.select(table)).mappings()
    }
    new = []
    for row in rows:
        values = tuple(row.get(name) for name in key)
        old = there.pop(values, None)
        if old is None:
            new.append(row)
            continue
        changed = {name: value for name, value in row.items() if old.get(name) != value}
        if changed:
            update = sa.update(table).where(*_at_key(table, values))
            connection.execute(update.values(changed))
    _insert_all(connection, table, new)
    return list(there)


def _at_key(table: sa.Table, values: tuple) -> list[sa.ColumnElement[bool]]:
    """The condition that picks the row with this primary key."""
    key = table.primary_key.columns
    return [column == value for column, value in zip(key, values, strict=True)]


def read_rows(connection: sa.Connection, tables: list[str]) -> dict[str, list[Row]]:
    """Every row of ``tables`` as Python values of their reflected types.

    In Python's order of their primary keys, not the collation's: a seed_rows
    hook numbering them gives each row the same number on every backend.
    """
    metadata = reflected(connection, tables)
    return {
        table.name: _rows_by_key(connection, table)
        for table in _parents_first(metadata)
    }


def _rows_by_key(connection: sa.Connection, table: sa.Table) -> list[Row]:
    rows = [dict(row) for row in connection.execute(sa.select(table)).mappings()]
    key = table.primary_key.columns.keys()
    return sorted(rows, key=lambda row: tuple(row[name] for name in key))


class RowsOnDemand(Mapping[str, list[Row]]):
    """Every table's rows for a seed_rows hook, each read when the hook asks.

    A hook reads one or two tables; reading them all would reflect and fetch
    every table of the history before each such revision.
    """

    def __init__(self, connection: sa.Connection, tables: list[str]) -> None:
        self.connection = connection
        self.tables = tables
        self.read: dict[str, list[Row]] = {}

    def __getitem__(self, table: str) -> list[Row]:
        if table not in self.tables:
            raise KeyError(table)
        if table not in self.read:
            self.read[table] = read_rows(self.connection, [table])[table]
        return self.read[table]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


def reflected(connection: sa.Connection, tables: list[str]) -> sa.MetaData:
    """These tables as the database has them, without the tables they refer to.

    Their keys to other tables are read from those tables when needed;
    reflecting them too would reflect a whole chain of tables every time.
    """
    metadata = sa.MetaData()
    # All at once: one query per kind of detail where the dialect can
    # (PostgreSQL), instead of one per table and kind.
    metadata.reflect(connection, only=tables, resolve_fks=False)
    # MySQL's DOUBLE reflects as a type giving Decimals: floats everywhere, so
    # a column gets the same seeded values, and answers, on every backend.
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.Float):
                column.type.asdecimal = False
    return metadata


def _parents_first(metadata: sa.MetaData) -> list[sa.Table]:
    """Tables after those they refer to; a cycle is cut where it closes.

    Those keys get NULL, or rows already there, like a self-reference.
    (MetaData.sorted_tables would resolve keys to tables not reflected.)
    """
    ordered: dict[str, sa.Table] = {}
    visiting: set[str] = set()

    def place(table: sa.Table) -> None:
        visiting.add(table.name)
        for key in sorted(table.foreign_keys, key=lambda key: key.target_fullname):
            parent = metadata.tables.get(_target(key)[0])
            if parent is not None and parent.name not in visiting | ordered.keys():
                place(parent)
        ordered[table.name] = table

    for table in metadata.tables.values():
        if table.name not in ordered:
            place(table)
    return list(ordered.values())


# --- one table --------------------------------------------------------------


def _fill(
    connection: sa.Connection, table: sa.Table, chosen: Settings, json_text: set[str]
) -> str:
    """Insert generated rows; the reason when the table stays empty."""
    makers = _column_makers(table, chosen.seed, connection.dialect, json_text)
    if isinstance(makers, str):
        return makers
    # Keys to other tables get rows that exist there, all their columns at once.
    targets = {
        key: (_existing_keys(connection, key), _rng(chosen.seed, table, key.columns))
        for key in _keys_in_order(table)
        if not any(_self_referring(c) for c in key.columns)
    }
    for key, (found, _) in targets.items():
        if not found and not all(c.nullable for c in key.columns):
            return f"{_target(key.elements[0])[0]}, which it refers to, has no rows"
    rows = []
    for i in range(chosen.rows):
        row = {name: make(i) for name, make in makers.items()}
        for key, (found, rng) in targets.items():
            row.update(_reference(key, found, rng, i, row))
        rows.append(row)
    if not _insert_all(connection, table, _distinct(table, rows)):
        return "the database refused every generated row"
    _advance_counter(connection, table)
    _point_at_own_rows(connection, table, chosen.seed)
    return ""


def _rng(seed: int, table: sa.Table, columns: Iterable[sa.Column]) -> random.Random:
    """The random numbers of these columns of ``table``, and of nothing else."""
    return random.Random(f"{seed}:{table.name}.{','.join(c.name for c in columns)}")


def _keys_in_order(table: sa.Table) -> list[sa.ForeignKeyConstraint]:
    """A table's foreign keys in an order that is the same in every run.

    Table.foreign_key_constraints is a set, ordered by object address: keys
    sharing columns filled in its order gave different rows run after run.
    Keys that must hold values come first: those that may be NULL then fit
    around what they chose.
    """
    return sorted(
        table.foreign_key_constraints,
        key=lambda key: (
            all(c.nullable for c in key.columns),
            [c.name for c in key.columns],
            [e.target_fullname for e in key.elements],
        ),
    )


def _column_makers(
    table: sa.Table, seed: int, dialect: sa.Dialect, json_text: set[str]
) -> dict[str, Callable[[int], Any]] | str:
    """A value maker per column that is not a foreign key; or why there is none."""
    makers = {}
    for column in _insertable(table):
        if column.foreign_keys:
            continue
        rng = _rng(seed, table, [column])
        make = value_maker(column, rng, dialect, column.name in json_text)
        if make is None and not column.nullable:
            return (
                f"column {column.name} is NOT NULL and of a kind seeding "
                f"cannot fill ({column.type!r})"
            )
        makers[column.name] = make or _always_null
    return makers


def _insertable(table: sa.Table) -> list[sa.Column]:
    """Columns to give values: all but computed ones and GENERATED ALWAYS.

    An autoincrement key gets values too (1, 2, ...): left to the database,
    PostgreSQL's sequence numbers rows from where refused inserts left it,
    and the rows, and those pointing at them, get other keys than elsewhere.
    """
    return [
        column
        for column in table.columns
        if column.computed is None
        and not (column.identity is not None and column.identity.always)
    ]


def _advance_counter(connection: sa.Connection, table: sa.Table) -> None:
    """PostgreSQL: move the key's sequence past the keys seeding gave.

    Other backends do it on their own; without it, the revision's own
    inserts would be given a key a seeded row already holds.
    """
    if connection.dialect.name != "postgresql":
        return
    # Table.autoincrement_column is public from SQLAlchemy 2.0.4; 2.0.0 has
    # only the private name.
    counter = getattr(table, "autoincrement_column", table._autoincrement_column)
    if counter is None:
        return
    name = connection.dialect.identifier_preparer.format_table(table)
    sequence = connection.execute(
        sa.select(sa.func.pg_get_serial_sequence(name, counter.name))
    ).scalar() or _sequence_of_default(counter)
    if sequence:
        largest = sa.select(sa.func.max(counter)).scalar_subquery()
        seq = sa.cast(sa.literal(sequence), postgresql.REGCLASS)
        connection.execute(sa.select(sa.func.setval(seq, largest)))


def _sequence_of_default(column: sa.Column) -> str | None:
    """The sequence a nextval('...') default names (one not owned by the column)."""
    default = column.server_default
    found = re.search(r"nextval\('(.+?)'", str(getattr(default, "arg", "")))
    return found.group(1).replace("''", "'") if found else None


def _self_referring(column: sa.Column) -> bool:
    return any(_target(key)[0] == column.table.name for key in column.foreign_keys)


def _always_null(i: int) -> None:
    return None


def _existing_keys(connection: sa.Connection, key: sa.ForeignKeyConstraint) -> list:
    target = _target(key.elements[0])[0]
    columns = [_target(element)[1] for element in key.elements]
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    where = " AND ".join(f"{quote(c)} IS NOT NULL" for c in columns)
    query = f"SELECT DISTINCT {names} FROM {quote(target)} WHERE {where}"
    try:
        with connection.begin_nested():
            found = [tuple(row) for row in connection.execute(sa.text(query))]
            # Sorted here, not by the database's collation: every backend then
            # picks the same parents (same_answer.py compares the rows).
            return sorted(found)[:1000]
    except DBAPIError:  # the table it refers to is not there
        return []


def _reference(
    key: sa.ForeignKeyConstraint, targets: list, rng: random.Random, i: int, row: Row
) -> Row:
    """Values for the key's columns: a row it refers to, or NULL.

    Columns an earlier key of this row set (keys sharing columns) keep their
    values: the row referred to is one that agrees with them.
    """
    names = [column.name for column in key.columns]
    fixed = {n: row[n] for n in names if row.get(n) is not None}
    fitting = [
        target
        for target in targets
        if all(fixed.get(n, v) == v for n, v in zip(names, target, strict=True))
    ]
    nullable = all(c.nullable for c in key.columns)
    if not fitting or (nullable and i % 5 == 3):
        # A NULL in any of its columns satisfies a key (MATCH SIMPLE).
        return {n: None for n in names if n not in fixed}
    chosen = rng.choice(fitting)
    return dict(zip(names, chosen, strict=True))


def _distinct(table: sa.Table, rows: list[Row]) -> list[Row]:
    """Rows whose primary key and unique column sets are all distinct.

    Distinct as MySQL/MariaDB's default collation compares text (``_folded``).
    """
    groups = [table.primary_key.columns.keys()] if table.primary_key else []
    groups += [
        [c.name for c in constraint.columns]
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint)
    ]
    groups += [
        [c.name for c in index.columns] for index in table.indexes if index.unique
    ]
    seen: list[set] = [set() for _ in groups]
    kept = []
    for row in rows:
        values = [tuple(_folded(row.get(name)) for name in group) for group in groups]
        if any(None not in v and v in s for v, s in zip(values, seen, strict=False)):
            continue
        for value, found in zip(values, seen, strict=False):
            found.add(value)
        kept.append(row)
    return kept


def _folded(value: Any) -> Any:
    """Text as a case- and accent-insensitive collation compares it.

    MySQL/MariaDB's default collation refuses 'reds' beside 'Reds' in a unique
    key, SQLite and PostgreSQL take both: every backend leaves out the same
    lookalikes, and gets the same rows.
    """
    if not isinstance(value, str):
        return value
    letters = unicodedata.normalize("NFKD", value).casefold().rstrip(" ")
    return "".join(c for c in letters if not unicodedata.combining(c))


def _insert_all(connection: sa.Connection, table: sa.Table, rows: list[Row]) -> int:
    return _execute_keeping(connection, sa.insert(table), rows)


def _point_at_own_rows(connection: sa.Connection, table: sa.Table, seed: int) -> None:
    """A nullable self-reference: some rows point at the row before them."""
    pk = list(table.primary_key.columns)
    for key in _keys_in_order(table):
        own = all(_self_referring(c) for c in key.columns)
        if not (own and pk and all(c.nullable for c in key.columns)):
            continue
        rng = _rng(seed, table, key.columns)
        referred = [table.c[_target(e)[1]] for e in key.elements]
        found = connection.execute(sa.select(*pk, *referred).order_by(*pk)).all()
        changes = [
            {
                **_key_of(row, table),
                **{
                    f"v_{c.name}": previous._mapping[r]
                    for c, r in zip(key.columns, referred, strict=True)
                },
            }
            for previous, row in pairwise(found)
            if rng.random() < 0.5
        ]
        statement = _update_by_key(table, key.columns)
        try:
            with connection.begin_nested():
                if changes:
                    connection.execute(statement, changes)
        except DBAPIError:
            pass  # a check refused it: the rows keep NULL


def _target(element: sa.ForeignKey) -> tuple[str, str]:
    """The table and column a key element refers to (resolve_fks=False)."""
    table, column = element.target_fullname.rsplit(".", 1)
    return table.rsplit(".", 1)[-1], column


def _mariadb_json_columns(
    connection: sa.Connection, tables: list[str]
) -> dict[str, set[str]]:
    """MariaDB's JSON is LONGTEXT with a column CHECK (json_valid(...))."""
    if not getattr(connection.dialect, "is_mariadb", False):
        return {}
    query = sa.text(
        "SELECT table_name, constraint_name FROM information_schema.check_constraints"
        " WHERE constraint_schema = DATABASE() AND check_clause LIKE 'json_valid(%'"
    )
    found: dict[str, set[str]] = {}
    for table, column in connection.execute(query):
        if table in tables:
            found.setdefault(table, set()).add(column)
    return found


# --- one column's values ----------------------------------------------------


def value_maker(
    column: sa.Column, rng: random.Random, dialect: sa.Dialect, json_text: bool = False
) -> Callable[[int], Any] | None:
    """A function of the row number giving this column's value; None: unknown kind.

    Row numbers 1 and 2 get the extremes of a range, so a data step meets them.
    """
    kind = column.type
    make = _maker_of_kind(kind, rng, column, dialect, json_text)
    if make is None:
        return None
    if not column.nullable or column.primary_key:
        return make
    # Text gets its lookalikes first; ids spelled as text, NULLs where a
    # native UUID column has them.
    words = isinstance(kind, sa.String) and _uuid_text(kind) is None
    first_null = len(LOOKALIKES) + 2 if words else 0
    return lambda i: None if i % 5 == 3 and i >= first_null else make(i)


def _maker_of_kind(
    kind: sa.types.TypeEngine,
    rng: random.Random,
    column: sa.Column,
    dialect: sa.Dialect,
    json_text: bool,
) -> Callable[[int], Any] | None:
    if json_text or isinstance(kind, sa.JSON):
        make_json = _json_maker(rng)
        if json_text:
            return lambda i: json.dumps(make_json(i), ensure_ascii=False)
        return make_json
    if isinstance(kind, sa.ARRAY):
        item = _maker_of_kind(kind.item_type, rng, column, dialect, False)
        return None if item is None else (lambda i: [item(i), item(i + 1)])
    by_name = _maker_by_name(type(kind).__name__, kind, rng)
    if by_name is not None:
        return by_name
    spelled = _uuid_text(kind)
    if spelled is not None:
        return _uuids(spelled, rng)
    if getattr(kind, "enums", None):  # Enum, MySQL's ENUM: text of a few values
        return _enum_maker(kind)
    try:
        python = kind.python_type
    except NotImplementedError:
        return None
    makers: dict[type, Callable[[], Callable[[int], Any] | None]] = {
        bool: lambda: lambda i: i % 2 == 0,
        int: lambda: _integer_maker(kind, rng, column),
        float: lambda: lambda i: round(rng.uniform(-1e6, 1e6), 2),
        Decimal: lambda: _decimal_maker(kind, rng),
        str: lambda: _text_maker(kind, rng, column, dialect),
        bytes: lambda: _bytes_maker(kind, rng),
        date: lambda: lambda i: date(1971, 1, 2) + timedelta(days=rng.randrange(24000)),
        datetime: lambda: _datetime_maker(kind, rng),
        time: lambda: _time_maker(kind, rng),
        timedelta: lambda: (
            lambda i: timedelta(days=rng.randrange(400), seconds=rng.randrange(86400))
        ),
        uuid.UUID: lambda: _uuid_maker(kind, rng),
    }
    return makers[python]() if python in makers else None


def _maker_by_name(
    name: str, kind: sa.types.TypeEngine, rng: random.Random
) -> Callable[[int], Any] | None:
    """Kinds whose Python type SQLAlchemy leaves open."""
    if name == "SET":  # MySQL: any subset of its values
        values = list(kind.values)
        return lambda i: {values[i % len(values)]} if values else set()
    if name == "YEAR":
        return lambda i: 1901 + rng.randrange(255)
    if name == "BIT" and hasattr(kind, "length"):  # MySQL BIT(n): an integer
        return lambda i: rng.randrange(2 ** (kind.length or 1))
    fixed = {
        "INET": lambda i: f"192.0.2.{i % 256}",
        "CIDR": lambda i: f"10.{i % 256}.0.0/16",
        "MACADDR": lambda i: f"08:00:2b:01:02:{i % 256:02x}",
        "MONEY": lambda i: f"{rng.randrange(10**6)}.{rng.randrange(100):02d}",
        "TSVECTOR": lambda i: f"reds zürich {i}",
        "OID": lambda i: i + 1,
    }
    return fixed.get(name)


INTEGER_BITS = {
    "TINYINT": 8,
    "SMALLINT": 16,
    "SmallInteger": 16,
    "MEDIUMINT": 24,
    "BIGINT": 64,
    "BigInteger": 64,
}


def _integer_maker(
    kind: sa.types.TypeEngine, rng: random.Random, column: sa.Column
) -> Callable[[int], int]:
    if type(kind).__name__ == "TINYINT" and getattr(kind, "display_width", 0) == 1:
        # MySQL's BOOLEAN: what sa.Boolean writes there, the same truth values
        # as a boolean column gets elsewhere (same_answer.py compares them).
        return lambda i: int(i % 2 == 0)
    bits = INTEGER_BITS.get(type(kind).__name__, 32)
    if getattr(kind, "unsigned", False):
        low, high = 0, 2**bits - 1
    else:
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if column.primary_key:  # distinct, positive: what a key usually holds
        return lambda i: i + 1
    edges = {1: high, 2: low}
    small = min(high, 10_000)
    return lambda i: edges.get(i, rng.randint(max(low, -small), small))


def _decimal_maker(kind: sa.Numeric, rng: random.Random) -> Callable[[int], Decimal]:
    scale = kind.scale if kind.scale is not None else 2
    digits = (kind.precision or 12) - scale
    largest = Decimal(10**digits - 1) + (1 - Decimal(1).scaleb(-scale) if scale else 0)
    step = Decimal(1).scaleb(-scale)
    edges = {1: largest, 2: -largest}

    def make(i: int) -> Decimal:
        if i in edges:
            return edges[i]
        whole = rng.randrange(-min(10**digits - 1, 10**6), min(10**digits, 10**6))
        return (Decimal(whole) + step * rng.randrange(10**scale)).quantize(step)

    return make


def _text_maker(
    kind: sa.String, rng: random.Random, column: sa.Column, dialect: sa.Dialect
) -> Callable[[int], str]:
    length = kind.length
    charset = _charset(kind, column, dialect)
    accents = charset is None or charset.startswith(("utf8", "latin1", "ucs2", "utf16"))
    emoji = charset is None or charset.startswith("utf8mb4") or charset == "utf16"
    fixed = [v if accents else v.replace("ü", "u") for v in LOOKALIKES]
    longest = length or UNBOUNDED_TEXT
    fixed.append("Ä" * longest if accents else "A" * longest)
    if emoji:
        fixed.append(EMOJI)
    letters = string.ascii_letters + (" äöüéñß" if accents else " ")

    def make(i: int) -> str:
        if i < len(fixed):
            return fixed[i][:length]
        size = rng.randint(0, min(length or 40, 40))
        return "".join(rng.choice(letters) for _ in range(size))

    return make


def _charset(kind: sa.String, column: sa.Column, dialect: sa.Dialect) -> str | None:
    """MySQL/MariaDB: the column's character set (utf8mb4 holds emoji); else None."""
    if dialect.name != "mysql":
        return None
    table_default = column.table.dialect_options["mysql"].get("default charset")
    return (getattr(kind, "charset", None) or table_default or "utf8mb4").lower()


def _bytes_maker(
    kind: sa.types.TypeEngine, rng: random.Random
) -> Callable[[int], bytes]:
    length = getattr(kind, "length", None)

    def make(i: int) -> bytes:
        size = length if i == 1 and length else rng.randint(0, min(length or 32, 32))
        return bytes(rng.getrandbits(8) for _ in range(size))

    return make


def _datetime_maker(kind: sa.DateTime, rng: random.Random) -> Callable[[int], datetime]:
    # 1971-2037: what MySQL's TIMESTAMP holds too.
    zones = [
        UTC,
        timezone(timedelta(hours=-8)),
        timezone(timedelta(hours=5, minutes=30)),
    ]

    def make(i: int) -> datetime:
        moment = datetime(1971, 1, 2) + timedelta(seconds=rng.randrange(2_100_000_000))
        return moment.replace(tzinfo=zones[i % 3]) if kind.timezone else moment

    return make


def _time_maker(kind: sa.Time, rng: random.Random) -> Callable[[int], time]:
    def make(i: int) -> time:
        moment = time(rng.randrange(24), rng.randrange(60), rng.randrange(60))
        return moment.replace(tzinfo=UTC) if kind.timezone else moment

    return make


def _uuid_maker(kind: sa.Uuid, rng: random.Random) -> Callable[[int], Any]:
    if getattr(kind, "as_uuid", True):
        return _uuids(lambda value: value, rng)
    return _uuids(str, rng)


# The longest text seeded where a column sets no length: what fits in MySQL's
# VARCHAR(255), which an unbounded string becomes there (SQLModel's AutoString),
# so every backend gets the same rows.
UNBOUNDED_TEXT = 255

# SQLAlchemy's Uuid where the database has no UUID type is CHAR(32), its hex
# digits; CHAR(36) holds them with dashes. Other text there is nothing an
# application wrote, and a data step that parses it fails (ZenML's ids).
UUID_TEXT: dict[int, Callable[[uuid.UUID], str]] = {
    32: lambda value: value.hex,
    36: str,
}


def _uuid_text(kind: sa.types.TypeEngine) -> Callable[[uuid.UUID], str] | None:
    if type(kind).__name__ not in ("CHAR", "NCHAR"):
        return None
    return UUID_TEXT.get(getattr(kind, "length", None) or 0)


def _uuids(
    spelled: Callable[[uuid.UUID], Any], rng: random.Random
) -> Callable[[int], Any]:
    # One draw for a native UUID column and its text where there is none: the
    # same ids on every backend, which same_answer.normal compares as UUIDs.
    return lambda i: spelled(uuid.UUID(int=rng.getrandbits(128), version=4))


def _enum_maker(kind: sa.Enum) -> Callable[[int], Any] | None:
    values = list(kind.enums)
    return (lambda i: values[i % len(values)]) if values else None


def _json_maker(rng: random.Random) -> Callable[[int], Any]:
    def make(i: int) -> Any:
        if i == 1:
            return [1, "Zürich", None, {"nested": True}]
        return {"n": i, "name": LOOKALIKES[i % len(LOOKALIKES)], "score": rng.random()}

    return make
