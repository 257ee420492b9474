"""``make baseline``: a root revision that creates the tables DATABASE_URL has.

For adopting a project whose tables were made outside Alembic (the
application's ``create_all``, or by hand) before its first revision: point
DATABASE_URL at a database holding exactly those tables, and this writes a
revision below every other one that creates them, so every disposable test
database starts where production started (docs/adopting.md). The database
is only read.

Alembic does the writing: the reflected tables become autogenerate's own
operations (``create_table`` with columns, types, server defaults and
constraints, then ``create_index``), rendered into ``script.py.mako`` by
``alembic revision`` as ``--autogenerate`` would render them. Foreign keys
that form a cycle are added once both tables exist. The downgrade drops what
the upgrade made. Each step is guarded by ``done(...)``: MySQL/MariaDB commit
each one at once, and a second ``make migrate`` must finish a killed first one.
"""

import argparse
import io
import os
import re
import sys
from collections.abc import Sequence
from contextlib import suppress

from alembic import command
from alembic.autogenerate import render_op_text, renderers
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import MetaData, Table, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, Engine
from sqlalchemy.schema import conv, sort_tables_and_constraints

from .connection_errors import CONNECT_ERRORS, connection_failure
from .database import VARIABLE, database_url, migration_engine, run_with_engine
from .urls import shown

# Alembic's own bookkeeping is never part of the schema a revision creates.
ALWAYS_LEFT_OUT = ("alembic_version", "alembic_version_sums")
MESSAGE = "baseline: the tables made before the first revision"
# A PostgreSQL serial column's default names the sequence that comes with it.
SERIAL_DEFAULT = re.compile(r"nextval\('.+'::regclass\)")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    left_out = {*ALWAYS_LEFT_OUT, *arguments.exclude}
    try:
        tables, dialect = reflect(left_out)
        path = write_revision(Config("alembic.ini"), tables, dialect, arguments.m)
    except CommandError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}: creates {len(tables)} tables")
    return 0


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make baseline", description=__doc__.splitlines()[0]
    )
    parser.add_argument("-m", default=MESSAGE, help="the revision's message")
    parser.add_argument(
        "--exclude",
        nargs="*",
        default=[],
        metavar="TABLE",
        help="tables to leave out (alembic_version always is)",
    )
    return parser.parse_args(argv)


def reflect(left_out: set[str]) -> tuple[list[Table], str]:
    """The tables of DATABASE_URL, and the name of its dialect."""
    if not os.environ.get(VARIABLE, "").strip():
        # database_url() falls back to the local SQLite file; a baseline of
        # that file is never what is meant.
        raise CommandError(
            f"{VARIABLE} is not set: set it to the database whose tables the "
            "baseline should create (production, or a copy of it)."
        )
    url = database_url()
    refuse_a_missing_sqlite_file(url)
    metadata = MetaData()
    event.listen(metadata, "column_reflect", leave_out_serial_default)
    if url.get_backend_name() == "sqlite":
        event.listen(metadata, "column_reflect", generic_type)
    engine = migration_engine(url)
    run_with_engine(engine, lambda sync: read_tables(sync, metadata, left_out))
    tables = [table for table in metadata.tables.values() if table.name not in left_out]
    if not tables:
        raise CommandError(
            f"{VARIABLE} {shown(url)} has no tables"
            + (f" other than {', '.join(sorted(left_out))}" if left_out else "")
            + ": point it at the database whose tables the baseline should create."
        )
    refuse_references_to(left_out, tables)
    for table in tables:
        keep_names(table)
    return tables, url.get_dialect().name


def refuse_a_missing_sqlite_file(url: URL) -> None:
    """The database is only read: connecting would create an empty file."""
    path = url.database or ""
    in_a_file = url.get_backend_name() == "sqlite" and path not in ("", ":memory:")
    if in_a_file and not os.path.exists(path):
        raise CommandError(
            f"{VARIABLE} {shown(url)} names no existing file: point it at the "
            "SQLite database whose tables the baseline should create."
        )


def read_tables(engine: Engine, metadata: MetaData, left_out: set[str]) -> None:
    try:
        with engine.connect() as connection:
            metadata.reflect(connection, only=lambda name, _: name not in left_out)
    except CONNECT_ERRORS as error:
        raise CommandError(connection_failure(error, engine.url, VARIABLE)) from None


def refuse_references_to(left_out: set[str], tables: list[Table]) -> None:
    """A table left out cannot stay the target of a foreign key that is kept."""
    for table in tables:
        for fk in sorted(table.foreign_keys, key=lambda fk: fk.target_fullname):
            if fk.column.table.name in left_out:
                raise CommandError(
                    f"table {table.name} refers to {fk.column.table.name}, which "
                    "is left out: leave out both, or neither."
                )


def leave_out_serial_default(inspector, table, column: dict) -> None:
    """A serial column creates its own sequence: its default names that one.

    Autogenerate leaves it out the same way (Alembic's PostgreSQL support).
    """
    default = column.get("default")
    if default and column.get("autoincrement") and SERIAL_DEFAULT.fullmatch(default):
        column["default"] = None


def generic_type(inspector, table, column: dict) -> None:
    """SQLite's types as SQLAlchemy's generic ones, which every backend has.

    SQLite reflects the names it was given: DATETIME and BLOB, which
    PostgreSQL lacks, become DateTime and LargeBinary (TIMESTAMP and BYTEA
    there); on SQLite they create the same columns as before.
    """
    with suppress(NotImplementedError):
        column["type"] = column["type"].as_generic()


