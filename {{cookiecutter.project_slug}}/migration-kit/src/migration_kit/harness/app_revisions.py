"""Revisions that run in the application's own Python.

alembic.ini's ``revisions_python`` names it: the Python of a venv where the
application imports (docs/adopting.md, "An application pinned to SQLAlchemy
1.4"). The harness then never imports a revision. It reads each revision file
as text: its literal names (``revision``, ``down_revision``, ``irreversible``,
``online_only``...) and docstring, which is all the stairway needs to walk the
history. Every step runs there, in one process per test run
(``migration_kit.app_python``), on the database the harness made, which the
harness seeds, snapshots and compares here as usual.

The URL sent there uses the dialect's default driver (psycopg2, mysqlclient,
sqlite3): SQLAlchemy 1.4 has no psycopg 3 dialect, and an application brings
its drivers into its own venv.
"""

import ast
import atexit
import json
import subprocess
import types
from contextlib import contextmanager
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import alembic.util
from alembic.util import CommandError
from sqlalchemy.engine import URL

from ..app_python import Plan
from ..history import literal_names
from ..settings import project_root, setting

SETTING = "revisions_python"


class AppPythonError(Exception):
    """A request the application's Python could not serve, outside a revision."""


@cache
def python() -> Path | None:
    """The application's Python, if alembic.ini names one (read once: the
    harness asks before every step)."""
    named = setting(SETTING)
    if not named:
        return None
    path = Path(named).expanduser()
    return path if path.is_absolute() else project_root() / path


def missing() -> str | None:
    """One line if the named Python is not there to run."""
    path = python()
    if path is None or path.is_file():
        return None
    return (
        f"alembic.ini's {SETTING} = {setting(SETTING)} names no file: make the "
        "application's venv first (docs/adopting.md, 'An application pinned "
        "to SQLAlchemy 1.4'), or remove the setting."
    )


@contextmanager
def read_as_text() -> Any:
    """While Alembic reads the revision files: read them, never import them."""
    with mock.patch.object(alembic.util, "load_python_file", module_from_text):
        yield


def module_from_text(folder: str, filename: str) -> types.ModuleType:
    """A revision file's literal names and docstring, as a module.

    Its functions are there by name only: they run in the application's Python.
    """
    path = Path(folder, filename)
    tree = ast.parse(path.read_bytes(), filename=str(path))
    module = types.ModuleType(path.stem, ast.get_docstring(tree))
    module.__file__ = str(path)
    for name, value in literal_names(tree):
        setattr(module, name, value)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            setattr(module, node.name, runs_there(path, node.name))
    return module


def runs_there(path: Path, name: str) -> Any:
    def function(*args: object, **kwargs: object) -> None:
        raise AppPythonError(
            f"{path.name}: {name}() runs only in alembic.ini's {SETTING}, "
            "where the revision imports; the harness reads the file as text."
        )

    return function


class AppPython:
    """The process in the application's Python, and its requests."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # stderr is the run's own: the application's warnings show there.
        self.process = subprocess.Popen(
            [str(path), "-m", "migration_kit.app_python"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=project_root(),
            text=True,
        )
        atexit.register(self.close)

    def ask(self, op: str, **request: Any) -> dict[str, Any]:
        try:
            self.process.stdin.write(json.dumps({"op": op, **request}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            code = self.process.wait()
            raise AppPythonError(
                f"{self.path} -m migration_kit.app_python ended (exit code "
                f"{code}) before answering: its error is printed above; run "
                f"`{self.path} -c 'import migration_kit.app_python'` to see it."
            )
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait()


@cache
def app_python() -> AppPython:
    path = python()
    assert path is not None
    return AppPython(path)


def there(url: URL) -> str:
    """``url`` with the dialect's default driver, for SQLAlchemy 1.4 there."""
    plain = url.set(drivername=url.get_backend_name())
    return plain.render_as_string(hide_password=False)


def migrate(url: URL, plan: Plan) -> dict[str, Any]:
    """Run ``plan`` there: whether it committed, the statements it ran, and
    its failure, if any, as ``raised`` makes it again."""
    return app_python().ask("migrate", url=there(url), plan=asdict(plan))


def raised(failure: dict[str, Any]) -> Exception:
    """The failure as the harness would have met it here: env.py's line,
    caused by an error of the same name and message (``stairway.cause``)."""
    under = type(failure["type"], (Exception,), {})(failure["text"])
    error_type = CommandError if failure["command_error"] else AppPythonError
    error = error_type(failure["message"])
    error.__cause__ = under
    return error


def answered(reply: dict[str, Any]) -> dict[str, Any]:
    if "failure" in reply:
        raise raised(reply["failure"])
    return reply


def rendered(dialect: str) -> dict[str, dict[str, str] | None]:
    """Each revision's outcome for ``dialect`` (``app_python.Worker.render``)."""
    return answered(app_python().ask("render", dialect=dialect))["outcomes"]


def models_advice(url: URL) -> str:
    """What ``alembic check`` finds there, as the models test words it."""
    return answered(app_python().ask("compare", url=there(url)))["advice"]
