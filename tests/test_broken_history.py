"""Broken revision files and hostile messages: one line, never a traceback.

A revision that does not import, a down_revision cycle or a missing parent,
and one id in two files end every alembic command with one ``FAILED:`` line
and the harness with one ``ERROR:`` line, naming the file. A message given to
``make revision`` or ``make autorevision`` reaches the new file as data: the
file parses, its docstring reads back exactly, and nothing in it runs.
"""

import ast
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .logins import PASSWORD, assert_no_password, database_with_login
from .production import (
    HEAD,
    alembic,
    failure_line,
    fresh_database,
    table_names,
)

# A URL with the password, on a port nothing listens on: the lines below must
# not need it, and must not show it.
CLOSED_PORT = f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:9/postgres"
VERSIONS = "migrations/versions"
SAMPLE = f"{VERSIONS}/2026_01_02_0000-{HEAD}_sample_move_team_names_into_teams.py"
BROKEN = {
    "syntax-error": "def upgrade(:\n    pass\n",
    "bad-import": "import no_such_module_here\n",
}
# What each kind of broken history makes the one line say, and advise.
ADVICE = {
    "syntax-error": "fix or delete that revision file.",
    "bad-import": "(docs/adopting.md, revisions_python).",
}
SAID = {
    "syntax-error": ":3: SyntaxError: invalid syntax: ",
    "bad-import": ":3: ModuleNotFoundError: No module named 'no_such_module_here'",
}
COMMANDS = {
    "migrate": ["upgrade", "head"],
    "history": ["history", "--verbose"],
    "current": ["current", "--verbose"],
    "check": ["check"],
    "sql": ["upgrade", "head", "--sql"],
    "revision": ["revision", "-m", "next"],
}
# The harness as CI runs it, and with pytest's most talkative flags.
HARNESS_FLAGS = {"default": [], "verbose": ["-vv", "--tb=long", "--showlocals"]}


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("sqlite", tmp_path) as url:
        yield url


