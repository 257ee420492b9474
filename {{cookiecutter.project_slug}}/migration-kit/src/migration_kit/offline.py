"""Revisions that need a database, under ``alembic upgrade --sql``.

``--sql`` prints each revision's SQL instead of running it, for review or for
a DBA to apply. A step that reads rows cannot be printed: there is nothing to
read. The project's helpers that read (``update_in_batches``, ``backfill``, a
``migration_session()`` that reads) say so themselves. Any other revision that
needs a database (``sa.inspect(op.get_bind())``, a SELECT through
``op.get_bind()``) says it in its own file, with the reason:

    online_only = "reads the existing indexes with sa.inspect()"

or, when only some dialects need the database, names them:

    online_only = {"sqlite": "batch mode reads the table to copy it"}

Such a revision stops ``--sql`` with one line, so SQL missing a data step is
never handed on as if it were whole. The offline test lists it instead of
failing. ``make lint-migrations`` still lints its schema operations: while it
renders (``LINTING``), a step that needs the database leaves a SQL comment in
its place and the rest of the revision renders around it.
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from alembic import op
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationInfo, RevisionStep
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

from .errors import failed_step, one_line, titled
from .history import in_order

# Set in config.attributes by `make lint-migrations` (lint.py).
LINTING = "linting"


class OnlineOnly(CommandError):
    """A step that needs a database, met under ``--sql``."""

    def __init__(
        self, reason: str, script: Script | None = None, downgrading: bool = False
    ) -> None:
        super().__init__(reason)
        self.script = script
        self.downgrading = downgrading


def online_only_step(step: str, why: str) -> None:
    """Under ``--sql``: refuse ``step``, or leave a comment in its place when linting.

    Called by the helpers that need a database, before they touch it. While
    linting it returns, and the helper returns without doing anything.
    """
    migration = op.get_context()
    if linting(migration):
        comment = f"-- online only: {step} runs against the database"
        migration.impl.static_output(comment)
        return
    raise OnlineOnly(f"{step} {why}")


def linting(migration: MigrationContext) -> bool:
    # A bare Operations context (tests, benchmarks) has no config.
    return bool(migration.config and migration.config.attributes.get(LINTING))


def declared_reason(script: Script, dialect: str) -> str | None:
    """The revision's own ``online_only`` for ``dialect``, if it declares one.

    A string holds for every dialect; a dict names the dialects it holds
    for (``mysql`` covers MariaDB too).
    """
    declared = getattr(script.module, "online_only", None)
    if not isinstance(declared, dict):
        return str(declared) if declared else None
    if unknown := sorted(set(declared) - DIALECT_NAMES):
        raise CommandError(
            f"revision {titled(script)}: online_only names {', '.join(unknown)}, "
            f"not a dialect: use {', '.join(sorted(DIALECT_NAMES))}"
        )
    reason = declared.get(dialect)
    if reason is None and dialect == "mariadb":
        reason = declared.get("mysql")
    return str(reason) if reason else None


# The dialects SQLAlchemy ships, as ``dialect.name`` spells them.
DIALECT_NAMES = {"mariadb", "mssql", "mysql", "oracle", "postgresql", "sqlite"}


def refuse_online_only(ctx: MigrationContext, step: MigrationInfo, **_: Any) -> None:
    """env.py's ``on_version_apply`` under ``--sql``: stop at a declared revision.

    It runs once the revision has rendered, before its COMMIT: the script
    ends there, unfinished, and the run fails with one line.
    """
    if linting(ctx):
        return
    for script in step.up_revisions:
        if reason := declared_reason(script, ctx.dialect.name):
            raise OnlineOnly(reason, script, downgrading=not step.is_upgrade)


class RenderFailure(CommandError):
    """A revision that cannot render as SQL, in one line that names it."""

    def __init__(self, script: Script, error: BaseException, dialect: str) -> None:
        self.script = script
        self.online_only = online_only_reason(script, error, dialect)
        # What went wrong, without the revision: the original error.
        self.cause = f"{type(error).__name__}: {one_line(error).rstrip('.')}"
        name = described(script)
        if self.online_only:
            advice = run_it_online(script, downgrading(error))
            message = f"{name} is online-only: {self.online_only}. {advice}"
        else:
            message = f"{name} cannot render as SQL: {self.cause}; {DECLARE_IT}"
        super().__init__(message)


def downgrading(error: BaseException) -> bool:
    """Whether the step that refused was a downgrade."""
    if isinstance(error, OnlineOnly) and error.script is not None:
        return error.downgrading  # raised by refuse_online_only
    step = failed_step(error)  # raised inside the revision, by a helper
    return step is not None and step.direction == "downgrade"


def run_it_online(script: Script, downgrading: bool) -> str:
    """What to run instead: this revision on the database, then the SQL of the rest."""
    if not downgrading:
        return RUN_IT_ONLINE.format(revision=script.revision)
    below = script.down_revision
    parent = below if isinstance(below, str) else "base" if below is None else "-1"
    return RUN_ITS_DOWNGRADE_ONLINE.format(parent=parent)


RUN_IT_ONLINE = (
    "Run it against the database (alembic upgrade {revision}), then render "
    "the revisions after it: alembic upgrade {revision}:head --sql"
)
RUN_ITS_DOWNGRADE_ONLINE = (
    "Run its downgrade against the database (alembic downgrade {parent}), then "
    "render the downgrades below it: alembic downgrade {parent}:<target> --sql"
)
DECLARE_IT = (
    'if it needs a database, say so in it: online_only = "why" (docs/changing-data.md)'
)


@contextmanager
def one_line_render_failures(scripts: ScriptDirectory, dialect: str) -> Iterator[None]:
    """env.py under ``--sql``: a revision that cannot render fails in one line.

    Errors raised outside a revision pass through unchanged. The original
    stays chained, for ``alembic --raiseerr``.
    """
    try:
        yield
    except Exception as error:
        script = getattr(error, "script", None) or failing_script(error, scripts)
        if script is None:
            raise
        raise render_failure(script, error, dialect) from error


def render_failure(script: Script, error: BaseException, dialect: str) -> RenderFailure:
    """``error``, met while ``script`` rendered for ``dialect``, in one line."""
    if isinstance(error, RenderFailure):
        return error
    return RenderFailure(script, error, dialect)


def failing_script(error: BaseException, scripts: ScriptDirectory) -> Script | None:
    """The revision whose code is in the traceback, if any."""
    step = failed_step(error)
    return scripts.get_revision(step.revision) if step else None


def online_only_reason(
    script: Script, error: BaseException | None, dialect: str
) -> str | None:
    """Why ``script`` cannot render, if it is online-only; None for a real failure.

    Online-only: it declares ``online_only`` (for ``dialect``), or one of the
    project's helpers refused a step (an OnlineOnly in the chain of errors).
    """
    if reason := declared_reason(script, dialect):
        return reason
    while error is not None:
        if isinstance(error, OnlineOnly):
            return str(error)
        error = error.__cause__
    return None


def render(
    config: Config, scripts: ScriptDirectory, script: Script, output: TextIO
) -> None:
    """Write the SQL of ``script``'s upgrade alone to ``output``.

    As ``alembic upgrade <parents>:<revision> --sql`` does, on ``scripts``
    read once for every revision (``command.upgrade`` reads every file again).
    The database it renders for is DATABASE_URL's.
    """
    render_run(config, scripts, [script], output)


def render_run(
    config: Config, scripts: ScriptDirectory, run: list[Script], output: TextIO
) -> None:
    """Write the SQL of the upgrades of ``run`` (each after its parents), in one
    run of env.py: as ``render`` of each, at a fraction of the cost."""
    # Starting from everything the first needs applied, only the run renders.
    start = parents(scripts, run[0])
    # The steps themselves: resolving "<parents>:<revision>" as Alembic would
    # costs more than rendering most revisions.
    steps = [RevisionStep(scripts.revision_map, script, True) for script in run]

    def plan(_heads: Any, _context: Any) -> list[RevisionStep]:
        return steps

    config.output_buffer = output
    with EnvironmentContext(
        config,
        scripts,
        fn=plan,
        as_sql=True,
        starting_rev=start or None,
        destination_rev=run[-1].revision,
    ):
        scripts.run_env()


def rendered_in_runs(
    config: Config, scripts: ScriptDirectory, dialect: str
) -> dict[str, Exception | None]:
    """Each revision's outcome, rendered in as few runs of env.py as it takes.

    A run is the revisions in order, parents first, up to one declared
    online-only (not rendered) or one that fails: that one's error is kept,
    and the next run starts after it. A failure that names no revision ends
    it all: the revisions left then render one by one, each in its test.
    """
    found: dict[str, Exception | None] = {}
    pending = in_order(scripts)
    while pending:
        run = []
        for script in pending:
            if declared_reason(script, dialect):
                break
            run.append(script)
        pending = pending[len(run) + (len(run) < len(pending)) :]
        if not run:
            continue
        output = io.StringIO()
        try:
            render_run(config, scripts, run, output)
        except Exception as error:
            failed = getattr(error, "script", None) or failing_script(error, scripts)
            names = [script.revision for script in run]
            if failed is None or failed.revision not in names:
                return found
            done = names.index(failed.revision)
            found.update(dict.fromkeys(names[:done]))
            found[failed.revision] = error
            pending = run[done + 1 :] + pending
            continue
        text = output.getvalue()
        # Each revision ends by moving alembic_version to itself.
        found.update(
            {script.revision: None for script in run if script.revision in text}
        )
    return found


def parents(scripts: ScriptDirectory, script: Script) -> list[str]:
    """What ``script`` needs applied first: its down revisions and dependencies.

    Those below another of them are left out: Alembic refuses a starting
    point that overlaps itself (a ``depends_on`` on an ancestor of a parent).
    """
    # Alembic's own list of both, with dependencies resolved to revision ids.
    candidates = set(script._all_down_revisions)
    if len(candidates) < 2:
        return sorted(candidates)
    below = {
        ancestor.revision
        for candidate in candidates
        for ancestor in scripts.walk_revisions("base", candidate)
        if ancestor.revision != candidate
    }
    return sorted(candidates - below)


def described(script: Script) -> str:
    """``revision <id> (<title>)``, as errors.py names a revision."""
    return f"revision {titled(script)}"
