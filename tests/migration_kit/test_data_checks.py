"""The data checks' parts: values compared by type, the same seeded rows on
every backend, statements watched and stopped, stops spread over a revision."""

import types
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from migration_kit.harness import same_answer
from migration_kit.harness.crash_rerun import spread
from migration_kit.harness.data_checks import DataChecks
from migration_kit.harness.disposable_database import (
    BACKENDS,
    disposable_database,
    untested_backends,
)
from migration_kit.harness.seeding import Settings, seed_empty_tables
from migration_kit.harness.statements import Stopped, Watcher, watching

# Kinds every backend stores alike, so the seeded values must match exactly.
PORTABLE = [
    sa.Integer(),
    sa.BigInteger(),
    sa.Numeric(7, 3),
    sa.Unicode(12),
    sa.UnicodeText(),
    sa.Date(),
    sa.DateTime(),
    sa.Boolean(),
    sa.Float(),  # single precision on MySQL/MariaDB, double elsewhere
    sa.Double(),  # on MySQL/MariaDB, reflected as a type giving Decimals
    sa.Uuid(),  # CHAR(32) where the database has no UUID type
    # Unbounded but on MySQL, as SQLModel's AutoString is.
    sa.String().with_variant(sa.String(255), "mysql", "mariadb"),
]


def test_values_compare_by_type() -> None:
    normal = same_answer.normal
    assert normal(1) == normal(1.0) == normal(Decimal("1.000"))
    assert normal(-15211.83) == normal(-15211.8)  # MariaDB's FLOAT gives 6 digits
    assert normal(-15211.83) != normal(-15211.9)
    assert normal("Reds") != normal("reds") != normal("reds ")
    moment = datetime(
        2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    assert normal(moment) == normal(datetime(2026, 1, 1, 6, 30))
    assert normal(moment) == normal(moment.astimezone(UTC))
    assert normal('{"b": 1, "a": [2]}') == normal({"a": [2], "b": 1})
    assert normal(True) == normal(1)


def seeded_answer(backend: str, directory: Path) -> same_answer.Answer:
    directory.mkdir()
    columns = [sa.Column(f"c{n}", kind) for n, kind in enumerate(PORTABLE)]
    table = sa.Table(
        "kinds", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), *columns
    )
    with (
        disposable_database(backend, directory) as engine,
        engine.begin() as connection,
    ):
        table.create(connection)
        assert seed_empty_tables(connection, ["kinds"], Settings(seed=7, rows=20))
        return same_answer.read_answer(connection, ["kinds"], set())


def test_seeded_rows_are_the_same_on_every_backend(tmp_path: Path) -> None:
    here = [b for b in BACKENDS if b not in untested_backends()]
    if len(here) < 2:
        pytest.skip("one backend here: nothing to compare")
    answers = {b: seeded_answer(b, tmp_path / b) for b in here}
    same_answer.ANSWERS["seeded"] = answers
    try:
        assert same_answer.differences("seeded", types.ModuleType("seeded")) == []
    finally:
        del same_answer.ANSWERS["seeded"]


def test_an_enum_is_not_compared_with_sqlite_text(tmp_path: Path) -> None:
    """SQLite makes sa.Enum a VARCHAR without its values: it is seeded with
    any words there, the values of the ENUM elsewhere (optuna's trials.state)."""
    here = [b for b in BACKENDS if b not in untested_backends()]
    if len(here) < 2:
        pytest.skip("one backend here: nothing to compare")
    state = sa.Enum("RUNNING", "COMPLETE", "PRUNED", name="trialstate")
    table = sa.Table(
        "trials",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("state", state, nullable=False),
        sa.Column("number", sa.Integer),
    )
    answers = {}
    for backend in here:
        (tmp_path / backend).mkdir()
        with (
            disposable_database(backend, tmp_path / backend) as engine,
            engine.begin() as connection,
        ):
            table.create(connection)
            seed_empty_tables(connection, ["trials"], Settings(seed=7, rows=20))
            answers[backend] = same_answer.read_answer(connection, ["trials"], set())
    same_answer.ANSWERS["enum"] = answers
    try:
        assert same_answer.differences("enum", types.ModuleType("enum")) == []
        enums = sorted(set(here) - {"sqlite"})
        assert same_answer.enums_left_out() == [
            f"SAME ANSWER left out trials.state: an ENUM on {', '.join(enums)}, "
            "text seeded with any words on sqlite"
        ]
        sqlite = answers["sqlite"]["trials"]
        assert {row["state"][0] for row in sqlite.rows.values()} - {
            "RUNNING",
            "COMPLETE",
            "PRUNED",
        }, "SQLite's rows hold the ENUM's values: nothing to leave out"
    finally:
        del same_answer.ANSWERS["enum"]


def answer(rows: dict[int, str]) -> same_answer.TableAnswer:
    found = same_answer.TableAnswer(["id"])
    for key, team in rows.items():
        found.rows[(same_answer.normal(key),)] = {"team": (team, repr(team))}
    return found


def test_a_difference_is_one_line_unless_the_revision_declares_it() -> None:
    same_answer.ANSWERS["r1"] = {
        "sqlite": {"players": answer({1: "Reds", 2: "reds"})},
        "mariadb": {"players": answer({1: "Reds", 2: "Reds"})},
    }
    try:
        module = types.ModuleType("r1")
        [line] = same_answer.differences("r1", module)
        assert line.startswith(
            "revision r1 writes players.team differently: id 2 -> sqlite 'reds', "
            "mariadb 'Reds' ("
        ), line
        assert "MySQL/MariaDB's default collation compares as equal" in line
        module.differs_by_backend = {"players.team": "wanted: folded on MySQL"}
        assert same_answer.differences("r1", module) == []
        module.differs_by_backend = {"players.team": ""}
        assert same_answer.undeclared_reasons(module)
    finally:
        del same_answer.ANSWERS["r1"]


