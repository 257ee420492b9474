"""`make update` brings a newer template into a project baked from an older one.

Each test makes the template's "previous version" a throwaway git repository,
bakes it, edits the user's files as a team would, commits a newer version of
the template, and runs the project's own `make update` (with the cruft of the
venv running these tests, so nothing is installed). The template's files must
then be the newer version's and the user's files byte for byte as they were.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .baking import GIT, TEMPLATE, run

CRUFT = str(Path(sys.executable).with_name("cruft"))
# `make update CRUFT=...`: the project's own target, with that cruft.
UPDATE = ["make", "update", f"CRUFT={CRUFT}"]
SLUG = "{{cookiecutter.project_slug}}"
PACKAGE = "migration-kit/src/migration_kit"
V2_VERSION = "99.0.0"
# What a team adds to its own files after the bake.
USER_EDITS = {
    "src/team_migrations/models.py": "\n# The team's own models go here.\n",
    "migrations/versions/2026_03_01_0000-c0ffee000001_add_coach.py": (
        '"""Add coach."""\n\nrevision = "c0ffee000001"\n'
    ),
    "tests/test_coach.py": "def test_coach() -> None:\n    assert True\n",
    "README.md": "\n## Our deployment\n\nOn Tuesdays.\n",
}
ALSO_THE_USERS = ["alembic.ini", "migrations/env.py", "pyproject.toml"]
# An edit to a file of the template's, which the update merges with its own.
USER_TARGET = "\nseed: ## The team's own target\n\t@true\n"


@pytest.fixture(scope="module")
def previous_version(tmp_path_factory) -> Path:
    """The template as it is now, committed in a git repository of its own."""
    repository = tmp_path_factory.mktemp("previous-template")
    shutil.copy(TEMPLATE / "cookiecutter.json", repository)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ["hooks", SLUG]:
        shutil.copytree(TEMPLATE / folder, repository / folder, ignore=ignore)
    git("init", "--quiet", cwd=repository)
    commit(repository, "The previous version")
    return repository


@pytest.fixture
def template(previous_version: Path, tmp_path: Path) -> Path:
    """A clone of the previous version, for one test to release a newer one in."""
    git("clone", "--quiet", str(previous_version), "template", cwd=tmp_path)
    return tmp_path / "template"


def test_update_brings_the_template_and_keeps_the_users_files(
    cookies, template: Path, tmp_path: Path
) -> None:
    project = cruft_create(template, tmp_path / "projects")
    edit_users_files(project)
    refused = make_update(project, succeeds=False)
    assert error_lines(refused) == [
        "ERROR: make update needs a git repository with nothing uncommitted"
        " (git status): commit or stash first, then make update"
    ]
    commit(project, "Our edits")
    users = users_files(project)
    newer = release_v2(template)
    assert "Updated: review it" in make_update(project).stdout
    assert_updated(project, users, newer, bake(cookies, template))


def test_a_plain_cookiecutter_bake_is_linked_then_updated(
    cookies, template: Path
) -> None:
    project = bake(cookies, template)
    git("init", "--quiet", cwd=project)
    commit(project, "Baked with cookiecutter")
    [refused] = error_lines(make_update(project, succeeds=False))
    assert refused.startswith("ERROR: no .cruft.json") and "cruft link" in refused
    # As the README says, with the answers (the defaults, as baked) and the
    # commit baked from given on the command line rather than asked for.
    baked_from = git("rev-parse", "HEAD", cwd=template)
    link = ["link", "--no-input", "--default-config", "--checkout", baked_from]
    run([CRUFT, *link, str(template)], cwd=project)
    edit_users_files(project)
    commit(project, "Linked to the template, and our edits")
    users = users_files(project)
    newer = release_v2(template)
    make_update(project)
    assert_updated(project, users, newer, bake(cookies, template))


def test_a_clash_with_the_users_edit_is_one_error_line(
    template: Path, tmp_path: Path
) -> None:
    project = cruft_create(template, tmp_path / "projects")
    makefile = project / "Makefile"
    makefile.write_text("# Our header.\n" + makefile.read_text().split("\n", 1)[1])
    commit(project, "Our Makefile header")
    release_v2(template)
    refused = make_update(project, succeeds=False)
    assert error_lines(refused) == [
        "ERROR: the update clashed with your edits in Makefile"
        " - resolve the <<<<<<< markers or *.rej files, then commit"
    ]
    assert "<<<<<<<" in makefile.read_text()


def assert_updated(
    project: Path, users: dict[str, bytes], newer: str, newer_bake: Path
) -> None:
    """The template's files are the newer bake's; the user's are unchanged."""
    skip = skip_list(project)
    assert all(owned(path, skip) for path in [*USER_EDITS, *ALSO_THE_USERS])
    now = tree(project)
    assert not [path for path in now if path.endswith(".rej")]
    assert {path: data for path, data in now.items() if owned(path, skip)} == users
    for path, edit in USER_EDITS.items():
        assert (project / path).read_text().endswith(edit), path
    assert "lock_name = our_lock" in (project / "alembic.ini").read_text()
    theirs = {path: data for path, data in now.items() if not owned(path, skip)}
    expected = {
        path: data for path, data in tree(newer_bake).items() if not owned(path, skip)
    }
    expected["Makefile"] += USER_TARGET.encode()
    expected[".cruft.json"] = theirs[".cruft.json"]
    assert sorted(set(theirs) ^ set(expected)) == []
    assert [path for path in theirs if theirs[path] != expected[path]] == []
    assert version(project) == V2_VERSION
    assert json.loads(theirs[".cruft.json"])["commit"] == newer


