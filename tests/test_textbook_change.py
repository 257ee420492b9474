"""A new user's textbook change, written the way the docs teach, passes first time.

A bake without the sample revisions; the user adds `Player` to models.py and
autogenerates revision 1 (declaring `team` exact, as the README says), then
moves the team names into `teams`: models.py changes, `make revision ...
tables="players"` writes the scaffold with `players` frozen, and the user
fills it with the revision that docs/changing-data.md shows whole (its block
titled "the textbook change"). No sample code is copied: the bake has none.
`make test` (lint, squawk, the harness on SQLite, PostgreSQL and MariaDB)
must pass on that first run.
"""

import re
from pathlib import Path

import pytest

from .baking import bake, run
from .test_harness import require_servers

PLAYER_MODEL = """

class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(200))
    position: Mapped[str | None] = mapped_column(Unicode(200))
    team: Mapped[str | None] = mapped_column(Unicode(100))
"""
TEAM_MODELS = """

class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(100), unique=True)


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(200))
    position: Mapped[str | None] = mapped_column(Unicode(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
"""
MODEL_IMPORTS = (
    "from sqlalchemy import ForeignKey, MetaData, Unicode\n"
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
)
# What the docs' revision uses beyond the scaffold's own imports.
KIT_IMPORTS = (
    "from migration_kit import done, exact_unicode, migration_session, squawk_ignore\n"
)


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    project = bake(
        cookies_session, project_name="Textbook", include_sample_revisions=False
    )
    run(["make", "install"], cwd=project)
    return project


def test_the_textbook_change_passes_make_test_first_time(project: Path) -> None:
    require_servers()
    models = project / "src/textbook/models.py"
    baked = models.read_text()
    write_models(models, baked, PLAYER_MODEL)
    run(["make", "migrate"], cwd=project)
    run(["make", "autorevision", "m=create players"], cwd=project)
    declare_team_exact(revision(project, "create_players"))
    run(["make", "migrate"], cwd=project)

    write_models(models, baked, TEAM_MODELS)
    run(["make", "revision", "m=move team names into teams", "tables=players"], project)
    moved = revision(project, "move_team_names_into_teams")
    fill_in(moved, documented_revision(project))

    result = run(["make", "test"], cwd=project)
    # Nothing failed or skipped; deselected are the checks with nothing to do
    # here (crash stops on a project deploying to SQLite), named by the run.
    assert re.search(r"=+ \d+ passed(, \d+ deselected)? in ", result.stdout), (
        result.stdout
    )
    for backend in ("sqlite", "postgresql", "mysql"):
        assert f"slowest revisions on {backend}" in result.stdout


def write_models(models: Path, baked: str, classes: str) -> None:
    """models.py as the bake wrote it, with the user's imports and classes."""
    lines = baked.splitlines(keepends=True)
    imports = [i for i, line in enumerate(lines) if line.startswith("from sqlalchemy")]
    kept = [line for i, line in enumerate(lines) if i not in imports]
    kept.insert(imports[0], MODEL_IMPORTS)
    models.write_text("".join(kept) + classes)
    run([".venv/bin/ruff", "check", "--fix", "--quiet", str(models)], models.parents[2])


def revision(project: Path, slug: str) -> Path:
    [path] = project.glob(f"migrations/versions/*_{slug}.py")
    return path


def declare_team_exact(path: Path) -> None:
    """README, "Writing a schema revision": a column a data step will join on."""
    text = path.read_text()
    team = 'sa.Column("team", sa.Unicode(length=100), nullable=True)'
    assert team in text, text
    text = text.replace(team, 'sa.Column("team", exact_unicode(100), nullable=True)')
    exact = "from migration_kit import exact_unicode\n"
    text = text.replace("from alembic import op\n", "from alembic import op\n" + exact)
    path.write_text(text)
    run([".venv/bin/ruff", "check", "--fix", "--quiet", str(path)], path.parents[2])


def documented_revision(project: Path) -> str:
    guide = (project / "docs/changing-data.md").read_text()
    [code] = re.findall(
        r'```python title="the textbook change"\n(.*?)```', guide, re.DOTALL
    )
    return code


def fill_in(path: Path, code: str) -> None:
    """The scaffold up to its frozen models, then the documented classes and
    functions; the imports they need; formatted, as the post-write hooks do."""
    scaffold = path.read_text()
    head = scaffold[: scaffold.index("\n# Frozen models:")]
    head = head.replace(
        "import sqlalchemy as sa\n",
        "import sqlalchemy as sa\nfrom alembic import op\n" + KIT_IMPORTS,
    )
    if "Mapped, mapped_column" not in head:
        head = head.replace(
            "from sqlalchemy.orm import DeclarativeBase\n",
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n",
        )
    path.write_text(head + "\n\n" + code)
    root = path.parents[2]
    run([".venv/bin/ruff", "check", "--fix", "--quiet", str(path)], root)
    run([".venv/bin/ruff", "format", "--quiet", str(path)], root)
