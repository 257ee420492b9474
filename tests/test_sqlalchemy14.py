"""An application pinned to SQLAlchemy 1.4: its revisions run in its own venv.

docs/adopting.md ("An application pinned to SQLAlchemy 1.4"), followed as
written: a second venv holds the application's pins (here SQLAlchemy 1.4 and
psycopg2), Alembic, and the project and migration-kit without their
dependencies. The bake's own env.py and migration_kit then upgrade, downgrade
and render a history written in 1.4's style (``declarative_base``, a data
step through ``session.query``) on SQLite and PostgreSQL.
"""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from .baking import bake, run, unchecked
from .production import execute, fresh_database, rows

MODELS = '''"""The application's models, on SQLAlchemy 1.4."""

import sqlalchemy as sa
from migration_kit import NAMING_CONVENTION
from sqlalchemy.orm import declarative_base

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
from alembic import op
from sqlalchemy.ext.declarative import declarative_base
from sqlalchemy.orm import Session

revision = "a14a14000002"
down_revision = "a14a14000001"
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
        player.initials = "".join(word[0] for word in player.name.split())
    session.flush()


def downgrade():
    with op.batch_alter_table("players") as batch:
        batch.drop_column("initials")
'''


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    """A bake without samples, the history above, and docs/adopting.md's venv
    with SQLAlchemy 1.4 standing for the application."""
    project = bake(
        cookies_session, include_sample_revisions=False, include_docker=False
    )
    package = next((project / "src").iterdir())
    (package / "models.py").write_text(MODELS)
    versions = project / "migrations/versions"
    (versions / "a14a14000001_create_players.py").write_text(CREATE)
    (versions / "a14a14000002_add_initials.py").write_text(INITIALS)
    guide = (project / "docs/adopting.md").read_text()
    [commands] = re.findall(r"```sh\n(python3 -m venv \.venv-app\n.*?)```", guide, re.S)
    application = "'sqlalchemy>=1.4,<2' psycopg2-binary"
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
