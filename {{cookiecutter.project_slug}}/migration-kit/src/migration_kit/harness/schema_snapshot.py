"""The schema of a database as plain data, to compare before and after a step.

Everything a downgrade must undo: tables, views, sequences and enum types, and
for each table its columns (type, nullability, default), primary key, foreign
keys, indexes, unique and check constraints. Alembic's own version table is
left out: its content is meant to change; so is the table where
``make migrate`` keeps what each revision was (applied.py).
"""

import json
from typing import Any

import sqlalchemy as sa

Snapshot = dict[str, Any]
IGNORED_TABLES = {"alembic_version", "alembic_version_sums"}


def snapshot(connection: sa.Connection, previous: Snapshot | None = None) -> Snapshot:
    """The schema now; tables unchanged since ``previous`` are not reflected again.

    Reflecting every table at every revision would make a stairway quadratic.
    PostgreSQL describes every table from its catalogs in one query instead.
    """
    if connection.dialect.name == "postgresql":
        return _postgresql(connection, previous)
    inspector = sa.inspect(connection)
    shape: Snapshot = {"views": sorted(inspector.get_view_names())}
    if connection.dialect.supports_sequences:
        shape["sequences"] = sorted(inspector.get_sequence_names())
    if hasattr(inspector, "get_enums"):  # PostgreSQL's CREATE TYPE ... AS ENUM
        shape["enums"] = sorted(repr(enum) for enum in inspector.get_enums())
    tables = [t for t in inspector.get_table_names() if t not in IGNORED_TABLES]
    shape["tables"] = {table: {} for table in sorted(tables)}
    shape["fingerprints"] = fingerprints = _fingerprints(connection)
    known = (previous or {}).get("fingerprints", {})
    changed = []
    for table in tables:
        if table in fingerprints and known.get(table) == fingerprints[table]:
            shape["tables"][table] = previous["tables"][table]
        else:
            changed.append(table)
    if changed:
        _describe_tables(inspector, changed, shape["tables"])
    return shape


def of_tables(connection: sa.Connection, tables: list[str]) -> Snapshot:
    """Which tables there are, and the schema of these ones only: what a
    check that knows the tables a step touched needs, for much less."""
    inspector = sa.inspect(connection)
    there = {t for t in inspector.get_table_names() if t not in IGNORED_TABLES}
    shape: Snapshot = {"tables": {table: {} for table in tables if table in there}}
    if shape["tables"]:
        _describe_tables(inspector, list(shape["tables"]), shape["tables"])
    shape["names"] = sorted(there)
    return shape


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    """What changed between two snapshots, one line per change."""
    lines = []
    for kind in sorted(before.keys() - {"tables", "fingerprints"}):
        if before[kind] != after[kind]:
            lines.append(f"{kind}: {before[kind]} became {after[kind]}")
    old, new = before["tables"], after["tables"]
    lines += [f"table {name} is left over" for name in sorted(new.keys() - old)]
    lines += [f"table {name} is gone" for name in sorted(old.keys() - new)]
    for name in sorted(old.keys() & new.keys()):
        for aspect in old[name]:
            if old[name][aspect] != new[name][aspect]:
                change = _change(old[name][aspect], new[name][aspect])
                lines.append(f"table {name}, {aspect}: {change}")
    return lines


def _describe_tables(
    inspector: sa.Inspector, tables: list[str], shape: dict[str, Any]
) -> None:
    # get_multi_* reflect all tables in one query per kind where the dialect
    # can (PostgreSQL), instead of one per table.
    aspects = {
        "columns": (inspector.get_multi_columns, _columns),
        "primary key": (inspector.get_multi_pk_constraint, _constraint),
        "foreign keys": (inspector.get_multi_foreign_keys, _constraints),
        "indexes": (inspector.get_multi_indexes, _constraints),
        "unique constraints": (inspector.get_multi_unique_constraints, _constraints),
        "check constraints": (inspector.get_multi_check_constraints, _constraints),
    }
    for aspect, (reflect, simplify) in aspects.items():
        for (_, table), found in reflect(filter_names=tables).items():
            shape[table][aspect] = simplify(found)


def _change(old: Any, new: Any) -> str:
    """Only what differs: list items left or lost, columns that changed."""
    if isinstance(old, list):
        left = [f"left {item}" for item in new if item not in old]
        return "; ".join(left + [f"lost {item}" for item in old if item not in new])
    if isinstance(old, dict):
        return "; ".join(
            f"{key} was {old.get(key, 'absent')}, is {new.get(key, 'absent')}"
            for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key)
        )
    return f"{old} became {new}"


