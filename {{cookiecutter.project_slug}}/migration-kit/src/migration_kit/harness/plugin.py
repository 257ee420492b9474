import gc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from .. import embedded_server
from . import (
    data_checks,
    docker_servers,
    irreversible,
    parallel,
    preflight,
    same_answer,
    seeding,
    shared_climbs,
)
from .disposable_database import (
    BACKENDS,
    disposable_database,
    drop_leftovers,
    required_backends,
    untested_backends,
    why_required,
)
from .migration_steps import MigrationSteps
from .online_only import ONLINE_ONLY
from .stairway import Climber, Stair, climbed, needed

# A server that refuses a connection during the run: one line, no traceback.
pytest_plugins = ["migration_kit.harness.lost_connections"]

# The stairways climbed in this run, per backend, for the slowest-revision report.
CLIMBED: dict[str, dict[str, Stair]] = {}
SLOWEST = 5
# Backends without a server in this run: reason -> how many tests it deselected.
NOT_TESTED: dict[str, int] = {}


# Before xdist's, which starts the workers parallel.py asks for.
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Under pytest-xdist: one worker per backend, their closing lines sent
    # back. Registered, not listed in pytest_plugins: this module imports it.
    parallel.choose_workers(config)
    config.pluginmanager.register(parallel, "migration_kit.harness.parallel")
    if parallel.on_worker(config):
        shared_climbs.use_directory(config.workerinput)


def pytest_sessionstart(session: pytest.Session) -> None:
    if parallel.controller(session.config):  # before xdist's, which starts them
        preflight.start_embedded_server_for_workers()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with disposable_database(backend, tmp_path) as engine:
        yield engine


@pytest.fixture
def steps(database: Engine) -> MigrationSteps:
    return MigrationSteps(database)


@pytest.fixture(scope="session")
def climber(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Climber]:
    """Every revision the run tests walked up, down and up once (stairway.py)."""
    directory = tmp_path_factory.mktemp(backend)
    seeded = seeding.settings()
    try:
        with climbed(
            lambda: disposable_database(backend, directory),
            seeded,
            only=needed(request.session.items, backend),
            checks=data_checks.DataChecks(
                backend,
                seeded.rows > 0,
                data_checks.wanted(request.session.items, backend),
            ),
        ) as climber:
            CLIMBED[backend] = climber.stairs
            shared_climbs.share(backend)
            yield climber
    finally:
        shared_climbs.share(backend)  # a climb that failed: none to wait for


@pytest.fixture(scope="session")
def every_answer(request: pytest.FixtureRequest) -> dict:
    """Every backend's answers (same_answer.py); under pytest-xdist, once
    the other workers have climbed theirs."""
    climbing = {
        backend_of(item)
        for item in request.session.items
        if "climber" in item.fixturenames
    }
    if parallel.on_worker(request.config):
        shared_climbs.wait_and_read(climbing - {None}, request.config.workerinput)
    return same_answer.ANSWERS


@pytest.fixture(scope="session")
def stairway(climber: Climber) -> dict[str, Stair]:
    return climber.stairs


@pytest.fixture
def steps_near_head(climber: Climber, request: pytest.FixtureRequest) -> MigrationSteps:
    """The stairway's database when its climb ended at head, which saves
    upgrading a new one through the whole history; else a new database."""
    return climber.at_head() or MigrationSteps(request.getfixturevalue("database"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """A broken revision file is one line, not an error importing the tests:
    the generic test modules list the revisions as they are imported."""
    if parallel.controller(session.config):
        # It collects nothing: it checks the whole setup here, before any
        # worker's test. A worker's ERROR: line would end the run in a
        # traceback of xdist's; the workers skip the checks.
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for note in preflight.check_before_workers():
            reporter.write_line(note)
    elif not parallel.on_worker(session.config):
        preflight.check_history()


# Last, so that it counts only the tests -k and -m left selected.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Deselect the tests of a backend without a server: one line, not one each."""
    untested = untested_backends()
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        (deselected if backend_of(item) in untested else kept).append(item)
    for backend, count in Counter(map(backend_of, deselected)).items():
        reason = untested[backend]
        if backend in required_backends():
            raise pytest.UsageError(f"{reason} ({why_required(backend)})")
        NOT_TESTED[reason] = count
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    try:
        tested = {backend_of(item) for item in items} - {None}
        unchecked = data_checks.not_collected(items, tested)
    except data_checks.BadSetting as error:
        raise pytest.UsageError(str(error)) from None
    if unchecked:
        config.hook.pytest_deselected(items=unchecked)
        items[:] = [item for item in items if item not in unchecked]
    # Compared once every backend has climbed: last.
    items.sort(key=lambda item: item.originalname == data_checks.LAST)


def pytest_collection_finish(session: pytest.Session) -> None:
    """End the run with one line, before any test, if its setup cannot work."""
    if not parallel.on_worker(session.config):  # else: checked by the controller
        backends = {backend_of(item) for item in session.items} - {None}
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for note in preflight.check_environment(backends):
            reporter.write_line(note)
    # What is loaded by now (SQLAlchemy, the application's models, every
    # revision) lives until the run ends. Frozen, it is no longer walked by
    # each full garbage collection while the tests make and drop objects:
    # a sixth of the run's time on mlflow's history (bench/adoption/README.md).
    gc.freeze()


def backend_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("backend") if callspec else None


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Fixtures are not torn down after Ctrl-C; this hook still runs.
    if parallel.on_worker(session.config):
        # First: whatever fails below, no other worker waits for this one.
        shared_climbs.ended(session.config.workerinput["workerid"])
    drop_leftovers()
    docker_servers.stop_all()
    embedded_server.stop()
    if parallel.on_worker(session.config):
        sections = closing_lines()
        # Counted by the controller, from every worker's shared climbs.
        del sections["declared"]
        parallel.send(session.config, sections)


def pytest_unconfigure(config: pytest.Config) -> None:
    if parallel.controller(config):
        shared_climbs.remove_directory()


def pytest_terminal_summary(terminalreporter) -> None:
    shared = False
    if parallel.controller(terminalreporter.config):
        shared = bool(shared_climbs.read())  # what every worker's climbs found
    for title, lines in parallel.merged(closing_lines(shared)).items():
        if title.startswith(SLOWEST_TITLE) and lines:
            terminalreporter.write_sep("-", title)
        for line in lines:
            terminalreporter.write_line(line)


SLOWEST_TITLE = "slowest revisions on "


def closing_lines(shared: bool = False) -> dict[str, list[str]]:
    """The lines this process ends the run with, by section; ``shared``: it
    read the climbs of other processes."""
    sections = {
        "online only": list(ONLINE_ONLY.values()),
        "not tested": [
            f"NOT TESTED {reason} ({count} tests deselected)"
            for reason, count in NOT_TESTED.items()
        ],
        "declared": (
            irreversible.summary() + seeding.summary() + data_checks.summary()
            if CLIMBED or shared
            else []
        ),
        "broken": [
            stair.broken
            for stairs in CLIMBED.values()
            for stair in stairs.values()
            if stair.broken
        ],
    }
    for backend, stairs in CLIMBED.items():
        slowest = sorted(stairs.values(), key=lambda s: s.seconds, reverse=True)
        sections[f"{SLOWEST_TITLE}{backend}"] = [
            f"{stair.seconds:8.3f}s  {stair.name}" for stair in slowest[:SLOWEST]
        ]
    return sections
