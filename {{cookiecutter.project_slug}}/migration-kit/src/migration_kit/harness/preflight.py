"""Before any test runs: one line, and no test, when the setup cannot work.

The plugin calls ``check_history`` before the tests are collected (the test
modules list the revisions when they are imported) and ``check_environment``
once they are, with the backends the selected tests use. A problem ends the
run as a pytest usage error: one ``ERROR:`` line on stderr, exit code 4, the
summary still printed. It covers a revision file that cannot be read, a
down_revision cycle or missing parent, one id in two files (history.py),
several heads, a bad oldest_tested_downgrade, MIGRATION_SEED or
MIGRATION_SEED_ROWS, a TEST_*_URL that does not parse, a server that cannot be
reached or refuses the login, a user that may not create databases, and
TEST_DOCKER=1 without docker. It also reports the databases a killed run left
on a server, and drops them with TEST_DROP_LEFTOVERS=1.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from .. import embedded_server, history, ledger
from ..connection_errors import (
    CONNECT_ERRORS,
    connection_failure,
    raised_connecting,
)
from ..errors import one_line, several_heads
from ..urls import BadURL, parse_url, redacted
from . import (
    app_revisions,
    data_checks,
    docker_servers,
    irreversible,
    run_marker,
    seeding,
)
from .disposable_database import (
    BACKENDS,
    URL_VARIABLES,
    admin_connection,
    create_statement,
    drop_database,
    required_backends,
    sync_url,
    untested_backends,
    why_required,
)
from .migration_steps import script_directory

DROP_VARIABLE = "TEST_DROP_LEFTOVERS"


def check_history() -> None:
    """Read every revision file now, or end the run with one line naming it;
    the same for a committed revision that changed (ledger.py)."""
    if problem := app_revisions.missing():
        raise pytest.UsageError(problem)
    try:
        ledger.verify(history.load(script_directory()))
    except (history.BrokenHistory, ledger.HistoryChanged) as error:
        raise pytest.UsageError(str(error)) from None


def check_before_workers() -> list[str]:
    """Under pytest-xdist, in the controller before any worker's test: the
    checks one process makes while collecting, for the backends with a server
    (the workers skip them). A required backend without one depends on the
    tests selected: the workers check that (parallel.py)."""
    check_history()
    try:
        data_checks.skipped()
        data_checks.stop_limit()
    except data_checks.BadSetting as error:
        raise pytest.UsageError(str(error)) from None
    return check_environment(set(BACKENDS) - untested_backends().keys())


def start_embedded_server_for_workers() -> None:
    """Under pytest-xdist, before the workers start: the embedded server, if
    the run tests PostgreSQL on it, started once here and shared with them.
    This process stops it however the run ends (a signal to it included)."""
    if embedded() and "postgresql" not in untested_backends():
        with suppress(Exception):  # check_embedded_server says why, in one line
            embedded_server.server_url()
        embedded_server.share_with_workers()


def check_environment(backends: set[str]) -> list[str]:
    """Raise UsageError for the first problem; else the lines worth showing."""
    problem = run_marker.prefix_problem()
    if problem:
        raise pytest.UsageError(problem)
    heads = script_directory().get_heads()
    if len(heads) > 1:
        raise pytest.UsageError(several_heads(heads))
    try:
        irreversible.oldest_tested()
        seeding.settings()
    except (irreversible.BadSetting, seeding.BadSetting) as error:
        raise pytest.UsageError(str(error)) from None
    check_embedded_server(backends)
    return [
        note
        for backend in sorted(backends & URL_VARIABLES.keys())
        for note in check_server(backend)
    ]


def check_server(backend: str) -> list[str]:
    variable = URL_VARIABLES[backend]
    raw = os.environ.get(variable, "").strip()
    if not raw:
        if docker_servers.enabled():
            check_docker()
        return []
    try:
        # The harness makes and probes databases through the sync driver.
        server = sync_url(parse_url(raw, variable))
    except BadURL as error:
        raise pytest.UsageError(str(error)) from None
    # Gone before connecting: --showlocals prints the locals of a failed check.
    del raw
    check_login(server, variable)
    with refused_in_one_line(server, variable):
        note = leftovers_note(server, variable)
        check_may_create(server, variable)
    return [note] if note else []


def check_embedded_server(backends: set[str]) -> None:
    """Start the embedded PostgreSQL now if the run requires PostgreSQL on it:
    a server that cannot start is one line, not an error in every test."""
    if "postgresql" not in backends & required_backends() or not embedded():
        return
    try:
        embedded_server.server_url()
    except Exception as error:  # whatever the wheel's server raised
        raise pytest.UsageError(
            f"postgresql: the embedded server did not start ({one_line(error)}): "
            f"set TEST_POSTGRES_URL to a server URL to test it "
            f"({why_required('postgresql')})"
        ) from None


def embedded() -> bool:
    """Whether PostgreSQL would run on the embedded server."""
    return (
        not os.environ.get("TEST_POSTGRES_URL", "").strip()
        and not docker_servers.enabled()
        and embedded_server.enabled()
        and embedded_server.installed()
    )


def check_docker() -> None:
    try:
        docker_servers.check_available()
    except docker_servers.DockerUnavailable as error:
        raise pytest.UsageError(str(error)) from None


def check_login(server: URL, variable: str) -> None:
    try:
        with admin_connection(server):
            pass
    except CONNECT_ERRORS as error:
        message = connection_failure(error, server, variable)
        raise pytest.UsageError(message) from None


@contextmanager
def refused_in_one_line(server: URL, variable: str) -> Iterator[None]:
    """A connection the server refuses after the login worked (a connection
    limit reached, say): one line, not a traceback showing the password."""
    try:
        yield
    except CONNECT_ERRORS as error:
        refused = raised_connecting(error)
        if refused is None:
            raise
        message = connection_failure(refused, server, variable)
        raise pytest.UsageError(message) from None


def check_may_create(server: URL, variable: str) -> None:
    """Create and drop one database: the harness makes one per test."""
    run_marker.mark_alive(server)
    name = run_marker.database_name()
    try:
        with admin_connection(server) as connection:
            connection.execute(text(create_statement(server, name)))
            drop_database(connection, name)
    except DBAPIError as error:
        if raised_connecting(error):
            raise  # not CREATE refused, but no connection left: refused_in_one_line
        reason = redacted(one_line(error.orig), server)
        raise pytest.UsageError(
            f"{variable}: user {server.username} may not create databases "
            f"({reason}): {grant(server)}, or use a user that may."
        ) from None


def grant(server: URL) -> str:
    if server.get_backend_name() == "postgresql":
        return f"grant it with ALTER ROLE {server.username} CREATEDB"
    pattern = run_marker.NAME_PREFIX.replace("_", "\\_") + "%"
    return f"grant it with GRANT ALL ON `{pattern}`.* TO '{server.username}'"


def leftovers_note(server: URL, variable: str) -> str:
    with admin_connection(server) as connection:
        names = run_marker.leftovers(connection)
        if names and os.environ.get(DROP_VARIABLE) == "1":
            for name in names:
                drop_database(connection, name)
            return f"{variable}: dropped {len(names)} database(s) left by a killed run."
    if not names:
        return ""
    return (
        f"{variable}: {len(names)} database(s) left by a killed run "
        f"({', '.join(names)}): drop them with {DROP_VARIABLE}=1 make test-migrations."
    )
