"""update_in_batches: every row once, in key order, in batches, with progress."""

import logging
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.util import CommandError
from migration_kit import data_migrations
from migration_kit.data_migrations import update_in_batches
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = sa.MetaData()


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(200))
    nickname: Mapped[str | None] = mapped_column(sa.Unicode(200))


# Ids with gaps, inserted out of order: the walk must still go in key order.
IDS = random.Random(4).sample(range(1, 100), 10)


def tidy(player: sa.Row[Any]) -> dict[str, str] | None:
    """Uppercase every name, except those of players with an even id."""
    return None if player.id % 2 == 0 else {"name": player.name.upper()}


@pytest.fixture
def players(database: sa.Engine) -> sa.Engine:
    Base.metadata.create_all(database)
    with database.begin() as connection:
        rows = [{"id": id_, "name": f"player {id_}"} for id_ in IDS]
        connection.execute(sa.insert(Player), rows)
    return database


def run_in_revision(engine: sa.Engine, step: Callable[[], Any]) -> Any:
    """Run ``step`` the way a revision's upgrade() runs, inside a transaction."""
    with (
        engine.begin() as connection,
        Operations.context(MigrationContext.configure(connection)),
    ):
        return step()


def test_visits_every_row_once_in_key_order(players: sa.Engine) -> None:
    visited: list[int] = []

    def record(player: sa.Row[Any]) -> None:
        visited.append(player.id)

    done = run_in_revision(
        players, lambda: update_in_batches(Player, record, batch_size=3)
    )

    assert visited == sorted(IDS)
    assert done == len(IDS)


def test_writes_each_batch_with_one_executemany(players: sa.Engine) -> None:
    batches: list[int] = []
    # MySQL drivers send an executemany UPDATE row by row, so there each page
    # is inserted into a temporary table (one multi-row INSERT) and joined in.
    mysql = players.dialect.name in ("mysql", "mariadb")
    writes = "INSERT INTO update_in_batches_page" if mysql else "UPDATE"

    @sa.event.listens_for(players, "before_cursor_execute")
    def count(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith(writes):
            batches.append(len(parameters) if executemany else 1)

    run_in_revision(
        players,
        lambda: update_in_batches(Player, lambda p: {"name": "x"}, batch_size=4),
    )

    assert batches == [4, 4, 2]


def test_writes_values_exactly_and_can_run_twice(players: sa.Engine) -> None:
    values = ["O'Brien", 'say "hi"', "back\\slash", "Zoë 🐍 ", "100%", None]

    def rename(player: sa.Row[Any]) -> dict[str, str | None]:
        value = values[player.id % len(values)]
        # Rows that set different columns are written in separate groups.
        return {"nickname": value} if player.id % 3 else {"name": str(value)}

    def twice() -> None:
        # Twice in one transaction: the first walk leaves nothing behind.
        update_in_batches(Player, lambda p: {"nickname": "first"}, batch_size=3)
        update_in_batches(Player, rename, batch_size=3)

    run_in_revision(players, twice)

    with players.connect() as connection:
        found = connection.execute(sa.select(Player.id, Player.name, Player.nickname))
        rows = {id_: (name, nickname) for id_, name, nickname in found}
    expected = {
        id_: (f"player {id_}", values[id_ % len(values)])
        if id_ % 3
        else (str(values[id_ % len(values)]), "first")
        for id_ in IDS
    }
    assert rows == expected


def test_updates_what_change_returns_and_leaves_the_rest(
    players: sa.Engine,
) -> None:
    run_in_revision(
        players, lambda: update_in_batches(Player, tidy, Player.name, batch_size=4)
    )

    with players.connect() as connection:
        names = dict(connection.execute(sa.select(Player.id, Player.name)).all())
    assert names == {
        id_: f"player {id_}" if id_ % 2 == 0 else f"PLAYER {id_}" for id_ in IDS
    }


def test_logs_rows_done_total_and_rate(
    players: sa.Engine,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(data_migrations, "PROGRESS_EVERY_SECONDS", 0.0)
    caplog.set_level(logging.INFO, logger="alembic")

    run_in_revision(
        players, lambda: update_in_batches(Player, tidy, Player.name, batch_size=4)
    )

    lines = [
        r.getMessage() for r in caplog.records if r.name == data_migrations.log.name
    ]
    line = r"players: (\d+) of 10 rows, \d+ rows/s, \d+ s left"
    done = [re.fullmatch(line, x) for x in lines]
    assert all(done), lines
    assert [int(match[1]) for match in done] == [4, 8, 10]


def test_refuses_offline_mode_with_one_line() -> None:
    offline = MigrationContext.configure(dialect_name="sqlite", opts={"as_sql": True})

    with Operations.context(offline), pytest.raises(CommandError) as error:
        update_in_batches(Player, tidy, Player.name)

    message = str(error.value)
    assert "--sql" in message and "\n" not in message


class Membership(Base):
    __tablename__ = "memberships"

    player_id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True)


def test_refuses_a_composite_primary_key_with_one_line(players: sa.Engine) -> None:
    with pytest.raises(CommandError) as error:
        run_in_revision(players, lambda: update_in_batches(Membership, tidy))

    message = str(error.value)
    assert "single-column primary key" in message and "\n" not in message


# A table with a foreign key: members.team_id references teams.id. A revision's
# frozen classes, as `make revision` writes them, carry that key only when the
# referenced table is frozen beside them; either way update_in_batches works.
class Club(DeclarativeBase):
    """The tables as the migrations leave them, keys included."""

    metadata = sa.MetaData()


class ClubTeam(Club):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(100))


