"""Every supported combination of answers bakes a clean project."""

import itertools
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .baking import bake, run

DATABASES = ["sqlite", "postgresql", "mysql"]
MATRIX = list(
    itertools.product(DATABASES, [True, False], [True, False], ["github", "none"])
)


def test_default_bake_has_the_documented_layout(cookies) -> None:
    project = bake(cookies)
    assert project.name == "team-migrations"
    for path in [
        "pyproject.toml",
        "Makefile",
        "README.md",
        "alembic.ini",
        "docker-compose.yml",
        ".github/workflows/migrations.yml",
        "src/team_migrations/models.py",
        "migrations/env.py",
        "migrations/script.py.mako",
        "docs/changing-data.md",
        "docs/production.md",
        "docs/testing.md",
        "docs/adopting.md",
        "tests/test_sample_teams.py",
        "tests/conftest.py",
        "tests/test_migrations.py",
        "migration-kit/pyproject.toml",
        "migration-kit/src/migration_kit/__init__.py",
    ]:
        assert (project / path).is_file(), path
    assert len(list((project / "migrations/versions").glob("*_sample_*.py"))) == 2


@pytest.mark.parametrize(
    ("database", "samples", "docker", "ci"),
    MATRIX,
    ids=["-".join(map(str, combination)) for combination in MATRIX],
)
def test_every_combination_bakes_clean(cookies, database, samples, docker, ci) -> None:
    project = bake(
        cookies,
        database=database,
        include_sample_revisions=samples,
        include_docker=docker,
        ci=ci,
    )
    assert_no_placeholders(project)
    assert (project / "docker-compose.yml").exists() == docker
    assert (project / ".github").exists() == (ci == "github")
    assert bool(list(project.glob("migrations/versions/*.py"))) == samples
    assert ("db-up:" in (project / "Makefile").read_text()) == docker
    assert_ruff_clean(project)
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    driver = {"sqlite": None, "postgresql": "psycopg", "mysql": "pymysql"}[database]
    assert [d for d in dependencies if d.startswith(("psycopg", "pymysql"))] == (
        [d for d in dependencies if driver and d.startswith(driver)]
    )


@pytest.mark.parametrize(
    "name",
    [
        'Tom\'s "Quoted" Project',
        "Back\\slash \\n \\u0041 Project",
        "Ünïcödé Équipe 日本",
    ],
)
def test_hostile_names_give_a_valid_project(cookies, name: str) -> None:
    project = bake(cookies, project_name=name)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert name in pyproject["project"]["description"]
    assert name in (project / "README.md").read_text()
    assert_no_placeholders(project)
    assert_ruff_clean(project)


def assert_no_placeholders(project: Path) -> None:
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "{{ cookiecutter" not in text and "{{cookiecutter" not in text, path


def assert_ruff_clean(project: Path) -> None:
    ruff = [sys.executable, "-m", "ruff"]
    run([*ruff, "check", "--no-cache", "."], cwd=project)
    run([*ruff, "format", "--check", "--no-cache", "."], cwd=project)


def test_ruff_is_really_run(tmp_path: Path) -> None:
    """The lint helper fails on unformatted code, so its passes mean something."""
    (tmp_path / "bad.py").write_text("import os\nx=1\n")
    with pytest.raises(AssertionError):
        assert_ruff_clean(tmp_path)
    assert subprocess.run([sys.executable, "-m", "ruff", "--version"]).returncode == 0
