"""`make revision tables=...` writes frozen models exactly as the migrations leave them.

One baked, installed project whose models.py already has a column (players.coach)
that no revision creates: the frozen models must follow the migrations, not the
models. The checks that need a database run as tests inside the baked project,
on its own harness, so they reach PostgreSQL and MariaDB when .ci/run says so.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

from .baking import bake, install, passed_tests, run

# Writing a revision must never open DATABASE_URL: this one cannot be reached.
UNREACHABLE = {"DATABASE_URL": "postgresql+psycopg://app:s3cret@127.0.0.1:9/nowhere"}
PREVIOUS_HEAD = "8f7a6b5c4d02"

EXTRA_MODEL_COLUMN = "    coach: Mapped[str | None] = mapped_column(Unicode(100))\n"

DATA_STEP = {
    "upgrade": """
    with migration_session() as session:
        session.execute(sa.insert(Team).values(name="Free agents"))
        session.execute(
            sa.update(Player)
            .where(Player.team_id.is_(None))
            .values(team_id=free_agents_id()),
            execution_options={"synchronize_session": False},
        )
""",
    "downgrade": """
    with migration_session() as session:
        session.execute(
            sa.update(Player)
            .where(Player.team_id == free_agents_id())
            .values(team_id=None),
            execution_options={"synchronize_session": False},
        )
        session.execute(sa.delete(Team).where(Team.name == "Free agents"))


def free_agents_id() -> sa.ScalarSelect[int]:
    return sa.select(Team.id).where(Team.name == "Free agents").scalar_subquery()
""",
}

# Written into the baked project's tests/: compares a revision's frozen tables
# with the tables a real database has at head.
TABLE_SHAPE = '''"""The shape of a table: what frozen models must get right."""

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa

FAMILIES = (
    sa.Boolean, sa.BigInteger, sa.SmallInteger, sa.Integer, sa.Double, sa.Float,
    sa.Numeric, sa.DateTime, sa.Date, sa.Time, sa.Text, sa.String,
    sa.LargeBinary, sa.JSON,
)


def load_revision(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def type_shape(type_: sa.types.TypeEngine) -> tuple:
    try:
        generic = type_.as_generic()
    except NotImplementedError:  # declared without a type
        return ("NullType",)
    family = next(f.__name__ for f in FAMILIES if isinstance(generic, f))
    sizes = [getattr(generic, name, None) for name in ("length", "precision", "scale")]
    return (family, *sizes)


def columns(table: sa.Table, frozen: set[str] | None = None) -> list[tuple]:
    """The columns' shape; with ``frozen``, only the keys to these tables.

    A frozen class keeps a foreign key only to a table frozen beside it.
    """
    return [
        (
            column.name,
            type_shape(column.type),
            # SQLite reports `id INTEGER PRIMARY KEY` nullable; keys never are.
            column.nullable and not column.primary_key,
            column.primary_key,
            sorted(
                key.target_fullname
                for key in column.foreign_keys
                if frozen is None or key.target_fullname.rsplit(".", 1)[0] in frozen
            ),
        )
        for column in table.columns
    ]


def frozen_uniques(table: sa.Table) -> list[tuple]:
    return sorted(
        (c.name, [column.name for column in c.columns])
        for c in table.constraints
        if isinstance(c, sa.UniqueConstraint)
    )


def reflected_uniques(engine: sa.Engine, name: str) -> list[tuple]:
    return sorted(
        (u["name"], u["column_names"])
        for u in sa.inspect(engine).get_unique_constraints(name)
    )


def assert_frozen_tables_match(engine: sa.Engine, metadata: sa.MetaData) -> None:
    names = set(metadata.tables)
    for name, frozen in metadata.tables.items():
        reflected = sa.Table(name, sa.MetaData(), autoload_with=engine)
        assert columns(frozen) == columns(reflected, names), name
        assert frozen_uniques(frozen) == reflected_uniques(engine, name), name
'''

FROZEN_REVISION_TEST = '''"""The revision make revision tables="players teams" wrote."""

import pytest
from alembic import op
from alembic.migration import MigrationContext
from alembic.operations import Operations
from migration_kit.harness import MigrationSteps
from migration_kit.harness.schema_snapshot import differences, snapshot
from table_shape import assert_frozen_tables_match, load_revision

REVISION = load_revision({path!r})


def test_frozen_tables_match_the_database_at_head(steps: MigrationSteps) -> None:
    steps.upgrade({previous!r})

    assert sorted(REVISION.Base.metadata.tables) == ["players", "teams"]
    assert_frozen_tables_match(steps.engine, REVISION.Base.metadata)


def test_frozen_tables_copy_into_the_same_tables(steps: MigrationSteps) -> None:
    """A batch step's copy_from= on SQLite: every name and column survives."""
    if steps.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite copies a table in batch mode")
    steps.upgrade({previous!r})
    with steps.engine.begin() as connection:
        before = snapshot(connection)
        with Operations.context(MigrationContext.configure(connection)):
            for table in REVISION.Base.metadata.sorted_tables:
                with op.batch_alter_table(
                    table.name, copy_from=table, recreate="always"
                ):
                    pass
        assert differences(before, snapshot(connection)) == []


