"""backfill: every pending row once, each batch committed on its own, resumable."""

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.util import CommandError
from migration_kit import backfills as backfill_module
from migration_kit.backfills import backfill
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROWS = 25


class Base(DeclarativeBase):
    metadata = sa.MetaData()


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    wins: Mapped[int]
    rating: Mapped[int | None]
    # Not idempotent on purpose: a row changed twice would show it.
    visits: Mapped[int] = mapped_column(default=0)


def rate_players() -> int:
    return backfill(
        Player,
        {"rating": Player.wins * 10, "visits": Player.visits + 1},
        pending=Player.rating.is_(None),
        batch_size=4,
        pause=0,
    )


@pytest.fixture
def players(database: sa.Engine) -> sa.Engine:
    Base.metadata.create_all(database)
    rows = [{"id": i, "wins": i, "rating": None} for i in range(1, ROWS + 1)]
    # One player rated already: the backfill must leave it alone.
    rows[6]["rating"] = -1
    with database.begin() as connection:
        connection.execute(sa.insert(Player), rows)
    return database


def run_in_revision(engine: sa.Engine, step: Callable[[], Any]) -> Any:
    """Run ``step`` as Alembic runs an upgrade(): in the revision's transaction."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"transaction_per_migration": True}
        )
        with Operations.context(context), context.begin_transaction(True):
            return step()


def table(engine: sa.Engine) -> list[tuple[int, int | None, int]]:
    with engine.connect() as connection:
        query = sa.select(Player.id, Player.rating, Player.visits).order_by(Player.id)
        return [tuple(row) for row in connection.execute(query)]


def expected() -> list[tuple[int, int | None, int]]:
    return [(i, -1 if i == 7 else i * 10, 0 if i == 7 else 1) for i in range(1, 26)]


def test_changes_every_pending_row_once(players: sa.Engine) -> None:
    changed = run_in_revision(players, rate_players)

    assert changed == ROWS - 1
    assert table(players) == expected()


def test_batches_stay_committed_and_a_new_run_finishes_the_rest(
    players: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = 0

    def crash_after_two_batches(_seconds: float) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(backfill_module.time, "sleep", crash_after_two_batches)
    with pytest.raises(KeyboardInterrupt):
        run_in_revision(players, rate_players)
    # Two batches of four committed, though the revision itself failed.
    done = [row for row in table(players) if row[2] == 1]
    assert [row[0] for row in done] == [1, 2, 3, 4, 5, 6, 8, 9]

    monkeypatch.undo()
    assert run_in_revision(players, rate_players) == ROWS - 1 - len(done)
    assert table(players) == expected()


def test_refuses_offline_mode_with_one_line() -> None:
    offline = MigrationContext.configure(dialect_name="sqlite", opts={"as_sql": True})

    with Operations.context(offline), pytest.raises(CommandError) as error:
        rate_players()

    assert "backfill(players) commits batch by batch" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("value", ["fast", "-1", "61", "nan"])
def test_bad_pause_setting_is_one_line(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(backfill_module.PAUSE_VARIABLE, value)

    with pytest.raises(CommandError) as error:
        backfill_module.pause_seconds(None)

    assert str(error.value) == (
        f"MIGRATION_BACKFILL_PAUSE={value!r} is not a pause between batches: "
        "use seconds from 0 to 60, e.g. 0.05."
    )


def test_pause_defaults_per_dialect_and_the_environment_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(backfill_module.PAUSE_VARIABLE, raising=False)
    assert backfill_module.pause_seconds(None, "mariadb") == 0.02
    assert backfill_module.pause_seconds(None, "postgresql") == 0

    monkeypatch.setenv(backfill_module.PAUSE_VARIABLE, "0")
    assert backfill_module.pause_seconds(None, "mysql") == 0
    assert backfill_module.pause_seconds(0.5, "mysql") == 0.5