def _fingerprints(connection: sa.Connection) -> dict[str, str]:
    """Per table, text that changes whenever its schema does: a table whose
    text is as it was is not reflected again.

    SQLite keeps each table's and index's CREATE statement in sqlite_master.
    MySQL/MariaDB's information_schema says in a few queries what reflecting
    a table reads with SHOW CREATE TABLE and parses in Python, 0.7 ms a table
    at every stair: a history of 100 tables spent half its climb there.
    """
    if connection.dialect.name == "sqlite":
        return {table: text for table, text in connection.execute(SQLITE_FINGERPRINTS)}
    if connection.dialect.name != "mysql":
        return {}
    found: dict[str, list[str]] = {}
    try:
        checks = CHECKS[getattr(connection.dialect, "is_mariadb", False)]
        for query in [*MYSQL_FINGERPRINTS, checks]:
            for table, *details in connection.exec_driver_sql(query):
                found.setdefault(table, []).append(repr(details))
    except sa.exc.DBAPIError:  # a server without one of these views: reflect all
        return {}
    return {table: "\n".join(sorted(lines)) for table, lines in found.items()}


SQLITE_FINGERPRINTS = sa.text("""
    SELECT tbl_name, group_concat(sql, ';') FROM
    (SELECT tbl_name, sql FROM sqlite_master ORDER BY type, name)
    GROUP BY tbl_name
""")


# What SHOW CREATE TABLE says of a table's columns, indexes (primary key and
# unique constraints among them), foreign keys and checks, from
# information_schema, without joins: they cost more than the rest together.
MYSQL_FINGERPRINTS = [
    "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE,"
    " COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT,"
    " GENERATION_EXPRESSION"
    " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
    "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART,"
    " INDEX_TYPE, COLLATION, INDEX_COMMENT"
    " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()",
    "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, ORDINAL_POSITION,"
    " REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME"
    " FROM information_schema.KEY_COLUMN_USAGE"
    " WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL",
    "SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE"
    " FROM information_schema.REFERENTIAL_CONSTRAINTS"
    " WHERE CONSTRAINT_SCHEMA = DATABASE()",
]
# MariaDB names each check's table; MySQL 8 only through TABLE_CONSTRAINTS.
# A check's name may repeat in another table there: both tables' texts then
# change, and both are reflected again, which is only slower.
CHECKS = {
    True: "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE"
    " FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    False: "SELECT t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE"
    " FROM information_schema.TABLE_CONSTRAINTS t"
    " JOIN information_schema.CHECK_CONSTRAINTS c"
    " ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA"
    " AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME"
    " WHERE t.TABLE_SCHEMA = DATABASE() AND t.CONSTRAINT_TYPE = 'CHECK'",
}


def _postgresql(connection: sa.Connection, previous: Snapshot | None) -> Snapshot:
    """One query describes every table changed since ``previous``: ten catalog
    queries and a reflection per table cost more, per stair, than most
    revisions. Which tables changed, another says from the catalogs' raw rows,
    for half of what describing them all costs."""
    fingerprints = dict(connection.execute(POSTGRESQL_FINGERPRINTS).all())
    known = (previous or {}).get("fingerprints", {})
    changed = [t for t, text in fingerprints.items() if known.get(t) != text]
    found = connection.execute(POSTGRESQL_SCHEMA, {"only": changed}).scalar_one()
    shape = json.loads(found) if isinstance(found, str) else found
    for table in fingerprints.keys() - set(changed):
        shape["tables"][table] = previous["tables"][table]  # type: ignore[index]
    shape["fingerprints"] = fingerprints
    return shape


# Per table, its catalog rows as stored: a table whose text is unchanged is
# described as before. The objects' oids are in it, so an index or constraint
# made again, even alike, counts as a change; so do the names a description
# prints of other objects (a type, a referenced table and its columns).
POSTGRESQL_FINGERPRINTS = sa.text("""
    SELECT c.relname, md5(concat_ws('|',
      (SELECT string_agg(concat_ws(',', a.attnum, a.attname, a.atttypid::regtype,
          a.atttypmod, a.attnotnull, a.attidentity, a.attgenerated, d.oid, d.adbin),
          ';' ORDER BY a.attnum)
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
      (SELECT string_agg(concat_ws(',', k.oid, k.conname, k.contype, k.conkey,
          k.confrelid::regclass, k.confkey, k.confupdtype, k.confdeltype,
          k.confmatchtype, k.condeferrable, k.condeferred, k.conbin,
          (SELECT string_agg(r.attname, ',' ORDER BY r.attnum) FROM pg_attribute r
           WHERE r.attrelid = k.confrelid AND r.attnum = ANY(k.confkey))),
          ';' ORDER BY k.oid)
        FROM pg_constraint k WHERE k.conrelid = c.oid),
      (SELECT string_agg(concat_ws(',', i.indexrelid, i.indexrelid::regclass,
          i.indkey, i.indnkeyatts, i.indclass, i.indoption, i.indisunique,
          i.indexprs, i.indpred), ';' ORDER BY i.indexrelid)
        FROM pg_index i WHERE i.indrelid = c.oid)))
    FROM pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace
    AND c.relkind IN ('r', 'p') AND NOT c.relname = ANY(:ignored)
""").bindparams(ignored=sorted(IGNORED_TABLES))


