"""Revision 2 keeps every players row that revision 1 accepts, exactly.

Hypothesis invents rosters: any text the backends store (no NUL, no lone
surrogates; 4-byte characters included), and team names that differ only by
case or trailing spaces, which MySQL's default collations would merge. One
database per backend serves every example: each starts from an empty
players table at revision 1.
"""

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from migration_kit.harness import MigrationSteps, disposable_database

PLAYERS = "5d3e0a1c2b01"
TEAMS = "8f7a6b5c4d02"

letters = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(letters, max_size=max_size)


@st.composite
def team_names(draw: st.DrawFn) -> list[str]:
    """A few names, with variants a case- or space-blind comparison merges."""
    names = draw(st.lists(text(99), min_size=1, max_size=3))
    variants = [v for n in names for v in (n.upper()[:99], n.lower()[:99], n + " ")]
    return names + variants


@st.composite
def rosters(draw: st.DrawFn) -> list[dict]:
    teams = st.none() | st.sampled_from(draw(team_names()))
    players = st.fixed_dictionaries(
        {"name": text(200), "position": st.none() | text(200), "team": teams}
    )
    roster = draw(st.lists(players, max_size=12))
    return [{"id": number, **player} for number, player in enumerate(roster, 1)]


@pytest.fixture(scope="module")
def at_players(backend: str, tmp_path_factory) -> Iterator[MigrationSteps]:
    with disposable_database(backend, tmp_path_factory.mktemp(backend)) as engine:
        yield MigrationSteps(engine)


@settings(max_examples=25, deadline=None)
@given(roster=rosters())
def test_teams_round_trip(at_players: MigrationSteps, roster: list[dict]) -> None:
    steps = at_players
    start_empty_at_players(steps)
    steps.insert("players", roster)

    steps.upgrade(TEAMS)
    teams = {team["id"]: team["name"] for team in steps.rows("teams")}
    named = [player["team"] for player in roster]
    assert sorted(teams.values()) == sorted({n for n in named if n is not None})
    players = steps.rows("players")
    assert [teams.get(player["team_id"]) for player in players] == named

    steps.downgrade(PLAYERS)
    assert steps.rows("players") == roster


def start_empty_at_players(steps: MigrationSteps) -> None:
    if steps.current() == {TEAMS}:  # a failed example stopped there
        steps.downgrade(PLAYERS)
    steps.upgrade(PLAYERS)
    steps.delete("players")
