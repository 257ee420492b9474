"""One answer on every backend: the rows each upgrade writes, compared across them.

Every backend starts from the same logical rows (seeding.py), so a revision
whose upgrade writes different rows on two of them depends on the database:
a collation that merges 'Reds' and 'reds', trailing spaces, NULL ordering,
time zones. After each upgrade the stairway reads the tables it wrote (new,
or whose rows changed) and keeps them with values normalised by type: text
exact, numbers by value, times in UTC. Once every backend has climbed, the
answers are compared, one line per column that differs. A column SQLite
holds as text where another backend has an ENUM is left out, and named in
the closing lines: SQLite's rows there are any words, not the ENUM's values.

Rows of tables that existed before are matched by primary key, which the
seeded rows share. A table the revision created numbers its rows in whatever
order each database produced them, so its rows are matched by content, and a
key pointing at one of them compares that row's content, not its number.

A revision declares a difference it intends in its own file, with a reason::

    differs_by_backend = {"players.nickname": "MySQL folds case: wanted here"}

(a table name covers all its columns).
"""

import json
import math
import re
import struct
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import sqlalchemy as sa

from .seeding import reflected

DECLARED = "differs_by_backend"
UUID_HEX = re.compile(r"[0-9a-f]{32}")
Cell = tuple[Any, str]  # (normalised value, as shown in a message)


@dataclass
class TableAnswer:
    """A table's rows after an upgrade, normalised, on one backend."""

    key: list[str]  # matched by these columns; [] when matched by content
    rows: dict[tuple, dict[str, Cell]] = field(default_factory=dict)
    by_content: Counter = field(default_factory=Counter)
    # Its rows were seeded anew on a fresh database after a failure on this
    # backend, at a later revision than elsewhere: other input, not compared.
    seeded_anew: bool = False
    # Its columns the database holds as a list of values (ENUM). SQLite has no
    # such type: there the column is text, seeded with any words, so it is
    # not compared with a backend where it is an ENUM (enums_left_out).
    enums: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.rows) + sum(self.by_content.values())


Answer = dict[str, TableAnswer]
# revision -> backend -> the tables its upgrade wrote there.
ANSWERS: dict[str, dict[str, Answer]] = {}
# backend -> the revision from which some tables' rows there were seeded anew.
SEEDED_ANEW: dict[str, str] = {}


def read_answer(
    connection: sa.Connection,
    written: list[str],
    generated: set[str],
    touched: dict[str, set[str]] | None = None,
) -> Answer:
    """The rows of ``written`` tables, normalised; those of ``generated`` ones
    (filled by a revision, their keys in each database's order) by content.

    ``touched``: per table the upgrade did not create, the words of its
    statements; only the columns among them are its answer. The others held
    what the rows held before, which is not this revision's doing.
    """
    holding = holding_rows(connection, written)
    empty = {table: TableAnswer([]) for table in written if table not in holding}
    written = [table for table in written if table in holding]
    if not written:
        return empty
    metadata = reflected(connection, written)
    targets = {
        _target(key)
        for table in metadata.tables.values()
        for key in table.foreign_keys
        if _target(key) in generated
    } | (set(written) & generated)
    if targets - set(written):
        reflected_too = reflected(connection, sorted(targets - set(written)))
        for table in reflected_too.tables.values():
            table.to_metadata(metadata)
    rows = {
        name: [dict(row) for row in connection.execute(sa.select(table)).mappings()]
        for name, table in metadata.tables.items()
    }
    # A key into a table of generated keys names that row by its content.
    by_content = {
        name: _content_key(metadata.tables[name])
        for name in targets
        if _content_key(metadata.tables[name])
    }
    contents = {
        name: {
            _key(row, pk): _content(row, metadata.tables[name]) for row in rows[name]
        }
        for name, pk in by_content.items()
    }
    answer = {}
    for name in written:
        table = metadata.tables[name]
        resolve = _resolvers(table, contents)
        if name in by_content:
            pk = by_content[name]
            found = TableAnswer([])
            for row in rows[name]:
                cells = _cells(row, resolve, skip=pk)
                found.by_content[
                    tuple(sorted((c, v[0]) for c, v in cells.items()))
                ] += 1
        else:
            pk = [c.name for c in table.primary_key.columns]
            found = TableAnswer(pk)
            for row in rows[name]:
                cells = _cells(row, resolve, pk)
                words = touched.get(name, set()) if touched is not None else {"*"}
                if name not in generated and "*" not in words:
                    cells = {c: v for c, v in cells.items() if c in words}
                found.rows[_key(row, pk)] = cells
        found.enums = {c.name for c in table.columns if isinstance(c.type, sa.Enum)}
        answer[name] = found
    return {**answer, **empty}


