"""Every table's rows, compared before a revision's upgrade and after its downgrade.

Reading every table at every revision would make a stairway quadratic in rows
fetched. A fingerprint per table is cheap instead: one statement for all
tables where the database can checksum rows (PostgreSQL, MySQL/MariaDB), rows
hashed in process on SQLite. Full rows are read only for a table whose
fingerprint changed since they were last read, and kept until it changes.

A fingerprint is kept, too, until a statement on the engine may have written
its table (statements.py): a stair then reads the tables its revision and its
seeding touched, not all of them. A statement that could have written any
table (UPDATE, DELETE, anything not plainly naming its one table), a trigger
in the database, or a migration run through another engine (an async test
URL) makes every table be read again. Statements sent through the driver's
own cursor, around SQLAlchemy, are not seen.

Rows are compared as the driver returns them, in the database's own types:
'Reds' and 'reds', 1 and 1.0, are different values.
"""

import hashlib
import json
import re
from itertools import zip_longest
from typing import Any

import sqlalchemy as sa

from .statements import tables_written

Row = dict[str, Any]


class TableRows:
    """Rows read once per change of a table's fingerprint."""

    def __init__(self) -> None:
        # table -> (fingerprint, key columns, rows ordered by them)
        self.read: dict[str, tuple[str | None, list[str], list[Row]]] = {}
        # Fingerprints no statement seen since may have changed.
        self.known: dict[str, str | None] = {}
        self.watched: sa.Engine | None = None
        self.triggers = True  # whether the database may have any
        self.writing: set[int] = set()  # connections with writes not committed

    def watch(self, engine: sa.Engine | None) -> None:
        """Keep fingerprints until a statement on ``engine`` writes their table;
        None: keep none (the migrations run on an engine not seen)."""
        if self.watched is not None:
            sa.event.remove(self.watched, "after_cursor_execute", self._written)
            sa.event.remove(self.watched, "rollback", self._rolled_back)
            sa.event.remove(self.watched, "commit", self._committed)
        self.known.clear()
        self.watched = engine
        # Triggers already there: a trigger may write any table, whatever its
        # statement names. Those created later are seen (_written).
        self.triggers = engine is None or _has_triggers(engine)
        if engine is not None:
            sa.event.listen(engine, "after_cursor_execute", self._written)
            # A fingerprint read after a write, in a transaction then rolled
            # back, is not true.
            sa.event.listen(engine, "rollback", self._rolled_back)
            sa.event.listen(engine, "commit", self._committed)

    def _rolled_back(self, connection: sa.Connection) -> None:
        if id(connection) in self.writing:
            self.writing.discard(id(connection))
            self.known.clear()

    def _committed(self, connection: sa.Connection) -> None:
        self.writing.discard(id(connection))

    def _written(self, connection, cursor, statement: str, *args: object) -> None:
        if TRIGGER.search(statement):
            self.triggers = True  # for good: it may fire on any statement after
        tables = tables_written(statement)
        if tables != set():
            self.writing.add(id(connection))
        if tables is None:
            self.known.clear()
        for table in tables or ():
            self.known.pop(table, None)

    def fingerprints(
        self, connection: sa.Connection, tables: list[str]
    ) -> dict[str, str | None]:
        """Per table, text that changes when its rows do; None: no rows."""
        if self.triggers:
            self.known.clear()
        stale = [t for t in tables if t not in self.known or t == "alembic_version"]
        if stale:
            self.known.update(_fingerprints(connection, stale))
        return {table: self.known[table] for table in tables}

    def remember(
        self, connection: sa.Connection, fingerprints: dict[str, str | None]
    ) -> None:
        """Read the full rows of each table whose fingerprint is new."""
        for table, fingerprint in fingerprints.items():
            if self.read.get(table, (object(),))[0] != fingerprint:
                keys, rows = _rows(connection, table)
                self.read[table] = (fingerprint, keys, rows)

    def changes(
        self, connection: sa.Connection, before: dict[str, str | None]
    ) -> list[str]:
        """Per table whose rows changed: how many rows differ, and the first few.

        '<table>: 3 of 20 rows differ: row <key> <column> <old> became <new>; ...'
        or, when rows were added or lost, '<table>: 20 rows gone (20 before,
        0 after): row <key> is gone; ...'; a downgrade that changes every key
        gives '14 rows gone, 14 new (14 before, 14 after)'.
        """
        if not before:
            return []
        after = self.fingerprints(connection, list(before))
        lines = []
        for table in sorted(before):
            if after[table] == before[table]:
                continue
            _, keys, old = self.read[table]
            _, new = _rows(connection, table)
            found = differences(keys, old, new)
            if found:
                shown = "; ".join(found[:SHOWN])
                more = f" (and {len(found) - SHOWN} more)" if len(found) > SHOWN else ""
                lines.append(f"{table}: {counted(found, old, new)}: {shown}{more}")
        return lines


