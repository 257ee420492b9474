"""Helpers for the data steps of a revision.

These are tools, like Alembic's ``op``: they never describe tables. Tables are
described by the frozen models inside each revision.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from alembic.util import CommandError
from sqlalchemy import Unicode
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.visitors import replacement_traverse

from .offline import OnlineOnly, online_only_step

# A child of Alembic's logger, so progress shows wherever "Running upgrade" does.
log = logging.getLogger("alembic.data_migrations")

# Why --sql stops at a step that reads (offline.py).
READS_ROWS = "reads rows, which --sql cannot render"

# How often update_in_batches reports progress on a long walk.
PROGRESS_EVERY_SECONDS = 10.0

# Constraint and index names for models.py and every revision's frozen models.
# Named constraints can be dropped and altered later, including in SQLite's
# batch mode, which cannot drop a constraint without a name; and a frozen
# table then names its constraints as the database does, so it can be the
# copy_from= of a batch step.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


@contextmanager
def migration_session() -> Iterator[Session]:
    """A Session on the connection Alembic is migrating with.

    Alembic owns the transaction: it commits after the revision (or rolls back
    if it fails), so never call ``session.commit()`` here. Pending changes are
    flushed when the block ends. Under ``--sql`` the Session renders the
    set-based statements it is given (see RenderingSession).
    """
    if offline():
        yield RenderingSession()
        return
    with MigrationSession(bind=op.get_bind()) as session:
        yield session
        session.flush()


class MigrationSession(Session):
    """A Session whose bulk UPDATE and DELETE leave loaded objects as they are.

    A data step rarely holds objects while it runs set-based statements, and
    the ORM's default (``synchronize_session="auto"``) would fetch back the key
    of every changed row of an UPDATE that joins another table: a million keys
    for a million rows. Pass ``synchronize_session`` to ``execute()`` (or on
    the statement) to have it anyway.
    """

    def execute(self, statement: Executable, *args: Any, **kwargs: Any) -> Any:
        options = dict(kwargs.pop("execution_options", None) or {})
        if "synchronize_session" not in statement.get_execution_options():
            options.setdefault("synchronize_session", False)
        return super().execute(statement, *args, execution_options=options, **kwargs)


class RenderingSession(Session):
    """The Session of ``alembic upgrade --sql``: it prints, it cannot read.

    INSERT, UPDATE and DELETE statements are rendered into the SQL script.
    Anything that needs the database (a SELECT, loading or flushing objects)
    makes the revision online-only: ``--sql`` stops there with one line. While
    ``make lint-migrations`` renders, a SELECT finds no rows instead, so the
    schema operations around it still render and get linted.
    """

    def execute(self, statement: Executable, params: Any = None, **_: Any) -> Any:
        if params is None and isinstance(statement, sa.sql.dml.UpdateBase):
            op.execute(statement)
            return None
        if isinstance(statement, sa.sql.Select):
            online_only_step("migration_session()", READS_ROWS)
            return no_rows(statement)
        return super().execute(statement, params)

    # Session's own scalar() and scalars() bypass execute().
    def scalar(self, statement: Executable, params: Any = None, **_: Any) -> Any:
        return self.execute(statement, params).scalar()

    def scalars(self, statement: Executable, params: Any = None, **_: Any) -> Any:
        return self.execute(statement, params).scalars()

    def get_bind(self, *_: Any, **__: Any) -> sa.Engine:
        # Loading or flushing objects, or a statement with a list of rows.
        raise OnlineOnly(
            "migration_session() needs the database (objects or executemany), "
            "which --sql cannot render"
        )


def no_rows(query: sa.Select[Any]) -> sa.Result[Any]:
    """An empty result with the columns of ``query``."""
    names = [column.key for column in query.selected_columns]
    return IteratorResult(SimpleResultMetaData(names), iter([]))


def set_from(
    column: InstrumentedAttribute[Any],
    value: InstrumentedAttribute[Any],
    on: sa.ColumnElement[bool],
) -> sa.Update:
    """An UPDATE that sets ``column`` to ``value`` of the row that ``on`` finds.

    ``set_from(Player.team_id, Team.id, Team.name == Player.team)``. For a
    column that is NULL in every row, as one just added is: a row that ``on``
    matches with none stays NULL. PostgreSQL and MySQL join the other table
    into the UPDATE (``UPDATE ... FROM``, a multi-table UPDATE), where a
    correlated subquery per row is up to 1.7 times slower. SQLite gets that
    subquery: its own ``UPDATE ... FROM`` is up to 4 times slower. Inside an
    ``ordered_batch()`` of the same table, SQLite's table copy computes the
    values instead (see there), and the UPDATE returned changes no row.
    """
    update = sa.update(column.class_)
    if op.get_context().dialect.name != "sqlite":
        return update.values({column: value}).where(on)
    lookup = sa.select(value).where(on).scalar_subquery()
    copy = TABLE_COPY.get()
    if copy is not None and copy.computes(column, lookup):
        return update.values({column: lookup}).where(sa.false())
    return update.values({column: lookup})


@contextmanager
def ordered_batch(table: sa.Table) -> Iterator[BatchOperations]:
    """``op.batch_alter_table`` on ``table``, its steps run in the order written.

    SQLite cannot drop a column or a key in place: there the steps wait for
    the end of the block and run as one copy of the table, made from
    ``table``, a frozen model's ``__table__`` (``copy_from=``), not from the
    database, so ``--sql`` works too. It holds every column, key and index
    the table has when the block ends (a key the steps add may be there
    already; an index may not). A ``set_from()`` of this table in the block
    waits for the copy too, which computes its values as it copies each row:
    SQLite writes the table once, not twice (under ``--sql`` it renders the
    UPDATE, then the copy).

    PostgreSQL and MySQL alter in place, and Alembic would still hold each
    step until the block ends; here each runs at once. So a data step inside
    the block comes after the steps above it on every database.
    """
    if op.get_context().dialect.name != "sqlite":
        yield cast(BatchOperations, StepsAtOnce(table.name))
        return
    copy = TableCopy(table)
    token = TABLE_COPY.set(copy)
    online = not offline()
    if online:
        sa.event.listen(op.get_bind(), "before_execute", copy.fill, retval=True)
    try:
        with op.batch_alter_table(table.name, copy_from=table) as batch_op:
            yield batch_op
    finally:
        TABLE_COPY.reset(token)
        if online:
            sa.event.remove(op.get_bind(), "before_execute", copy.fill)
    if copy.values and not copy.copied:
        # Steps that SQLite ran in place (indexes, a new column): no copy.
        op.execute(sa.update(table).values(copy.values))


class TableCopy:
    """SQLite's copy of a table at the end of an ``ordered_batch()`` block."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        # Column name -> the value set_from() gave it, computed by the copy.
        self.values: dict[str, sa.ColumnElement[Any]] = {}
        self.copied = False

    def computes(
        self, column: InstrumentedAttribute[Any], value: sa.ColumnElement[Any]
    ) -> bool:
        """Take ``value`` for ``column``, if the copy can compute it."""
        if offline() or column.expression.table is not self.table:
            return False
        self.values[column.expression.name] = value
        return True

    def fill(
        self, _connection: sa.Connection, statement: Any, *parameters: Any
    ) -> tuple[Any, ...]:
        """Before Alembic's ``INSERT ... SELECT`` copy: select the values in."""
        copy = f"_alembic_tmp_{self.table.name}"
        if isinstance(statement, sa.Insert) and statement.table.name == copy:
            self.copied = True
            statement = replacement_traverse(statement, {}, self.value_of)
        return statement, *parameters[:2]

    def value_of(self, element: Any) -> sa.ColumnElement[Any] | None:
        if isinstance(element, sa.Column) and element.table is self.table:
            return self.values.get(element.name)
        return None


