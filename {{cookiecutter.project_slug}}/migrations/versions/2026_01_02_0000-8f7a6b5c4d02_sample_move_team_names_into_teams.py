"""Move players.team into a teams table.

Revision ID: 8f7a6b5c4d02
Revises: 5d3e0a1c2b01
Create Date: 2026-01-02 00:00:00

Data: creates one team per distinct players.team name and points each player
at the team with exactly its former name; players without a team keep none.
Downgrade writes each player's team name back and drops teams.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from migration_kit import done, exact_unicode, execute, squawk_ignore
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

revision: str = "8f7a6b5c4d02"
down_revision: str | Sequence[str] | None = "5d3e0a1c2b01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class Base(DeclarativeBase):
    """This revision's own registry, so its frozen models stay its own."""

    metadata = sa.MetaData()


# Frozen models: the tables as this revision sees them while it moves the data,
# when players has both the old team column and the new team_id.
class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(100))


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str | None] = mapped_column(sa.Unicode(100))
    team_id: Mapped[int | None] = mapped_column()


def upgrade() -> None:
    # MySQL/MariaDB commit each schema change as it runs: after a killed run,
    # running this again skips every step already done (rerun.py).
    if not done("teams"):
        op.create_table(
            "teams",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", exact_unicode(100), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
            sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
        )
    if not done("players", column="team_id"):
        with op.batch_alter_table(
            "players", copy_from=players_table(team_column())
        ) as batch_op:
            batch_op.add_column(team_id_column())
    # Once team is dropped, a killed run had moved every name already.
    names_moved = done("players", dropped_column="team")
    if not names_moved:
        execute(insert_teams(), fill_team_ids())
    # The index and the foreign key come after the data: present during the
    # UPDATE, they would be maintained and checked row by row, several times
    # slower than building them once. On SQLite one batch rebuilds the table
    # once for all three changes.
    # Dropping team is deliberate: the names now live in teams, and the
    # application stops reading players.team before this revision is deployed.
    squawk_ignore("ban-drop-column")
    with op.batch_alter_table(
        "players", copy_from=players_table(team_column(), team_id_column())
    ) as batch_op:
        if not names_moved:
            batch_op.drop_column("team")
        link_team_id(batch_op)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        rebuild_players_with_team_names()
    else:
        # The key and the index go before the data, as they came after it in
        # upgrade(): the UPDATE below writes every row, and each write would
        # update the index too (on PostgreSQL, one entry per new row version).
        unlink_team_id()
        op.add_column("players", team_column())
        execute(fill_team_names())
        op.drop_column("players", "team_id")
    op.drop_table("teams")


def link_team_id(batch_op: BatchOperations) -> None:
    # The index comes before the foreign key so MySQL uses it instead of
    # creating one of its own that the models would not know about.
    # Plain CREATE INDEX and a validated foreign key lock players while they
    # scan it, which is fine for the sample's small table. On a big, busy
    # table create the index CONCURRENTLY (in op.get_context().autocommit_block())
    # and add the key NOT VALID, then VALIDATE it in a later revision.
    squawk_ignore(
        "require-concurrent-index-creation",
        "constraint-missing-not-valid",
        "adding-foreign-key-constraint",
    )
    if not done("players", index="ix_players_team_id"):
        batch_op.create_index(op.f("ix_players_team_id"), ["team_id"])
    if not done("players", foreign_key="fk_players_team_id_teams"):
        batch_op.create_foreign_key(
            op.f("fk_players_team_id_teams"), "teams", ["team_id"], ["id"]
        )


def unlink_team_id() -> None:
    """Drop what link_team_id() added: the foreign key, then its index."""
    # MySQL needs the key gone before the index it uses.
    op.drop_constraint(op.f("fk_players_team_id_teams"), "players", type_="foreignkey")
    op.drop_index(op.f("ix_players_team_id"), table_name="players")


def rebuild_players_with_team_names() -> None:
    """SQLite: build players anew from a SELECT that joins each team's name in.

    SQLite drops a column by copying the table, and a batch copy moves columns,
    not expressions: an UPDATE before it would write every row twice. SQLite's
    own procedure writes them once: a new table filled by INSERT ... SELECT,
    then it takes the old one's place (without team_id, its index and its key).
    """
    rebuilt = op.create_table("_players_rebuilt", *players_schema(team_column()))
    old = players_table(team_id_column())
    rows = sa.select(old.c.id, old.c.name, old.c.position, team_name_of(old.c.team_id))
    execute(sa.insert(rebuilt).from_select(rebuilt.columns.keys(), rows))
    op.drop_table("players")
    op.rename_table("_players_rebuilt", "players")


def insert_teams() -> sa.Insert:
    """One team per distinct team name that has no team yet.

    On a first run that is every name; a run killed after this INSERT
    committed (MySQL/MariaDB) finds them all there and adds none.
    """
    # Distinct first: the check then runs once per name, not once per player.
    names = (
        sa.select(Player.team.label("name"))
        .where(Player.team.is_not(None))
        .distinct()
        .subquery()
    )
    new = sa.select(names.c.name).where(~sa.exists().where(Team.name == names.c.name))
    return sa.insert(Team).from_select(["name"], new)


def fill_team_ids() -> sa.Update:
    """Point every player at the team called exactly its former team name.

    PostgreSQL and MySQL join teams into the UPDATE (UPDATE ... FROM, or a
    multi-table UPDATE), which touches only players that have a team. SQLite
    runs the correlated subquery faster than its own UPDATE ... FROM.
    """
    if joins_in_update():
        return sa.update(Player).values(team_id=Team.id).where(Team.name == Player.team)
    return sa.update(Player).values(team_id=team_id_of(Player.team))


def fill_team_names() -> sa.Update:
    """Write each player's team name back from the team it points at."""
    if joins_in_update():
        return sa.update(Player).values(team=Team.name).where(Team.id == Player.team_id)
    return sa.update(Player).values(team=team_name_of(Player.team_id))


def joins_in_update() -> bool:
    return op.get_context().dialect.name != "sqlite"


def players_table(*columns: sa.schema.SchemaItem) -> sa.Table:
    """players as a batch step finds it, with ``columns`` after the first three.

    On SQLite a batch step copies the table. Given its shape, it need not
    reflect it, so ``alembic upgrade head --sql`` works there too.
    """
    return sa.Table("players", sa.MetaData(), *players_schema(*columns))


def players_schema(*columns: sa.schema.SchemaItem) -> list[sa.schema.SchemaItem]:
    """Revision 1's players columns and key, with ``columns`` after the first three."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Unicode(200), nullable=False),
        sa.Column("position", sa.Unicode(200), nullable=True),
        *columns,
        sa.PrimaryKeyConstraint("id", name="pk_players"),
    ]


def team_column() -> sa.Column:
    return sa.Column("team", exact_unicode(100), nullable=True)


def team_id_column() -> sa.Column:
    return sa.Column("team_id", sa.Integer(), nullable=True)


def team_id_of(name: sa.ColumnElement[str | None]) -> sa.ScalarSelect[int]:
    """The id of the team called exactly ``name`` (NULL for no team)."""
    return sa.select(Team.id).where(Team.name == name).scalar_subquery()


def team_name_of(team_id: sa.ColumnElement[int | None]) -> sa.ScalarSelect[str]:
    """The name of the team with ``team_id`` (NULL for no team)."""
    return sa.select(Team.name).where(Team.id == team_id).scalar_subquery()