class ClubMember(Club):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(200))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"))


class MembersAlone(DeclarativeBase):
    """make revision tables="members": the key to teams is left out."""

    metadata = sa.MetaData()


class MemberAlone(MembersAlone):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(200))
    # sa.ForeignKey("teams.id") left out: teams is not frozen here (the database keeps
    # the key). To keep it, freeze both: make revision m=... tables="members teams"
    team_id: Mapped[int | None] = mapped_column(sa.Integer())


class MembersAndTeams(DeclarativeBase):
    """make revision tables="members teams": the key stays."""

    metadata = sa.MetaData()


class Team(MembersAndTeams):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(100))


class Member(MembersAndTeams):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(200))
    team_id: Mapped[int | None] = mapped_column(sa.Integer(), sa.ForeignKey("teams.id"))


@pytest.fixture
def club(database: sa.Engine) -> sa.Engine:
    """Two teams; members with gaps in their ids, a third in each team or none."""
    Club.metadata.create_all(database)
    with database.begin() as connection:
        teams = [{"id": 1, "name": "Reds"}, {"id": 2, "name": "Blues"}]
        connection.execute(sa.insert(ClubTeam), teams)
        members = [
            {"id": id_, "name": f"member {id_}", "team_id": [None, 1, 2][id_ % 3]}
            for id_ in IDS
        ]
        connection.execute(sa.insert(ClubMember), members)
    return database


def transfer(member: sa.Row[Any]) -> dict[str, Any]:
    """Swap the two teams' members; names in capitals."""
    moved = {1: 2, 2: 1}.get(member.team_id, member.team_id)
    return {"name": member.name.upper(), "team_id": moved}


@pytest.mark.parametrize("frozen", [MemberAlone, Member], ids=["alone", "with_teams"])
def test_updates_a_table_with_a_foreign_key_through_frozen_classes(
    club: sa.Engine, frozen: type[Any]
) -> None:
    done = run_in_revision(
        club,
        lambda: update_in_batches(
            frozen, transfer, frozen.name, frozen.team_id, batch_size=4
        ),
    )

    with club.connect() as connection:
        rows = connection.execute(sa.select(ClubMember.id, ClubMember.team_id))
        teams = dict(rows.all())
        names = set(connection.scalars(sa.select(ClubMember.name)))
    assert done == len(IDS)
    assert teams == {id_: [None, 2, 1][id_ % 3] for id_ in IDS}
    assert names == {f"MEMBER {id_}" for id_ in IDS}
