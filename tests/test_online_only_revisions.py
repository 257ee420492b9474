"""Revisions that need a database: listed, refused and still linted, one line each.

A revision that reads rows cannot render with ``--sql``. The project's helpers
make it online-only without a marker; any other revision declares
``online_only = "why"``. The offline test lists it, real ``--sql`` refuses it,
and ``make lint-migrations`` still lints its schema operations.
"""

import subprocess
from pathlib import Path

import pytest

from .baking import OFFLINE, run, unchecked
from .production import HEAD, extra_revision

DIALECTS = ["sqlite", "postgresql", "mysql", "mariadb"]

PLAYER_MODEL = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from migration_kit.data_migrations import migration_session, update_in_batches


class Base(DeclarativeBase):
    metadata = sa.MetaData()


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(200))
"""
# A blocking index beside two steps that read rows: neither hides it from squawk.
INDEX_BESIDE_READS = """\
    with migration_session() as session:
        for _player in session.execute(sa.select(Player.id)):
            pass
    update_in_batches(Player, lambda p: {"name": p.name.strip()}, Player.name)
    op.create_index("ix_players_name", "players", ["name"])
"""
INSPECTS = """\
    indexes = sa.inspect(op.get_bind()).get_indexes("players")
    if "ix_players_name" not in {index["name"] for index in indexes}:
        op.create_index("ix_players_name", "players", ["name"])
"""
DECLARED = '\nonline_only = "reads the existing indexes with sa.inspect()"\n'
# PickleType has no SQL literal for a dict: rendering it raises CompileError.
UNRENDERABLE = """\
    settings = sa.table("players", sa.column("settings", sa.PickleType))
    op.execute(settings.update().values(settings={"theme": "dark"}))
"""
# Online-only without a marker (a helper that reads), and declared.
ONLINE_ONLY_KINDS = pytest.mark.parametrize(
    ("body", "module", "reason"),
    [
        (
            '    update_in_batches(Player, lambda p: {"name": p.name}, Player.name)\n',
            PLAYER_MODEL,
            "update_in_batches(players) reads rows, which --sql cannot render",
        ),
        (INSPECTS, DECLARED, "reads the existing indexes with sa.inspect()"),
    ],
    ids=["helper", "declared"],
)
NO_INSPECTION = (
    "NoInspectionAvailable: No inspection system is available for object of "
    "type <class 'sqlalchemy.engine.mock.MockConnection'>"
)
NO_LITERAL = (
    "CompileError: Could not render literal value \"{'theme': 'dark'}\" with "
    "datatype BLOB; see parent stack trace for more detail"
)


def offline_test(project: Path) -> subprocess.CompletedProcess[str]:
    """The baked project's offline test, as `make test-migrations` runs it."""
    return unchecked([".venv/bin/pytest", OFFLINE], project)


def real_sql(project: Path, dialect: str) -> subprocess.CompletedProcess[str]:
    """`alembic upgrade head --sql`, as a deploy would hand it to a DBA."""
    command = [".venv/bin/alembic", "upgrade", "head", "--sql"]
    return unchecked(command, project, {"DATABASE_URL": f"{dialect}://"})


def test_lint_sees_an_index_beside_steps_that_read_rows(project) -> None:
    with extra_revision(
        project, "f00dbad00007", HEAD, INDEX_BESIDE_READS, PLAYER_MODEL
    ):
        result = unchecked(["make", "lint-migrations"], project)

    assert result.returncode != 0, result.stdout + result.stderr
    assert "require-concurrent-index-creation" in result.stdout
    # The finding names the revision file and its line, not the rendered SQL.
    assert "migrations/versions/2099_01_01_0000-f00dbad00007_extra.py:" in result.stdout
    assert "not linted" not in result.stderr
    assert "Traceback" not in result.stderr


def test_lint_names_a_declared_revision_it_cannot_render(project) -> None:
    with extra_revision(project, "f00dbad00008", HEAD, INSPECTS, DECLARED):
        result = run(["make", "lint-migrations"], cwd=project)

    assert result.stderr.splitlines() == [
        f"not linted: 2099_01_01_0000-f00dbad00008_extra.py: {NO_INSPECTION}"
    ]
    assert "Found 0 issues in 2 files" in result.stdout + result.stderr


def test_lint_names_a_render_error(project) -> None:
    with extra_revision(project, "f00dbad00009", HEAD, UNRENDERABLE):
        result = run(["make", "lint-migrations"], cwd=project)

    assert result.stderr.splitlines() == [
        f"not linted: 2099_01_01_0000-f00dbad00009_extra.py: {NO_LITERAL}"
    ]


@ONLINE_ONLY_KINDS
def test_offline_test_lists_it_once_and_passes(
    project, body: str, module: str, reason: str
) -> None:
    with extra_revision(project, "f00dbad00008", HEAD, body, module):
        result = offline_test(project)

    assert result.returncode == 0, result.stdout
    line = f"ONLINE-ONLY f00dbad00008 (Test revision f00dbad00008.): {reason}"
    assert result.stdout.count(line) == 1, result.stdout
    assert "12 passed" in result.stdout


