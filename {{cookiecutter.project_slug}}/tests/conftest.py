from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from . import docker_servers, preflight
from .disposable_database import (
    BACKENDS,
    disposable_database,
    drop_leftovers,
    skip_unless_configured,
)
from .migration_steps import MigrationSteps
from .stairway import Stair, climb

# The stairways climbed in this run, per backend, for the slowest-revision report.
CLIMBED: dict[str, dict[str, Stair]] = {}
SLOWEST = 5


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    skip_unless_configured(request.param)
    return request.param


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with disposable_database(backend, tmp_path) as engine:
        yield engine


@pytest.fixture
def steps(database: Engine) -> MigrationSteps:
    return MigrationSteps(database)


@pytest.fixture(scope="session")
def stairway(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Stair]]:
    """Every revision walked up, down and up once per run, on one database."""
    with disposable_database(backend, tmp_path_factory.mktemp(backend)) as engine:
        CLIMBED[backend] = climb(MigrationSteps(engine))
        yield CLIMBED[backend]


def pytest_collection_finish(session: pytest.Session) -> None:
    """End the run with one line, before any test, if its setup cannot work."""
    backends = {
        item.callspec.params["backend"]
        for item in session.items
        if "backend" in getattr(getattr(item, "callspec", None), "params", {})
    }
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for note in preflight.check_environment(backends):
        reporter.write_line(note)


def pytest_sessionfinish() -> None:
    # Fixtures are not torn down after Ctrl-C; this hook still runs.
    drop_leftovers()
    docker_servers.stop_all()


def pytest_terminal_summary(terminalreporter) -> None:
    for backend, stairs in CLIMBED.items():
        slowest = sorted(stairs.values(), key=lambda s: s.seconds, reverse=True)
        terminalreporter.write_sep("-", f"slowest revisions on {backend}")
        for stair in slowest[:SLOWEST]:
            terminalreporter.write_line(f"{stair.seconds:8.3f}s  {stair.name}")
