"""The seeded stairway catches, with no test written for them, data steps that
break on rows or do not give them back; its failures replay with one command.

Each test adds a revision to (or edits the sample of) the shared default bake,
runs `make test-migrations` (the issue's two examples) or the generated
stairway in a subprocess as a user would, and puts the project back as it was.
"""

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .baking import STAIRWAY
from .test_harness import added, pytest_in, require_servers

SAMPLE_HEAD = "8f7a6b5c4d02"
REPLAY = (
    "MIGRATION_SEED=20260101 .venv/bin/pytest tests/test_migrations.py"
    ' -k "(stairway or trace) and {}"'
)

# What `make revision tables="players"` wrote before frozen models dropped keys
# to tables not frozen beside them: Team is missing, so the mapper fails.
KEY_TO_A_TABLE_NOT_FROZEN = '''"""Split player names.

Revision ID: 5b1175d0a003
Revises: 8f7a6b5c4d02
Create Date: 2026-01-03 00:00:00

Data: trims every player's name.
"""

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from migration_kit.data_migrations import update_in_batches

revision = "5b1175d0a003"
down_revision = "8f7a6b5c4d02"
branch_labels = None
depends_on = None


class Base(DeclarativeBase):
    metadata = sa.MetaData()


class Player(Base):
    __tablename__ = "players"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.Unicode(200))
    position: Mapped[str | None] = mapped_column(sa.Unicode(200))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"))


def upgrade() -> None:
    update_in_batches(Player, lambda player: {"name": player.name.strip()}, Player.name)


def downgrade() -> None:
    pass
'''

# A seed_rows hook that replaces the players, and an upgrade that fails on
# purpose, saying what it saw: the replay must see exactly the same.
HOOKED = '''"""Look at the players.

Revision ID: 5eed00000004
Revises: 8f7a6b5c4d02

Data: none; it fails, naming the rows it finds.
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "5eed00000004"
down_revision = "8f7a6b5c4d02"
branch_labels = None
depends_on = None


def seed_rows(rows):
    kept = rows["players"][:3]
    return {"players": kept + [{"name": "Hook Player", "position": "wing"}]}


def upgrade() -> None:
    query = sa.text("SELECT id, name, position, team_id FROM players ORDER BY id")
    found = [tuple(row) for row in op.get_bind().execute(query)]
    digest = hashlib.md5(repr(found).encode()).hexdigest()[:12]
    raise RuntimeError(f"saw {len(found)} players, last {found[-1][1]}, rows {digest}")


def downgrade() -> None:
    pass
'''


@pytest.fixture(scope="module")
def project(install) -> Path:
    return install("default")


@contextmanager
def edited(path: Path, old: str, new: str) -> Iterator[None]:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new))
    try:
        yield
    finally:
        path.write_text(text)


