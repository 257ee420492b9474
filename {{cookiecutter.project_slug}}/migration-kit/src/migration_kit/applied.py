"""What a database ran: each applied revision's fingerprint, beside alembic_version.

``make migrate`` keeps the table ``alembic_version_sums`` (revision id,
fingerprint; ledger.py): a revision's row is written in the same transaction
that moves alembic_version, so the two agree even where DDL commits at once
(MySQL/MariaDB), and a killed run leaves neither. Before a run, a revision
the database ran whose file has changed since stops it with one line, unless
``MIGRATION_ACCEPT_CHANGED`` names it. A database without fingerprints (made
before this table existed) is adopted quietly: the files as they are now are
taken as what it ran. A squashed revision (``replaces``, squash.py) takes
over the rows of the revisions it replaced, quietly too.

Only runs that connect through env.py keep the table: the test harness's
disposable databases do not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

from .database import commit
from .frozen_models import quiet_alembic_log
from .history import shown
from .ledger import fingerprint

TABLE = "alembic_version_sums"
ACCEPT_VARIABLE = "MIGRATION_ACCEPT_CHANGED"
# Set on a connection whose run should keep the table (environment.py), and
# once it does (``prepare``), for ``record_step``.
WANTED = "migration_kit.applied.wanted"
KEEPING = "migration_kit.applied"
# The commands that move alembic_version.
MOVING = {"upgrade", "downgrade", "stamp"}

_metadata = sa.MetaData()
sums = sa.Table(
    TABLE,
    _metadata,
    sa.Column("revision_id", sa.String(64), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
)


def prepare(connection: sa.Connection, script: ScriptDirectory) -> None:
    """Before a run that moves alembic_version: create the table, adopt an old
    database, refuse a revision changed since it ran; then commit."""
    sums.create(connection, checkfirst=True)
    recorded = {row[0]: row[1] for row in connection.execute(sa.select(sums))}
    with quiet_alembic_log():  # its "Context impl" lines come again in the run
        heads = MigrationContext.configure(connection).get_current_heads()
    _refuse_squashed_away(script, heads)
    if recorded:
        _check(connection, script, recorded)
    elif heads:
        _adopt(connection, script, heads)
    commit(connection)  # SQLAlchemy 1.4's Connection too (database.py)
    connection.info[KEEPING] = True


def _refuse_squashed_away(script: ScriptDirectory, heads: tuple[str, ...]) -> None:
    """A database still at a revision that ``make squash`` replaced."""
    files = list(script.walk_revisions())
    known = {found.revision for found in files}
    for head in set(heads) - known:
        for found in files:
            if head in replaces(found):
                raise CommandError(
                    f"this database is at {head}, which make squash replaced with "
                    f"{found.revision}: upgrade it to {found.revision} with the "
                    "release before the squash first (docs/history.md)."
                )


def _adopt(connection: sa.Connection, script: ScriptDirectory, heads) -> None:
    try:
        ran = list(script.iterate_revisions(heads, "base"))
    except CommandError:
        return  # a revision no file has: alembic's own run says so
    connection.execute(
        sums.insert(), [_row(found) for found in ran if found is not None]
    )


def _check(
    connection: sa.Connection, script: ScriptDirectory, recorded: dict[str, str]
) -> None:
    accepted = set(os.environ.get(ACCEPT_VARIABLE, "").replace(",", " ").split())
    for found in map(script.revision_map.get_revision, _known(script, recorded)):
        if fingerprint(found.path) == recorded[found.revision]:
            continue
        if found.revision not in accepted and not replaces(found):
            raise CommandError(
                f"revision {found.revision} ({shown_path(found)}) changed "
                "since this database ran it, so the database and the file no "
                "longer agree: undo the change and put it in a new revision, "
                f"or, if this database needs nothing from it, run again with "
                f"{ACCEPT_VARIABLE}={found.revision}"
            )
        gone = sums.c.revision_id.in_(replaces(found))
        connection.execute(sums.delete().where(gone))
        _write(connection, found)


def _known(script: ScriptDirectory, recorded: dict[str, str]) -> list[str]:
    """The recorded revisions that a file still has (not squashed away)."""
    files = {found.revision for found in script.walk_revisions()}
    return [rev for rev in recorded if rev in files]


def replaces(found: Script) -> tuple[str, ...]:
    """The revisions a squashed revision stands for (squash.py writes them)."""
    return tuple(getattr(found.module, "replaces", ()))


def record_step(ctx: Any, step: Any, **_: Any) -> None:
    """``on_version_apply``: inside the step's transaction, beside alembic_version."""
    connection = ctx.connection
    if connection is None or not connection.info.get(KEEPING):
        return
    ids = list(step.up_revision_ids)
    connection.execute(sums.delete().where(sums.c.revision_id.in_(ids)))
    if step.is_upgrade:
        revisions = step.revision_map.get_revisions(ids)
        connection.execute(sums.insert(), [_row(found) for found in revisions])


def _write(connection: sa.Connection, found: Script) -> None:
    connection.execute(sums.delete().where(sums.c.revision_id == found.revision))
    connection.execute(sums.insert(), [_row(found)])


def _row(found: Script) -> dict[str, str]:
    return {"revision_id": found.revision, "fingerprint": fingerprint(found.path)}


def shown_path(found: Script) -> str:
    return shown(Path(found.path))