# The ordered_batch() whose table SQLite copies, while its block runs.
TABLE_COPY: ContextVar[TableCopy | None] = ContextVar("table_copy", default=None)


class StepsAtOnce:
    """Batch operations on a table that each run as they are called."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def __getattr__(self, name: str) -> Callable[..., None]:
        def step(*args: Any, **kwargs: Any) -> None:
            with op.batch_alter_table(self.table_name, recreate="never") as batch_op:
                getattr(batch_op, name)(*args, **kwargs)

        return step


def update_in_batches(
    model: type[Any],
    change: Callable[[sa.Row[Any]], Mapping[str, Any] | None],
    *columns: InstrumentedAttribute[Any],
    batch_size: int = 10_000,
) -> int:
    """Call ``change`` on every row of ``model`` and write back what it returns.

    For changes that need Python per row. ``change`` gets a row holding the
    primary key and ``columns`` and returns the new values for that row, or
    None to leave it alone. Rows are read in primary-key order, one page of
    ``batch_size`` at a time (keyset paging, so every page is an index range
    scan), and each page's changes are written with one executemany (on
    MySQL and MariaDB, through a temporary table: see write()). Memory holds
    one page, whatever the size of the table. Returns the rows visited.
    """
    if offline():
        online_only_step(f"update_in_batches({model.__tablename__})", READS_ROWS)
        return 0
    key = primary_key(model)
    with migration_session() as session:
        total = session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        progress = Progress(model.__tablename__, total)
        for page in pages(session, key, columns, batch_size):
            changes = [
                {key.key: row[0], **values}
                for row in page
                if (values := change(row)) is not None
            ]
            if changes:
                write(session, model, key, changes)
            progress.advance(len(page))
        progress.finish()
    return progress.done


def write(
    session: Session,
    model: type[Any],
    key: InstrumentedAttribute[Any],
    changes: list[dict[str, Any]],
) -> None:
    """Write one page of changes, each a dict of the primary key and new values."""
    if session.get_bind().dialect.name not in ("mysql", "mariadb"):
        # ORM bulk UPDATE by primary key: one executemany per page (pipelined
        # by psycopg, in-process on SQLite). No objects are loaded, so there is
        # nothing to synchronize.
        session.execute(
            sa.update(model), changes, execution_options={"synchronize_session": False}
        )
        return
    # MySQL drivers send an executemany UPDATE one row per round trip, but
    # turn an executemany INSERT into multi-row INSERTs. So the page goes into
    # a temporary table and one UPDATE joins it in. Rows that set different
    # columns go in separate groups.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in changes:
        groups.setdefault(tuple(row), []).append(row)
    columns = sa.inspect(model).columns
    for names, rows in groups.items():
        with scratch_table(session, {name: columns[name] for name in names}) as page:
            session.execute(sa.insert(page), rows)
            new = {columns[name]: page.c[name] for name in names if name != key.key}
            on_key = columns[key.key] == page.c[key.key]
            session.execute(sa.update(model.__table__).values(new).where(on_key))


@contextmanager
def scratch_table(
    session: Session, columns: Mapping[str, sa.Column[Any]]
) -> Iterator[sa.Table]:
    """A temporary table of ``columns``, named by their keys, keyed by the first.

    An empty SELECT gives it the real columns' types and character sets. A
    temporary table belongs to this connection alone, and neither CREATE nor
    DROP TEMPORARY TABLE commits Alembic's transaction. The migrating user
    needs the CREATE TEMPORARY TABLES privilege (ALL on the database has it).
    """
    name = "update_in_batches_page"
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    shape = sa.select(*(c.label(k) for k, c in columns.items())).where(sa.false())
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {name} (PRIMARY KEY ({quote(next(iter(columns)))}))"
        f" {shape.compile(connection)}"
    )
    try:
        yield sa.Table(
            name, sa.MetaData(), *(sa.Column(k, c.type) for k, c in columns.items())
        )
    finally:
        connection.exec_driver_sql(f"DROP TEMPORARY TABLE {name}")


def primary_key(model: type[Any]) -> InstrumentedAttribute[Any]:
    mapper = sa.inspect(model)
    if len(mapper.primary_key) != 1:
        raise CommandError(
            f"update_in_batches needs a single-column primary key; "
            f"{model.__name__} has {len(mapper.primary_key)}."
        )
    return getattr(model, mapper.get_property_by_column(mapper.primary_key[0]).key)


def pages(
    session: Session,
    key: InstrumentedAttribute[Any],
    columns: Sequence[InstrumentedAttribute[Any]],
    size: int,
) -> Iterator[Sequence[sa.Row[Any]]]:
    """Pages of rows in ``key`` order, each starting after the last one seen.

    Each page is fetched whole before it is written, so the writes never race
    an open cursor (MySQL drivers cannot run a statement while one streams).
    """
    query = sa.select(key, *columns).order_by(key).limit(size)
    page = session.execute(query).all()
    while page:
        yield page
        page = session.execute(query.where(key > page[-1][0])).all()


class Progress:
    """Logs rows done, the total, the rate and the time left, now and then."""

    def __init__(self, table: str, total: int) -> None:
        self.table = table
        self.total = total
        self.done = 0
        self.batches = 0
        self.started = self.reported = time.monotonic()
        self.unreported = False

    def advance(self, rows: int) -> None:
        self.done += rows
        self.batches += 1
        self.unreported = True
        if time.monotonic() - self.reported >= PROGRESS_EVERY_SECONDS:
            self.report()

    def finish(self) -> None:
        if self.unreported or not self.done:
            self.report()

    def report(self) -> None:
        self.reported = time.monotonic()
        self.unreported = False
        rate = self.done / max(self.reported - self.started, 1e-9)
        left = max(self.total - self.done, 0) / rate if rate else 0.0
        log.info(
            "%s: %d of %d rows, %.0f rows/s, %.0f s left",
            self.table,
            self.done,
            self.total,
            rate,
            left,
        )


def offline() -> bool:
    """True under ``--sql``, where there is no database, only a SQL script."""
    return op.get_context().as_sql


def exact_unicode(length: int) -> Unicode:
    """Unicode text compared exactly: "Reds", "reds" and "Reds " all differ.

    SQLite and PostgreSQL compare text exactly already. The default collations
    of MySQL and MariaDB ignore case and trailing spaces, which would merge
    different names into one row and break unique constraints on them.
    """
    try:
        dialect = op.get_context().dialect
    except NameError:  # no migration runs: models.py, built into a new tenant
        return ExactUnicode(length)
    return _exact_on(dialect, length)


def _exact_on(dialect: sa.Dialect, length: int | None) -> Unicode:
    if dialect.name not in ("mysql", "mariadb"):
        return Unicode(length)
    collation = "utf8mb4_nopad_bin" if dialect.is_mariadb else "utf8mb4_0900_bin"
    return Unicode(length, collation=collation)


class ExactUnicode(sa.TypeDecorator):
    """``exact_unicode()`` in models.py: the collation follows the database
    the tables are created on (``make create-tenant`` builds from the models)."""

    impl = Unicode
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        return dialect.type_descriptor(_exact_on(dialect, self.impl.length))