def holding_rows(connection: sa.Connection, tables: list[str]) -> set[str]:
    """Those of ``tables`` that hold a row, in one statement: an empty table
    needs no reflecting (a new one, most of the time)."""
    if not tables:
        return set()
    found = connection.execute(
        sa.select(*(sa.exists().select_from(sa.table(t)) for t in tables))
    ).one()
    return {table for table, there in zip(tables, found, strict=True) if there}


def _target(key: sa.ForeignKey) -> str:
    return key.target_fullname.rsplit(".", 2)[-2]


def _content_key(table: sa.Table) -> list[str]:
    """The columns left out of a row's content: a generated integer key."""
    pk = list(table.primary_key.columns)
    if len(pk) == 1 and isinstance(pk[0].type, sa.Integer):
        return [pk[0].name]
    return []


def _key(row: dict, pk: list[str]) -> tuple:
    return tuple(normal(row[c]) for c in pk)


def _content(row: dict, table: sa.Table) -> tuple:
    """A row by its values, without its key and its keys to other rows."""
    left_out = {c.name for c in table.columns if c.primary_key or c.foreign_keys}
    return tuple(normal(v) for c, v in sorted(row.items()) if c not in left_out)


def _resolvers(table: sa.Table, contents: dict[str, dict]) -> dict[str, dict]:
    """Per column that is a key into a new table: that table's contents by key."""
    found = {}
    for key in table.foreign_keys:
        target = _target(key)
        if target in contents and len(key.constraint.columns) == 1:
            found[key.parent.name] = contents[target]
    return found


def _cells(row: dict, resolve: dict[str, dict], skip: list[str]) -> dict[str, Cell]:
    cells = {}
    for column, value in row.items():
        if column in skip:
            continue
        if column in resolve and value is not None:
            content = resolve[column].get((normal(value),))
            shown = ", ".join(_short(v) for v in content or ())
            cells[column] = (content, f"{value!r} ({shown})")
        else:
            cells[column] = (normal(value), _short(value))
    return cells


def normal(value: Any) -> Any:
    """A value as compared across backends: text exact, numbers by value
    (floating point as MySQL's FLOAT holds it), times in UTC, JSON by content."""
    if isinstance(value, str) and UUID_HEX.fullmatch(value):
        return str(uuid.UUID(value))  # Uuid as CHAR(32) where there is no UUID type
    if value is None or isinstance(value, str) and not value.startswith(("{", "[")):
        return value
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int | Decimal):
        return Decimal(value).normalize()
    if isinstance(value, float):
        return _single(value) if math.isfinite(value) else value
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return tuple(sorted(map(str, value)))
    if isinstance(value, str):  # '{' or '[': JSON kept as text (MariaDB)
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, sort_keys=True, default=str)


def _single(value: float) -> Decimal:
    """A float as MySQL's FLOAT gives it back: single precision, 6 significant
    digits. Elsewhere the same column holds a double: the seeded -15211.83 came
    back from MariaDB as -15211.8."""
    try:
        value = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:  # beyond single precision: no FLOAT holds it
        return Decimal(repr(value)).normalize()
    return Decimal(f"{value:.6g}").normalize()