def test_data_step_through_frozen_models_upgrades_and_downgrades(
    steps: MigrationSteps,
) -> None:
    steps.upgrade({previous!r})
    steps.insert("teams", [{{"name": "Reds"}}])
    [reds] = steps.rows("teams")
    roster = [
        {{"id": 1, "name": "Ann", "position": "keeper", "team_id": reds["id"]}},
        {{"id": 2, "name": "Bob", "position": None, "team_id": None}},
    ]
    steps.insert("players", roster)

    steps.upgrade({revision!r})

    [free_agents] = [t for t in steps.rows("teams") if t["name"] == "Free agents"]
    assert [p["team_id"] for p in steps.rows("players")] == [
        reds["id"],
        free_agents["id"],
    ]

    steps.downgrade({previous!r})

    assert steps.rows("players") == roster
    assert steps.rows("teams") == [reds]
'''


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    """The default project, installed, with models.py ahead of the migrations."""
    project = bake(cookies_session)
    install(project)
    models = project / "src/team_migrations/models.py"
    text = models.read_text()
    anchor = "    position: Mapped[str | None] = mapped_column(Unicode(200))\n"
    assert anchor in text
    models.write_text(text.replace(anchor, anchor + EXTRA_MODEL_COLUMN))
    (project / "tests/table_shape.py").write_text(TABLE_SHAPE)
    return project


def new_revision(project: Path, slug: str) -> Path:
    [revision] = project.glob(f"migrations/versions/*_{slug}.py")
    return revision


def revision_id(revision: Path) -> str:
    return revision.name.split("-", 1)[1].split("_", 1)[0]


def assert_ruff_clean(project: Path, revision: Path) -> None:
    run([".venv/bin/ruff", "check", "--no-cache", str(revision)], cwd=project)
    run([".venv/bin/ruff", "format", "--check", str(revision)], cwd=project)


def fill_in_data_step(revision: Path, step: dict[str, str] = DATA_STEP) -> None:
    text = revision.read_text()
    # As a user would: uncomment the scaffold's imports the step uses.
    for name in ("migration_session", "update_in_batches"):
        if f"{name}(" in "".join(step.values()):
            line = f"from migration_kit import {name}\n"
            assert f"# {line}" in text, f"no {line!r} to uncomment"
            text = text.replace(f"# {line}", line)
    for function, body in step.items():
        # The scaffold's comments may stand between the signature and its pass.
        stub = rf"def {function}\(\) -> None:\n(?:    #.*\n)*    pass\n"
        found = re.search(stub, text)
        assert found, f"no empty {function}() in {revision.name}"
        filled = found[0].removesuffix("    pass\n") + body.lstrip("\n")
        text = text[: found.start()] + filled + text[found.end() :]
    revision.write_text(text)
    # The scaffold says so: ruff sorts the uncommented imports in.
    project = revision.parents[2]
    run([".venv/bin/ruff", "check", "--fix", "--quiet", str(revision)], cwd=project)


def test_make_revision_with_tables_writes_models_as_at_head(project: Path) -> None:
    run(
        ["make", "revision", "m=frozen teams", "tables=players teams"],
        cwd=project,
        env=UNREACHABLE,
    )
    revision = new_revision(project, "frozen_teams")
    test_file = project / "tests/test_frozen_revision.py"
    try:
        text = revision.read_text()
        assert "class Player(Base):" in text and "class Team(Base):" in text
        assert 'sa.ForeignKey("teams.id")' in text
        assert 'sa.UniqueConstraint("name", name="uq_teams_name")' in text
        assert "coach" not in text, "frozen models must not come from models.py"
        assert_ruff_clean(project, revision)

        fill_in_data_step(revision)
        assert_ruff_clean(project, revision)
        test_file.write_text(
            FROZEN_REVISION_TEST.format(
                path=str(revision),
                previous=PREVIOUS_HEAD,
                revision=revision_id(revision),
            )
        )
        result = run([".venv/bin/pytest", "-v", str(test_file)], cwd=project)
        passed = passed_tests(result.stdout)
        assert len([test for test in passed if test.endswith("[sqlite]")]) == 3
    finally:
        revision.unlink()
        test_file.unlink(missing_ok=True)


def test_unknown_table_is_one_line_listing_the_tables_at_head(project: Path) -> None:
    before = sorted(project.glob("migrations/versions/*.py"))
    result = subprocess.run(
        [".venv/bin/alembic", "-x", "tables=players,coaches", "revision", "-m", "x"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert result.stdout.strip().splitlines() == [
        "FAILED: unknown table coaches: the tables at the head of the migrations "
        "are players, teams."
    ]
    assert "Traceback" not in result.stderr
    assert sorted(project.glob("migrations/versions/*.py")) == before


def test_revision_without_tables_keeps_the_example_and_opens_no_database(
    project: Path,
) -> None:
    run(["make", "revision", "m=plain"], cwd=project, env=UNREACHABLE)
    revision = new_revision(project, "plain")
    try:
        text = revision.read_text()
        assert "# class Player(Base):" in text
        assert "\nclass Player(" not in text
        assert_ruff_clean(project, revision)
    finally:
        revision.unlink()


def test_autogenerate_still_compares_with_the_database(project: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{project / 'local.sqlite3'}"}
    try:
        run(["make", "migrate"], cwd=project, env=env)
        refused = subprocess.run(
            [".venv/bin/alembic", "-x", "tables=players", "revision"]
            + ["--autogenerate", "-m", "add coach"],
            cwd=project,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        assert refused.returncode != 0
        assert refused.stdout.startswith(
            "FAILED: -x tables=... works without --autogenerate only"
        )
        run(["make", "autorevision", "m=add coach"], cwd=project, env=env)
        revision = new_revision(project, "add_coach")
        assert 'sa.Column("coach"' in revision.read_text()
    finally:
        for path in project.glob("migrations/versions/*_add_coach.py"):
            path.unlink()
        (project / "local.sqlite3").unlink(missing_ok=True)


# Column types, names and constraints beyond the sample's: keywords, spaces,
# names declarative reserves, a table whose class would shadow Base.
KINDS_REVISION = '''"""Tables of every kind."""

