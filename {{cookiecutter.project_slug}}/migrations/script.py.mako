"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Data: what this revision does to existing rows, or "none".
"""

${frozen_imports if frozen_imports else ""}from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
${imports if imports else ""}
from {{ cookiecutter.package_name }}.data_migrations import (
    execute,
    update_in_batches,
)

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


class Base(DeclarativeBase):
    """This revision's own registry, so its frozen models stay its own."""

    metadata = sa.MetaData()


# Frozen models: only the tables and columns this revision reads or writes,
# exactly as they are at this revision. Never import the application's models:
# they describe the latest schema, and a revision importing them breaks the day
# a later revision renames or drops one of their columns.
% if frozen_models:
# Written by `make revision tables="..."` from the migrations up to the
# previous head; delete the columns and tables this revision does not use.
${frozen_models}
% else:
# `make revision m="..." tables="players teams"` writes them for you.
#
# class Player(Base):
#     __tablename__ = "players"
#
#     id: Mapped[int] = mapped_column(primary_key=True)
#     name: Mapped[str] = mapped_column(sa.Unicode(200))
#     position: Mapped[str | None] = mapped_column(sa.Unicode(200))
% endif


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}
    # Data, set-based (prefer this): one statement does the work inside the
    # database, as fast for ten million rows as for ten, and `--sql` prints it.
    # execute(
    #     sa.update(Player).where(Player.position == "").values(position=None)
    # )
    #
    # Data, row by row, only when the change needs Python. update_in_batches
    # reads the given columns in primary-key order, a page at a time, and
    # writes each page's new values with one statement; it logs progress.
    # update_in_batches(
    #     Player, lambda player: {"name": player.name.strip()}, Player.name
    # )
    #
    # Offline mode (`alembic upgrade --sql`) has no database to read: execute()
    # renders its statements, update_in_batches() stops with an error.


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
    # Undo the data step too, or say in the docstring why it cannot be undone.