# Each detail as PostgreSQL itself prints it: format_type, pg_get_expr,
# pg_get_constraintdef, pg_get_indexdef; the indexes behind constraints are
# those constraints. NOT NULL constraints (contype 'n', PostgreSQL 18) are
# the columns' nullability.
CONSTRAINT_KINDS = {
    "primary key": "p",
    "foreign keys": "f",
    "unique constraints": "u",
    "check constraints": "c",
    "exclusion constraints": "x",
}
CONSTRAINTS = ", ".join(
    f"""'{aspect}', (SELECT coalesce(json_agg(k.conname || ' '
        || pg_get_constraintdef(k.oid) ORDER BY k.conname), '[]')
      FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = '{kind}')"""
    for aspect, kind in CONSTRAINT_KINDS.items()
)
POSTGRESQL_SCHEMA = sa.text(
    """
    WITH here AS (SELECT current_schema()::regnamespace AS oid),
    rel AS (
      SELECT c.oid, c.relname, c.relkind FROM pg_class c, here
      WHERE c.relnamespace = here.oid AND NOT c.relname = ANY(:ignored)
    )
    SELECT json_build_object(
      'views', (SELECT coalesce(json_agg(relname ORDER BY relname), '[]')
                FROM rel WHERE relkind IN ('v', 'm')),
      'sequences', (SELECT coalesce(json_agg(relname ORDER BY relname), '[]')
                    FROM rel WHERE relkind = 'S'),
      'enums', (SELECT coalesce(json_agg(t.typname || ' (' || (
                  SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
                  FROM pg_enum e WHERE e.enumtypid = t.oid) || ')'
                ORDER BY t.typname), '[]')
                FROM pg_type t, here WHERE t.typnamespace = here.oid
                AND t.typtype = 'e'),
      'tables', (SELECT coalesce(json_object_agg(c.relname, json_build_object(
        'columns', (SELECT coalesce(json_object_agg(a.attname, concat_ws(' ',
            format_type(a.atttypid, a.atttypmod),
            CASE WHEN a.attnotnull THEN 'NOT NULL' END,
            'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid),
            CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY'
              WHEN 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' END,
            CASE WHEN a.attgenerated <> '' THEN 'GENERATED' END)), '{}')
          FROM pg_attribute a
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
        CONSTRAINTS,
        'indexes', (SELECT coalesce(json_agg(pg_get_indexdef(i.indexrelid)
            ORDER BY pg_get_indexdef(i.indexrelid)), '[]')
          FROM pg_index i WHERE i.indrelid = c.oid AND NOT EXISTS (
            SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid
            AND k.conrelid = c.oid))
      )), '{}') FROM rel c WHERE c.relkind IN ('r', 'p')
        AND c.relname = ANY(CAST(:only AS text[])))
    )
""".replace("CONSTRAINTS", CONSTRAINTS)
).bindparams(ignored=sorted(IGNORED_TABLES))


def _columns(columns: list[dict[str, Any]]) -> dict[str, str]:
    return {
        column["name"]: (
            f"{column['type']!r}"
            f"{'' if column['nullable'] else ' NOT NULL'}"
            f"{'' if column.get('default') is None else ' DEFAULT '}"
            f"{column.get('default') or ''}"
        )
        for column in columns
    }


def _constraint(found: dict[str, Any]) -> str:
    # Empty options ({}, [], None) say nothing and only lengthen messages.
    return repr(sorted((key, _said(value)) for key, value in found.items() if value))


def _said(value: Any) -> Any:
    """``value`` as the database said it: a reflected clause (an index's
    sqlite_where, postgresql_where) as its SQL text, not an object whose repr
    holds its address and so differs on every reflection."""
    if isinstance(value, sa.ClauseElement):
        return str(value)
    if isinstance(value, dict):
        return {key: _said(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(map(_said, value))
    return value


def _constraints(found: list[dict[str, Any]]) -> list[str]:
    return sorted(_constraint(item) for item in found)
