"""Two revisions a baked project runs as production would: an expand that adds
``players.rating`` and ``visits``, then a backfill that fills them 50 rows a
batch, each batch committed on its own; for tests that stop it half way."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .production import HEAD, alembic, execute, extra_revision, succeeded

PLAYERS, BATCH = 3_000, 50
EXPAND, BACKFILL = "0b0000000e01", "0b0000000e02"
ADD_RATING = """\
    op.add_column("players", sa.Column("rating", sa.Integer(), nullable=True))
    op.add_column("players", sa.Column("visits", sa.Integer(), server_default="0"))
"""
# visits + 1 is not idempotent: a row changed twice would show it.
RATE_PLAYERS = f"""\
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    from migration_kit import backfill

    class Base(DeclarativeBase):
        metadata = sa.MetaData()

    class Player(Base):
        __tablename__ = "players"

        id: Mapped[int] = mapped_column(primary_key=True)
        rating: Mapped[int | None]
        visits: Mapped[int]

    backfill(
        Player,
        {{"rating": Player.id * 2, "visits": Player.visits + 1}},
        pending=Player.rating.is_(None),
        batch_size={BATCH},
    )
"""
DONE = "SELECT count(*) FROM players WHERE rating IS NOT NULL"
WRONG = (
    "SELECT count(*) FROM players"
    " WHERE rating IS NULL OR rating <> id * 2 OR visits <> 1"
)


@contextmanager
def backfill_revisions(project: Path) -> Iterator[None]:
    """The expand and the backfill revision, on top of the sample's head."""
    with (
        extra_revision(project, EXPAND, HEAD, ADD_RATING),
        extra_revision(project, BACKFILL, EXPAND, RATE_PLAYERS),
    ):
        yield


def at_expand_with_players(project: Path, url: str) -> None:
    """``url`` at the expand revision, with PLAYERS players to backfill."""
    succeeded(alembic(project, url, "upgrade", EXPAND))
    values = ", ".join(f"({i}, 'player {i}')" for i in range(1, PLAYERS + 1))
    execute(url, f"INSERT INTO players (id, name) VALUES {values}")
