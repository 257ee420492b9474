"""Revisions whose downgrade is not tested: it cannot give the data back.

Two declarations (docs/changing-data.md, "Irreversible revisions"):

- in a revision file, a module-level string saying why::

      irreversible = "the old free-text positions are not kept"

- in alembic.ini's [alembic] section, for a legacy history whose old
  downgrades were never written: ``oldest_tested_downgrade = <revision>``.
  Every revision older than it (its ancestors) is upgraded only.

The stairway upgrades these and goes on testing every later revision.
"""

from alembic.script import Script
from alembic.util import CommandError

from ..errors import titled
from .migration_steps import alembic_config, revisions, script_directory

SETTING = "oldest_tested_downgrade"


class BadSetting(Exception):
    """oldest_tested_downgrade names no revision of the history."""


def declared() -> dict[str, str]:
    """Revision -> the reason its own file gives."""
    return {
        script.revision: str(reason).strip()
        for script in revisions()
        if (reason := getattr(script.module, "irreversible", None))
    }


def oldest_tested() -> Script | None:
    """The revision oldest_tested_downgrade names; None when it is not set."""
    value = (alembic_config().get_main_option(SETTING) or "").strip()
    if not value:
        return None
    try:
        found = script_directory().get_revision(value)
    except CommandError:  # unknown or ambiguous id; ResolutionError is one
        found = None
    if not isinstance(found, Script):
        raise BadSetting(
            f"alembic.ini: {SETTING} = {value} is not a revision of "
            "migrations/versions: give the id of the oldest revision whose "
            "downgrade is tested (alembic history lists them), or leave it "
            "empty to test every downgrade."
        )
    return found


def legacy() -> set[str]:
    """The revisions older than oldest_tested_downgrade."""
    oldest = oldest_tested()
    return ancestors({oldest.revision}) if oldest else set()


def not_downgraded() -> set[str]:
    """Every revision the stairway upgrades only."""
    return legacy() | declared().keys()


def newest_point() -> set[str]:
    """Where downgrading "to base" stops: the newest irreversible revisions.

    Each irreversible revision stays, and so does everything it is built on;
    these are the heads of that part of the history (empty: base).
    """
    kept = not_downgraded()
    kept |= ancestors(kept)
    return kept - ancestors(kept)


def ancestors(revision_ids: set[str]) -> set[str]:
    """Every revision these are built on (down_revision and depends_on)."""
    found: set[str] = set()
    waiting = list(revision_ids)
    while waiting:
        script = script_directory().get_revision(waiting.pop())
        for parent in script._all_down_revisions:
            if parent not in found:
                found.add(parent)
                waiting.append(parent)
    return found


def summary() -> list[str]:
    """One line per declaration, for the end of the run."""
    reasons = declared()
    lines = [
        f"IRREVERSIBLE {titled(script)}: {reasons[script.revision]}"
        for script in revisions()
        if script.revision in reasons
    ]
    oldest = oldest_tested()
    if oldest:
        lines.append(
            f"IRREVERSIBLE {len(legacy())} revisions older than "
            f"{titled(oldest)}: {SETTING} in alembic.ini"
        )
    return lines