def counted(found: list[str], old: list[Row], new: list[Row]) -> str:
    """How many rows changed, went and came: a row whose key changed is both
    gone and new, so the differences alone may outnumber the rows."""
    gone = sum(line.endswith(GONE) for line in found)
    added = sum(line.endswith(NEW) for line in found)
    changed = len(found) - gone - added
    if not gone and not added:
        return f"{changed} of {len(old)} rows differ"
    kinds = [(changed, "changed"), (gone, "gone"), (added, "new")]
    parts = [f"{n} {kind}" for n, kind in kinds if n]
    parts[0] = parts[0].replace(" ", " rows ", 1)  # '3 rows gone, 2 new'
    return f"{', '.join(parts)} ({len(old)} before, {len(new)} after)"


def _fingerprints(
    connection: sa.Connection, tables: list[str]
) -> dict[str, str | None]:
    name = connection.dialect.name
    if name == "postgresql":
        return _postgresql(connection, tables)
    if name == "mysql":
        return _mysql(connection, tables)
    return {table: _hashed(connection, table) for table in tables}


# A trigger (or a PostgreSQL rule) may write any table, whatever its statement names.
TRIGGER = re.compile(r"^\s*CREATE\b.*\b(?:TRIGGER|RULE)\b", re.IGNORECASE | re.DOTALL)
TRIGGERS = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'",
    "postgresql": "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal",
    "mysql": "SELECT count(*) FROM information_schema.triggers "
    "WHERE trigger_schema = DATABASE()",
}


def _has_triggers(engine: sa.Engine) -> bool:
    query = TRIGGERS.get(engine.dialect.name)
    if query is None:
        return True
    with engine.connect() as connection:
        return bool(connection.exec_driver_sql(query).scalar())


# Rows shown per table: enough to see a pattern, few enough to read.
SHOWN = 3
# How a row that only one side has ends its line.
GONE, NEW = " is gone", " is new"


def differences(keys: list[str], old: list[Row], new: list[Row]) -> list[str]:
    """Every row that differs, naming its key and the columns that changed."""
    found = []
    for name, before, after in _pairs(keys, old, new):
        if after is None:
            found.append(f"row {name}{GONE}")
        elif before is None:
            found.append(f"row {name}{NEW}")
        else:
            changed = [c for c in {**before, **after} if before.get(c) != after.get(c)]
            if changed:
                found.append(
                    f"row {name} "
                    + ", ".join(
                        f"{c} {before.get(c)!r} became {after.get(c)!r}"
                        for c in changed
                    )
                )
    return found


def _pairs(
    keys: list[str], old: list[Row], new: list[Row]
) -> list[tuple[str, Row | None, Row | None]]:
    """(row's name, before, after): matched by primary key, else by position."""
    if not keys:  # rows in the order of all their values, named by position
        old, new = sorted(old, key=repr), sorted(new, key=repr)
        pairs = zip_longest(old, new)
        return [(f"#{n}", before, after) for n, (before, after) in enumerate(pairs, 1)]

    def key(row: Row) -> tuple:
        return tuple(row[k] for k in keys)

    new_by_key = {key(row): row for row in new}
    old_keys = {key(row) for row in old}
    pairs = [(row, new_by_key.get(key(row))) for row in old]
    pairs += [(None, row) for row in new if key(row) not in old_keys]
    return [(_named(keys, before or after), before, after) for before, after in pairs]


def _named(keys: list[str], row: Row) -> str:
    named = {k: row[k] for k in keys}
    return json.dumps(named, default=str, ensure_ascii=False)


def _rows(connection: sa.Connection, table: str) -> tuple[list[str], list[Row]]:
    keys = sa.inspect(connection).get_pk_constraint(table)["constrained_columns"]
    quote = connection.dialect.identifier_preparer.quote
    order = f" ORDER BY {', '.join(map(quote, keys))}" if keys else ""
    query = sa.text(f"SELECT * FROM {quote(table)}{order}")
    return keys, [dict(row) for row in connection.execute(query).mappings()]


def _postgresql(connection: sa.Connection, tables: list[str]) -> dict[str, str | None]:
    # Each row as text, in a fixed order, hashed: all tables in one statement.
    quote = connection.dialect.identifier_preparer.quote
    parts = [
        f"(SELECT md5(string_agg(t::text, chr(10) ORDER BY t::text)) "
        f"FROM {quote(table)} AS t)"
        for table in tables
    ]
    found = connection.execute(sa.text(f"SELECT {', '.join(parts)}")).one()
    return dict(zip(tables, found, strict=True))


def _mysql(connection: sa.Connection, tables: list[str]) -> dict[str, str | None]:
    # CHECKSUM TABLE reads every row of each table it names, in one statement;
    # it is 0 for an empty table.
    quote = connection.dialect.identifier_preparer.quote
    statement = f"CHECKSUM TABLE {', '.join(map(quote, tables))}"
    found = {
        name.rsplit(".", 1)[-1]: checksum
        for name, checksum in connection.execute(sa.text(statement))
    }
    return {table: str(found[table]) if found.get(table) else None for table in tables}


def _hashed(connection: sa.Connection, table: str) -> str | None:
    # SQLite runs in process: reading the rows costs no round trip.
    quote = connection.dialect.identifier_preparer.quote
    cursor = connection.connection.cursor()
    try:
        rows = cursor.execute(f"SELECT * FROM {quote(table)}").fetchall()
    finally:
        cursor.close()
    if not rows:
        return None
    return hashlib.md5(repr(rows).encode(), usedforsecurity=False).hexdigest()
