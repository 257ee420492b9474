"""`make lint-migrations` passes on the samples and catches a risky revision.

Online-only revisions (steps that read rows) are in test_online_only_revisions.py.
"""

import subprocess

from .baking import run
from .production import HEAD, extra_revision


def test_samples_pass(project) -> None:
    result = run(["make", "lint-migrations"], cwd=project)
    assert "Found 0 issues in 2 files" in result.stdout + result.stderr


def test_blocking_index_is_reported_at_its_revision_line(project) -> None:
    index = '    op.create_index("ix_players_name", "players", ["name"])\n'
    with extra_revision(project, "f00dbad00005", HEAD, index):
        [revision] = project.glob("migrations/versions/*-f00dbad00005_extra.py")
        line = revision.read_text().splitlines().index(index.rstrip("\n")) + 1
        # Not on a terminal (captured): plain text, as in a CI log.
        result = subprocess.run(
            ["make", "lint-migrations"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "\x1b[" not in output
    [finding] = [x for x in result.stdout.splitlines() if "warning:" in x]
    assert finding.startswith(
        f"migrations/versions/{revision.name}:{line}: warning: "
        "require-concurrent-index-creation: "
    ), result.stdout
    assert "    CREATE INDEX ix_players_name ON players (name);" in result.stdout
    assert ".sql" not in output
    assert "Found 1 issue in 1 file (checked 3 revisions)" in result.stdout
