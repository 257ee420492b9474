"""An application pinned to SQLAlchemy 1.4: its revisions run in its own venv.

docs/adopting.md ("An application pinned to SQLAlchemy 1.4"), followed as
written: a second venv holds the application's pins (here SQLAlchemy 1.4 and
psycopg2), Alembic, and the project and migration-kit without their
dependencies. The bake's own env.py and migration_kit then upgrade, downgrade
and render a history written in 1.4's style (``declarative_base``, a data
step through ``session.query``) on SQLite and PostgreSQL, and ``make
test-migrations`` tests it with ``revisions_python`` set. The application,
``legacy14``, refuses to import on SQLAlchemy 2, as Superset's pins do: so
the harness, in ``.venv``, can only test it by running its revisions there.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from .baking import passed_tests, run, unchecked
from .production import execute, fresh_database, rows

# The application: importable only beside SQLAlchemy 1.4.
APPLICATION = {
    "pyproject.toml": """[project]
name = "legacy14"
version = "1.0"
dependencies = ["sqlalchemy>=1.4,<2"]
""",
    "legacy14/__init__.py": """import sqlalchemy

if not sqlalchemy.__version__.startswith("1.4."):
    raise ImportError(f"legacy14 needs SQLAlchemy 1.4, not {sqlalchemy.__version__}")


def initials(name):
    return "".join(word[0] for word in name.split())


CONFIGURED = []


def configure():
    # What the application's models need first, as Superset's create_app().
    CONFIGURED.append(True)
""",
    # Imported by a revision: only once the models configured the application.
    "legacy14/configured.py": """import legacy14

if not legacy14.CONFIGURED:
    raise ImportError("legacy14.configure() first")
""",
}
MODELS = '''"""The application's models, on SQLAlchemy 1.4."""

import legacy14  # imports only where the application is installed
import sqlalchemy as sa
from migration_kit import NAMING_CONVENTION
from sqlalchemy.orm import declarative_base

legacy14.configure()
Base = declarative_base(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))


class Player(Base):
    __tablename__ = "players"

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.Unicode(200), nullable=False)
    initials = sa.Column(sa.Unicode(10))
'''
CREATE = '''"""Create players."""

import sqlalchemy as sa
from alembic import op

revision = "a14a14000001"
down_revision = None


def upgrade():
    op.create_table(
        "players",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Unicode(200), nullable=False),
    )
    op.execute("INSERT INTO players (id, name) VALUES (1, 'Ann Lee'), (2, 'Bo Di')")


def downgrade():
    op.drop_table("players")
'''
# A data step on a model frozen in the revision, as Superset writes them.
INITIALS = '''"""Add players.initials, filled from the names."""

import sqlalchemy as sa
import legacy14.configured  # noqa: F401
from alembic import op
from legacy14 import initials
from sqlalchemy.ext.declarative import declarative_base
from sqlalchemy.orm import Session

revision = "a14a14000002"
down_revision = "a14a14000001"
online_only = "reads the players through a Session"
Base = declarative_base()


class Player(Base):
    __tablename__ = "players"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.Unicode(200))
    initials = sa.Column(sa.Unicode(10))


def upgrade():
    op.add_column("players", sa.Column("initials", sa.Unicode(10)))
    # A plain string: 1.4 runs it, unless the engine is in 2.0's (future) mode.
    op.get_bind().execute("UPDATE players SET name = name")
    session = Session(bind=op.get_bind())
    for player in session.query(Player):
        player.initials = initials(player.name)
    session.flush()


def downgrade():
    with op.batch_alter_table("players") as batch:
        batch.drop_column("initials")
