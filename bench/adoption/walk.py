"""Walk an adopted history with the application's own Alembic, on each backend.

    .venv/bin/python bench/adoption/walk.py build/adoption/superset-migrations

For a history whose application pins SQLAlchemy 1.4 (adopt.py puts it in
the project's `.venv-app`, as docs/adopting.md says), `make test-migrations`
does not run: this does what can run there instead. On a new database per
backend (SQLite; PostgreSQL on TEST_POSTGRES_URL through psycopg2; MySQL or
MariaDB on TEST_MYSQL_URL through mysqlclient, the application's drivers) it
runs `alembic upgrade head`, then `downgrade base`. A downgrade that fails
stops `downgrade base` there; like the harness, the walk goes on past it: on
a new database upgraded to the revision below the broken one, it runs
`downgrade base` again, until one reaches base. Then it renders each
revision alone as SQL for each dialect, as the harness's offline test does,
in the application's venv. It prints how far each command got and the one
line each failure ends with. Every database it made is dropped.
"""

import argparse
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

# The application's drivers, for the test servers' URLs.
DRIVERS = {"postgresql": "postgresql+psycopg2", "mysql": "mysql+mysqldb"}
VARIABLES = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
# The revision a failed downgrade left the database at: the last step run.
DOWN_TO = re.compile(r"Running downgrade \S+ -> ([0-9a-f]+)")
MOST_ROUNDS = 30
DIALECTS = ["sqlite", "postgresql", "mysql", "mariadb"]


def alembic(project: Path, url: str, *arguments: str) -> tuple[int, str, str]:
    """Run the application venv's alembic: its exit code, one line saying how
    far it got, and the revision below the one whose downgrade failed."""
    started = time.perf_counter()
    result = subprocess.run(
        [".venv-app/bin/alembic", *arguments],
        cwd=project,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).splitlines()
    steps = sum("Running " in line for line in output)
    seconds = time.perf_counter() - started
    if not result.returncode:
        return 0, f"{steps} revisions ({seconds:.1f} s)", ""
    # The FAILED: line env.py prints, else the last line of a traceback.
    failed = [line for line in output if line.startswith("FAILED:")]
    last = (failed or result.stderr.strip().splitlines() or [""])[-1]
    below = DOWN_TO.findall(result.stderr)
    last = re.sub(r"[ \t]+", " ", last)
    line = f"after {steps}: {last} ({seconds:.1f} s)"
    return result.returncode, line, below[-1] if below else ""


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str | None]:
    """A new database's URL through the application's driver; None without a server."""
    if backend == "sqlite":
        path = directory / f"walk-{uuid.uuid4().hex[:8]}.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            path.unlink(missing_ok=True)
        return
    raw = os.environ.get(VARIABLES[backend])
    if not raw:
        yield None
        return
    server = sa.make_url(raw)
    name = f"walk_{uuid.uuid4().hex[:12]}"
    quote = '"' if backend == "postgresql" else "`"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {quote}{name}{quote}")
    try:
        through = server.set(database=name, drivername=DRIVERS[backend])
        yield through.render_as_string(hide_password=False)
    finally:
        force = " WITH (FORCE)" if backend == "postgresql" else ""
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {quote}{name}{quote}{force}")
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    project = parser.parse_args().project.resolve()
    for backend in ("sqlite", "postgresql", "mysql"):
        walk(project, backend)
    rendered = subprocess.run(
        [".venv-app/bin/python", "-c", RENDER_EACH, models(project), *DIALECTS],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    print(rendered.stdout, end="")
    return 0


def models(project: Path) -> str:
    """The project's models module, which the revisions may need imported first
    (docs/adopting.md: an application that reads settings at import)."""
    return f"{project.name.replace('-', '_')}.models"


# The offline test's work, run where the revisions can be read: each
# revision's upgrade alone, for each dialect; one line per revision that
# cannot render and does not say it is online-only.
RENDER_EACH = """
import importlib, io, os, sys

importlib.import_module(sys.argv[1])

from alembic.script import ScriptDirectory
from migration_kit.offline import declared_reason, render, render_failure
from migration_kit.settings import alembic_config

config = alembic_config()
scripts = ScriptDirectory.from_config(config)
every = list(reversed(list(scripts.walk_revisions())))
for dialect in sys.argv[2:]:
    os.environ["DATABASE_URL"] = f"{dialect}://"
    failed = online = 0
    for script in every:
        if declared_reason(script, dialect):
            online += 1
            continue
        try:
            render(config, scripts, script, io.StringIO())
        except Exception as error:
            failure = render_failure(script, error, dialect)
            if failure.online_only:
                online += 1
            else:
                failed += 1
                print(f"--sql {dialect}: {failure}")
    rendered = len(every) - failed - online
    print(f"--sql {dialect}: {rendered} render, {online} online-only, {failed} fail")
"""


def walk(project: Path, backend: str) -> None:
    """Up to head, then down to base past every broken downgrade."""
    top = "head"
    for _round in range(MOST_ROUNDS):
        with fresh_database(backend, project) as url:
            if url is None:
                print(f"{backend}: NOT TESTED (set {VARIABLES[backend]})")
                return
            code, line, _below = alembic(project, url, "upgrade", top)
            print(f"{backend}: upgrade {top}: {line}")
            if code:
                return
            code, line, below = alembic(project, url, "downgrade", "base")
            print(f"{backend}: downgrade base: {line}")
            if not code or not below:
                return
            top = below


if __name__ == "__main__":
    sys.exit(main())
