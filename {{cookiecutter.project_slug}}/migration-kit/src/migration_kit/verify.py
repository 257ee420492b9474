"""A revision's ``verify``: what its upgrade promises about the data, checked.

A revision may define, beside its frozen models::

    def verify(session, before):
        '''Each player points at the team of exactly its former name.'''
        ...  # yield (or return) every row that breaks the promise

``session`` is a Session on the database just upgraded; ``before`` (only when
the function takes it) maps each table of the revision's frozen models to its
rows as they were before the upgrade. It returns the rows that break the
promise: a SELECT of them, or any iterable; nothing means kept.

The test harness runs it after each upgrade, on the seeded rows of every
backend. In production it runs when asked: MIGRATION_VERIFY=on make migrate
checks each revision right after its upgrade, inside its transaction, so a
broken promise fails the revision (and rolls it back where the database can,
as sqitch's verify does). ``before`` reads those tables whole there: keep it
to tables that fit in memory, or write ``verify(session)`` on the result alone.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from alembic.util import CommandError
from sqlalchemy.orm import Session

VARIABLE = "MIGRATION_VERIFY"
Rows = Mapping[str, list[dict[str, Any]]]


def hook(module: ModuleType) -> Any:
    """The revision's verify function, or None."""
    found = getattr(module, "verify", None)
    return found if callable(found) else None


def wants_before(verify: Any) -> bool:
    return len(inspect.signature(verify).parameters) >= 2


def frozen_tables(module: ModuleType) -> list[str]:
    """The tables the revision's frozen models (its MetaData) name."""
    names: list[str] = []
    for value in vars(module).values():
        metadata = getattr(value, "metadata", value)
        if isinstance(metadata, sa.MetaData):
            names += [t for t in metadata.tables if t not in names]
    return names


def rows_before(connection: sa.Connection, module: ModuleType) -> Rows | None:
    """What ``before`` holds for this revision's verify; None when not needed."""
    verify = hook(module)
    if verify is None or not wants_before(verify):
        return None
    there = set(sa.inspect(connection).get_table_names())
    rows = {}
    for table in (t for t in frozen_tables(module) if t in there):
        reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
        query = sa.select(reflected).order_by(*reflected.primary_key.columns)
        rows[table] = [dict(row) for row in connection.execute(query).mappings()]
    return rows


def first_broken(
    connection: sa.Connection, module: ModuleType, before: Rows | None
) -> str | None:
    """The first row the revision's verify reports, as text; None when kept."""
    verify = hook(module)
    if verify is None:
        return None
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        found = verify(session, before) if wants_before(verify) else verify(session)
        if isinstance(found, sa.Select):
            found = session.execute(found.limit(1)).mappings()
        for row in found if isinstance(found, Iterable) else ():
            return shown(row)
    return None


def shown(row: Any) -> str:
    if isinstance(row, str):
        return row
    if isinstance(row, sa.Row):
        row = row._asdict()
    if isinstance(row, Mapping):
        values = {key: _short(value) for key, value in row.items()}
        return json.dumps(values, default=str, ensure_ascii=False)
    return repr(row)


def _short(value: Any, limit: int = 40) -> Any:
    """A long text cut short: the line names the row, it does not dump it."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[: limit - 1]}…({len(value)} chars)"
    return value


def requested() -> bool:
    """Whether MIGRATION_VERIFY asks for verify() in production; bad: one line."""
    raw = os.environ.get(VARIABLE, "").strip().lower()
    if raw in ("", "0", "off", "no", "false"):
        return False
    if raw in ("1", "on", "yes", "true"):
        return True
    raise CommandError(
        f"{VARIABLE}={raw!r} is not on or off: use MIGRATION_VERIFY=on to run "
        "each revision's verify() after its upgrade."
    )


def wrap_upgrades(scripts: Iterable[Any]) -> None:
    """Make each revision that has a verify check it right after its upgrade.

    Alembic looks ``upgrade`` up on the module when it runs the step, so the
    wrapper runs in the revision's own transaction, and a failure names it.
    """
    for script in scripts:
        module = script.module
        if hook(module) is None or getattr(module.upgrade, "verified", False):
            continue
        module.upgrade = _verified(module, module.upgrade, script.revision)


def _verified(module: ModuleType, upgrade: Any, revision: str) -> Any:
    from alembic import op

    @functools.wraps(upgrade)
    def verified_upgrade() -> None:
        connection = op.get_bind()
        before = rows_before(connection, module)
        upgrade()
        broken = first_broken(connection, module, before)
        if broken is not None:
            kept = (
                "MySQL/MariaDB keep its schema changes, so fix the data and "
                "make migrate again"
                if connection.dialect.name == "mysql"
                else "it was rolled back"
            )
            raise CommandError(
                f"revision {revision} broke what its verify() promises ({kept}; "
                f"{VARIABLE}=off skips the check): {broken}"
            )

    verified_upgrade.verified = True  # type: ignore[attr-defined]
    return verified_upgrade