def differences(revision: str, module: ModuleType) -> list[str]:
    """One line per column whose values differ between the backends."""
    answers = ANSWERS.get(revision, {})
    declared = getattr(module, DECLARED, {}) or {}
    lines = []
    for table, fair in _compared_tables(answers):
        if table not in declared:
            lines += table_lines(revision, table, fair, declared)
    return lines


def _compared_tables(
    answers: dict[str, Answer],
) -> Iterator[tuple[str, dict[str, TableAnswer]]]:
    """Each table one revision wrote, with the answers compared: those not
    seeded anew, when two or more are left."""
    for table in sorted({t for answer in answers.values() for t in answer}):
        there = {b: a[table] for b, a in answers.items() if table in a}
        # A revision that writes a table on some backends only branches on the
        # dialect (a _postgres/_sqlite pair): nothing to compare there.
        fair = {b: answer for b, answer in there.items() if not answer.seeded_anew}
        if len(there) == len(answers) and len(fair) > 1:
            yield table, fair


def table_lines(
    revision: str, table: str, there: dict[str, TableAnswer], declared: dict
) -> list[str]:
    prefix = f"{table}."  # its columns the revision declares, by name
    wanted = {name.removeprefix(prefix) for name in declared if name.startswith(prefix)}
    counts = {backend: answer.count for backend, answer in there.items()}
    if 0 in counts.values():  # no rows to match: how many, then
        if len(set(counts.values())) == 1:
            return []
        shown = ", ".join(f"{b} {n} rows" for b, n in counts.items())
        return [f"revision {revision} writes {table} differently: {shown}"]
    first = next(iter(there.values()))
    if len({bool(answer.key) for answer in there.values()}) > 1:
        return []  # a revision filled it on some backends only: no common key
    if not first.key:
        return _content_lines(revision, table, there, wanted)
    lines = []
    columns = compared_columns(there)
    # Rows of every backend: seeding keeps only the rows each database
    # accepts (a case-insensitive unique key refuses 'reds' beside 'Reds').
    keys = sorted(set.intersection(*(set(a.rows) for a in there.values())), key=repr)
    for column in columns:
        if column in wanted or seeded_apart(there, column):
            continue
        differing = [k for k in keys if len(_values(there, k, column)) > 1]
        if not differing:
            continue
        key = differing[0]
        shown = ", ".join(
            f"{backend} {_shown(answer, key, column)}"
            for backend, answer in there.items()
        )
        more = f" and {len(differing) - 1} more rows" if len(differing) > 1 else ""
        named = " ".join(f"{c} {v}" for c, v in zip(first.key, key, strict=True))
        lines.append(
            f"revision {revision} writes {table}.{column} differently: "
            f"{named} -> {shown}{more}{_hint(there, key, column)}"
        )
    return lines


def compared_columns(there: dict[str, TableAnswer]) -> list[str]:
    """The columns every backend's statements wrote (SQLite's batch copy
    names them all; an ALTER elsewhere names one)."""
    return sorted(
        set.intersection(
            *({c for row in a.rows.values() for c in row} for a in there.values())
        )
    )


def seeded_apart(there: dict[str, TableAnswer], column: str) -> bool:
    """Whether ``column`` is an ENUM on some backends and text on others."""
    return len({column in answer.enums for answer in there.values()}) > 1


def enums_left_out() -> list[str]:
    """The closing lines: each column not compared where it is an ENUM."""
    left: dict[str, tuple[set[str], set[str]]] = {}
    for table, there in _matched_by_key():
        for column in compared_columns(there):
            if seeded_apart(there, column):
                enum, text = left.setdefault(f"{table}.{column}", (set(), set()))
                for backend, answer in there.items():
                    (enum if column in answer.enums else text).add(backend)
    return [
        f"SAME ANSWER left out {name}: an ENUM on {', '.join(sorted(enum))}, "
        f"text seeded with any words on {', '.join(sorted(text))}"
        for name, (enum, text) in sorted(left.items())
    ]


