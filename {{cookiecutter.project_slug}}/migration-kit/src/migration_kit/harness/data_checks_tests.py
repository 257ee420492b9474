"""What each revision's upgrade did to the data, checked (data_checks.py).

- the same rows on every backend the run tests;
- the same end after a crash and a second run (MySQL/MariaDB; backfill()
  revisions on every backend);
- what its ``verify()`` promises, on every backend.

Each is off-switchable by name: MIGRATION_SKIP_CHECKS=same-answer,crash-rerun,verify
(or ``skip_checks`` in alembic.ini); docs/testing.md says more.
"""

import pytest

from .. import verify
from . import data_checks, same_answer
from .migration_steps import revisions
from .stairway import Stair
from .stairway_tests import REVISIONS, stair_of

SCRIPTS = {script.revision: script for script in revisions()}
VERIFIED = [r for r in REVISIONS if verify.hook(SCRIPTS[r].module) is not None]


def _finding(stair: Stair, check: str) -> None:
    if check in data_checks.not_run_there():
        pytest.skip(
            f"{check}: not run where the revisions run in alembic.ini's "
            "revisions_python (it needs them in this process)"
        )
    if stair.direction is not None:
        pytest.skip(f"revision {stair.name}: not checked, see its stairway")
    if stair.findings.get(check):
        pytest.fail(stair.findings[check], pytrace=False)


@pytest.mark.parametrize("revision", VERIFIED)
def test_upgrade_keeps_its_promise(stairway: dict[str, Stair], revision: str) -> None:
    _finding(stair_of(stairway, revision), "verify")


@pytest.mark.parametrize("revision", REVISIONS)
def test_upgrade_runs_again_after_a_crash(
    stairway: dict[str, Stair], revision: str
) -> None:
    _finding(stair_of(stairway, revision), "crash-rerun")


@pytest.mark.parametrize("revision", REVISIONS)
def test_same_answer_on_every_backend(
    every_answer: dict[str, dict], revision: str
) -> None:
    """Runs after every stairway (the plugin moves it last) and compares them."""
    script = SCRIPTS[revision]
    wrong = same_answer.undeclared_reasons(script.module)
    if wrong:
        pytest.fail(f"revision {revision}: {wrong}", pytrace=False)
    answers = every_answer.get(revision, {})
    if len(answers) < 2:
        # One reason for all, so that pytest counts them on one line.
        pytest.skip("upgraded on fewer than two backends here: see its stairways")
    lines = same_answer.differences(revision, script.module)
    if lines:
        pytest.fail("\n".join(lines), pytrace=False)
