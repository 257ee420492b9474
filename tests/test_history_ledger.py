"""The history as a whole, in a baked project under git (docs/history.md).

An applied revision edited in place fails `make test` and the next
`make migrate`, in one line each, while reformatting it does not; two
branches that each add a revision conflict in `migrations/head` and the
README's command resolves it; `make squash` replaces a stretch of history
with one revision, proved on every backend, which databases migrated before
it and later revisions keep working with.
"""

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .baking import GIT, run, unchecked
from .production import FIRST, HEAD, fresh_database, server_url

BACKENDS = ["sqlite", "postgresql", "mysql"]
SAMPLE = (
    "migrations/versions/"
    "2026_01_02_0000-8f7a6b5c4d02_sample_move_team_names_into_teams.py"
)
SQLITE_ONLY = {
    "TEST_POSTGRES_URL": "",
    "TEST_MYSQL_URL": "",
    "TEST_POSTGRES": "off",
    "REQUIRE_TEST_BACKENDS": "",
}
# A lookup table whose rows a revision inserts, below the squash point, and a
# revision after it that uses them.
POSITIONS = '''"""Positions, with the three every team has."""

import sqlalchemy as sa
from alembic import op

revision = "a1b2c3d4e503"
down_revision = "8f7a6b5c4d02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    positions = op.create_table(
        "positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Unicode(50), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_positions")),
    )
    op.bulk_insert(positions, [{"id": 1, "name": "keeper"}, {"id": 2, "name": "back"}])


def downgrade() -> None:
    op.drop_table("positions")
'''
COACHES = '''"""Coaches, each at a position."""

import sqlalchemy as sa
from alembic import op

revision = "a1b2c3d4e504"
down_revision = "a1b2c3d4e503"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaches")),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_coaches_position_id_positions"),
        ),
    )


def downgrade() -> None:
    op.drop_table("coaches")
'''
# What models.py says of them.
MODELS = """

class Position(Base):
    __tablename__ = "positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(50))


class Coach(Base):
    __tablename__ = "coaches"

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
"""


@pytest.fixture(scope="module")
def project(install) -> Path:
    """A bake of its own, committed in git; each test leaves it as it found it."""
    project = install("history-ledger")
    git("init", "--quiet", "--initial-branch=main", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "--quiet", "-m", "Baked", cwd=project)
    git("tag", "baked", cwd=project)
    return project


@pytest.fixture
def clean(project: Path) -> Iterator[Path]:
    yield project
    git("merge", "--abort", cwd=project, check=False)
    git("switch", "--quiet", "--force", "main", cwd=project)
    git("reset", "--quiet", "--hard", "baked", cwd=project)
    git("branch", "-D", "add-coach", cwd=project, check=False)
    git("clean", "--quiet", "-fd", "migrations", "src", "tests", cwd=project)


def git(*arguments: str, cwd: Path, check: bool = True) -> str:
    result = unchecked(["git", *arguments], cwd, env=GIT)
    assert not check or result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def fails(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = unchecked(command, cwd, env={**GIT, **(env or {})})
    assert result.returncode != 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.match(r"(ERROR|FAILED)", line)]


def harness_preflight(project: Path) -> subprocess.CompletedProcess[str]:
    """The harness up to its first test: where it checks the history."""
    return unchecked([".venv/bin/pytest", "-q", "-k", "one_head"], project, env=GIT)


