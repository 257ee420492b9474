"""``make rebase-revision``: put this branch's new revisions on top of the other's.

After ``git merge main``, when both branches added a revision, git stops on
``migrations/head``: its conflict names this branch's head (ours, between
``<<<<<<<`` and ``=======``) and main's (theirs). The history then has those
two heads. This moves ours on top of theirs: the oldest revision of this
branch that main lacks gets main's head as its ``down_revision`` (its file
is edited in place, docstring included), ``versions.sum`` keeps the lines of
both sides, oldest first, and ``migrations/head`` names the new head. A
revision's fingerprint leaves out its place in the history (ledger.py), so
the moved revision keeps its own.

``rev=<id>`` names the head to move when there is no conflict to read it
from (a ``git rebase``, where the sides are the other way round).
"""

import ast
import re
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from . import history, ledger
from .settings import alembic_config


def main(arguments: list[str]) -> int:
    if len(arguments) > 1:
        raise CommandError("rebase takes at most one revision: make rebase-revision")
    script = history.load(ScriptDirectory.from_config(alembic_config()))
    moving, onto = heads_to_join(script, arguments[0] if arguments else None)
    sums = ledger.read_sums(script)
    oldest = oldest_of_branch(script, moving, onto)
    path = Path(oldest.path)
    path.write_text(repointed(path.read_text(), oldest.down_revision, onto))
    script = ScriptDirectory.from_config(alembic_config())  # the files as they are now
    ledger.write_sums(script, sums)
    ledger.write_head(script)
    print(
        f"moved {oldest.revision} ({history.shown(path)}) onto {onto}: "
        f"{history.shown(ledger.head_path(script))} now names {moving}; run "
        "make test, then git add migrations and commit."
    )
    return 0


def heads_to_join(script: ScriptDirectory, named: str | None) -> tuple[str, str]:
    """(the head to move, the head to put it on)."""
    heads = script.get_heads()
    if len(heads) != 2:
        raise CommandError(
            f"the history has {len(heads)} head(s), {', '.join(heads) or 'none'}: "
            "rebase-revision joins two, after a merge brought in another "
            "branch's revision."
        )
    moving = named or ours(ledger.head_path(script))
    if moving not in heads:
        raise CommandError(
            f"{moving or 'nothing'} is not one of the heads {' and '.join(heads)}: "
            "name the one this branch added: make rebase-revision rev=<id>"
        )
    return moving, next(head for head in heads if head != moving)


def ours(path: Path) -> str:
    """This branch's side of a merge conflict in the head file."""
    text = path.read_text() if path.is_file() else ""
    match = re.search(r"^<{7}[^\n]*\n(.*?)^(?:\|{7}|={7})", text, re.M | re.S)
    return match.group(1).strip() if match else ""


def oldest_of_branch(script: ScriptDirectory, moving: str, onto: str):
    """The oldest revision below ``moving`` that ``onto`` lacks."""
    shared = {found.revision for found in script.iterate_revisions(onto, "base")}
    found = script.get_revision(moving)
    while found.down_revision not in shared and found.down_revision is not None:
        if not isinstance(found.down_revision, str):
            break
        found = script.get_revision(found.down_revision)
    if not isinstance(found.down_revision, str):
        raise CommandError(
            f"revision {found.revision} merges or starts a history: move this "
            "branch's revisions by hand (set the oldest one's down_revision)."
        )
    return found


def repointed(source: str, old: str, new: str) -> str:
    """``source`` with ``down_revision = old`` (and ``Revises: old``) made ``new``."""
    tree = ast.parse(source)
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        if isinstance(target, ast.Name) and target.id == "down_revision":
            value = node.value
            lines = source.splitlines(keepends=True)
            # The offsets count UTF-8 bytes.
            line = lines[value.lineno - 1].encode()
            start, end = value.col_offset, value.end_col_offset
            lines[value.lineno - 1] = (
                line[:start] + f'"{new}"'.encode() + line[end:]
            ).decode()
            source = "".join(lines)
            break
    else:
        raise CommandError(f"no down_revision = {old!r} to move")
    revises = rf"^Revises: {re.escape(old)}$"
    return re.sub(revises, f"Revises: {new}", source, count=1, flags=re.M)
