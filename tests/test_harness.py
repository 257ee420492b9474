"""The generated migration harness catches what it promises to, in a baked project.

These run the generated pytest in a subprocess, as a user would, after adding
files to the project (removed again afterwards: the project is shared).
"""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .baking import STAIRWAY, WHOLE_HISTORY

SERVERS = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}

BROKEN_REVISION = '''"""Add coaches, with a downgrade that forgets them.

Revision ID: c0ffee000003
Revises: 8f7a6b5c4d02
"""

import sqlalchemy as sa
from alembic import op

revision = "c0ffee000003"
down_revision = "8f7a6b5c4d02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("coaches", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    pass
'''

# Commits half of its downgrade, then fails; the next revision needs the table.
HALF_DOWNGRADED = '''"""Add coaches; the downgrade commits their drop, then fails.

Revision ID: c0ffee000004
Revises: 8f7a6b5c4d02
"""

import sqlalchemy as sa
from alembic import op

revision = "c0ffee000004"
down_revision = "8f7a6b5c4d02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("coaches", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_table("coaches")
    raise RuntimeError("half downgraded")
'''
NEEDS_COACHES = '''"""Name the coaches.

Revision ID: c0ffee000005
Revises: c0ffee000004
"""

import sqlalchemy as sa
from alembic import op

revision = "c0ffee000005"
down_revision = "c0ffee000004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("coaches", sa.Column("name", sa.Unicode(50)))


def downgrade() -> None:
    with op.batch_alter_table("coaches") as batch:
        batch.drop_column("name")
'''

# Holds a transaction open on a database of each server, and says which.
HOLDING_TEST = """import os
import time

import pytest
from sqlalchemy import text

from migration_kit.harness import disposable_database


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    directory = tmp_path_factory.mktemp("held")
    with disposable_database("postgresql", directory) as postgresql:
        with disposable_database("mysql", directory) as mysql:
            yield postgresql, mysql


def test_hold_a_transaction_open(both):
    connections = [engine.connect() for engine in both]
    for connection in connections:
        connection.execute(text("CREATE TABLE held (id INTEGER)"))
        connection.execute(text("INSERT INTO held VALUES (1)"))
    with open(os.environ["HELD_NAMES"], "w") as names:
        names.write(" ".join(engine.url.database for engine in both))
    time.sleep(120)
"""

LIST_DATABASES = """
import os
from sqlalchemy import create_engine, text
for variable, query in [
    ("TEST_POSTGRES_URL", "SELECT datname FROM pg_database"),
    ("TEST_MYSQL_URL", "SELECT schema_name FROM information_schema.schemata"),
]:
    with create_engine(os.environ[variable]).connect() as connection:
        print(*connection.scalars(text(query)))
"""


@pytest.fixture(scope="module")
def project(install) -> Path:
    return install("default")


