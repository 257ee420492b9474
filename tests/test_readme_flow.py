"""The generated README's flow for a new table, and the scaffold it relies on.

A user migrates, changes models.py, runs `make autorevision`, `make migrate`,
`make check` and `make test`: on a fresh bake that must be green as written,
with no linter complaint about the revision autogenerate wrote.
"""

import ast
import re
import subprocess
from pathlib import Path

import pytest

from .baking import run

COACHES = """

class Coach(Base):
    __tablename__ = "coaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(200))
"""


@pytest.fixture
def default_project(install) -> Path:
    return install("default")


@pytest.fixture
def bare_project(install) -> Path:
    return install("sqlite-bare", include_sample_revisions=False, ci="none")


@pytest.fixture
def restore_afterwards(default_project: Path):
    """Put models.py and the revisions back as baked, whatever the test did."""
    models = next(default_project.glob("src/*/models.py"))
    saved = models.read_text()
    versions = set((default_project / "migrations" / "versions").glob("*.py"))
    yield models
    models.write_text(saved)
    for revision in (default_project / "migrations" / "versions").glob("*.py"):
        if revision not in versions:
            revision.unlink()
    (default_project / "local.sqlite3").unlink(missing_ok=True)


def local(project: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{project / 'local.sqlite3'}"}


def test_readme_flow_for_a_new_table_is_green(
    default_project: Path, restore_afterwards: Path
) -> None:
    env = local(default_project)
    run(["make", "migrate"], cwd=default_project, env=env)
    restore_afterwards.write_text(restore_afterwards.read_text() + COACHES)
    run(["make", "autorevision", "m=add coaches"], cwd=default_project, env=env)
    [table] = default_project.glob("migrations/versions/*_add_coaches.py")
    assert_lean_schema_revision(table)
    assert_ruff_clean(default_project, table)
    run(["make", "migrate"], cwd=default_project, env=env)
    checked = run(["make", "check"], cwd=default_project, env=env)
    assert "No new upgrade operations detected" in checked.stdout
    # A data revision from the scaffold, as written.
    run(["make", "revision", "m=tidy coaches"], cwd=default_project, env=env)
    [data] = default_project.glob("migrations/versions/*_tidy_coaches.py")
    assert "    # with migration_session() as session:\n" in data.read_text()
    assert_ruff_clean(default_project, data)
    # lint, lint-migrations (squawk) and the harness, both revisions included.
    tested = run(["make", "test"], cwd=default_project)
    assert "Found 0 issues in 4 files" in tested.stdout + tested.stderr


def assert_lean_schema_revision(revision: Path) -> None:
    """Autogenerate's operations and Alembic's identifiers, nothing else."""
    text = revision.read_text()
    assert "op.create_table(" in text
    assert len(text.splitlines()) <= 30, text
    for boilerplate in ("Data:", "migration_session", "DeclarativeBase", "###"):
        assert boilerplate not in text, boilerplate


def assert_ruff_clean(project: Path, revision: Path) -> None:
    """Clean with the project's own settings, which ignore no rule in revisions."""
    settings = (project / "pyproject.toml").read_text()
    assert '"migrations/versions/*.py" = [' not in settings
    run([".venv/bin/ruff", "check", "--no-cache", str(revision)], cwd=project)
    run([".venv/bin/ruff", "format", "--check", str(revision)], cwd=project)


def test_message_and_tables_pass_through_make_unchanged(
    default_project: Path, restore_afterwards: Path
) -> None:
    message = """price in $USD, it's "odd\""""
    run(
        ["make", "revision", f"m={message}", "tables=players"],
        cwd=default_project,
        env=local(default_project),
    )
    [revision] = default_project.glob("migrations/versions/*_price_in_usd*.py")
    text = revision.read_text()
    # The docstring holds the message exactly, escaped where Python needs it.
    assert ast.get_docstring(ast.parse(text)).startswith(f"{message}\n")
    assert "class Player(Base):" in text


def test_importing_the_application_models_in_a_revision_fails_lint(
    default_project: Path, restore_afterwards: Path
) -> None:
    run(["make", "revision", "m=uses app models"], cwd=default_project)
    [revision] = default_project.glob("migrations/versions/*_uses_app_models.py")
    package = next(default_project.glob("src/*/models.py")).parent.name
    revision.write_text(
        f"from {package}.models import Player  # noqa: F401\n" + revision.read_text()
    )
    result = subprocess.run(
        [".venv/bin/ruff", "check", "--no-cache", str(revision)],
        cwd=default_project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert f"TID251 `{package}.models` is banned" in result.stdout


def test_scaffolds_are_ruff_clean_before_the_post_write_hooks(
    default_project: Path, restore_afterwards: Path
) -> None:
    """The hooks run ruff --fix, but the scaffold must not need them to."""
    ini = (default_project / "alembic.ini").read_text()
    hooks = re.compile(r"^\[post_write_hooks\]\n.*?(?=^\[)", re.DOTALL | re.MULTILINE)
    assert hooks.search(ini)
    no_hooks = default_project / "no-hooks.ini"
    no_hooks.write_text(hooks.sub("", ini))
    alembic = [".venv/bin/alembic", "-c", no_hooks.name]
    try:
        run([*alembic, "revision", "-m", "plain"], cwd=default_project)
        tables = ["-x", "tables=players,teams"]
        run([*alembic, *tables, "revision", "-m", "frozen"], cwd=default_project)
    finally:
        no_hooks.unlink()
    for slug in ("plain", "frozen"):
        [revision] = default_project.glob(f"migrations/versions/*_{slug}.py")
        run([".venv/bin/ruff", "check", "--no-cache", str(revision)], default_project)


def test_first_revision_has_no_trailing_whitespace(bare_project: Path) -> None:
    versions = bare_project / "migrations" / "versions"
    baked = set(versions.iterdir())
    try:
        result = run(["make", "revision", "m=first"], cwd=bare_project)
        [revision] = versions.glob("*_first.py")
        assert "Revises:\n" in revision.read_text()
        assert "W291" not in result.stdout + result.stderr
        run([".venv/bin/ruff", "check", "--no-cache", str(revision)], cwd=bare_project)
    finally:
        for path in set(versions.iterdir()) - baked:
            path.unlink()


def test_busy_table_sequence_in_the_guide_passes_squawk(
    default_project: Path, restore_afterwards: Path
) -> None:
    guide = (default_project / "docs" / "changing-data.md").read_text()
    titled = dict(re.findall(r'```python title="([^"]+)"\n(.*?)```', guide, re.DOTALL))
    examples = [titled[title] for title in ("expand", "backfill", "contract")]
    down = "8f7a6b5c4d02"
    for number, example in enumerate(examples, start=1):
        revision = f"0c000000000{number}"
        header = (
            f'"""Step {number} of the guide."""\n\n'
            f"revision = {revision!r}\ndown_revision = {down!r}\n"
            "branch_labels = depends_on = None\n\n\n"
            "def downgrade() -> None:\n    pass\n\n\n"
        )
        versions = default_project / "migrations" / "versions"
        (versions / f"2099_01_0{number}-{revision}_guide.py").write_text(
            header + example
        )
        down = revision

    result = run(["make", "lint-migrations"], cwd=default_project)

    # The backfill needs a database: its step is left out as a comment, and
    # squawk still gets that revision with the other four.
    assert "Found 0 issues in 5 files" in result.stdout
    assert "not linted" not in result.stderr