def keep_names(table: Table) -> None:
    """Mark each name as final, so no naming convention rewrites it.

    Autogenerate renders such a name as ``op.f("name")``; otherwise the
    project's convention (models.py) would turn a check constraint named
    ``ck_pages`` into ``ck_books_ck_pages``. Constraints without a name (SQLite
    keeps none for most) do get the convention's name.
    """
    for item in [*table.constraints, *table.indexes]:
        if item.name is not None:
            item.name = conv(item.name)


def write_revision(
    config: Config, tables: list[Table], dialect: str, message: str
) -> str:
    """Let ``alembic revision --head=base`` write the operations as a new root."""
    upgrade, downgrade = operations(tables, dialect)

    def fill_in(context: MigrationContext, revision, directives) -> None:
        directives[0].upgrade_ops.ops[:] = upgrade
        directives[0].downgrade_ops.ops[:] = downgrade

    # With --sql, env.py runs offline on DATABASE_URL's dialect, so the types
    # render as that database names them, and nothing connects. What the
    # offline run prints (its BEGIN and COMMIT) is not wanted.
    config.output_buffer = io.StringIO()
    config.attributes["configure_logger"] = False
    script = command.revision(
        config, message, sql=True, head="base", process_revision_directives=fill_in
    )
    return os.path.relpath(script.path)


def operations(
    tables: list[Table], dialect: str
) -> tuple[list[ops.MigrateOperation], list[ops.MigrateOperation]]:
    """Create the tables, then the foreign keys of cycles; undo in reverse."""
    # Each table after those it refers to; the foreign keys no order can
    # satisfy come last, on their own. SQLite checks a foreign key when a row
    # is written, not when its table is made, so there they stay in place.
    pairs = sort_tables_and_constraints(tables)
    tables = [table for table, _ in pairs if table is not None]
    cycles = [
        fk
        for table, fks in pairs
        if table is None and dialect != "sqlite"
        for fk in fks
    ]
    upgrade: list[ops.MigrateOperation] = []
    for table in tables:
        create = ops.CreateTableOp.from_table(table)
        create.columns = [
            item for item in create.columns if not any(item is fk for fk in cycles)
        ]
        upgrade.append(create)
        upgrade.extend(create_indexes(table))
    upgrade.extend(ops.CreateForeignKeyOp.from_constraint(fk) for fk in cycles)
    downgrade: list[ops.MigrateOperation] = [
        ops.DropConstraintOp.from_constraint(fk) for fk in cycles
    ]
    downgrade.extend(ops.DropTableOp.from_table(table) for table in reversed(tables))
    downgrade = [Guarded.around(step) for step in downgrade]
    downgrade.extend(drop_enum_types(tables))  # IF EXISTS: runs twice as it is
    return [Guarded.around(step) for step in upgrade], downgrade


class Guarded(ops.MigrateOperation):
    """An operation a second run skips when a killed first run did it.

    Rendered as ``if not done(...):`` above the operation (rerun.py's done).
    """

    def __init__(self, operation: ops.MigrateOperation, question: str) -> None:
        self.operation = operation
        self.question = question

    @classmethod
    def around(cls, operation: ops.MigrateOperation) -> ops.MigrateOperation:
        question = done_question(operation)
        return cls(operation, question) if question else operation


def done_question(operation: ops.MigrateOperation) -> str | None:
    """The done(...) arguments that ask whether ``operation`` is done already."""
    match operation:
        case ops.CreateTableOp(table_name=table):
            return repr(table)
        case ops.DropTableOp(table_name=table):
            return f"{table!r}, dropped=True"
        case ops.CreateIndexOp(table_name=table, index_name=str() as name):
            return f"{table!r}, index={str(name)!r}"
        case ops.CreateForeignKeyOp(source_table=table, constraint_name=str() as name):
            return f"{table!r}, foreign_key={str(name)!r}"
        case ops.DropConstraintOp(table_name=table, constraint_name=str() as name):
            return f"{table!r}, dropped_foreign_key={str(name)!r}"
    return None


@renderers.dispatch_for(Guarded)
def render_guarded(context: AutogenContext, guarded: Guarded) -> list[str | None]:
    context.imports.add("from migration_kit import done")
    first, *rest = render_op_text(context, guarded.operation).splitlines()
    # Alembic's printer indents the first line of a text one level under the
    # "if"; the text's other lines go that level deeper by hand. None ends
    # the block.
    text = "\n".join([first, *(f"    {line}" for line in rest)])
    return [f"if not done({guarded.question}):", text, None]


def create_indexes(table: Table) -> list[ops.CreateIndexOp]:
    """The table's indexes, less those MySQL makes itself for a foreign key."""
    foreign_key_names = {fk.name for fk in table.foreign_key_constraints}
    return [
        ops.CreateIndexOp.from_index(index)
        for index in sorted(table.indexes, key=lambda index: index.name or "")
        if index.name not in foreign_key_names
    ]


def drop_enum_types(tables: list[Table]) -> list[ops.ExecuteSQLOp]:
    """PostgreSQL enum types: create_table made them, drop_table leaves them."""
    names = {
        column.type.name
        for table in tables
        for column in table.columns
        if isinstance(column.type, postgresql.ENUM)
    }
    return [ops.ExecuteSQLOp(f"DROP TYPE IF EXISTS {name}") for name in sorted(names)]


if __name__ == "__main__":
    sys.exit(main())
