"""Create players.

Revision ID: 5d3e0a1c2b01
Revises:
Create Date: 2026-01-01 00:00:00

Data: none; the table starts empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from migration_kit import done, exact_unicode

revision: str = "5d3e0a1c2b01"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Skipped if a killed run made it already: MySQL/MariaDB commit it at once.
    if done("players"):
        return
    op.create_table(
        "players",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Unicode(200), nullable=False),
        sa.Column("position", sa.Unicode(200), nullable=True),
        # Team names are compared exactly when revision 2 turns them into rows.
        sa.Column("team", exact_unicode(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_players")),
    )


def downgrade() -> None:
    op.drop_table("players")
