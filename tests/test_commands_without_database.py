"""Commands that only read the revision files open no database.

alembic.ini sets revision_environment, so Alembic runs env.py for `history`,
`revision` and `merge` as well. With DATABASE_URL on a server that is not
there, or on a SQLite file that does not exist yet, each one exits 0, prints
what it should, and leaves no file behind: nothing connected or took a lock.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from .production import FIRST, HEAD, alembic, succeeded

# Nothing listens on port 9 (discard): connecting would fail at once.
UNREACHABLE = "postgresql+psycopg://app:secret@127.0.0.1:9/app"


@pytest.fixture
def project(install) -> Iterator[Path]:
    """The default project; the revisions a test writes are removed afterwards."""
    project = install("default")
    versions = project / "migrations" / "versions"
    baked = set(versions.glob("*.py"))
    yield project
    for revision in set(versions.glob("*.py")) - baked:
        revision.unlink()


@pytest.fixture(params=["unreachable server", "new sqlite file"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "unreachable server":
        return UNREACHABLE
    return f"sqlite:///{tmp_path / 'never.sqlite3'}"


def run_ok(project: Path, url: str, *arguments: str) -> str:
    output = succeeded(alembic(project, url, *arguments))
    assert "FAILED" not in output, output
    return output


def test_commands_that_read_only_files_open_no_database(
    project: Path, url: str, tmp_path: Path
) -> None:
    history = run_ok(project, url, "history")
    assert f"{FIRST} -> {HEAD} (head)" in history
    assert f"<base> -> {FIRST}" in history
    assert "alembic_version" not in history  # no SQL of the listing's run
    assert f"Rev: {HEAD} (head)" in run_ok(project, url, "history", "--verbose")
    assert f"{HEAD} (head)" in run_ok(project, url, "heads")
    assert f"Rev: {HEAD} (head)" in run_ok(project, url, "show", "head")

    run_ok(project, url, "revision", "-m", "add coach")
    run_ok(project, url, "revision", "-m", "other", "--head", FIRST, "--splice")
    assert len(run_ok(project, url, "heads").splitlines()) == 2
    assert "Generating" in run_ok(project, url, "merge", "heads", "-m", "merge")
    assert "(head)" in run_ok(project, url, "heads")
    assert len(run_ok(project, url, "heads").splitlines()) == 1

    assert list(tmp_path.iterdir()) == []
