"""pytest-alembic's built-in tests pass on a default bake, set up as its docs say.

The test follows the generated docs/testing.md, "pytest-alembic's tests too",
word for word: the requirement it names goes into the test extra, the file it
shows goes into tests/, and `make install` and `make lint` run as a user would.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

from .baking import bake, passed_tests, run

BUILT_IN_TESTS = (
    "test_single_head_revision",
    "test_upgrade",
    "test_model_definitions_match_ddl",
    "test_up_down_consistency",
)
POSITION = "    position: Mapped[str | None] = mapped_column(Unicode(200))\n"
RATING = "    rating: Mapped[int | None]\n"


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    """A default bake with exactly what docs/testing.md says to add."""
    project = bake(cookies_session)
    requirement, path, code = documented_steps(project / "docs" / "testing.md")
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert "test = [\n" in text
    pyproject.write_text(
        text.replace("test = [\n", f"test = [\n    {requirement},\n", 1)
    )
    (project / path).write_text(code)
    run(["make", "install"], cwd=project)
    return project


def documented_steps(guide: Path) -> tuple[str, str, str]:
    """The requirement, and the file's path and code (its block's title).

    Found by what they are, not by the heading above them, so the section can
    be renamed.
    """
    text = guide.read_text()
    requirement = re.search(r'`("pytest-alembic>=[0-9.]+")`', text).group(1)
    path, code = re.search(
        r'```python title="(tests/test_pytest_alembic\.py)"\n(.*?)```', text, re.DOTALL
    ).groups()
    return requirement, path, code


def test_the_added_file_passes_the_project_linters(project: Path) -> None:
    run(["make", "lint"], cwd=project)


def test_built_in_tests_pass_on_every_backend(project: Path) -> None:
    backends = ["sqlite", "postgresql"]
    if os.environ.get("TEST_MYSQL_URL"):
        backends.append("mysql")
    # Without TEST_POSTGRES_URL the harness starts its embedded PostgreSQL.
    result = run(
        [".venv/bin/pytest", "-v", "tests/test_pytest_alembic.py"],
        cwd=project,
        env={"REQUIRE_TEST_BACKENDS": ",".join(backends[1:])},
    )
    passed = set(passed_tests(result.stdout))
    expected = {f"{test}[{backend}]" for test in BUILT_IN_TESTS for backend in backends}
    assert passed >= expected, result.stdout
    assert " failed" not in result.stdout.splitlines()[-1], result.stdout


def test_its_own_failures_reach_it_unchanged(project: Path) -> None:
    """A model ahead of the migrations fails its test with its own message."""
    models = next(project.glob("src/*/models.py"))
    baked = models.read_text()
    assert POSITION in baked
    models.write_text(baked.replace(POSITION, POSITION + RATING))
    try:
        result = subprocess.run(
            [
                ".venv/bin/pytest",
                "tests/test_pytest_alembic.py",
                "-k",
                "ddl and sqlite",
            ],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        models.write_text(baked)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "AlembicTestFailure: The models describing the DDL" in result.stdout
    assert "add_column(sa.Column('rating'" in result.stdout
    assert "rolled back" not in result.stdout
