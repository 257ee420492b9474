"""Move players.team into a teams table.

Data: one team per distinct players.team name, compared exactly; each player
points at the team of its former name (verify() checks it). Downgrade writes
the names back.
"""

from collections.abc import Iterator, Mapping

import sqlalchemy as sa
from alembic import op
from migration_kit import (
    NAMING_CONVENTION,
    done,
    exact_unicode,
    migration_session,
    ordered_batch,
    set_from,
    squawk_ignore,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

revision = "8f7a6b5c4d02"
down_revision = "5d3e0a1c2b01"
FK, IX = "fk_players_team_id_teams", "ix_players_team_id"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(100), unique=True)


class Player(Base):  # players with both columns, and the key SQLite's copy drops
    __tablename__ = "players"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(200))
    position: Mapped[str | None] = mapped_column(sa.Unicode(200))
    team: Mapped[str | None] = mapped_column(sa.Unicode(100))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"))


def upgrade() -> None:
    if not done("teams"):  # done(): on MySQL a rerun skips what a killed run did
        name = sa.Column("name", exact_unicode(100), nullable=False, unique=True)
        op.create_table("teams", sa.Column("id", sa.Integer(), primary_key=True), name)
    if not done("players", column="team_id"):
        op.add_column("players", sa.Column("team_id", sa.Integer()))
    # Index and key after the data (built once, not per row); small table: plain forms.
    squawk_ignore("ban-drop-column", "require-concurrent-index-creation")
    squawk_ignore("constraint-missing-not-valid", "adding-foreign-key-constraint")
    with ordered_batch(Player.__table__) as players, migration_session() as session:
        if not done("players", dropped_column="team"):
            names = sa.select(Player.team).where(Player.team.is_not(None)).distinct()
            name = names.subquery().c.team  # then only those no killed run inserted
            new = sa.select(name).where(~sa.exists().where(Team.name == name))
            session.execute(sa.insert(Team).from_select(["name"], new))
            session.execute(set_from(Player.team_id, Team.id, Team.name == Player.team))
            players.drop_column("team")
        if not done("players", index=IX):  # first, or MySQL adds its own for the key
            players.create_index(IX, ["team_id"])
        if not done("players", foreign_key=FK):
            players.create_foreign_key(FK, "teams", ["team_id"], ["id"])


def verify(session: Session, before: Mapping[str, list[dict]]) -> Iterator[dict]:
    """Each player points at the team of exactly its former name (or none), and
    teams holds exactly the distinct names: the rows that break it."""
    names = dict(session.execute(sa.select(Team.id, Team.name)).all())
    was = {player["id"]: player["team"] for player in before["players"]}
    for player, team_id in session.execute(sa.select(Player.id, Player.team_id)):
        if names.get(team_id) != was[player]:
            yield {"player": player, "team was": was[player], "now": names.get(team_id)}
    if sorted(names.values()) != sorted(set(was.values()) - {None}):
        yield {"teams": sorted(names.values())}


def downgrade() -> None:
    if not done("players", column="team"):
        op.add_column("players", sa.Column("team", exact_unicode(100)))
    with ordered_batch(Player.__table__) as players, migration_session() as session:
        if not done("players", dropped_foreign_key=FK):  # first: MySQL's order
            players.drop_constraint(FK, type_="foreignkey")
        if not done("players", dropped_index=IX):  # or the UPDATE indexes each row
            op.drop_index(IX, table_name="players")  # in place, SQLite too
        if not done("players", dropped_column="team_id"):
            session.execute(set_from(Player.team, Team.name, Team.id == Player.team_id))
            players.drop_column("team_id")
    if not done("teams", dropped=True):
        op.drop_table("teams")
