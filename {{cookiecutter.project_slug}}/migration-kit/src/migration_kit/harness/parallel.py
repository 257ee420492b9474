"""Several backends, several cores: pytest-xdist, each backend's tests on one worker.

A run that tests two or more backends starts one worker per backend, up to
the number of CPUs. A run with one backend, or narrowed with -k (a replay
command, one revision), stays in one process: workers cost more than they
save there. ``-n 0`` or ``-p no:xdist`` keeps any run in one process;
``-n N`` chooses.

A stairway is climbed once per backend and process: spread over workers test
by test, each worker would climb every backend. Here the tests of one backend
go to one worker, the slowest backend first, so each stairway is climbed
once. The same-answer tests go last: they wait for the other workers' climbs
(shared_answers.py). The lines a run ends with (BROKEN, the slowest revisions
...) are made where the stairways were climbed: each worker sends its own to
the run's summary.
"""

import os
import re
from typing import Any

import pytest

from . import shared_climbs
from .data_checks import LAST
from .disposable_database import BACKENDS, untested_backends

# The keys of a worker's closing lines, and of the usage error that ended
# its collection, in what it sends back (workeroutput).
CLOSING = "migration_kit_closing_lines"
USAGE_ERROR = "migration_kit_usage_error"
# The closing lines the workers sent, by section, in the order they came.
FROM_WORKERS: list[dict[str, list[str]]] = []
# The tests' ids in the order one process runs them, from the first worker.
COLLECTED: dict[str, int] = {}
# Slowest first: the workers start on them, the quick ones fill in beside.
SLOWEST_FIRST = ["mysql", "postgresql", "sqlite"]


def choose_workers(config: pytest.Config) -> None:
    """Without -n: one worker per backend of the run, up to the CPUs.

    Called from pytest_configure before xdist's, which starts the workers
    when ``tx`` lists some.
    """
    if getattr(config.option, "numprocesses", 0) is not None or on_worker(config):
        return  # no xdist (-p no:xdist), -n given, or a worker itself
    if config.getoption("usepdb") or config.getoption("collectonly"):
        return  # a debugger needs the test in this process
    if config.option.keyword:
        return  # a few tests: starting workers would take longer than them
    workers = min(len(backends_of_run(config)), cpus())
    if workers > 1:
        config.option.numprocesses = workers
        config.option.dist = "loadgroup"
        config.option.tx = ["popen"] * workers


def backends_of_run(config: pytest.Config) -> set[str]:
    """The backends with a server, or those of them the test ids name."""
    served = set(BACKENDS) - untested_backends().keys()
    return served & set(re.findall(r"\w+", " ".join(config.args))) or served


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def on_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def controller(config: pytest.Config) -> bool:
    """Whether this process hands the tests out to pytest-xdist's workers."""
    return config.pluginmanager.has_plugin("dsession")


def distributed(config: pytest.Config) -> bool:
    return on_worker(config) or controller(config)


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # a hook of xdist's
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """One group per backend, read from the test's id, for -n with --dist load
    or loadgroup (the default here).

    xdist's own loadgroup (an xdist_group mark) groups nothing on pytest 9.2
    and xdist 3.8: it renames the test through an attribute pytest no longer
    reads.
    """
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByBackend(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return LAST if f"::{LAST}[" in nodeid else backend_of(nodeid) or nodeid

        def _assign_work_unit(self, node: Any) -> None:
            # The slowest backend first, the same-answer tests last: handed
            # out when every climb has gone to a worker, they cannot wait
            # for one queued behind them.
            for scope in sorted(self.workqueue, key=handed_out):
                self.workqueue.move_to_end(scope)
            super()._assign_work_unit(node)

    return ByBackend(config, log)


def handed_out(scope: str) -> int:
    if scope == LAST:
        return len(SLOWEST_FIRST) + 1
    return SLOWEST_FIRST.index(scope) if scope in SLOWEST_FIRST else len(SLOWEST_FIRST)


def backend_of(nodeid: str) -> str | None:
    """The backend a test runs on, when it is its first parameter."""
    found = BACKEND_PARAMETER.search(nodeid)
    return found.group(1) if found else None


# [sqlite-<revision>], [postgresql]: a test of one backend (the offline
# tests of those dialects go with it, which is as good as anywhere).
BACKEND_PARAMETER = re.compile(r"\[(sqlite|postgresql|mysql)[-\]]")


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's, in the controller
def pytest_configure_node(node: Any) -> None:
    """Name the run's directory for the workers' climbs (shared_climbs.py)."""
    node.workerinput[shared_climbs.KEY] = str(shared_climbs.make_directory())


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's, in the controller
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    if not COLLECTED:  # every worker collects the same tests
        COLLECTED.update((nodeid, n) for n, nodeid in enumerate(ids))


# Outside pytest's own, which prints the failures, then the short summary.
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any) -> Any:
    """In the controller: the workers' test reports as one process's, in the
    order it runs the tests, without the worker's name over each failure."""
    if controller(terminalreporter.config):
        for reports in terminalreporter.stats.values():
            reports.sort(key=lambda r: COLLECTED.get(getattr(r, "nodeid", ""), -1))
            for report in reports:
                vars(report).pop("node", None)  # xdist's: its worker
    yield


def send(config: pytest.Config, sections: dict[str, list[str]]) -> None:
    """On a worker, hand this process's closing lines to the run."""
    config.workeroutput[CLOSING] = sections


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session: pytest.Session) -> Any:
    """On a worker, keep the usage error a check raised while collecting (a
    backend the selected tests need has no server) for the controller."""
    outcome = yield
    error = outcome.excinfo[1] if outcome.excinfo else None
    if isinstance(error, pytest.UsageError) and on_worker(session.config):
        session.config.workeroutput[USAGE_ERROR] = str(error)


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's, when it is installed
def pytest_testnodedown(node, error) -> None:
    output = getattr(node, "workeroutput", {})
    if output.get(USAGE_ERROR):
        # The run ends here as one process's would: one ERROR: line, exit 4.
        raise pytest.UsageError(output[USAGE_ERROR])
    FROM_WORKERS.append(output.get(CLOSING, {}))


def merged(own: dict[str, list[str]]) -> dict[str, list[str]]:
    """This process's closing lines and the workers', each line once.

    The workers end in any order: their lines are put in the order of the
    backends, as one process would have written them.
    """
    sections: dict[str, list[str]] = {}
    for found in [own, *FROM_WORKERS]:
        for title, lines in found.items():
            kept = sections.setdefault(title, [])
            kept += [line for line in lines if line not in kept]
    for title, lines in sections.items():
        lines.sort(key=lambda line: backend_rank(line) if title == "broken" else 0)
    return dict(sorted(sections.items(), key=lambda item: backend_rank(item[0])))


def backend_rank(text: str) -> int:
    """Where the backend ``text`` names comes in a run: sqlite, postgresql, mysql."""
    found = NAMED_BACKEND.search(text)
    return BACKEND_ORDER.index(found.group(1)) if found else -1


NAMED_BACKEND = re.compile(r" on (sqlite|postgresql|mysql|mariadb)\b")
BACKEND_ORDER = ["sqlite", "postgresql", "mysql", "mariadb"]
