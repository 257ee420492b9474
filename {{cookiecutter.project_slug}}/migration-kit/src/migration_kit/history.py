"""The revision files, loaded whole or refused in one line that names the file.

Alembic imports every file in migrations/versions the first time a command
needs the history. A file that does not import (a syntax error, a bad import)
or a history that cannot be walked (a down_revision cycle, a parent no file
has, one id in two files) otherwise ends every command, and the test harness,
with a traceback or advice that does not fit: two files with one id read as
"2 heads", and ``alembic merge heads`` then fails too. ``load`` reads the
history once, up front, and raises BrokenHistory, a CommandError, which
alembic prints as one ``FAILED:`` line and the harness as one ``ERROR:`` line.
"""

import ast
import importlib
import traceback
import warnings
from collections import defaultdict
from pathlib import Path

from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from .errors import one_line

# Alembic's warning when two files have the same revision id.
TWICE = "is present more than once"


class BrokenHistory(CommandError):
    """The revision files cannot be read as one history."""


def load(script: ScriptDirectory) -> ScriptDirectory:
    """Import every revision file once (Alembic keeps them), or raise BrokenHistory."""
    with warnings.catch_warnings(record=True) as warned:
        # Alembic warns about an id in two files, or a missing parent, and goes on.
        warnings.simplefilter("always")
        try:
            script.revision_map.heads  # noqa: B018 (reading it loads the map)
        except RevisionError as error:  # a cycle, a branch label used twice
            raise BrokenHistory(
                f"{one_line(error)}: fix the down_revision of these revisions."
            ) from None
        except Exception as error:  # whatever a revision's module code raised
            raise BrokenHistory(unreadable(script, error)) from None
    if any(TWICE in str(warning.message) for warning in warned):
        raise BrokenHistory(duplicate_ids(script))
    for warning in warned:  # the revisions' own warnings, shown as usual
        warnings.showwarning(
            warning.message, warning.category, warning.filename, warning.lineno
        )
    return script


def import_models(project: Path) -> None:
    """Import src/<package>/models.py, as env.py does before Alembic reads a
    revision, for commands that read revisions without env.py: an application
    may need its setup first (Superset's revisions import modules that need
    the app its models.py creates)."""
    for path in sorted((project / "src").glob("*/models.py")):
        importlib.import_module(f"{path.parent.name}.models")


def in_order(script: ScriptDirectory) -> list[Script]:
    """Every revision, each after its parents and what it depends_on."""
    ordered: dict[str, Script] = {}

    def place(found: Script) -> None:
        for parent in found._all_down_revisions:  # down_revision + depends_on
            if parent not in ordered:
                place(script.get_revision(parent))
        ordered.setdefault(found.revision, found)

    for found in reversed(list(script.walk_revisions())):
        place(found)
    return list(ordered.values())


def unreadable(script: ScriptDirectory, error: Exception) -> str:
    """Which file failed to import, where, and why; or which parent is missing."""
    if isinstance(error, KeyError):
        # Alembic looks up each down_revision: one no file has is a KeyError.
        missing = error.args[0] if error.args else "?"
        child = next(
            (path for path, parents in down_revisions(script) if missing in parents),
            None,
        )
        named = f"{shown(child)} names" if child else "a revision names"
        return (
            f"{named} down_revision {missing!r}, which no file in "
            f"{shown(Path(script.versions))} has: restore that revision, or "
            "point down_revision at the one it builds on."
        )
    if isinstance(error, SyntaxError) and error.filename:
        where = f"{shown(Path(error.filename))}:{error.lineno}"
        what = error.msg
    else:
        where = revision_frame(script, error)
        what = one_line(error)
    if isinstance(error, ImportError):
        return (
            f"{where}: {type(error).__name__}: {what}: the revision imports what "
            "this venv lacks; install it here, or, for an application pinned "
            "to SQLAlchemy 1.4, run the revisions in its own venv "
            "(docs/adopting.md, revisions_python)."
        )
    return (
        f"{where}: {type(error).__name__}: {what}: every alembic command reads "
        "all revisions, so fix or delete that revision file."
    )


def revision_frame(script: ScriptDirectory, error: Exception) -> str:
    """``file:line`` of the last frame in a revision file, or the versions folder."""
    folders = [folder.resolve() for folder in version_folders(script)]
    where = shown(Path(script.versions))
    for frame, line in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename).resolve()
        if any(path.is_relative_to(folder) for folder in folders):
            where = f"{shown(path)}:{line}"
    return where


def duplicate_ids(script: ScriptDirectory) -> str:
    """One line naming an id that two files use."""
    files = defaultdict(list)
    for path, values in assignments(script):
        files[values["revision"]].append(path)
    revision, paths = max(files.items(), key=lambda item: len(item[1]))
    names = " and ".join(shown(path) for path in paths)
    return (
        f"revision id {revision} is in {len(paths)} files, {names}: a copied "
        "file, or two revisions written at once; delete the copy, or give one "
        "a new id (its revision = and the down_revision of any revision built "
        "on it)."
    )


def down_revisions(script: ScriptDirectory) -> list[tuple[Path, set[str]]]:
    parents = []
    for path, values in assignments(script):
        down = values.get("down_revision") or ()
        parents.append((path, {down} if isinstance(down, str) else set(down)))
    return parents


def assignments(script: ScriptDirectory) -> list[tuple[Path, dict]]:
    """The literal module-level names of each revision file that has ``revision``."""
    found = []
    for folder in version_folders(script):
        pattern = "**/*.py" if script.recursive_version_locations else "*.py"
        for path in sorted(folder.glob(pattern)):
            try:
                tree = ast.parse(path.read_bytes())
            except (SyntaxError, ValueError):
                continue
            values = dict(literal_names(tree))
            if isinstance(values.get("revision"), str):
                found.append((path, values))
    return found


def literal_names(tree: ast.Module) -> list[tuple[str, object]]:
    names = []
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target = node.target
        if isinstance(target, ast.Name):
            try:
                names.append((target.id, ast.literal_eval(node.value)))
            except ValueError:
                continue
    return names


def version_folders(script: ScriptDirectory) -> list[Path]:
    """alembic.ini's version_locations, or migrations/versions."""
    return [Path(folder) for folder in script.version_locations or [script.versions]]


def shown(path: Path) -> str:
    """``path`` relative to the folder alembic runs in, when it is inside it."""
    path = path.resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
