## The scaffold of every new revision, in two forms:
## - schema only: `make autorevision` (alembic revision --autogenerate) and
##   `alembic merge`: the operations autogenerate found, nothing else;
## - with a data step: `make revision` (`alembic revision -m`), which sets
##   data_step (migration_kit.environment): frozen models and commented
##   examples of the data step.
## Each form imports only what its code uses, so a new revision is ruff-clean
## as written; a commented example's imports are commented out with it.
<%!
    def operations(rendered):
        """Autogenerate's operations, without its "### commands ###" banner."""
        lines = rendered.splitlines()
        kept = [line for line in lines if not line.strip().startswith("# ###")]
        return "\n".join(kept).strip() or "pass"
%>\
"""${message | docstring}

Revision ID: ${up_revision}
Revises:${" " + comma(down_revision) if down_revision else ""}
Create Date: ${create_date}
% if data_step:

Data: what this revision does to existing rows, and how downgrade() undoes it.
% endif
"""

% if not data_step:
from collections.abc import Sequence
% if upgrades:

import sqlalchemy as sa
from alembic import op${"\n" + imports if imports else ""}
% endif
% else:
${frozen_imports if frozen_imports else ""}from collections.abc import Sequence

import sqlalchemy as sa
from migration_kit import NAMING_CONVENTION
% if frozen_models:
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
% else:
from sqlalchemy.orm import DeclarativeBase
% endif

# The steps commented out below use these: uncomment the ones your code needs
# (`.venv/bin/ruff check --fix` then sorts them in with the others).
# from alembic import op
# from migration_kit import done
# from migration_kit import exact_unicode
# from migration_kit import migration_session
# from migration_kit import squawk_ignore
# from migration_kit import update_in_batches
% if not frozen_models:
# from sqlalchemy.orm import Mapped, mapped_column
% endif
% endif

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}
% if not data_step:


def upgrade() -> None:
    ${operations(upgrades) if upgrades else "pass"}


def downgrade() -> None:
    ${operations(downgrades) if downgrades else "pass"}
% else:


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
# rules the schema cannot say (docs/changing-data.md, "Seeded rows"). A
# verify(session) function here states what the upgrade promises: it returns
# the rows that break it, and the tests run it after the upgrade on every
# backend (docs/changing-data.md, "Say what the upgrade promises").


def upgrade() -> None:
    # Schema: op.add_column(...), op.create_table(...). MySQL/MariaDB commit
    # each at once: so that a second run finishes a killed one, guard each with
    # `if not done("table", column=...)`. Names to join on or keep unique:
    # exact_unicode(n), not sa.Unicode(n) (docs/changing-data.md). On SQLite,
    # op.batch_alter_table("players", copy_from=Player.__table__) copies the
    # table as frozen here, so that `make sql` can render it.
    #
    # Data: a Session on Alembic's connection, working on the frozen models.
    # Alembic owns the transaction, so never commit; the block flushes.
    # Set-based statements (prefer these): the database does the work, as fast
    # for ten million rows as for ten, and `--sql` prints them.
    # with migration_session() as session:
    #     session.execute(
    #         sa.update(Player).where(Player.position == "").values(position=None)
    #     )
    #
    # Row by row, only when the change needs Python: update_in_batches reads
    # the given columns a page at a time in primary-key order and writes each
    # page with one statement (`--sql` cannot render it: it reads rows).
    # update_in_batches(
    #     Player, lambda player: {"name": player.name.strip()}, Player.name
    # )
    #
    # A large table the application writes to: migration_kit's backfill() in
    # a revision of its own commits batch by batch (docs/changing-data.md:
    # expand, backfill, contract).
    #
    # Breaking one of `make lint-migrations`' rules on purpose? Say why, then:
    # squawk_ignore("ban-drop-column")
    pass


def downgrade() -> None:
    # Undo the data step too, or say in the docstring why it cannot be undone.
    pass
% endif