def test_offline_test_fails_an_undeclared_revision_in_one_line(project) -> None:
    with extra_revision(project, "f00dbad00010", HEAD, INSPECTS):
        result = offline_test(project)

    assert result.returncode == 1, result.stdout
    for dialect in DIALECTS:
        line = (
            f"\n{dialect}: revision f00dbad00010 (Test revision f00dbad00010.) "
            f"cannot render as SQL: {NO_INSPECTION}; if it needs a database, say "
            'so in it: online_only = "why" (docs/changing-data.md)\n'
        )
        assert line in result.stdout, result.stdout
    assert "Traceback" not in result.stdout
    assert "During handling" not in result.stdout
    assert "4 failed, 8 passed" in result.stdout


def test_offline_test_fails_a_render_error_in_one_line(project) -> None:
    with extra_revision(project, "f00dbad00009", HEAD, UNRENDERABLE):
        result = offline_test(project)

    assert result.returncode == 1, result.stdout
    line = (
        "\npostgresql: revision f00dbad00009 (Test revision f00dbad00009.) "
        f"cannot render as SQL: {NO_LITERAL}; if it needs"
    )
    assert line in result.stdout, result.stdout
    assert "Traceback" not in result.stdout
    assert "During handling" not in result.stdout


@ONLINE_ONLY_KINDS
def test_real_sql_refuses_it_in_one_line(
    project, body: str, module: str, reason: str
) -> None:
    with extra_revision(project, "f00dbad00011", HEAD, body, module):
        result = real_sql(project, "postgresql")

    assert result.returncode != 0
    assert result.stdout.splitlines()[-1] == (
        "FAILED: revision f00dbad00011 (Test revision f00dbad00011.) is "
        f"online-only: {reason}. Run it against the database (alembic upgrade "
        "f00dbad00011), then render the revisions after it: alembic upgrade "
        "f00dbad00011:head --sql"
    )
    # The script stops inside its transaction: it never commits.
    assert "BEGIN;" in result.stdout and "COMMIT;" not in result.stdout
    assert "Traceback" not in result.stderr


def test_real_sql_of_a_downgrade_gives_the_downgrade_advice(project) -> None:
    with extra_revision(project, "f00dbad00012", HEAD, INSPECTS, DECLARED):
        command = [".venv/bin/alembic", "downgrade", f"f00dbad00012:{HEAD}", "--sql"]
        result = unchecked(command, project, {"DATABASE_URL": "postgresql://"})

    assert result.returncode != 0
    assert result.stdout.splitlines()[-1] == (
        "FAILED: revision f00dbad00012 (Test revision f00dbad00012.) is "
        "online-only: reads the existing indexes with sa.inspect(). Run its "
        f"downgrade against the database (alembic downgrade {HEAD}), then render "
        f"the downgrades below it: alembic downgrade {HEAD}:<target> --sql"
    )


# SQLite's batch mode copies the table, which it must read first: no --sql
# there; the other dialects render an ALTER COLUMN.
WIDENS_IN_BATCH = """\
    with op.batch_alter_table("players") as batch:
        batch.alter_column("name", type_=sa.Unicode(300))
"""
ON_SQLITE = '\nonline_only = {"sqlite": "batch mode reads the table to copy it"}\n'


def test_online_only_on_one_dialect_renders_on_the_others(project) -> None:
    with extra_revision(project, "f00dbad00013", HEAD, WIDENS_IN_BATCH, ON_SQLITE):
        offline = offline_test(project)
        postgresql = real_sql(project, "postgresql")
        sqlite = real_sql(project, "sqlite")

    assert offline.returncode == 0, offline.stdout
    line = (
        "ONLINE-ONLY f00dbad00013 (Test revision f00dbad00013.) on sqlite: "
        "batch mode reads the table to copy it"
    )
    assert offline.stdout.count(line) == 1, offline.stdout
    assert "12 passed" in offline.stdout
    assert postgresql.returncode == 0, postgresql.stdout + postgresql.stderr
    widened = "ALTER TABLE players ALTER COLUMN name TYPE VARCHAR(300)"
    assert widened in postgresql.stdout
    assert sqlite.stdout.splitlines()[-1] == (
        "FAILED: revision f00dbad00013 (Test revision f00dbad00013.) is "
        "online-only: batch mode reads the table to copy it. Run it against the "
        "database (alembic upgrade f00dbad00013), then render the revisions "
        "after it: alembic upgrade f00dbad00013:head --sql"
    )


def test_online_only_naming_no_dialect_is_one_line(project) -> None:
    misspelt = '\nonline_only = {"sqlit": "batch mode reads the table"}\n'
    with extra_revision(project, "f00dbad00014", HEAD, WIDENS_IN_BATCH, misspelt):
        result = real_sql(project, "postgresql")

    assert result.returncode != 0
    assert result.stdout.splitlines()[-1] == (
        "FAILED: revision f00dbad00014 (Test revision f00dbad00014.): online_only "
        "names sqlit, not a dialect: use mariadb, mssql, mysql, oracle, "
        "postgresql, sqlite"
    )
    assert "Traceback" not in result.stderr
