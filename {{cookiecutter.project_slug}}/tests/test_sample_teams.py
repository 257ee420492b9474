"""Revision 2 moves players.team into teams, and its downgrade moves it back."""

from migration_kit.harness import MigrationSteps

PLAYERS = "5d3e0a1c2b01"
TEAMS = "8f7a6b5c4d02"

ROSTER = [
    {"id": 1, "name": "Ann", "position": "keeper", "team": "Reds"},
    {"id": 2, "name": "Bob", "position": None, "team": "Blues"},
    {"id": 3, "name": "Cy", "position": "wing", "team": "Reds"},
    {"id": 4, "name": "Dee", "position": "back", "team": None},
    {"id": 5, "name": "Eve", "position": None, "team": "reds"},
]


def test_upgrade_gives_each_player_the_team_of_its_name(steps: MigrationSteps) -> None:
    steps.upgrade(PLAYERS)
    steps.insert("players", ROSTER)

    steps.upgrade(TEAMS)

    teams = {team["id"]: team["name"] for team in steps.rows("teams")}
    assert sorted(teams.values()) == ["Blues", "Reds", "reds"]
    players = steps.rows("players")
    assert [teams.get(player["team_id"]) for player in players] == [
        player["team"] for player in ROSTER
    ]


def test_downgrade_restores_every_player(steps: MigrationSteps) -> None:
    steps.upgrade(PLAYERS)
    steps.insert("players", ROSTER)
    steps.upgrade(TEAMS)

    steps.downgrade(PLAYERS)

    assert steps.rows("players") == ROSTER
    assert "teams" not in steps.table_names()
