"""A revision's fingerprint follows what it does, not how it is written; and
``make rebase-revision`` moves a revision by editing its down_revision only."""

from pathlib import Path

import pytest
from migration_kit.ledger import fingerprint, parse_sums
from migration_kit.rebase import ours, repointed

REVISION = '''"""Add coach.

Revision ID: c0ac4000beef
Revises: 8f7a6b5c4d02
"""

import sqlalchemy as sa
from alembic import op

revision: str = "c0ac4000beef"
down_revision: str | None = "8f7a6b5c4d02"


def upgrade() -> None:
    op.add_column("players", sa.Column("coach", sa.Unicode(100)))


def downgrade() -> None:
    op.drop_column("players", "coach")
'''
COSMETIC = [
    # A comment, a docstring in upgrade(), other quotes and line breaks.
    ("def upgrade() -> None:\n", 'def upgrade() -> None:\n    """Why."""\n    # ok\n'),
    ('op.drop_column("players", "coach")', "op.drop_column(\n'players',\n'coach')"),
    ('"""Add coach.', '"""Add a coach to each player.'),
    # Its place in the history: make rebase-revision changes only that.
    ('down_revision: str | None = "8f7a6b5c4d02"', 'down_revision = "feed00000001"'),
]
BEHAVIOUR = [
    ("sa.Unicode(100)", "sa.Unicode(120)"),
    ('op.drop_column("players", "coach")', "pass"),
    ("import sqlalchemy as sa\n", "import sqlalchemy as sa\nimport os\n"),
]


def fingerprint_of(text: str, tmp_path: Path) -> str:
    path = tmp_path / "revision.py"
    path.write_text(text)
    return fingerprint(path)


@pytest.mark.parametrize(("old", "new"), COSMETIC)
def test_formatting_comments_and_place_leave_the_fingerprint(
    old: str, new: str, tmp_path: Path
) -> None:
    assert old in REVISION
    edited = REVISION.replace(old, new)
    assert fingerprint_of(edited, tmp_path) == fingerprint_of(REVISION, tmp_path)


@pytest.mark.parametrize(("old", "new"), BEHAVIOUR)
def test_a_change_in_what_it_does_changes_the_fingerprint(
    old: str, new: str, tmp_path: Path
) -> None:
    assert old in REVISION
    edited = REVISION.replace(old, new)
    assert fingerprint_of(edited, tmp_path) != fingerprint_of(REVISION, tmp_path)


def test_both_sides_of_a_conflict_in_versions_sum_count() -> None:
    text = (
        "# comment\n5d3e0a1c2b01 aaaa\n<<<<<<< HEAD\nc0ac4000beef bbbb\n"
        "=======\nfeed00000001 cccc\n>>>>>>> main\n"
    )
    assert parse_sums(text) == {
        "5d3e0a1c2b01": "aaaa",
        "c0ac4000beef": "bbbb",
        "feed00000001": "cccc",
    }


def test_ours_is_this_branchs_side_of_the_head_conflict(tmp_path: Path) -> None:
    head = tmp_path / "head"
    head.write_text("<<<<<<< HEAD\nc0ac4000beef\n=======\nfeed00000001\n>>>>>>> main\n")
    assert ours(head) == "c0ac4000beef"
    head.write_text("c0ac4000beef\n")
    assert ours(head) == ""


def test_repointed_changes_down_revision_and_revises_only() -> None:
    moved = repointed(REVISION, "8f7a6b5c4d02", "feed00000001")
    assert 'down_revision: str | None = "feed00000001"\n' in moved
    assert "Revises: feed00000001\n" in moved
    assert moved.replace("feed00000001", "8f7a6b5c4d02") == REVISION


def test_the_shipped_versions_sum_matches_the_sample_revisions() -> None:
    """A bake commits versions.sum with the samples: a stale line would fail
    every new project's first make test once it is committed to git."""
    project = Path(__file__).parents[2] / "{{cookiecutter.project_slug}}"
    shipped = parse_sums((project / "migrations/versions.sum").read_text())
    samples = sorted((project / "migrations/versions").glob("*_sample_*.py"))
    found = {
        path.name.split("-")[1].split("_")[0]: fingerprint(path) for path in samples
    }
    assert shipped == found