def _matched_by_key() -> Iterator[tuple[str, dict[str, TableAnswer]]]:
    """Per revision, each table compared row by row (table_lines)."""
    for answers in ANSWERS.values():
        for table, there in _compared_tables(answers):
            if all(answer.key for answer in there.values()):
                yield table, there


def _values(there: dict[str, TableAnswer], key: tuple, column: str) -> set:
    return {
        repr(a.rows.get(key, {}).get(column, ("(no row)",))[0]) for a in there.values()
    }


def _shown(answer: TableAnswer, key: tuple, column: str) -> str:
    row = answer.rows.get(key)
    return "(no row)" if row is None else row.get(column, (None, "(no column)"))[1]


def _content_lines(
    revision: str, table: str, there: dict[str, TableAnswer], declared: set[str]
) -> list[str]:
    """Rows matched by content, without the columns the revision declares
    (a time it stamps with now() differs on every backend)."""
    contents = {b: _without(a.by_content, declared) for b, a in there.items()}
    rows = sorted({r for found in contents.values() for r in found}, key=repr)
    for row in rows:
        counts = {b: found[row] for b, found in contents.items()}
        if len(set(counts.values())) > 1:
            shown = ", ".join(f"{b} {n}" for b, n in counts.items())
            named = ", ".join(f"{c}={_short(v)}" for c, v in row)
            return [
                f"revision {revision} writes {table} differently: rows with "
                f"{named} -> {shown}{_merged_hint(row, rows, there)}"
            ]
    return []


def _without(by_content: Counter, columns: set[str]) -> Counter:
    found: Counter = Counter()
    for row, count in by_content.items():
        found[tuple((c, v) for c, v in row if c not in columns)] += count
    return found


def _hint(there: dict[str, TableAnswer], key: tuple, column: str) -> str:
    values = [a.rows.get(key, {}).get(column, (None, ""))[0] for a in there.values()]
    texts = [_text(v) for v in values]
    if all(texts) and len({_folded(t) for t in texts}) == 1:
        return _lookalikes(texts, there)
    return ""


def _merged_hint(row: tuple, rows: list[tuple], there: dict) -> str:
    """The hint, when another row differs from ``row`` only in texts that
    fold alike: a collation may have made the two one."""
    for other in rows:
        if [c for c, _ in other] != [c for c, _ in row]:
            continue
        pairs = [
            (_text(mine), _text(theirs))
            for (_, mine), (_, theirs) in zip(row, other, strict=True)
            if mine != theirs
        ]
        if pairs and all(a and b and _folded(a) == _folded(b) for a, b in pairs):
            return _lookalikes([text for pair in pairs for text in pair], there)
    return ""


def _lookalikes(texts: list[str | None], there: dict) -> str:
    """Why two texts may have become one: case, trailing spaces, accents."""
    shown = " and ".join(_short(t) for t in dict.fromkeys(sorted(filter(None, texts))))
    collation = (
        ", which MySQL/MariaDB's default collation compares as equal"
        if there.keys() & {"mysql", "mariadb"}
        else ""
    )
    return f" ({shown} differ only by case, trailing spaces or accents{collation})"


def _short(value: Any, limit: int = 24) -> str:
    text = repr(value)
    return (
        text if len(text) <= limit else f"{text[: limit - 1]}…({len(str(value))} chars)"
    )


def _text(value: Any) -> str | None:
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, str) else None


def _folded(text: str | None) -> str | None:
    if text is None:
        return None
    plain = unicodedata.normalize("NFKD", text.rstrip().casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))


def undeclared_reasons(module: ModuleType) -> str | None:
    """A declaration without a reason, as the line that refuses it."""
    declared = getattr(module, DECLARED, None)
    if declared is None:
        return None
    if not isinstance(declared, dict) or not all(
        isinstance(why, str) and why.strip() for why in declared.values()
    ):
        return (
            f"{DECLARED} must map 'table' or 'table.column' to the reason the "
            'difference is wanted, e.g. {"players.nickname": "MySQL folds case"}'
        )
    return None