'''


@pytest.fixture(scope="module")
def project(install) -> Path:
    """A bake without samples, the history above, and docs/adopting.md's venv
    with legacy14 and SQLAlchemy 1.4 standing for the application."""
    project = install(
        "sqlalchemy14", include_sample_revisions=False, include_docker=False
    )
    for name, text in APPLICATION.items():
        (project / "application" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "application" / name).write_text(text)
    [package] = (project / "src").glob("*/models.py")
    package = package.parent
    (package / "models.py").write_text(MODELS)
    versions = project / "migrations/versions"
    (versions / "a14a14000001_create_players.py").write_text(CREATE)
    (versions / "a14a14000002_add_initials.py").write_text(INITIALS)
    guide = (project / "docs/adopting.md").read_text()
    [commands] = re.findall(r"```sh\n(python3 -m venv \.venv-app\n.*?)```", guide, re.S)
    application = "./application psycopg2-binary"
    run(["sh", "-ec", commands.replace("'<app-dist>'", application)], cwd=project)
    return project


def alembic14(project: Path, url: str, *arguments: str) -> str:
    result = unchecked(
        [".venv-app/bin/alembic", *arguments], project, {"DATABASE_URL": url}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_the_venv_holds_sqlalchemy_14(project: Path) -> None:
    version = run(
        [
            ".venv-app/bin/python",
            "-c",
            "import sqlalchemy; print(sqlalchemy.__version__)",
        ],
        cwd=project,
    ).stdout
    assert version.startswith("1.4."), version


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_downgrade_upgrade_on_14(
    project: Path, backend: str, tmp_path: Path
) -> None:
    with fresh_database(backend, tmp_path) as url:
        through = sa.make_url(url)
        if backend == "postgresql":  # SQLAlchemy 1.4 has no psycopg 3 dialect
            through = through.set(drivername="postgresql+psycopg2")
        url14 = through.render_as_string(hide_password=False)
        alembic14(project, url14, "upgrade", "head")
        assert rows(url, "SELECT id, initials FROM players ORDER BY id") == [
            (1, "AL"),
            (2, "BD"),
        ]
        alembic14(project, url14, "downgrade", "base")
        assert rows(url, "SELECT version_num FROM alembic_version") == []
        alembic14(project, url14, "upgrade", "head")
        assert rows(url, "SELECT version_num FROM alembic_version") == [
            ("a14a14000002",)
        ]


def test_sql_renders_on_14_and_a_session_step_is_named(project: Path) -> None:
    result = unchecked(
        [".venv-app/bin/alembic", "upgrade", "head", "--sql"],
        project,
        {"DATABASE_URL": "postgresql://"},
    )

    assert "CREATE TABLE players" in result.stdout
    # The Session step cannot render: one line naming the revision.
    assert result.returncode != 0
    last = result.stdout.splitlines()[-1]
    assert last.startswith("FAILED: revision a14a14000002 (Add players.initials"), last


def test_make_targets_run_from_the_application_venv(
    project: Path, tmp_path: Path
) -> None:
    # docs/adopting.md: the Makefile's targets with BIN=.venv-app/bin.
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    run(["make", "migrate", "BIN=.venv-app/bin"], project, {"DATABASE_URL": url})
    assert rows(url, "SELECT version_num FROM alembic_version") == [("a14a14000002",)]

    before = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    execute(before, "CREATE TABLE settings (id INTEGER PRIMARY KEY, value TEXT)")
    written = run(
        ["make", "baseline", "BIN=.venv-app/bin"], project, {"DATABASE_URL": before}
    ).stdout
    [baseline] = re.findall(r"wrote (\S+):", written)
    try:
        guarded = 'if not done("settings"):\n        op.create_table(\n'
        assert guarded in (project / baseline).read_text()
    finally:
        (project / baseline).unlink()


def test_the_record_hook_reads_the_revisions_after_the_models(project: Path) -> None:
    # alembic.ini's post-write hook, as `alembic revision` runs it there: it
    # reads every revision, and a14a14000002 imports only once models.py ran.
    sums = project / "migrations/versions.sum"
    kept = {path: path.read_text() for path in (sums, project / "migrations/head")}
    [path] = (project / "migrations/versions").glob("a14a14000002_*.py")
    try:
        sums.write_text("")
        result = run(
            [".venv-app/bin/python", "-m", "migration_kit.cli", "record", str(path)],
            project,
        )
        assert "ERROR" not in result.stdout + result.stderr, result.stderr
        assert "a14a14000002" in sums.read_text()
    finally:
        for kept_path, text in kept.items():
            kept_path.write_text(text)


# A downgrade that fails, to be named as the harness names any other.
BROKEN_DOWNGRADE = '''"""Index players.name; the downgrade drops another index."""

from alembic import op

