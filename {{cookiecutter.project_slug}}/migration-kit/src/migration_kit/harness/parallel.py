"""Three backends on two cores: pytest-xdist, each backend's tests on one worker.

    .venv/bin/pytest -n 2 --dist loadgroup

A stairway is climbed once per backend and process: spread over workers test
by test, each worker would climb every backend. With --dist loadgroup, the
tests of one backend go to one worker, so each stairway is climbed once. The
lines a run ends with (BROKEN, SEEDED, the slowest revisions ...) are made
where the stairways were climbed: each worker sends its own to the run's
summary.
"""

import re
from typing import Any

import pytest

# The key of a worker's closing lines in what it sends back (workeroutput).
CLOSING = "migration_kit_closing_lines"
# The closing lines the workers sent, by section, in the order they came.
FROM_WORKERS: list[dict[str, list[str]]] = []


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # a hook of xdist's
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadgroup: one group per backend, read from the test's id.

    xdist's own loadgroup (an xdist_group mark) groups nothing on pytest 9.2
    and xdist 3.8: it renames the test through an attribute pytest no longer
    reads.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByBackend(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return backend_of(nodeid) or nodeid

    return ByBackend(config, log)


def backend_of(nodeid: str) -> str | None:
    """The backend a test runs on, when it is its first parameter."""
    found = BACKEND_PARAMETER.search(nodeid)
    return found.group(1) if found else None


# [sqlite-<revision>], [postgresql]: a test of one backend (the offline
# tests of those dialects go with it, which is as good as anywhere).
BACKEND_PARAMETER = re.compile(r"\[(sqlite|postgresql|mysql)[-\]]")


def send(config: pytest.Config, sections: dict[str, list[str]]) -> bool:
    """On a worker, hand this process's closing lines to the run; False elsewhere."""
    output = getattr(config, "workeroutput", None)
    if output is None:
        return False
    output[CLOSING] = sections
    return True


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's, when it is installed
def pytest_testnodedown(node, error) -> None:
    FROM_WORKERS.append(getattr(node, "workeroutput", {}).get(CLOSING, {}))


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
