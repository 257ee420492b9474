"""The generated docs/adopting.md, followed as written.

A legacy history whose first revision alters a table made outside Alembic,
written to other rules (ruff-dirty, an index squawk flags), goes into
`migrations/versions/legacy/`; the lines docs/adopting.md gives keep it out of
`make lint` and `make lint-migrations`, and `make baseline` with the re-parenting
edit gives it a root that creates the table, so a new database upgrades to
head. bench/adoption/ does the same with real histories from PyPI.
"""

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from .baking import run

LEGACY_FIRST = '''"""add email to users"""
import os
from alembic import op
import sqlalchemy as sa
revision = 'a1e9ac000001'
down_revision = None
branch_labels = None
depends_on = None
def upgrade():
    op.add_column('users', sa.Column('email', sa.String(200)))
    op.create_index('ix_users_email', 'users', ['email'])
def downgrade():
    op.drop_index('ix_users_email', 'users')
    op.drop_column('users', 'email')
'''


@pytest.fixture(scope="module")
def project(install) -> Path:
    return install("adoption", include_sample_revisions=False, ci="none")


def fails(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """The output of a command that must fail."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def append_after(path: Path, line: str, added: str) -> None:
    text = path.read_text()
    assert line in text, (
        f"{path.name} has no {line!r}: a docs/adopting.md step is stale"
    )
    path.write_text(text.replace(line, f"{line}{added}", 1))


def replace_line(path: Path, line: str, replacement: str) -> None:
    text = path.read_text()
    assert line in text, (
        f"{path.name} has no {line!r}: a docs/adopting.md step is stale"
    )
    path.write_text(text.replace(line, replacement, 1))


def test_documented_steps_adopt_a_history_that_needs_a_baseline(
    project: Path, tmp_path: Path
) -> None:
    # Step 1: the revisions in a folder of their own, which Alembic reads.
    legacy = project / "migrations/versions/legacy"
    legacy.mkdir()
    (legacy / "001_add_email.py").write_text(LEGACY_FIRST)
    append_after(
        project / "alembic.ini", "[alembic]\n", "recursive_version_locations = true\n"
    )
    assert "a1e9ac000001" in run([".venv/bin/alembic", "history"], project).stdout
    # Without step 4, both linters reject the legacy revision.
    fails(["make", "lint"], project)
    fails(["make", "lint-migrations"], project)

    # Step 4: the exact lines docs/adopting.md gives.
    replace_line(
        project / "pyproject.toml",
        "[tool.ruff]\n",
        '[tool.ruff]\nextend-exclude = ["migrations/versions/legacy"]\n',
    )
    squawk = project / ".squawk.toml"
    squawk.write_text(squawk.read_text() + 'excluded_paths = ["*/legacy/*"]\n')
    run(["make", "lint"], project)
    run(["make", "lint-migrations"], project)

    # Step 5: the table the first revision assumes, made by hand, as a baseline.
    before = tmp_path / "before-first-revision.sqlite3"
    with sqlite3.connect(before) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    fresh = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    assert "no such table: users" in fails(
        [".venv/bin/alembic", "upgrade", "head"], project, env=fresh
    )
    made = run(
        ["make", "baseline"], project, env={"DATABASE_URL": f"sqlite:///{before}"}
    )
    assert "creates 1 tables" in made.stdout
    [baseline] = (project / "migrations/versions").glob("*_baseline_*.py")
    baseline_id = baseline.name.split("-", 1)[1].split("_", 1)[0]
    first = legacy / "001_add_email.py"
    first.write_text(
        first.read_text().replace(
            "down_revision = None", f'down_revision = "{baseline_id}"'
        )
    )

    history = run([".venv/bin/alembic", "history"], project).stdout
    assert f"<base> -> {baseline_id}" in history
    assert f"{baseline_id} -> a1e9ac000001 (head)" in history
    run([".venv/bin/alembic", "upgrade", "head"], project, env=fresh)
    run(["make", "lint"], project)
    run(["make", "lint-migrations"], project)