revision = "a14a14000003"
down_revision = "a14a14000002"


def upgrade():
    op.create_index("ix_players_name", "players", ["name"])


def downgrade():
    op.drop_index("ix_players_nickname", table_name="players")
'''
# PostgreSQL through TEST_POSTGRES_URL; MySQL left out: .venv-app has no
# mysqlclient, the driver a revision there would run on.
HARNESS = {"TEST_MYSQL_URL": "", "REQUIRE_TEST_BACKENDS": "postgresql"}


@pytest.fixture
def in_app_venv(project: Path) -> Iterator[Path]:
    """alembic.ini's revisions_python set to the application's venv."""
    ini = project / "alembic.ini"
    text = ini.read_text()
    # The line alembic.ini holds, as docs/adopting.md says to set it.
    line = "# revisions_python = .venv-app/bin/python\n"
    assert line in text
    ini.write_text(text.replace(line, line.removeprefix("# ")))
    try:
        yield project
    finally:
        ini.write_text(text)
        (project / "migrations/versions/a14a14000003_index.py").unlink(missing_ok=True)


def test_the_harness_cannot_import_the_revisions_in_its_own_venv(
    project: Path,
) -> None:
    result = unchecked([".venv/bin/pytest", "-p", "no:cacheprovider"], project, HARNESS)

    assert result.returncode == 4, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert "a14a14000002_add_initials.py" in line, line
    assert "No module named 'legacy14'" in line, line
    assert "(docs/adopting.md, revisions_python)" in line, line


def test_make_test_migrations_runs_the_revisions_in_the_application_venv(
    in_app_venv: Path,
) -> None:
    result = run(
        ["make", "test-migrations"], in_app_venv, {**HARNESS, "PYTEST_ADDOPTS": "-v"}
    )

    passed = passed_tests(result.stdout)
    for backend in ("sqlite", "postgresql"):
        for revision in ("a14a14000001", "a14a14000002"):
            assert f"test_stairway[{backend}-{revision}]" in passed, result.stdout
        assert f"test_models_match_migrations_at_head[{backend}]" in passed
    assert "test_revision_renders_as_sql[postgresql-a14a14000001]" in passed
    # Its declaration, read from the file's text: listed, not rendered.
    assert "ONLINE-ONLY a14a14000002 (Add players.initials, filled" in result.stdout
    # What needs the revisions in this process says so.
    assert (
        "NOT CHECKED crash-rerun: the revisions run in alembic.ini's "
        "revisions_python, and it needs them in this process"
    ) in result.stdout


def test_rendering_first_finds_the_application_set_up(in_app_venv: Path) -> None:
    # No step has run env.py (which imports models.py) when rendering starts.
    result = unchecked(
        [".venv/bin/pytest", "-p", "no:cacheprovider", "-k", "renders_as_sql"],
        in_app_venv,
        HARNESS,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ONLINE-ONLY a14a14000002" in result.stdout


def test_a_failure_there_is_named_as_here(in_app_venv: Path) -> None:
    versions = in_app_venv / "migrations/versions"
    (versions / "a14a14000003_index.py").write_text(BROKEN_DOWNGRADE)

    result = unchecked(
        [".venv/bin/pytest", "-p", "no:cacheprovider", "-k", "stairway"],
        in_app_venv,
        HARNESS,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    failed = re.findall(r"^FAILED (\S+) - (.*)$", result.stdout, re.M)
    assert sorted(test for test, _ in failed) == [
        "tests/test_migrations.py::test_stairway[postgresql-a14a14000003]",
        "tests/test_migrations.py::test_stairway[sqlite-a14a14000003]",
    ], result.stdout
    postgresql = failure_text(result.stdout, "postgresql-a14a14000003")
    assert 'UndefinedObject: index "ix_players_nickname" does not exist' in postgresql
    sqlite = failure_text(result.stdout, "sqlite-a14a14000003")
    assert "OperationalError: no such index: ix_players_nickname" in sqlite


def failure_text(output: str, parameters: str) -> str:
    """What pytest printed under the failure of test_stairway[parameters]."""
    title = re.escape(f" test_stairway[{parameters}] ")
    return re.search(rf"_{title}_+\n(.*?)\n[_=]", output, re.S).group(1)
