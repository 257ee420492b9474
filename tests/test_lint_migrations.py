"""`make lint-migrations` passes on the samples and catches a risky revision."""

import subprocess
from pathlib import Path

import pytest

from .baking import run
from .production import HEAD, extra_revision, installed_project


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    return installed_project(cookies_session)


def test_samples_pass(project) -> None:
    result = run(["make", "lint-migrations"], cwd=project)
    assert "Found 0 issues in 2 files" in result.stdout + result.stderr


def test_blocking_index_is_reported(project) -> None:
    index = '    op.create_index("ix_players_name", "players", ["name"])\n'
    with extra_revision(project, "f00dbad00005", HEAD, index):
        result = subprocess.run(
            ["make", "lint-migrations"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode != 0
    assert "require-concurrent-index-creation" in result.stdout
    assert "f00dbad00005_extra.sql" in result.stdout


def test_revision_that_cannot_render_offline_is_named_and_skipped(project) -> None:
    # It reads rows through its session, which --sql cannot render.
    session_step = (
        "    from team_migrations.data_migrations import migration_session\n\n"
        "    with migration_session() as session:\n"
        "        session.execute(sa.select(sa.literal(1))).all()\n"
    )
    with extra_revision(project, "f00dbad00006", HEAD, session_step):
        result = run(["make", "lint-migrations"], cwd=project)
    assert "not linted: 2099_01_01_0000-f00dbad00006_extra.py" in result.stderr
    assert "Found 0 issues in 2 files" in result.stdout + result.stderr
