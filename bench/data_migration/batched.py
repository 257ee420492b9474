"""A row-by-row variant of the sample's data step, through update_in_batches.

Teams are filled set-based as in the sample; each player's team_id is then
computed in Python from a name -> id dict, the way a change that needs Python
per row would be written. Run in the baked project with DATABASE_URL at
revision 1.
"""

from types import ModuleType

import sqlalchemy as sa
from migration_kit import migration_session, update_in_batches

from sample import upgrade_with


def move_team_names(revision: ModuleType) -> None:
    team, player = revision.Team, revision.Player
    names = sa.select(player.team).where(player.team.is_not(None)).distinct()
    with migration_session() as session:
        session.execute(sa.insert(team).from_select(["name"], names))
        ids = dict(session.execute(sa.select(team.name, team.id)).all())
    update_in_batches(
        player,
        lambda row: None if row.team is None else {"team_id": ids[row.team]},
        player.team,
    )


if __name__ == "__main__":
    upgrade_with(move_team_names)
