"""${message}

Revision ID: ${up_revision}
Revises:${" " + comma(down_revision) if down_revision else ""}
Create Date: ${create_date}

Data: what this revision does to existing rows, or "none".
"""

${frozen_imports if frozen_imports else ""}from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
${imports if imports else ""}
from {{ cookiecutter.package_name }}.data_migrations import (
    NAMING_CONVENTION,
    exact_unicode,
    migration_session,
    update_in_batches,
)
from {{ cookiecutter.package_name }}.lint import squawk_ignore
from {{ cookiecutter.package_name }}.rerun import done

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


class Base(DeclarativeBase):
    """This revision's own registry, so its frozen models stay its own."""

    # The project's constraint names, so a frozen table names its constraints
    # as the database does and can be a batch step's copy_from= on SQLite.
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


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

# `make test-migrations` fills every empty table with generated rows before
# this upgrade; a seed_rows(rows) function here can add or replace them for
# rules the schema cannot say (migrations/README.md, "Seeded rows").


def upgrade() -> None:
    # MySQL/MariaDB commit each schema change at once: to let a second run
    # finish a killed one, guard each with `if not done("table", column=...)`.
    # Names to join on or keep unique: exact_unicode(n) (migrations/README.md).
    ${upgrades if upgrades else "pass"}
    # Data: a Session on Alembic's connection, working on the frozen models.
    # Alembic owns the transaction, so never commit; the block flushes.
    with migration_session() as session:
        # Set-based statements (prefer these): the database does the work, as
        # fast for ten million rows as for ten, and `--sql` prints them.
        # session.execute(
        #     sa.update(Player).where(Player.position == "").values(position=None)
        # )
        pass
    # Row by row, only when the change needs Python: update_in_batches reads
    # the given columns a page at a time in primary-key order and writes each
    # page with one statement (`--sql` cannot render it: it reads rows).
    # update_in_batches(
    #     Player, lambda player: {"name": player.name.strip()}, Player.name
    # )
    #
    # A large table the application writes to: backfill() in a revision of its
    # own commits batch by batch (migrations/README.md: expand, backfill,
    # contract).
    #
    # Breaking one of `make lint-migrations`' rules on purpose? Say why, then:
    # squawk_ignore("ban-drop-column")


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
    # Undo the data step too, or say in the docstring why it cannot be undone.
