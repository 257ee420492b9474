"""Every revision renders as SQL (``alembic upgrade --sql``) for every dialect.

Each revision renders on its own, without a database. One that cannot render
fails in one line naming it and the cause, and hides none after it. An
online-only revision (it reads rows, see ``offline.py``) is listed at the end
of the run instead: ``--sql`` refuses it on purpose. One that declares itself
online-only is listed without rendering; one that declares it for some
dialects renders for the others.
"""

import io

import pytest
from alembic.script import Script

from ..errors import titled
from ..offline import (
    declared_reason,
    failing_script,
    render,
    render_failure,
    render_run,
)
from .migration_steps import alembic_config, revisions, script_directory
from .online_only import ONLINE_ONLY

DIALECTS = ["sqlite", "postgresql", "mysql", "mariadb"]
# Per dialect, what rendering each revision in runs gave: None, it rendered;
# else its error. A run of env.py per revision cost 10 ms each, 4 s of 100
# revisions' 4 dialects; the first test of a dialect renders them all in runs.
RENDERED: dict[str, dict[str, Exception | None]] = {}


@pytest.mark.parametrize("revision", revisions(), ids=lambda r: r.revision)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_revision_renders_as_sql(
    dialect: str, revision: Script, monkeypatch: pytest.MonkeyPatch
) -> None:
    if reason := declared_reason(revision, dialect):
        # It says it needs a database: rendering it would only show that again.
        online_only(revision, reason)
        return
    monkeypatch.setenv("DATABASE_URL", f"{dialect}://")
    if dialect not in RENDERED:
        RENDERED[dialect] = rendered_in_runs(dialect)
    if revision.revision in RENDERED[dialect]:
        error = RENDERED[dialect][revision.revision]
        if error is None:
            return
        failure = render_failure(revision, error, dialect)
    else:
        output = io.StringIO()
        try:
            render(alembic_config(), script_directory(), revision, output)
        except Exception as error:
            failure = render_failure(revision, error, dialect)
        else:
            # Each revision ends by moving alembic_version to itself.
            assert revision.revision in output.getvalue(), output.getvalue()
            return
    if not failure.online_only:
        # Outside the except block: one line, not the chain of errors.
        pytest.fail(f"{dialect}: {failure}", pytrace=False)
    online_only(revision, failure.online_only)


def rendered_in_runs(dialect: str) -> dict[str, Exception | None]:
    """Each revision's outcome, rendered in as few runs of env.py as it takes.

    A run is the revisions in order, parents first, up to one declared
    online-only (not rendered) or one that fails: that one's error is kept,
    and the next run starts after it. A failure that names no revision ends
    it all: the revisions left then render one by one, each in its test.
    """
    scripts = script_directory()
    found: dict[str, Exception | None] = {}
    pending = revisions()
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
            render_run(alembic_config(), scripts, run, output)
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


def online_only(revision: Script, reason: str) -> None:
    """Listed once at the end of the run (plugin.py), whatever the dialect;
    a revision online-only on some dialects names them."""
    declared = getattr(revision.module, "online_only", None)
    if not isinstance(declared, dict):
        line = f"ONLINE-ONLY {titled(revision)}: {reason}"
        ONLINE_ONLY.setdefault(revision.revision, line)
        return
    dialects = ", ".join(sorted(d for d, why in declared.items() if why == reason))
    line = f"ONLINE-ONLY {titled(revision)} on {dialects}: {reason}"
    ONLINE_ONLY.setdefault(f"{revision.revision} {reason}", line)