import sqlalchemy as sa
from alembic import op

revision = "0dd0000000c1"
down_revision = {previous!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "odd kinds of things",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("code", sa.String(10), primary_key=True),
        sa.Column("class", sa.Boolean(), nullable=False),
        sa.Column("metadata", sa.JSON()),
        sa.Column("order id", sa.SmallInteger()),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("ratio", sa.Float()),
        sa.Column("precise", sa.Double()),
        sa.Column("at", sa.DateTime()),
        sa.Column("on", sa.Date()),
        sa.Column("when", sa.Time()),
        sa.Column("blob", sa.LargeBinary()),
        sa.Column("notes", sa.Text()),
        sa.Column(
            "player_id", sa.Integer(), sa.ForeignKey("players.id", ondelete="CASCADE")
        ),
        sa.Column("a_column_long_enough_to_need_lines_of_its_own", sa.Unicode(250)),
        sa.UniqueConstraint("price", "ratio", name="uq_price_ratio"),
    )
    op.create_index("ix_on_when", "odd kinds of things", ["on", "when"], unique=True)
    op.create_table(
        "bases",
        sa.Column("id", sa.Integer()),
        sa.Column("thing_id", sa.BigInteger()),
        sa.Column("thing_code", sa.String(10)),
        # Names the naming convention would not give: kept as they are.
        sa.PrimaryKeyConstraint("id", name="bases_key"),
        sa.ForeignKeyConstraint(
            ["thing_id", "thing_code"],
            ["odd kinds of things.id", "odd kinds of things.code"],
            name="bases_thing",
        ),
    )


    op.execute("CREATE TABLE loose (id INTEGER PRIMARY KEY, anything)")


