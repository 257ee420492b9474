"""`make lint-migrations` passes on the samples and catches a risky revision.

Online-only revisions (steps that read rows) are in test_online_only_revisions.py.
"""

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