def make_test_migrations(project: Path, options: str) -> subprocess.CompletedProcess:
    """`make test-migrations`, as a user runs it, with pytest ``options`` added."""
    return subprocess.run(
        ["make", "test-migrations"],
        cwd=project,
        env={**os.environ, "PYTEST_ADDOPTS": f"-p no:cacheprovider {options}"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def versions(project: Path) -> Path:
    return project / "migrations/versions"


def test_a_frozen_key_to_a_table_not_frozen_fails_on_rows(project: Path) -> None:
    revision = versions(project) / "2026_01_03_0000-5b1175d0a003_split_names.py"
    with added(revision, KEY_TO_A_TABLE_NOT_FROZEN):
        result = make_test_migrations(project, "-k 'not mysql'")

    assert result.returncode != 0, result.stdout
    for backend in ("sqlite", "postgresql"):
        assert (
            "revision 5b1175d0a003 (Split player names.): upgrade failed: "
            "NoReferencedTableError: Foreign key associated with column "
            "'players.team_id' could not find table 'teams' with which to "
            "generate a foreign key to target column 'id'; it passed on empty "
            "tables, so the revisions after it were tested from there, on rows "
            "generated anew (seed 20260101; "
            f"replay: {REPLAY.format(f'{backend} and 5b1175d0a003')})"
        ) in result.stdout
        assert f"BROKEN 5b1175d0a003 (Split player names.) upgrade on {backend}: " in (
            result.stdout
        )


def test_team_names_in_a_merging_collation_fail_on_mariadb_only(
    project: Path,
) -> None:
    require_servers()
    sample = sorted(versions(project).glob("2026_01_0*_sample_*.py"))
    with (
        edited(sample[0], "exact_unicode(100)", "sa.Unicode(100)"),
        edited(sample[1], "exact_unicode(100)", "sa.Unicode(100)"),
    ):
        # The sample's own data tests would catch it too: leave them out, to
        # see the generic check do it alone.
        result = make_test_migrations(project, "-rA -k 'not test_sample_teams'")

    assert result.returncode != 0, result.stdout
    assert (
        f"revision {SAMPLE_HEAD} (Move players.team into a teams table.) on "
        "mariadb: its downgrade changed players: 5 of 20 rows differ: "
        "row {\"id\": 2} team 'reds' became 'Reds'; row {\"id\": 3} team 'REDS' "
        "became 'Reds'; row {\"id\": 4} team 'Reds ' became 'Reds' (and 2 more) "
        f"(seed 20260101; replay: "
        f"{REPLAY.format(f'mysql and {SAMPLE_HEAD}')})"
    ) in result.stdout
    for backend in ("sqlite", "postgresql"):
        assert (
            f"PASSED tests/test_migrations.py::test_downgrade_leaves_no_trace"
            f"[{backend}-{SAMPLE_HEAD}]"
        ) in result.stdout
    failed = [
        line.split(" - ")[0]
        for line in result.stdout.splitlines()
        if line.startswith("FAILED")
    ]
    # The data checks (issue 21) see the merge too, on MariaDB's rows only.
    assert failed == [
        "FAILED tests/test_migrations.py::test_downgrade_leaves_no_trace"
        f"[mysql-{SAMPLE_HEAD}]",
        "FAILED tests/test_migrations.py::test_upgrade_keeps_its_promise"
        f"[mysql-{SAMPLE_HEAD}]",
        "FAILED tests/test_migrations.py::test_same_answer_on_every_backend"
        f"[{SAMPLE_HEAD}]",
    ], result.stdout


def test_the_default_bake_passes_seeded_on_every_backend(project: Path) -> None:
    require_servers()
    result = pytest_in(project, "tests", REQUIRE_TEST_BACKENDS="postgresql,mysql")

    assert result.returncode == 0, result.stdout[-3000:]
    assert (
        "\nSEEDED 20 rows per empty table before each upgrade "
        "(MIGRATION_SEED=20260101)\n"
    ) in result.stdout
    assert "NOT SEEDED" not in result.stdout


def test_a_hook_replaces_rows_and_the_replay_sees_the_same(project: Path) -> None:
    revision = versions(project) / "2026_01_04_0000-5eed00000004_look.py"
    with added(revision, HOOKED):
        whole = pytest_in(project, *STAIRWAY, "-k", "not mysql")
        line = failure_line(whole.stdout, "postgresql")
        environment, command = replay_of(line)
        replayed = pytest_in(project, *command, **environment)
        other_seed = pytest_in(project, *command, MIGRATION_SEED="7")

    assert "upgrade failed: RuntimeError: saw 4 players, last Hook Player, rows " in (
        line
    )
    assert command == [
        "tests/test_migrations.py",
        "-k",
        "(stairway or trace) and postgresql and 5eed00000004",
    ]
    assert failure_line(replayed.stdout, "postgresql") == line
    # One backend, one revision's tests: the climb stopped at that revision.
    assert "1 failed, 1 skipped, 51 deselected" in replayed.stdout, replayed.stdout
    rows = re.search(r"rows (\w+)", line).group(1)
    assert f"rows {rows}" not in failure_line(other_seed.stdout, "postgresql")


def test_a_replay_climbs_only_the_revision_and_its_parents(project: Path) -> None:
    first = pytest_in(project, *STAIRWAY, "-k", "sqlite and 5d3e0a1c2b01")

    assert first.returncode == 0, first.stdout
    # The slowest-revisions list names every revision climbed.
    assert "5d3e0a1c2b01 (Create players.)" in first.stdout
    assert SAMPLE_HEAD not in first.stdout


def test_a_bad_seed_setting_is_one_line(project: Path) -> None:
    result = pytest_in(project, *STAIRWAY, MIGRATION_SEED_ROWS="lots")

    assert result.returncode == 4, result.stdout
    assert result.stderr.strip() == (
        "ERROR: MIGRATION_SEED_ROWS='lots' is not usable: give rows per table, "
        "0 to 10000, e.g. MIGRATION_SEED_ROWS=20 (0 turns seeding off)."
    )


def failure_line(output: str, backend: str) -> str:
    """The stairway failure of the hooked revision on ``backend``."""
    [line] = [
        line
        for line in output.splitlines()
        if line.startswith("revision 5eed00000004") and f" and {backend} and " in line
    ]
    return line


def replay_of(line: str) -> tuple[dict[str, str], list[str]]:
    """The environment and pytest arguments of the line's replay command."""
    words = shlex.split(line.split("replay: ", 1)[1].rstrip(")"))
    environment = dict(word.split("=", 1) for word in words if "=" in word)
    pytest_at = words.index(".venv/bin/pytest")
    return environment, words[pytest_at + 1 :]