def downgrade() -> None:
    op.drop_table("loose")
    op.drop_table("bases")
    op.drop_table("odd kinds of things")
'''

KINDS_TEST = '''"""Frozen models of tables of every kind round-trip through SQLite."""

from pathlib import Path

from migration_kit.harness import MigrationSteps, disposable_database
from table_shape import assert_frozen_tables_match, load_revision


def test_frozen_kinds_match_sqlite_at_head(tmp_path: Path) -> None:
    revision = load_revision({path!r})
    with disposable_database("sqlite", tmp_path) as engine:
        MigrationSteps(engine).upgrade("0dd0000000c1")
        assert_frozen_tables_match(engine, revision.Base.metadata)
    assert revision.BaseTable.__tablename__ == "bases"
    assert revision.OddKindsOfThing.class_.key == "class_"
    assert revision.Loose.__table__.c.anything.nullable
'''


def test_tables_of_every_kind_render_clean_and_exact(project: Path) -> None:
    kinds = project / "migrations/versions/2026_01_03_0000-0dd0000000c1_kinds.py"
    kinds.write_text(KINDS_REVISION.format(previous=PREVIOUS_HEAD))
    test_file = project / "tests/test_frozen_kinds.py"
    try:
        run(
            [".venv/bin/alembic", "-x", "tables=odd kinds of things,bases,loose"]
            + ["revision", "-m", "frozen kinds"],
            cwd=project,
            env=UNREACHABLE,
        )
        revision = new_revision(project, "frozen_kinds")
        assert_ruff_clean(project, revision)
        # players is not frozen here: its key is left out, with the way back.
        assert (
            '    # sa.ForeignKey("players.id", ondelete="CASCADE") left out: players'
            in revision.read_text()
        )
        assert 'm=... tables="odd kinds of things,bases,loose,players"\n' in (
            revision.read_text()
        )
        assert 'sa.PrimaryKeyConstraint("id", name="bases_key")' in revision.read_text()
        assert 'name="bases_thing"' in revision.read_text()
        test_file.write_text(KINDS_TEST.format(path=str(revision)))
        run([".venv/bin/pytest", "-v", str(test_file)], cwd=project)
    finally:
        for path in [kinds, test_file, *project.glob("migrations/versions/*_kinds.py")]:
            path.unlink(missing_ok=True)


def write_revision(project: Path, revision: str, down: str, upgrade: str) -> Path:
    """A minimal hand-written revision whose upgrade() runs ``upgrade``."""
    path = project / f"migrations/versions/2026_01_03_0000-{revision}_by_hand.py"
    path.write_text(
        f'"""By hand."""\n\nfrom alembic import op\n\nrevision = "{revision}"\n'
        f'down_revision = "{down}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        f"def upgrade() -> None:\n    {upgrade}\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )
    return path


def test_merge_opens_no_database(project: Path) -> None:
    branch = write_revision(project, "b4a2c0000001", "5d3e0a1c2b01", "pass")
    try:
        run(
            [".venv/bin/alembic", "merge", "heads", "-m", "join heads"],
            cwd=project,
            env=UNREACHABLE,
        )
        assert_ruff_clean(project, new_revision(project, "join_heads"))
    finally:
        for path in [branch, *project.glob("migrations/versions/*_join_heads.py")]:
            path.unlink()


def test_history_sqlite_cannot_run_is_one_line(project: Path) -> None:
    server_only = write_revision(
        project, "c17e00000001", PREVIOUS_HEAD, 'op.execute("CREATE EXTENSION citext")'
    )
    try:
        result = subprocess.run(
            [".venv/bin/alembic", "-x", "tables=players", "revision", "-m", "x"],
            cwd=project,
            capture_output=True,
            text=True,
        )
    finally:
        server_only.unlink()
    assert result.returncode != 0
    [line] = result.stdout.strip().splitlines()
    assert line.startswith(
        "FAILED: cannot compute the tables at head: a revision failed on the "
        'scratch SQLite database ((sqlite3.OperationalError) near "EXTENSION"'
    )
    assert line.endswith("write the frozen models by hand.")
    assert "Traceback" not in result.stderr
    assert not list(project.glob("migrations/versions/*_x.py"))


# Columns named like the modules and names a revision's code reads, and keys to
# tables that are not frozen beside them: one single-column, one composite.
SHADOWS = ["datetime", "sa", "Base", "op", "Mapped", "mapped_column", "decimal"]
SHADOWS += ["typing", "str", "int", "exact_unicode", "done"]
SHADOWS_REVISION = '''"""Columns named like the scaffold's names."""

