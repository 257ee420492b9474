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
    render,
    render_failure,
    rendered_in_runs,
)
from . import app_revisions
from .migration_steps import alembic_config, revisions, script_directory
from .online_only import ONLINE_ONLY

DIALECTS = ["sqlite", "postgresql", "mysql", "mariadb"]
# Per dialect, what rendering each revision in runs gave: None, it rendered;
# else its error. A run of env.py per revision cost 10 ms each, 4 s of 100
# revisions' 4 dialects; the first test of a dialect renders them all in runs.
RENDERED: dict[str, dict[str, Exception | None]] = {}
# The same, rendered in the application's Python: None, or its failure's line.
RENDERED_THERE: dict[str, dict[str, dict[str, str] | None]] = {}


@pytest.mark.parametrize("revision", revisions(), ids=lambda r: r.revision)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_revision_renders_as_sql(
    dialect: str, revision: Script, monkeypatch: pytest.MonkeyPatch
) -> None:
    if reason := declared_reason(revision, dialect):
        # It says it needs a database: rendering it would only show that again.
        online_only(revision, reason)
        return
    if app_revisions.python():
        rendered_there(dialect, revision)
        return
    monkeypatch.setenv("DATABASE_URL", f"{dialect}://")
    if dialect not in RENDERED:
        RENDERED[dialect] = rendered_in_runs(
            alembic_config(), script_directory(), dialect
        )
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


def rendered_there(dialect: str, revision: Script) -> None:
    """The test, on what the application's Python rendered (app_revisions.py)."""
    if dialect not in RENDERED_THERE:
        RENDERED_THERE[dialect] = app_revisions.rendered(dialect)
    failure = RENDERED_THERE[dialect][revision.revision]
    if failure is None:
        return
    if not failure["online_only"]:
        pytest.fail(f"{dialect}: {failure['line']}", pytrace=False)
    online_only(revision, failure["online_only"])


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