def test_an_edited_revision_fails_make_test_but_a_reformatted_one_does_not(
    clean: Path,
) -> None:
    sample = clean / SAMPLE
    original = sample.read_text()
    sample.write_text(original.replace("exact_unicode(100)", "exact_unicode(120)"))
    [line] = error_lines(fails(["make", "test"], clean))
    assert line.startswith("ERROR: revision 8f7a6b5c4d02 (migrations/versions/")
    assert "make accept-revision rev=8f7a6b5c4d02" in line

    # Comments, a docstring and line breaks change nothing a database sees.
    sample.write_text(
        original.replace(
            "def upgrade() -> None:\n",
            'def upgrade() -> None:\n    """Teams first."""\n    # Why: above.\n',
        )
    )
    assert harness_preflight(clean).returncode == 0
    run(["make", "lint"], clean)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_second_migrate_refuses_a_revision_edited_since_it_ran(
    clean: Path, backend: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        server_url(backend)
    sample = clean / SAMPLE
    original = sample.read_text()
    with fresh_database(backend, tmp_path) as url:
        env = {"DATABASE_URL": url}
        run(["make", "migrate"], clean, env=env)
        sample.write_text(original.replace('"""Move', '# moved\n"""Move', 1))
        run(["make", "migrate"], clean, env=env)  # a comment: nothing changed

        sample.write_text(original.replace("exact_unicode(100)", "exact_unicode(120)"))
        [line] = error_lines(fails(["make", "migrate"], clean, env=env))
        assert line.startswith("FAILED: revision 8f7a6b5c4d02 (migrations/versions/")
        assert line.endswith("run again with MIGRATION_ACCEPT_CHANGED=8f7a6b5c4d02")
        accepted = {**env, "MIGRATION_ACCEPT_CHANGED": "8f7a6b5c4d02"}
        run(["make", "migrate"], clean, env=accepted)
        run(["make", "migrate"], clean, env=env)


def readme_block(project: Path, heading: str) -> list[str]:
    """The commands of the first ``sh`` block under ``heading`` in README.md."""
    text = (project / "README.md").read_text()
    section = text.split(f"## {heading}\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def test_two_branches_conflict_in_the_head_file_and_the_readme_resolves_it(
    clean: Path,
) -> None:
    git("switch", "--quiet", "-c", "add-coach", cwd=clean)
    run(["make", "revision", "m=add coach"], clean)
    # make revision recorded it in both files (alembic.ini's post-write hook).
    [coach] = clean.glob("migrations/versions/*_add_coach.py")
    coach_id = coach.name.split("-", 1)[1].split("_", 1)[0]
    assert (clean / "migrations/head").read_text() == f"{coach_id}\n"
    assert f"\n{coach_id} " in (clean / "migrations/versions.sum").read_text()
    git("add", "migrations", cwd=clean)
    git("commit", "--quiet", "-m", "Add coach", cwd=clean)
    git("switch", "--quiet", "main", cwd=clean)
    run(["make", "revision", "m=add referee"], clean)
    git("add", "migrations", cwd=clean)
    git("commit", "--quiet", "-m", "Add referee", cwd=clean)
    git("switch", "--quiet", "add-coach", cwd=clean)

    merge, rebase, commit_and_test = readme_block(clean, "Branches and the history")
    command = merge.split("#")[0].strip()
    assert command == "git merge main"
    conflict = merge.split("# ")[1]
    assert conflict in fails(["sh", "-c", command], clean)
    stopped = harness_preflight(clean)
    [line] = error_lines(stopped.stdout + stopped.stderr)
    assert "migrations/head has a merge conflict" in line
    assert "make rebase-revision" in line
    moved = run(["sh", "-c", rebase.split("#")[0]], clean).stdout
    assert "moved " in moved
    # make test on SQLite alone: the other backends add time, not coverage.
    run(["sh", "-c", commit_and_test], clean, env={**GIT, **SQLITE_ONLY})
    history = run([".venv/bin/alembic", "history"], clean).stdout
    assert re.search(r"-> \w+ \(head\), add coach", history), history


def test_squash_proves_itself_and_older_databases_upgrade_to_head(
    clean: Path, tmp_path: Path
) -> None:
    for backend in ("postgresql", "mysql"):
        server_url(backend)
    versions = clean / "migrations/versions"
    (versions / "2026_01_03_0000-a1b2c3d4e503_positions.py").write_text(POSITIONS)
    (versions / "2026_01_04_0000-a1b2c3d4e504_coaches.py").write_text(COACHES)
    [models] = clean.glob("src/*/models.py")
    models.write_text(models.read_text() + MODELS)
    run([".venv/bin/ruff", "format", "--quiet", "migrations"], clean)
    # Tests of their own for the samples' revisions, which the squash replaces.
    for sample_test in clean.glob("tests/test_sample_*.py"):
        sample_test.unlink()
    older = {"DATABASE_URL": f"sqlite:///{tmp_path / 'older.sqlite3'}"}
    run([".venv/bin/alembic", "upgrade", FIRST], clean, env=older)
    with fresh_database("sqlite", tmp_path) as url:
        before = {"DATABASE_URL": url}
        run(["make", "migrate"], clean, env={**before})
        run([".venv/bin/alembic", "downgrade", "a1b2c3d4e503"], clean, env=before)

        squashed = run(["make", "squash", "to=a1b2c3d4e503"], clean).stdout
        assert "squashed 3 revisions into a1b2c3d4e503" in squashed
        assert "sqlite, postgresql, mysql" in squashed
        [new] = versions.glob("*a1b2c3d4e503_squashed.py")
        assert not list(versions.glob(f"*{FIRST}*")), "replaced files are gone"
        assert "op.bulk_insert" in new.read_text()

        # A database migrated before the squash upgrades to head after it.
        run(["make", "migrate"], clean, env=before)
        current = run([".venv/bin/alembic", "current"], clean, env=before).stdout
        assert "a1b2c3d4e504 (head)" in current
    # One older than the squash point is told how to get there.
    [line] = error_lines(fails(["make", "migrate"], clean, env=older))
    assert line == (
        f"FAILED: this database is at {FIRST}, which make squash replaced with "
        "a1b2c3d4e503: upgrade it to a1b2c3d4e503 with the release before the "
        "squash first (docs/history.md)."
    )
    run([".venv/bin/pytest", "-q", "-p", "no:cacheprovider"], clean)
    assert HEAD not in (clean / "migrations/versions.sum").read_text()
