"""A test server that refuses a connection during the run: one line per backend.

The preflight (preflight.py) connects before any test, but a server may still
refuse a connection later: the user's connection limit reached, the server's
max_connections, a role locked or dropped, a server stopped. pytest would show
that as a fixture traceback whose frames hold the driver's connect arguments
(psycopg's ``conninfo``, PyMySQL's ``password``), and it prints them, password
included, by default or with ``--tb=long`` or ``--showlocals``.

Instead the backend's first such failure is reported as one line, the URL and
the driver's message masked, with no traceback whatever the flags; its later
tests are skipped, as each would fail the same way.
"""

import os

import pytest

from ..connection_errors import connection_failure, raised_connecting
from .disposable_database import URL_VARIABLES, server_url
from .plugin import backend_of

# The backends whose server refused a connection in this run.
LOST: set[str] = set()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    backend = backend_of(item)
    if backend in LOST:
        pytest.skip(
            f"{backend}: not run, its server refused a connection earlier in "
            "this run (see that test's line)"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Put the one line in place of a refused connection before pytest
    formats the error: then no flag can show its traceback or its locals."""
    backend = backend_of(item)
    refused = call.excinfo and raised_connecting(call.excinfo.value)
    if refused and backend in URL_VARIABLES:
        call.excinfo = reported_as(refused_line(backend, refused))
        LOST.add(backend)
    yield


def refused_line(backend: str, error: Exception) -> str:
    """The refused connection, said once for the backend, its password masked."""
    variable = URL_VARIABLES[backend]
    server = server_url(backend)
    assert server is not None  # it connected in this run
    # An embedded or docker server has no variable to name.
    given = variable if os.environ.get(variable, "").strip() else "the test server"
    reason = connection_failure(error, server, given).rstrip(".")
    return (
        f"{backend}: connecting failed during the run: {reason}; "
        f"the other {backend} tests are skipped."
    )


def reported_as(line: str) -> pytest.ExceptionInfo[BaseException]:
    """What ``pytest.fail(line, pytrace=False)`` raises: reported as the line
    alone, with no traceback and no chained error."""
    try:
        pytest.fail(line, pytrace=False)
    except pytest.fail.Exception:
        return pytest.ExceptionInfo.from_current()
