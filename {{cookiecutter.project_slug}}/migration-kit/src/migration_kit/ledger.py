"""Two tracked files that make the history's changes visible in git and tests.

- ``migrations/versions.sum``: a fingerprint of each revision's behaviour,
  oldest first. The fingerprint hashes the revision's syntax tree, so that
  formatting, comments, docstrings and its place in the history
  (``down_revision``) do not count: an edited ``upgrade()`` does. An applied
  revision that changes is the drift Flyway's checksums catch: production
  ran the old text, every new database runs the new one.
- ``migrations/head``: the id of the newest revision. Two branches that each
  add a revision both change this one line, so git stops their merge with a
  conflict instead of letting ``main`` end with two heads
  (``alembic-linear-migrations`` does the same).

``make test`` checks both against the revision files (``verify``) and keeps
them up to date for revisions not yet committed; alembic.ini's post-write
hook records new revisions at once (``record``).
"""

import ast
import hashlib
import subprocess
from collections.abc import Iterable
from pathlib import Path

from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError

from .history import shown

SUMS = "versions.sum"
HEAD = "head"
# Where a revision sits in the history: rebasing it changes only these.
PLACE = {"revision", "down_revision", "branch_labels", "depends_on"}
CONFLICT_MARKERS = ("<<<<<<<", "|||||||", "=======", ">>>>>>>")
SUMS_HEADER = (
    "# What each revision does, fingerprinted, oldest first (docs/history.md).\n"
    "# make test fails when one changes; make revision adds new ones.\n"
)


class HistoryChanged(CommandError):
    """The revision files and the tracked files disagree."""


def fingerprint(path: Path | str) -> str:
    """A hash of what the revision file does, not of how it is written."""
    tree = ast.parse(Path(path).read_bytes())
    canonical = _canonical(_without_docstrings(tree))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        if body and _is_docstring(body[0]):
            body[:] = body[1:] or [ast.Pass()]
        if isinstance(node, ast.Module):
            body[:] = [item for item in body if not _assigns_place(item)]
    return tree


def _is_docstring(node: ast.stmt) -> bool:
    value = getattr(node, "value", None)
    return (
        isinstance(node, ast.Expr)
        and isinstance(value, ast.Constant)
        and (isinstance(value.value, str))
    )


def _assigns_place(node: ast.stmt) -> bool:
    target = node.targets[0] if isinstance(node, ast.Assign) else None
    if isinstance(node, ast.AnnAssign):
        target = node.target
    return isinstance(target, ast.Name) and target.id in PLACE


def _canonical(node: object) -> str:
    """``ast.dump`` without the fields that are empty: newer Pythons add
    fields (``type_params``) and dump them differently, and a fingerprint
    must not change with the Python that computes it."""
    if isinstance(node, ast.AST):
        fields = [
            f"{name}={_canonical(value)}"
            for name, value in ast.iter_fields(node)
            if value not in (None, [])
        ]
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return f"[{', '.join(map(_canonical, node))}]"
    return repr(node)


def sums_path(script: ScriptDirectory) -> Path:
    return Path(script.dir) / SUMS


def head_path(script: ScriptDirectory) -> Path:
    return Path(script.dir) / HEAD


def read_sums(script: ScriptDirectory) -> dict[str, str]:
    """The fingerprints in versions.sum; both sides of a git conflict count."""
    path = sums_path(script)
    return parse_sums(path.read_text()) if path.is_file() else {}


def committed_sums(script: ScriptDirectory) -> dict[str, str]:
    """versions.sum as git's HEAD has it; empty outside a git repository."""
    try:
        shown_file = subprocess.run(
            ["git", "show", f"HEAD:./{SUMS}"],
            cwd=script.dir,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # no git
        return {}
    return parse_sums(shown_file.stdout) if shown_file.returncode == 0 else {}


def parse_sums(text: str) -> dict[str, str]:
    sums = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and not line.startswith(("#", *CONFLICT_MARKERS)):
            sums[words[0]] = words[1]
    return sums


def write_sums(script: ScriptDirectory, sums: dict[str, str]) -> None:
    """Oldest first, so that a new revision's line comes last."""
    ordered = [rev for rev in oldest_first(script) if rev in sums]
    lines = [f"{rev} {sums[rev]}\n" for rev in ordered]
    sums_path(script).write_text(SUMS_HEADER + "".join(lines))


def read_head(script: ScriptDirectory) -> str:
    path = head_path(script)
    return path.read_text().strip() if path.is_file() else ""


def write_head(script: ScriptDirectory) -> None:
    """The one head, or nothing while there are several (a merge to make)."""
    heads = script.get_heads()
    if len(heads) <= 1:
        head_path(script).write_text(f"{heads[0]}\n" if heads else "")


def oldest_first(script: ScriptDirectory) -> list[str]:
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def verify(script: ScriptDirectory) -> None:
    """Raise HistoryChanged, one line, when a committed revision changed or the
    head file disagrees with the history; bring both files up to date for the
    revisions still being written.

    A revision is settled once git's HEAD has its line in versions.sum: its
    fingerprint must match the line from then on. The lines of the others,
    and the head while it is one of them, follow their files, so editing a
    new revision until it is committed needs no command.
    """
    settled = committed_sums(script)
    recorded = read_sums(script)
    sums = {}
    for found in revisions(script):
        now = fingerprint(found.path)
        if found.revision in settled and recorded.get(found.revision) != now:
            raise HistoryChanged(
                f"revision {found.revision} ({shown(Path(found.path))}) changed "
                "since it was committed, and databases that ran it will not run "
                "it again: undo the change and put it in a new revision; if it "
                "alters nothing a database sees, accept it with make "
                f"accept-revision rev={found.revision}"
            )
        sums[found.revision] = now
    gone = sorted((settled.keys() & recorded.keys()) - sums.keys())
    if gone:
        raise HistoryChanged(
            f"{shown(sums_path(script))} lists {', '.join(gone)}, which no "
            "revision file has: restore the file, or delete its line."
        )
    _verify_head(script, settled)
    if sums != recorded:
        write_sums(script, sums)


def _verify_head(script: ScriptDirectory, settled: dict[str, str]) -> None:
    path = head_path(script)
    text = path.read_text() if path.is_file() else ""
    if any(marker in text for marker in CONFLICT_MARKERS):
        raise HistoryChanged(
            f"{shown(path)} has a merge conflict: both branches added a "
            "revision; make rebase-revision puts this branch's on top of the "
            "other's (docs/history.md)."
        )
    heads = script.get_heads()
    if len(heads) > 1 or text.strip() == (heads[0] if heads else ""):
        return  # several heads: the harness names them (errors.several_heads)
    if heads and heads[0] in settled:
        raise HistoryChanged(
            f"{shown(path)} names {text.strip() or 'no revision'}, but the "
            f"history's head is {heads[0]}: write {heads[0]} into it."
        )
    write_head(script)


def record(paths: Iterable[Path | str], script: ScriptDirectory) -> list[str]:
    """Fingerprint these revision files into versions.sum; update the head."""
    sums = read_sums(script)
    by_path = {Path(found.path).resolve(): found for found in revisions(script)}
    recorded = []
    for path in paths:
        found = by_path.get(Path(path).resolve())
        if found is None:
            raise HistoryChanged(
                f"{path} is not a revision of {shown(Path(script.dir))}"
            )
        sums[found.revision] = fingerprint(found.path)
        recorded.append(found.revision)
    write_sums(script, sums)
    write_head(script)
    return recorded


def revisions(script: ScriptDirectory) -> list[Script]:
    return [script.get_revision(rev) for rev in oldest_first(script)]