import sqlalchemy as sa
from alembic import op
from migration_kit import done

revision = "0dd0000000d1"
down_revision = {previous!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    # MariaDB commits each CREATE at once: a second run skips it.
    if not done("venues"):
        op.create_table(
            "venues",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("code", sa.String(10), primary_key=True),
        )
    if not done("fixtures"):
        op.create_table(
            "fixtures",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("datetime", sa.DateTime()),
            sa.Column("sa", sa.Unicode(20)),
            sa.Column("Base", sa.Integer()),
            sa.Column("op", sa.Unicode(20)),
            sa.Column("Mapped", sa.Boolean()),
            sa.Column("mapped_column", sa.Unicode(20)),
            sa.Column("decimal", sa.Numeric(10, 2)),
            sa.Column("typing", sa.JSON()),
            sa.Column("str", sa.Unicode(20)),
            sa.Column("int", sa.Integer()),
            sa.Column("exact_unicode", sa.Unicode(20)),
            sa.Column("done", sa.Boolean()),
            sa.Column("date", sa.Date()),
            sa.Column("home", sa.Integer(), sa.ForeignKey("teams.id")),
            sa.Column("venue_id", sa.Integer()),
            sa.Column("venue_code", sa.String(10)),
            sa.Column("kickoff", sa.DateTime()),
            sa.Column("fee", sa.Numeric(10, 2)),
            sa.ForeignKeyConstraint(
                ["venue_id", "venue_code"], ["venues.id", "venues.code"]
            ),
        )


def downgrade() -> None:
    op.drop_table("fixtures")
    op.drop_table("venues")
'''

# The data step: swap two shadowed columns and write a third back as it was,
# through the frozen class and update_in_batches. The downgrade swaps back, so
# any rows go through upgrade and downgrade unchanged.
SWAP = """
    update_in_batches(
        Fixture,
        lambda row: {"sa_": row.op_, "op_": row.sa_, "datetime_": row.datetime_},
        Fixture.sa_,
        Fixture.op_,
        Fixture.datetime_,
    )
"""

SHADOWS_TEST = '''"""The frozen Fixture class, its attributes renamed, works on rows."""

import datetime
import decimal
from pathlib import Path

from migration_kit.harness import MigrationSteps, disposable_database
from table_shape import assert_frozen_tables_match, load_revision

REVISION = load_revision({path!r})
KICKOFF = datetime.datetime(2026, 5, 1, 20, 45)


def test_frozen_fixtures_match_sqlite_but_for_the_keys(tmp_path: Path) -> None:
    # The types are SQLite's generic ones: compared where they were computed.
    with disposable_database("sqlite", tmp_path) as engine:
        MigrationSteps(engine).upgrade("0dd0000000d1")
        assert sorted(REVISION.Base.metadata.tables) == ["fixtures"]
        assert_frozen_tables_match(engine, REVISION.Base.metadata)


def test_update_in_batches_on_fixtures_with_keys(steps: MigrationSteps) -> None:
    steps.upgrade("0dd0000000d1")
    steps.insert("teams", [{{"id": 7, "name": "Reds"}}])
    steps.insert("venues", [{{"id": 1, "code": "N"}}])
    fixtures = [
        {{
            "id": id_, "datetime": KICKOFF, "sa": f"sa {{id_}}", "op": f"op {{id_}}",
            "Base": id_, "decimal": decimal.Decimal("1.50"), "home": 7,
            "venue_id": 1, "venue_code": "N",
        }}
        for id_ in (3, 1, 2)
    ]
    steps.insert("fixtures", fixtures)
    before = steps.rows("fixtures")

    steps.upgrade({revision!r})

    assert steps.rows("fixtures") == [
        {{**row, "sa": row["op"], "op": row["sa"]}} for row in before
    ]

    steps.downgrade("0dd0000000d1")

    assert steps.rows("fixtures") == before
'''


def test_shadowing_names_and_unfrozen_keys_render_code_that_works_on_rows(
    project: Path,
) -> None:
    shadows = project / "migrations/versions/2026_01_03_0000-0dd0000000d1_shadows.py"
    shadows.write_text(SHADOWS_REVISION.format(previous=PREVIOUS_HEAD))
    test_file = project / "tests/test_frozen_shadows.py"
    try:
        run(
            ["make", "revision", "m=fixtures on rows", "tables=fixtures"],
            cwd=project,
            env=UNREACHABLE,
        )
        revision = new_revision(project, "fixtures_on_rows")
        text = revision.read_text()
        for name in SHADOWS:
            assert re.search(rf'\n    {name}_: .*\(\s*"{name}", ', text), name
        code = [line for line in text.splitlines() if not line.startswith("    #")]
        assert not [line for line in code if "ForeignKey" in line], "keys kept"
        assert (
            '    # sa.ForeignKey("teams.id") left out: teams is not frozen here'
        ) in text
        assert 'make revision m=... tables="fixtures teams"\n    home: ' in text
        assert 'tables="fixtures venues"\n    venue_id: ' in text
        assert_ruff_clean(project, revision)

        fill_in_data_step(revision, {"upgrade": SWAP, "downgrade": SWAP})
        assert_ruff_clean(project, revision)
        test_file.write_text(
            SHADOWS_TEST.format(path=str(revision), revision=revision_id(revision))
        )
        # models.py is ahead of the migrations here on purpose (players.coach)
        # and has no fixtures: leave its comparison out, run all the rest.
        addopts = {"PYTEST_ADDOPTS": "-v -k 'not models_match_migrations'"}
        result = run(["make", "test-migrations"], cwd=project, env=addopts)
        passed = re.findall(r"test_frozen_shadows.py::\S+ PASSED", result.stdout)
        assert len(passed) == 1 + len(backends_tested(result.stdout)), passed
    finally:
        written = project.glob("migrations/versions/*_fixtures_on_rows.py")
        for path in [shadows, test_file, *written]:
            path.unlink(missing_ok=True)


def backends_tested(output: str) -> set[str]:
    """The backends a verbose pytest run of the baked project ran tests on."""
    return set(re.findall(r"\[(sqlite|postgresql|mysql)\] PASSED", output))
