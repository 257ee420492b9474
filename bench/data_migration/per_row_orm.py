"""The common answer's data step: every player through the ORM, one at a time.

Loads every Player as an object, looks its Team up by name (creating it the
first time), assigns the relationship, and lets the Session flush it all. The
team lookup is a dict, not a query per player, so this is the kinder version
of the loop. Run in the baked project with DATABASE_URL at revision 1.
"""

from types import ModuleType

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from sample import upgrade_with


class Base(DeclarativeBase):
    metadata = sa.MetaData()


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(100))


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_name: Mapped[str | None] = mapped_column("team", sa.Unicode(100))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"))
    team: Mapped[Team | None] = relationship()


def move_team_names(revision: ModuleType) -> None:
    session = Session(bind=op.get_bind())
    teams: dict[str, Team] = {}
    for player in session.query(Player):
        if player.team_name is None:
            continue
        if player.team_name not in teams:
            teams[player.team_name] = Team(name=player.team_name)
            session.add(teams[player.team_name])
        player.team = teams[player.team_name]
    session.flush()


if __name__ == "__main__":
    upgrade_with(move_team_names)