def by_content(*rows: dict) -> same_answer.TableAnswer:
    """A table a revision created and filled: its rows matched by content."""
    found = same_answer.TableAnswer([])
    for row in rows:
        cells = {c: same_answer.normal(v) for c, v in row.items()}
        found.by_content[tuple(sorted(cells.items()))] += 1
    return found


def test_a_new_table_compares_rows_without_the_columns_declared() -> None:
    """A row stamped with now() differs on every backend (Airflow's
    4bc4d934e2bc): no hint of lookalike texts, and a column declared
    by name leaves the comparison, as it does in a table matched by key."""
    template = "{dag_id}-{task_id}"
    same_answer.ANSWERS["r3"] = {
        backend: {
            "log_template": by_content(
                {"filename": template, "created_at": datetime(2026, 1, 1, 0, 0, n)}
            )
        }
        for n, backend in enumerate(["sqlite", "postgresql"])
    }
    try:
        module = types.ModuleType("r3")
        [line] = same_answer.differences("r3", module)
        assert line.startswith("revision r3 writes log_template differently: "), line
        assert "differ only by" not in line, line
        module.differs_by_backend = {"log_template.created_at": "stamped with now()"}
        assert same_answer.differences("r3", module) == []
    finally:
        del same_answer.ANSWERS["r3"]


def test_new_rows_that_differ_only_by_case_are_named_as_lookalikes() -> None:
    same_answer.ANSWERS["r4"] = {
        "sqlite": {"teams": by_content({"name": "Reds", "size": 1})},
        "mariadb": {"teams": by_content({"name": "reds", "size": 1})},
    }
    try:
        [line] = same_answer.differences("r4", types.ModuleType("r4"))
        assert line.endswith(
            "('Reds' and 'reds' differ only by case, trailing spaces or accents, "
            "which MySQL/MariaDB's default collation compares as equal)"
        ), line
    finally:
        del same_answer.ANSWERS["r4"]


def test_rows_seeded_anew_after_a_failure_are_not_compared() -> None:
    """A backend that went on on a fresh database has other input rows."""
    anew = answer({1: "Reds", 2: "Reds"})
    same_answer.ANSWERS["r2"] = {
        "sqlite": {"players": answer({1: "Reds", 2: "reds"})},
        "postgresql": {"players": answer({1: "Reds", 2: "reds"})},
        "mariadb": {"players": anew},
    }
    try:
        module = types.ModuleType("r2")
        assert len(same_answer.differences("r2", module)) == 1
        anew.seeded_anew = True
        assert same_answer.differences("r2", module) == []
    finally:
        del same_answer.ANSWERS["r2"]


def test_a_table_filled_from_rows_seeded_anew_is_not_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failure, a backend goes on on a fresh database seeded anew; a
    later revision that fills a new table from those rows (Meltano's job ->
    runs) wrote other input's rows there, not its own difference."""
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    monkeypatch.chdir(tmp_path)  # the project's settings: none, the defaults
    checks = DataChecks("sqlite", seeded=True, selected={"same-answer"})
    first, fresh = object(), object()  # the engines of two databases
    stair = types.SimpleNamespace(backend="sqlite", script=types.SimpleNamespace())

    def climbed(engine: object, revision: str, tables: dict, new: set) -> dict:
        climber = types.SimpleNamespace(
            steps=types.SimpleNamespace(engine=engine), before={"tables": tables}
        )
        stair.script.revision = revision
        found = {table: answer({1: "Reds"}) for table in [*tables, *new]}
        checks._mark_seeded_anew(climber, stair, found, new)
        return found

    try:
        before = climbed(first, "r1", {"job": {}}, {"runs"})
        assert not before["runs"].seeded_anew  # the first database: no failure
        after = climbed(fresh, "r2", {"job": {}}, set())  # seeded anew at r2
        assert after["job"].seeded_anew
        renamed = climbed(fresh, "r3", {"job": {}}, {"job_runs"})
        assert renamed["job_runs"].seeded_anew
        assert same_answer.SEEDED_ANEW["sqlite"] == "r2"
    finally:
        same_answer.SEEDED_ANEW.pop("sqlite", None)


def test_statements_are_watched_and_stopped() -> None:
    engine = sa.create_engine("sqlite://")
    watcher = Watcher(stop_after=2)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE players (id INTEGER)")
        connection.exec_driver_sql("CREATE TABLE alembic_version (v TEXT)")
    with watching(engine, watcher), engine.begin() as connection:
        connection.exec_driver_sql("SELECT 1")
        connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('x')")
        connection.exec_driver_sql("CREATE TABLE _alembic_tmp_teams (name TEXT)")
        with pytest.raises(Stopped):
            connection.exec_driver_sql("INSERT INTO players VALUES (1)")
    assert watcher.stopped and watcher.tables() == {"teams", "players"}
    # The columns a statement writes are among its words; all, without a list.
    assert watcher.words()["players"] >= {"*"}
    assert "name" in watcher.words()["teams"]


def test_stops_are_spread_and_bounded() -> None:
    assert spread(3, 8) == [1, 2, 3]
    assert spread(3, None) == [1, 2, 3]
    chosen = spread(20, 8)
    assert len(chosen) == 8 and chosen[-1] == 20 and chosen == sorted(set(chosen))
    assert spread(5, 0) == []
