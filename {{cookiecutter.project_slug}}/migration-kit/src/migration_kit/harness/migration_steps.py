"""A small API to move a test database through the revision history.

    steps = MigrationSteps(engine)
    steps.upgrade("5d3e0a1c2b01")
    steps.insert("players", [{"name": "Ann", "team": "Reds"}])
    steps.upgrade("+1")
    assert steps.rows("teams") == [{"id": 1, "name": "Reds"}]

``step(script, upgrading)`` runs exactly one revision, up or down, whatever
the shape of the history: a merge's downgrade leaves both its parents as heads.

Tables are reflected from the database as they are at the current revision,
never taken from the application's models. Only a database the harness made
(``disposable_database``) is accepted: anything else is refused.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

from .. import history
from ..app_python import Plan, run_plan
from ..database import migration_engine, run_with_engine
from ..settings import alembic_config as project_alembic_config
from ..urls import shown
from . import app_revisions
from .disposable_database import NAME_PREFIX, created_here, migration_url


def alembic_config() -> Config:
    """The project's alembic.ini; logging is left to pytest."""
    return project_alembic_config()


@cache
def script_directory() -> ScriptDirectory:
    """The revision files, read once per run.

    Alembic's ``command.upgrade`` re-reads every revision file on each call,
    which would make a run quadratic in the number of revisions.
    """
    scripts = ScriptDirectory.from_config(alembic_config())
    if app_revisions.python():
        # Where they cannot be imported: read as text, run there.
        with app_revisions.read_as_text():
            history.load(scripts)
    return scripts


def revisions() -> list[Script]:
    """Every revision, each after its parents and what it depends_on."""
    return history.in_order(script_directory())


class NotDisposable(Exception):
    """The harness was handed a database it did not create."""


class MigrationSteps:
    """Upgrade, downgrade and read or write rows on one database."""

    def __init__(self, engine: sa.Engine) -> None:
        if not created_here(engine):
            raise NotDisposable(
                f"refusing to migrate {shown(engine.url)}: the harness "
                f"only migrates databases it created ({NAME_PREFIX}*), "
                "use the database or steps fixture"
            )
        self.engine = engine
        self.config = alembic_config()
        # Whether the last step failed after committing part of itself
        # (autocommit_block, backfill.py): SQLite and PostgreSQL then keep that part.
        self.partly_committed = False
        # The statements the last step ran in the application's Python.
        self.ran_there: list[str] = []

    def upgrade(self, revision: str = "head") -> None:
        self._run(revision, upgrading=True)

    def downgrade(self, revision: str = "-1") -> None:
        self._run(revision, upgrading=False)

    def step(self, script: Script, upgrading: bool) -> None:
        """Run this one revision's upgrade or downgrade, and nothing else.

        The database must be at its parents (upgrade) or have it as a head
        (downgrade); ``alembic downgrade -1`` cannot step down a merge.
        """
        self._steps([script], upgrading)

    def upgrade_exactly(self, scripts: list[Script]) -> None:
        """Upgrade these revisions, in this order, in one run: each one's
        parents must be there or come before it in the list."""
        self._steps(scripts, True)

    def _steps(self, scripts: list[Script], upgrading: bool) -> None:
        if scripts:
            names = [script.revision for script in scripts]
            self._migrate(Plan(names[-1], upgrading, names))

    def current(self) -> set[str]:
        if "alembic_version" not in self.table_names():
            return set()
        with self.engine.connect() as connection:
            query = sa.text("SELECT version_num FROM alembic_version")
            return set(connection.scalars(query))

    def table_names(self) -> set[str]:
        return set(sa.inspect(self.engine).get_table_names())

    def table(self, name: str) -> sa.Table:
        """The table as the database has it now: its columns and primary key."""
        known = _known_tables(self.engine)
        if name not in known:
            inspector = sa.inspect(self.engine)
            key = inspector.get_pk_constraint(name)["constrained_columns"]
            columns = [
                sa.Column(c["name"], c["type"], primary_key=c["name"] in key)
                for c in inspector.get_columns(name)
            ]
            known[name] = sa.Table(name, sa.MetaData(), *columns)
        return known[name]

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            with self.engine.begin() as connection:
                connection.execute(sa.insert(self.table(table)), rows)

    def delete(self, table: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.delete(self.table(table)))

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of ``table``, ordered by primary key, as dicts."""
        reflected = self.table(table)
        query = sa.select(reflected).order_by(*reflected.primary_key.columns)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def _run(self, revision: str, upgrading: bool) -> None:
        """What ``alembic upgrade/downgrade`` do, on the cached script directory."""
        self._migrate(Plan(revision, upgrading))

    def _migrate(self, plan: Plan) -> None:
        """Run env.py with ``plan`` choosing the steps, on this database."""
        self.ran_there = []
        if app_revisions.python():
            self._migrate_there(plan)
            return

        def migrate(engine: sa.Engine) -> None:
            self.partly_committed = False
            with engine.connect() as connection:
                commits: list[sa.Connection] = []  # one per commit on it
                sa.event.listen(connection, "commit", commits.append)
                try:
                    run_plan(self.config, script_directory(), connection, plan)
                except BaseException:
                    self.partly_committed = bool(commits)
                    raise
                else:
                    connection.commit()
                finally:
                    as_if_new(connection)

        # An async test URL: migrate through its driver, as `alembic` would.
        url = migration_url(self.engine)
        if url is None:
            migrate(self.engine)
        else:
            _known_tables(self.engine).clear()  # its statements go unseen
            run_with_engine(migration_engine(url), migrate)

    def _migrate_there(self, plan: Plan) -> None:
        """In the application's Python (app_revisions.py)."""
        _known_tables(self.engine).clear()  # its statements go unseen here
        reply = app_revisions.migrate(self.engine.url, plan)
        self.partly_committed = reply["committed"]
        self.ran_there = reply["ran"]
        if "failure" in reply:
            raise app_revisions.raised(reply["failure"])

    @property
    def elsewhere(self) -> bool:
        """Whether the steps run through another engine than ``self.engine``
        (an async URL, the application's Python), whose statements go unseen."""
        return bool(app_revisions.python() or migration_url(self.engine))