def pytest_in(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [".venv/bin/pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@contextmanager
def added(path: Path, content: str) -> Iterator[Path]:
    path.write_text(content)
    try:
        yield path
    finally:
        path.unlink()


def require_servers() -> None:
    required = os.environ.get("REQUIRE_TEST_BACKENDS", "")
    for backend, variable in SERVERS.items():
        if not os.environ.get(variable):
            if backend in required:
                pytest.fail(f"{variable} is not set and REQUIRE_TEST_BACKENDS lists it")
            pytest.skip(f"set {variable} to run this test")


def test_a_downgrade_that_forgets_a_table_fails_naming_the_revision(
    project: Path,
) -> None:
    revision = project / "migrations/versions/2026_01_03_0000-c0ffee000003_coaches.py"
    with added(revision, BROKEN_REVISION):
        result = pytest_in(project, *STAIRWAY, "-k", "sqlite")

    assert result.returncode == 1, result.stdout
    summary = result.stdout
    assert "FAILED tests/test_migrations.py::test_stairway[sqlite-c0ffee000003]" in (
        summary
    )
    assert "test_downgrade_leaves_no_trace[sqlite-c0ffee000003]" in summary
    assert (
        "revision c0ffee000003 (Add coaches, with a downgrade that forgets them.): "
        "its downgrade left a trace:\n  table coaches is left over"
    ) in summary
    assert (
        "revision c0ffee000003 (Add coaches, with a downgrade that forgets them.): "
        "upgrade again failed: OperationalError: table coaches already exists"
    ) in summary
    assert "2 failed, 4 passed" in summary


def adding(revision: str, parent: str, table: str, warning: str = "") -> str:
    """A revision that creates ``table``, giving ``warning`` on its upgrade."""
    warns = f"    warnings.warn({warning!r}, UserWarning, stacklevel=1)\n" * bool(
        warning
    )
    return f'''"""Add {table}.

Revision ID: {revision}
Revises: {parent}
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{parent}"
branch_labels = None
depends_on = None


def upgrade() -> None:
{warns}    op.create_table(
        "{table}", sa.Column("id", sa.Integer(), primary_key=True)
    )


def downgrade() -> None:
    op.drop_table("{table}")
'''


# Warns in its upgrade, the second revision after the sample's first.
WARNS = adding("c0ffee000005", "8f7a6b5c4d02", "coaches", "coaches are new here")


def test_a_revision_warning_shows_under_its_own_test(project: Path) -> None:
    """Not under the first test, whose setup climbed the whole history."""
    revision = project / "migrations/versions/2026_01_03_0000-c0ffee000005_coaches.py"
    with added(revision, WARNS):
        result = pytest_in(project, *STAIRWAY, "-k", "sqlite")

    assert result.returncode == 0, result.stdout
    shown = result.stdout.split("warnings summary")[1].split("-- Docs")[0]
    assert "test_stairway[sqlite-c0ffee000005]" in shown, shown
    assert "UserWarning: coaches are new here" in shown, shown
    assert "5d3e0a1c2b01" not in shown, shown  # the first revision's test


def test_a_warning_of_a_revision_climbed_only_to_reach_another_still_shows(
    project: Path,
) -> None:
    """A replay command climbs the revision's parents without testing them."""
    versions = project / "migrations/versions"
    child = adding("c0ffee000006", "c0ffee000005", "assistants")
    with (
        added(versions / "2026_01_03_0000-c0ffee000005_coaches.py", WARNS),
        added(versions / "2026_01_04_0000-c0ffee000006_assistants.py", child),
    ):
        result = pytest_in(project, *STAIRWAY, "-k", "sqlite and c0ffee000006")

    assert result.returncode == 0, result.stdout
    assert "2 passed" in result.stdout, result.stdout
    assert "warnings summary" in result.stdout, result.stdout
    shown = result.stdout.split("warnings summary")[1].split("-- Docs")[0]
    assert "UserWarning: coaches are new here" in shown, shown


def test_a_downgrade_that_committed_part_of_itself_says_so(project: Path) -> None:
    """Even SQLite and PostgreSQL keep what a revision committed of itself
    before failing; the line says so, and the climb goes on from a fresh
    database, where the next revision still finds the table it needs."""
    require_servers()
    versions = project / "migrations/versions"
    with (
        added(versions / "2026_01_04_0000-c0ffee000004_coaches.py", HALF_DOWNGRADED),
        added(versions / "2026_01_05_0000-c0ffee000005_names.py", NEEDS_COACHES),
    ):
        result = pytest_in(project, *STAIRWAY)

    assert result.returncode == 1, result.stdout
    failed = [line.split(" - ")[0] for line in result.stdout.splitlines()]
    assert [line for line in failed if line.startswith("FAILED ")] == [
        f"FAILED tests/test_migrations.py::test_stairway[{backend}-c0ffee000004]"
        for backend in ("sqlite", "postgresql", "mysql")
    ]
    assert (
        "BROKEN c0ffee000004 (Add coaches; the downgrade commits their drop, then "
        "fails.) downgrade on postgresql: RuntimeError: half downgraded; the "
        "revision committed part of itself before the error: the database may be "
        "partly downgraded, while alembic_version still names the revision itself"
    ) in result.stdout
    assert "3 failed, 18 passed, 3 skipped" in result.stdout


def test_a_backend_without_a_server_is_one_line_and_required_an_error(
    project: Path,
) -> None:
    reason = (
        "postgresql: set TEST_POSTGRES_URL to a server URL (or TEST_DOCKER=1, "
        "or unset TEST_POSTGRES=off for an embedded server) to test it"
    )
    args = (WHOLE_HISTORY, *STAIRWAY)
    unset = {"TEST_POSTGRES_URL": "", "TEST_DOCKER": "", "TEST_POSTGRES": "off"}

    left_out = pytest_in(project, *args, **unset, REQUIRE_TEST_BACKENDS="")
    required = pytest_in(project, *args, **unset, REQUIRE_TEST_BACKENDS="postgresql")

    assert left_out.returncode == 0, left_out.stdout
    # 1 upgrade-downgrade test and 2 stairway tests for each of 2 revisions.
    assert f"\nNOT TESTED {reason} (5 tests deselected)\n" in left_out.stdout
    assert "skipped" not in left_out.stdout.lower()
    assert required.returncode == 4, required.stdout
    assert required.stderr.strip() == (
        f"ERROR: {reason} (REQUIRE_TEST_BACKENDS lists postgresql)"
    )


def test_ctrl_c_mid_run_leaves_no_database(project: Path, tmp_path: Path) -> None:
    require_servers()
    names_file = tmp_path / "held-names"
    with added(project / "tests/test_zz_held.py", HOLDING_TEST) as test_file:
        running = subprocess.Popen(
            [".venv/bin/pytest", "-p", "no:cacheprovider", str(test_file)],
            cwd=project,
            env={**os.environ, "HELD_NAMES": str(names_file)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        names = wait_for_names(names_file, running)
        running.send_signal(signal.SIGINT)
        output, _ = running.communicate(timeout=60)

    assert running.returncode == 2, output  # pytest's "interrupted"
    assert "KeyboardInterrupt" in output
    assert len(names) == 2 and all(n.startswith("test_migrations_") for n in names)
    existing = list_databases(project)
    assert not set(names) & existing, f"left on the servers: {set(names) & existing}"


def wait_for_names(names_file: Path, running: subprocess.Popen) -> list[str]:
    deadline = time.monotonic() + 120
    while not names_file.exists() or not names_file.read_text():
        assert running.poll() is None, running.communicate()[0]
        assert time.monotonic() < deadline, "the held databases never came up"
        time.sleep(0.2)
    return names_file.read_text().split()


def list_databases(project: Path) -> set[str]:
    result = subprocess.run(
        [".venv/bin/python", "-c", LIST_DATABASES],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(result.stdout.split())
