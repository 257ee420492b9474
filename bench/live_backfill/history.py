"""The bench's migration history: revision 1, an expand revision, a backfill.

Revision 1 is the baked project's own (players). The expand revision adds the
nullable column ``rating``; the backfill revision fills it with ``id % 1000``,
written one of two ways:
- ``in-transaction``: ``update_in_batches`` computes each row in Python, and
  every row it writes stays locked until the revision's transaction commits;
- ``online``: ``backfill`` runs one set-based UPDATE per key range of pending
  rows, each batch committed on its own.
Each variant is an alembic.ini whose version_locations point at a copy of the
history, so it runs through the project's own ``alembic`` command and env.py.
"""

from pathlib import Path

from runner import PLAYERS_REVISION as PLAYERS
from runner import history_from_revision_1

EXPAND = "1ee0000000a1"
BACKFILL = "1ee0000000a2"
RATING = "id % 1000"  # what every row's rating must be afterwards, in SQL

HEADER = '''"""{title}

Revision ID: {revision}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
{imports}
revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


class Base(DeclarativeBase):
    metadata = sa.MetaData()


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating: Mapped[int | None]

'''

EXPAND_BODY = """
def upgrade() -> None:
    op.add_column("players", sa.Column("rating", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("players", "rating")
"""

# Each contender: the import it needs, and its upgrade().
STEPS = {
    "in-transaction": (
        "\nfrom migration_kit import update_in_batches\n",
        """
def upgrade() -> None:
    update_in_batches(Player, lambda row: {"rating": row.id % 1000})
""",
    ),
    "online": (
        "\nfrom migration_kit import backfill\n",
        """
def upgrade() -> None:
    backfill(
        Player,
        {"rating": Player.id % 1000},
        pending=Player.rating.is_(None),
        batch_size=BATCH_SIZE,
    )
""",
    ),
}

DOWNGRADE = """

def downgrade() -> None:
    op.execute(sa.update(Player).values(rating=None))
"""


def history(
    project: Path, package: str, contender: str, batch_size: int = 1_000
) -> Path:
    """An alembic.ini for ``contender``'s history, written into ``project``.

    ``batch_size`` is the online backfill's (1,000 is backfill()'s default).
    """
    versions, ini = history_from_revision_1(project, f"bench-live-{contender}")
    expand = HEADER.format(
        title="Add players.rating.", revision=EXPAND, down=PLAYERS, imports=""
    )
    (versions / f"{EXPAND}_add_rating.py").write_text(expand + EXPAND_BODY)
    imports, upgrade = STEPS[contender]
    step = HEADER.format(
        title=f"Backfill players.rating ({contender}).",
        revision=BACKFILL,
        down=EXPAND,
        imports=imports.format(package=package),
    )
    upgrade = upgrade.replace("BATCH_SIZE", str(batch_size))
    (versions / f"{BACKFILL}_backfill_rating.py").write_text(step + upgrade + DOWNGRADE)
    return ini