def release_v2(template: Path) -> str:
    """Commit a newer template: its package, machinery and user files all change."""
    baked = template / SLUG
    init = baked / PACKAGE / "__init__.py"
    init.write_text(
        re.sub(r'__version__ = ".*"', f'__version__ = "{V2_VERSION}"', init.read_text())
    )
    (baked / PACKAGE / "released_in_v2.py").write_text('"""New in v2."""\n')
    makefile = baked / "Makefile"
    makefile.write_text("# Version 2.\n" + makefile.read_text().split("\n", 1)[1])
    for path in [
        f"{PACKAGE}/settings.py",
        "migrations/script.py.mako",
        # The user's, changed in the template too: the update must leave them.
        "src/{{cookiecutter.package_name}}/models.py",
        "migrations/env.py",
        "tests/conftest.py",
        "alembic.ini",
        "pyproject.toml",
        "README.md",
        ".gitignore",
        ".squawk.toml",
    ]:
        append(baked / path, "\n# Changed in version 2.\n")
    (baked / "migrations/versions/2026_03_02_0000-v2_sample.py").write_text("v2 = 1\n")
    return commit(template, "Version 2")


def edit_users_files(project: Path) -> None:
    for path, edit in USER_EDITS.items():
        append(project / path, edit)
    ini = project / "alembic.ini"
    ini.write_text(
        re.sub(r"(?m)^lock_name = .*$", "lock_name = our_lock", ini.read_text())
    )
    append(project / "Makefile", USER_TARGET)


def cruft_create(template: Path, output: Path) -> Path:
    """Bake as the README says, into a git repository with the bake committed."""
    create = ["create", "--no-input", "--default-config", "--output-dir", str(output)]
    run([CRUFT, *create, str(template)], cwd=template.parent)
    project = output / "team-migrations"
    git("init", "--quiet", cwd=project)
    commit(project, "Baked with cruft")
    return project


def bake(cookies, template: Path) -> Path:
    result = cookies.bake(template=str(template))
    assert result.exception is None, result.exception
    return Path(result.project_path)


def make_update(
    project: Path, succeeds: bool = True
) -> subprocess.CompletedProcess[str]:
    if succeeds:
        return run(UPDATE, cwd=project, env=GIT)
    result = subprocess.run(
        UPDATE, cwd=project, env={**os.environ, **GIT}, capture_output=True, text=True
    )
    assert result.returncode != 0, result.stdout + result.stderr
    return result


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("ERROR")]


def users_files(project: Path) -> dict[str, bytes]:
    """The files that the project's [tool.cruft] skip list keeps as the user's."""
    skip = skip_list(project)
    return {path: data for path, data in tree(project).items() if owned(path, skip)}


def owned(path: str, skip: list[str]) -> bool:
    return any(path == kept or path.startswith(f"{kept}/") for kept in skip)


def skip_list(project: Path) -> list[str]:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    return pyproject["tool"]["cruft"]["skip"]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root but git's own, by its path relative to root."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def version(project: Path) -> str:
    text = (project / PACKAGE / "__init__.py").read_text()
    return re.search(r'__version__ = "(.*)"', text)[1]


def append(path: Path, text: str) -> None:
    """Add text at the end of a file, or write it as a new one."""
    path.write_text((path.read_text() if path.exists() else "") + text)


def commit(repository: Path, message: str) -> str:
    git("add", "--all", cwd=repository)
    git("commit", "--quiet", "--message", message, cwd=repository)
    return git("rev-parse", "HEAD", cwd=repository)


def git(*args: str, cwd: Path) -> str:
    return run(["git", *args], cwd=cwd, env=GIT).stdout.strip()