def revision_file(name: str, revision: str, down: str | None, body: str = "") -> str:
    return (
        f'"""{name}."""\n\nrevision = {revision!r}\ndown_revision = {down!r}\n'
        f"{body}\n\ndef upgrade() -> None:\n    pass\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )


@contextmanager
def added(project: Path, files: dict[str, str]) -> Iterator[list[Path]]:
    """Revision files in migrations/versions for the duration of a test."""
    paths = [project / VERSIONS / name for name in files]
    for path, text in zip(paths, files.values(), strict=True):
        path.write_text(text)
    try:
        yield paths
    finally:
        for path in paths:
            path.unlink()


def broken_files(kind: str) -> dict[str, str]:
    text = f'revision = "badf11e00001"\ndown_revision = "{HEAD}"\n{BROKEN[kind]}'
    return {"2099_01_01_0000-badf11e00001_broken.py": text}


def harness(project: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """``make test-migrations`` as pytest runs it, on a URL with a password."""
    return subprocess.run(
        [".venv/bin/pytest", "-p", "no:cacheprovider", *flags],
        cwd=project,
        env={**os.environ, "TEST_POSTGRES_URL": CLOSED_PORT, "TEST_POSTGRES": "off"},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The harness stopped before any test with one ERROR: line, no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    for noise in (
        "Traceback",
        "INTERNALERROR",
        "ERROR collecting",
        " passed",
        " failed",
    ):
        assert noise not in output, output
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("ERROR: "), output
    assert_no_password(output)
    return line


@pytest.mark.parametrize("kind", BROKEN)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_revision_that_does_not_import_is_one_line(
    project: Path, url: str, kind: str, command: str
) -> None:
    with added(project, broken_files(kind)) as [path]:
        result = alembic(project, url, *COMMANDS[command])
    line = failure_line(result)

    where = f"{VERSIONS}/{path.name}"
    assert line.startswith(f"FAILED: {where}{SAID[kind]}"), line
    assert line.endswith(ADVICE[kind]), line
    # Nothing was migrated; only the commands that connect made the file.
    assert "players" not in table_names(url)
    assert not list((project / VERSIONS).glob("*_next.py")), "a revision was written"


@pytest.mark.parametrize("flags", HARNESS_FLAGS)
@pytest.mark.parametrize("kind", BROKEN)
def test_the_harness_names_a_revision_that_does_not_import(
    project: Path, kind: str, flags: str
) -> None:
    with added(project, broken_files(kind)) as [path]:
        line = error_line(harness(project, *HARNESS_FLAGS[flags]))
    assert line.startswith(f"ERROR: {VERSIONS}/{path.name}{SAID[kind]}"), line


def test_a_revision_that_does_not_import_on_postgresql(
    project: Path, tmp_path: Path
) -> None:
    """The line is about the file, on a server too, and shows no password."""
    with (
        database_with_login("postgresql", tmp_path) as (url, database),
        added(project, broken_files("syntax-error")),
    ):
        results = [alembic(project, url, *COMMANDS[c]) for c in ("migrate", "current")]
        for result in results:
            assert "SyntaxError: invalid syntax" in failure_line(result)
            assert_no_password(result.stdout + result.stderr)
        assert table_names(database) == set()


CYCLE = {
    "2099_01_01_0000-c1c1e0000001_one.py": revision_file(
        "One", "c1c1e0000001", "c1c1e0000002"
    ),
    "2099_01_01_0000-c1c1e0000002_two.py": revision_file(
        "Two", "c1c1e0000002", "c1c1e0000001"
    ),
}
MISSING_PARENT = {
    "2099_01_01_0000-0aa0a0000001_orphan.py": revision_file(
        "Orphan", "0aa0a0000001", "0aa0a0000009"
    ),
}


def test_a_down_revision_cycle_is_one_line(project: Path, url: str) -> None:
    said = (
        "Cycle is detected in revisions (c1c1e0000001, c1c1e0000002): "
        "fix the down_revision"
    )
    with added(project, CYCLE):
        alembic_line = failure_line(alembic(project, url, "upgrade", "head"))
        harness_line = error_line(harness(project))
    assert alembic_line.startswith(f"FAILED: {said}"), alembic_line
    assert harness_line.startswith(f"ERROR: {said}"), harness_line


def test_a_missing_parent_is_one_line(project: Path, url: str) -> None:
    said = (
        f"{VERSIONS}/2099_01_01_0000-0aa0a0000001_orphan.py names down_revision "
        f"'0aa0a0000009', which no file in {VERSIONS} has"
    )
    with added(project, MISSING_PARENT):
        alembic_line = failure_line(alembic(project, url, "history"))
        harness_line = error_line(harness(project))
    assert alembic_line.startswith(f"FAILED: {said}"), alembic_line
    assert harness_line.startswith(f"ERROR: {said}"), harness_line


@pytest.mark.parametrize("flags", HARNESS_FLAGS)
def test_one_id_in_two_files_is_named_as_such(
    project: Path, url: str, flags: str
) -> None:
    """Not "2 heads", whose advice (alembic merge heads) then fails too."""
    copy = f"2099_01_01_0000-{HEAD}_copy.py"
    said = (
        f"revision id {HEAD} is in 2 files, {SAMPLE} and {VERSIONS}/{copy}: "
        "a copied file"
    )
    with added(project, {copy: (project / SAMPLE).read_text()}):
        harness_line = error_line(harness(project, *HARNESS_FLAGS[flags]))
        lines = [
            failure_line(alembic(project, url, *COMMANDS[command]))
            for command in ("migrate", "history", "revision")
        ]
    assert harness_line.startswith(f"ERROR: {said}"), harness_line
    for line in lines:
        assert line.startswith(f"FAILED: {said}"), line
        assert "heads" not in line
    assert "players" not in table_names(url)


# Messages that broke the file, or ran as code, when written as typed.
MARKER = "/tmp/revision-message-ran"
HOSTILE = {
    "backslashes": r"load C:\xampp\users.csv",
    "docstring-end": f'x"""; import os; os.system("touch {MARKER}"); """',
    "quote-last": 'say "hi"',
    "control": "tab\there and a \\ and a bell \a",
}


def make(
    project: Path, target: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", target, *(f"{name}={value}" for name, value in variables.items())],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def new_revisions(project: Path, before: set[Path]) -> list[Path]:
    return sorted(set((project / VERSIONS).glob("*.py")) - before)


@pytest.fixture
def written(project: Path) -> Iterator[set[Path]]:
    """The revision files before the test; the ones it writes are deleted."""
    before = set((project / VERSIONS).glob("*.py"))
    Path(MARKER).unlink(missing_ok=True)
    yield before
    for path in new_revisions(project, before):
        path.unlink()


@pytest.mark.parametrize("message", HOSTILE.values(), ids=HOSTILE)
@pytest.mark.parametrize("target", ["revision", "autorevision"])
def test_a_message_is_written_as_data(
    project: Path, written: set[Path], url: str, target: str, message: str
) -> None:
    env = {"DATABASE_URL": url}
    if target == "autorevision":  # its database must be at head
        assert alembic(project, url, "upgrade", "head").returncode == 0
    result = subprocess.run(
        ["make", target, f"m={message}"],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [path] = new_revisions(project, written)
    docstring = ast.get_docstring(ast.parse(path.read_text()), clean=False)
    assert docstring.split("\n\nRevision ID:")[0] == message

    # Alembic reads the history, the new revision included: nothing in it runs.
    history = alembic(project, url, "history")
    assert history.returncode == 0, history.stderr
    assert not Path(MARKER).exists(), "the message ran as code"
    assert "Traceback" not in result.stderr + history.stderr


@pytest.mark.parametrize(
    ("target", "variables"),
    [
        ("revision", {"m": "add\ncoach"}),
        ("revision", {"m": "add coach", "tables": "players\nteams"}),
        ("autorevision", {"m": "add\ncoach"}),
    ],
    ids=["revision-m", "revision-tables", "autorevision-m"],
)
def test_a_line_break_is_refused_in_one_line(
    project: Path, written: set[Path], target: str, variables: dict[str, str]
) -> None:
    result = make(project, target, **variables)

    assert result.returncode != 0
    name = "tables" if "tables" in variables else "m"
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == (
        f"ERROR: {name}= holds a line break: give it on one line"
    )
    # make's own line, naming the target, is the only other one.
    assert len(result.stderr.splitlines()) == 2, result.stderr
    assert "/bin/sh" not in result.stderr
    assert not new_revisions(project, written)
