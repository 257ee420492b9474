"""`make check` and the harness's models-match test agree, and read well.

Both configure Alembic from comparison.py through env.py: a model ahead of the
migrations fails both, and a table named in alembic.ini's not_ours is left out
of both. The test says which side to fix, then prints the operations
autogenerate would write, one per line.
"""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .baking import MODELS, run

POSITION = "    position: Mapped[str | None] = mapped_column(Unicode(200))\n"
RATING = "    rating: Mapped[int | None]\n"
NOT_OURS = "\nnot_ours =\n"
ADD_RATING = (
    "op.add_column('players', sa.Column('rating', sa.Integer(), nullable=True))"
)


@pytest.fixture
def project(install) -> Iterator[Path]:
    """The default project with a rating in the models that no revision adds."""
    project = install("default")
    models = next(project.glob("src/*/models.py"))
    settings = project / "alembic.ini"
    baked = {path: path.read_text() for path in (models, settings)}
    assert POSITION in baked[models] and NOT_OURS in baked[settings]
    models.write_text(baked[models].replace(POSITION, POSITION + RATING))
    yield project
    for path, text in baked.items():
        path.write_text(text)
    (project / "check.sqlite3").unlink(missing_ok=True)


def models_test(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [".venv/bin/pytest", MODELS, "-k", "sqlite"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def make_check(project: Path) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": f"sqlite:///{project / 'check.sqlite3'}"}
    run(["make", "migrate"], cwd=project, env=env)
    return subprocess.run(
        ["make", "check"],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_model_ahead_of_the_migrations_fails_both(project: Path) -> None:
    test = models_test(project)
    assert test.returncode == 1, test.stdout
    lines = [
        line.strip().removeprefix("E").strip() for line in test.stdout.splitlines()
    ]
    assert ADD_RATING in lines, test.stdout

    check = make_check(project)
    output = check.stdout + check.stderr
    assert check.returncode != 0, output
    assert "FAILED: New upgrade operations detected" in output
    assert "'rating'" in output


def test_a_model_ahead_calls_for_a_revision(project: Path) -> None:
    output = models_test(project).stdout
    assert (
        "models.py has column players.rating, which the migrations lack: "
        'write a revision (make autorevision m="...").'
    ) in output
    assert "add them to models.py" not in output


def test_models_behind_the_migrations_call_for_models_py_not_a_drop(
    project: Path,
) -> None:
    models = next(project.glob("src/*/models.py"))
    models.write_text(models.read_text().replace(POSITION + RATING, ""))
    test = models_test(project)
    assert test.returncode == 1, test.stdout
    advice = next(line for line in test.stdout.splitlines() if "py lacks" in line)
    assert "The migrations create column players.position, which models.py" in advice
    assert "add them to models.py (the likely fix)" in advice
    assert "alembic.ini's not_ours" in advice
    # The drop is shown only as what autogenerate would write, said so.
    assert "(it drops what models.py lacks, data included):" in test.stdout


def test_a_table_that_is_not_ours_is_left_out_of_both(project: Path) -> None:
    settings = project / "alembic.ini"
    settings.write_text(
        settings.read_text().replace(NOT_OURS, "\nnot_ours = players\n")
    )
    test = models_test(project)
    assert test.returncode == 0, test.stdout

    check = make_check(project)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
