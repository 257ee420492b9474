"""Backfill a large, live table without holding its rows locked.

Inside a revision every statement runs in the revision's one transaction, so
an UPDATE of ten million rows keeps each of them locked until the revision
commits, and the application's writes to those rows wait for the whole run.
``backfill`` instead commits each batch on its own (Alembic's
``autocommit_block``): a row stays locked for one batch at most.

That makes the revision a series of commits, not one: killed half way, the
database keeps the batches done, and ``alembic upgrade head`` runs the whole
revision again. So give a backfill a revision of its own (expand: add the
column; backfill; contract: constrain it, each its own revision), and say
which rows still need it (``pending``): a new run skips the rows done, and no
row is changed twice. A failure says how far it got (errors.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

from .data_migrations import Progress, offline, primary_key
from .errors import PartlyCommitted
from .offline import online_only_step

PAUSE_VARIABLE = "MIGRATION_BACKFILL_PAUSE"
# Back to back, MySQL/MariaDB's batches stall the application's writes now and
# then for a few hundred ms (bench/live_backfill: p99 119-344 ms); 20 ms
# between batches brought p99 to 41 ms. PostgreSQL needed no pause (p99 61 ms).
DEFAULT_PAUSE = {"mysql": 0.02, "mariadb": 0.02}
# The harness's crash check (harness/crash_rerun.py) stops a backfill at a
# batch boundary: it watches each committed batch's row count, and on a few
# seeded rows asks for batches small enough to have boundaries.
BATCH_WATCHERS: list[Callable[[int], None]] = []
BATCH_SIZE_IN_TESTS: list[int] = []


def backfill(
    model: type[Any],
    values: Mapping[str, Any],
    *,
    pending: sa.ColumnElement[bool],
    batch_size: int = 1_000,
    pause: float | None = None,
) -> int:
    """Set ``values`` on every row where ``pending`` holds, a committed batch at a time.

    ``values`` maps column names to values or SQL expressions of the row's own
    columns (``{"rating": Player.wins * 10}``); ``pending`` must turn false once
    a row is done (``Player.rating.is_(None)``). Rows go in primary-key order,
    ``batch_size`` per UPDATE, each UPDATE its own transaction, with ``pause``
    seconds between batches (default: MIGRATION_BACKFILL_PAUSE, else 0.02 on
    MySQL/MariaDB and 0 elsewhere) to leave the database room for the
    application. Progress is logged with the rate
    and the time left. Returns the rows changed by this run.
    """
    if offline():
        why = "commits batch by batch on a live database, which --sql cannot render"
        online_only_step(f"backfill({model.__tablename__})", why)
        return 0
    key = primary_key(model)
    batch_size = BATCH_SIZE_IN_TESTS[-1] if BATCH_SIZE_IN_TESTS else batch_size
    wait = pause_seconds(pause, op.get_context().dialect.name)
    progress = Progress(model.__tablename__, 0)
    # Commits what the revision did so far; every statement below commits itself.
    with op.get_context().autocommit_block(), _failing_after(progress):
        connection = op.get_bind()
        left = sa.select(sa.func.count()).select_from(model).where(pending)
        progress.total = connection.scalar(left) or 0
        for first, last in batches(connection, key, pending, batch_size):
            done = connection.execute(
                sa.update(model)
                .where(key.between(first, last), pending)
                .values(values)
                .execution_options(synchronize_session=False)
            ).rowcount
            progress.advance(done)
            for watch in BATCH_WATCHERS:
                watch(done)
            time.sleep(wait)
        progress.finish()
    return progress.done


@contextmanager
def _failing_after(progress: Progress) -> Iterator[None]:
    """A failure says how many batches and rows were committed before it."""
    try:
        yield
    except Exception as error:
        batches = f"{progress.batches} batch" + ("" if progress.batches == 1 else "es")
        rows = f"{progress.done:,} of {progress.total:,} rows"
        raise PartlyCommitted(
            f"backfill({progress.table}) had committed {batches} ({rows}), "
            "which stay committed, as does what the revision ran before it"
        ) from error


def batches(
    connection: sa.Connection,
    key: Any,
    pending: sa.ColumnElement[bool],
    size: int,
) -> Iterator[tuple[Any, Any]]:
    """The first and last key of each batch of ``size`` pending rows, in order.

    Each batch is found after the last one (keyset paging: an index range scan
    on the primary key), so rows done by an earlier run are skipped, not read.
    """
    query = sa.select(key).where(pending).order_by(key).limit(size)
    keys = connection.scalars(query).all()
    while keys:
        yield keys[0], keys[-1]
        keys = connection.scalars(query.where(key > keys[-1])).all()


def pause_seconds(pause: float | None, dialect: str = "") -> float:
    """The pause between batches: the revision's, the environment's, the dialect's."""
    if pause is not None:
        return pause
    raw = os.environ.get(PAUSE_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_PAUSE.get(dialect, 0.0)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 60:
        raise CommandError(
            f"{PAUSE_VARIABLE}={raw!r} is not a pause between batches: "
            "use seconds from 0 to 60, e.g. 0.05."
        )
    return seconds
