"""The generated README and docs/ hold up in every bake they ship in.

The README stays short enough to read and names every setting of alembic.ini's
[migration_kit]; a bake without the samples never points at them; every
relative link reaches a file of that bake; every `make <target>` the docs name
is a target of that bake's Makefile.
"""

import ast
import json
import re
from pathlib import Path

import pytest

from .baking import TEMPLATE, bake

VARIANTS = {
    "default": {},
    "bare": {"include_sample_revisions": False},
    "postgresql": {"database": "postgresql"},
    "mysql": {"database": "mysql"},
}
README_MAX_LINES = 210
# The prompt's own words, which docs/adopting.md quotes to say what to answer.
SAMPLE_PROMPT = json.loads((TEMPLATE / "cookiecutter.json").read_text())["__prompts__"][
    "include_sample_revisions"
]
FENCED = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
MAKE_TARGET = re.compile(r"(?:^|\s)make ([a-z][a-z-]*)", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.fixture(scope="module", params=list(VARIANTS))
def project(request, cookies_session) -> Path:
    return bake(cookies_session, **VARIANTS[request.param])


def documents(project: Path) -> list[Path]:
    return [project / "README.md", *sorted((project / "docs").glob("*.md"))]


def code_in(text: str) -> str:
    """The fenced blocks and inline code spans of a Markdown text."""
    fenced = FENCED.findall(text)
    inline = INLINE_CODE.findall(FENCED.sub("", text))
    return "\n".join([*fenced, *inline])


def test_readme_is_short(project: Path) -> None:
    lines = len((project / "README.md").read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines"


def test_readme_names_every_setting(project: Path) -> None:
    settings = project / "migration-kit/src/migration_kit/settings.py"
    [defaults] = [
        node.value
        for node in ast.parse(settings.read_text()).body
        if isinstance(node, ast.Assign) and node.targets[0].id == "DEFAULTS"
    ]
    readme = (project / "README.md").read_text()
    names = ast.literal_eval(defaults)
    assert len(names) > 4
    assert [name for name in names if f"`{name}`" not in readme] == []


@pytest.mark.parametrize("database", ["sqlite", "postgresql", "mysql"])
def test_docs_name_no_sample_the_bake_lacks(cookies_session, database: str) -> None:
    """Without the samples, "sample" appears nowhere but in the prompt's words."""
    project = bake(cookies_session, include_sample_revisions=False, database=database)
    assert not list(project.glob("migrations/versions/*_sample_*.py"))
    for document in documents(project):
        text = document.read_text().replace(SAMPLE_PROMPT, "")
        for number, line in enumerate(text.splitlines(), start=1):
            assert "sample" not in line.lower(), f"{document.name}:{number}: {line}"


def test_relative_links_reach_files_of_the_bake(project: Path) -> None:
    for document in documents(project):
        for target in LINK.findall(document.read_text()):
            if "://" in target or target.startswith("#"):
                continue
            path = (document.parent / target.split("#")[0]).resolve()
            assert path.is_file(), f"{document.name} links to missing {target}"


def test_make_targets_named_in_the_docs_exist(project: Path) -> None:
    makefile = (project / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    for document in documents(project):
        named = set(MAKE_TARGET.findall(code_in(document.read_text())))
        assert named <= targets, f"{document.name} names {named - targets}"


def test_the_checks_find_what_they_look_for() -> None:
    """The helpers above see code, links and targets, so their passes mean something."""
    text = "Run `make migrate`, make sure.\n\n```sh\nmake test\n```\n[x](docs/a.md)"
    assert set(MAKE_TARGET.findall(code_in(text))) == {"migrate", "test"}
    assert LINK.findall(text) == ["docs/a.md"]
