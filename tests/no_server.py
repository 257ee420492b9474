"""A machine with no database server, for a baked project's embedded PostgreSQL."""

import subprocess
from pathlib import Path

from cookiecutter.main import cookiecutter

from .baking import TEMPLATE, install

# The server URLs CI exports would make the harness use those servers instead.
NO_SERVERS = ("TEST_POSTGRES_URL", "TEST_MYSQL_URL", "TEST_DOCKER", "TEST_POSTGRES")
SERVER_DIRECTORY = "migrations-postgres-"


def installed_outside_pytest(folder: Path, **answers: object) -> Path:
    """Bake and install in ``folder``, not in pytest's temporary folder.

    As root, the embedded server runs as a user of its own, which must reach
    the binaries in .venv; each new pytest run on the machine (another
    developer's, say) makes pytest's temporary root folder private again,
    which would cut that user off in the middle of a test.
    """
    project = cookiecutter(
        str(TEMPLATE), no_input=True, output_dir=str(folder), extra_context=answers
    )
    install(Path(project))
    return Path(project)


def without_servers(temporary: Path, **env: str) -> dict[str, str]:
    """The environment of a machine with no server, temporary files in one place."""
    # The embedded server's lock file goes to XDG_RUNTIME_DIR: look there too.
    runtime = temporary / "runtime"
    runtime.mkdir(exist_ok=True)
    unset = dict.fromkeys(NO_SERVERS, "")
    return {**unset, "TMPDIR": str(temporary), "XDG_RUNTIME_DIR": str(runtime), **env}


def assert_nothing_left(temporary: Path) -> None:
    """No server process, server folder or socket of the embedded server remains."""
    processes = subprocess.run(
        ["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True
    ).stdout
    left = [line for line in processes.splitlines() if str(temporary) in line]
    assert not left, f"server processes left: {left}"
    assert not list(temporary.glob(f"{SERVER_DIRECTORY}*")), "data directory left"
    sockets = [path for path in temporary.rglob("*") if path.is_socket()]
    assert not sockets, f"sockets left: {sockets}"