# Per engine, the tables rows(), insert() and delete() reflected, kept until
# a statement on the engine changes a schema: a test reads its tables between
# every two steps, and reflecting one in full took eight catalog queries on
# PostgreSQL (the sample's property test spent two thirds of its time there).
_TABLES: "WeakKeyDictionary[sa.Engine, dict[str, sa.Table]]" = WeakKeyDictionary()
SCHEMA_CHANGE = re.compile(r"\s*(?:CREATE|ALTER|DROP|RENAME|COMMENT)\b", re.IGNORECASE)


def _known_tables(engine: sa.Engine) -> dict[str, sa.Table]:
    if engine not in _TABLES:
        _TABLES[engine] = {}
        sa.event.listen(engine, "after_cursor_execute", _forget_tables)
    return _TABLES[engine]


def _forget_tables(connection: sa.Connection, cursor, statement: str, *_: Any) -> None:
    if SCHEMA_CHANGE.match(statement):
        _TABLES.get(connection.engine, {}).clear()


def as_if_new(connection: sa.Connection) -> None:
    """Leave nothing of this step's session to the next, which must start as
    each `alembic` command does, on a new connection: what a revision set on
    its session (SET FOREIGN_KEY_CHECKS = 0, search_path) must not reach it."""
    dialect = connection.dialect
    if dialect.name == "postgresql" and not dialect.is_async:
        with suppress(sa.exc.DBAPIError):
            connection.rollback()
            # A tenth of what a new connection costs (2 ms), on every step.
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("DISCARD ALL")
            return
    connection.invalidate()


@contextmanager
def one_line_failure() -> Iterator[None]:
    """A revision that fails is one line naming it (env.py), not a traceback."""
    try:
        yield
    except CommandError as error:
        raise pytest.fail.Exception(str(error), pytrace=False) from None
