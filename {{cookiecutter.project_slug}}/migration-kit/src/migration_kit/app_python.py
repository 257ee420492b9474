"""The revisions' steps, run in the application's own Python for the harness.

An application pinned to SQLAlchemy 1.4 (docs/adopting.md) keeps its
revisions in a venv of its own, ``.venv-app``: they import the application,
which only imports there. With alembic.ini's ``revisions_python`` naming that
venv's Python, the harness (SQLAlchemy 2, in ``.venv``) starts this module
there once per test process and sends it what to run, one JSON request per
line:

- ``migrate``: the steps of a ``Plan`` on a database the harness made, through
  env.py, as ``alembic upgrade`` would;
- ``render``: every revision's SQL for one dialect, as ``--sql`` would;
- ``compare``: what ``alembic check`` finds on a database at head.

Each reply is one JSON line; a revision that fails is a reply, not a crash.
This module runs on SQLAlchemy 1.4 and 2, and imports nothing of the harness.
"""

import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import RevisionStep
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import event
from sqlalchemy.engine import make_url

from . import history
from .comparison import models_advice
from .database import commit, migration_engine, run_with_engine
from .errors import one_line, raised_under
from .offline import declared_reason, render, render_failure, rendered_in_runs
from .settings import alembic_config, project_root

# Each statement a step ran is sent back, cut to this length: the harness
# reads the tables it wrote from the start of it.
STATEMENT_LENGTH = 2000


@dataclass
class Plan:
    """Which steps to run: ``revisions`` exactly, in order, or else what
    ``alembic upgrade/downgrade <target>`` would run from where the database is."""

    target: str
    upgrading: bool
    revisions: list[str] = field(default_factory=list)

    def steps(self, scripts: ScriptDirectory) -> Any:
        """Alembic's ``fn`` for EnvironmentContext: the steps from ``current``."""

        def chosen(current: Any, context: Any) -> Any:
            if self.revisions:
                revision_map = scripts.revision_map
                return [
                    RevisionStep(
                        revision_map, scripts.get_revision(name), self.upgrading
                    )
                    for name in self.revisions
                ]
            if self.upgrading:
                return scripts._upgrade_revs(self.target, current)
            return scripts._downgrade_revs(self.target, current)

        return chosen


@contextmanager
def handed_in(config: Config, connection) -> Iterator[None]:
    """env.py runs on ``connection`` (environment.run_online) meanwhile."""
    config.attributes["connection"] = connection
    try:
        yield
    finally:
        del config.attributes["connection"]


def run_plan(config: Config, scripts: ScriptDirectory, connection, plan: Plan) -> None:
    """Run env.py with ``plan`` choosing the steps, on ``connection``."""
    with (
        handed_in(config, connection),
        EnvironmentContext(
            config, scripts, fn=plan.steps(scripts), destination_rev=plan.target
        ),
    ):
        scripts.run_env()


def failure(error: BaseException) -> dict[str, Any]:
    """An error as the harness shows it: env.py's line, and the error under it
    (as ``stairway.cause`` names it)."""
    raised = raised_under(error)
    return {
        "message": str(error),
        "command_error": isinstance(error, CommandError),
        "type": type(raised).__name__,
        "text": one_line(raised),
    }


class Worker:
    """The revisions read once, and the requests served on them."""

    def __init__(self) -> None:
        self.config = alembic_config()
        self.scripts = ScriptDirectory.from_config(self.config)
        history.import_models(project_root())

    def migrate(self, url: str, plan: dict[str, Any]) -> dict[str, Any]:
        ran: list[str] = []
        commits: list[object] = []

        def migrate(engine: Any) -> None:
            with engine.connect() as connection:
                event.listen(connection, "commit", commits.append)
                event.listen(
                    connection,
                    "after_cursor_execute",
                    lambda *args: ran.append(args[2][:STATEMENT_LENGTH]),
                )
                run_plan(self.config, self.scripts, connection, Plan(**plan))
                commit(connection)

        try:
            run_with_engine(migration_engine(make_url(url)), migrate)
        except Exception as error:
            return {"failure": failure(error), "committed": bool(commits), "ran": ran}
        return {"committed": bool(commits), "ran": ran}

    def render(self, dialect: str) -> dict[str, Any]:
        """Each revision's outcome for ``dialect``: None, it rendered."""
        os.environ["DATABASE_URL"] = f"{dialect}://"
        found = rendered_in_runs(self.config, self.scripts, dialect)
        outcomes: dict[str, Any] = {}
        for script in self.scripts.walk_revisions():
            if declared_reason(script, dialect):
                continue
            error = found.get(script.revision)
            if script.revision not in found:
                try:
                    render(self.config, self.scripts, script, io.StringIO())
                except Exception as raised:
                    error = raised
            if error is None:
                outcomes[script.revision] = None
                continue
            failed = render_failure(script, error, dialect)
            outcomes[script.revision] = {
                "line": str(failed),
                "online_only": failed.online_only,
            }
        return {"outcomes": outcomes}

    def compare(self, url: str) -> dict[str, Any]:
        found: list[str] = []

        def compare(engine: Any) -> None:
            with engine.connect() as connection, handed_in(self.config, connection):
                found.append(models_advice(self.config, self.scripts))

        run_with_engine(migration_engine(make_url(url)), compare)
        return {"advice": found[0]}


def serve() -> None:
    """Answer requests from stdin until it closes.

    Replies go to the stdout this process started with; anything the
    application prints goes to stderr, so it cannot break a reply.
    """
    with os.fdopen(os.dup(1), "w") as replies:
        os.dup2(2, 1)
        worker = Worker()
        for line in sys.stdin:
            request = json.loads(line)
            operation = getattr(worker, request.pop("op"))
            try:
                reply = operation(**request)
            except Exception as error:  # the request's, outside any revision
                reply = {"failure": failure(error)}
            replies.write(json.dumps(reply) + "\n")
            replies.flush()


if __name__ == "__main__":
    serve()
