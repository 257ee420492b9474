"""Bad answers stop generation with one ERROR line; the hooks' own logic."""

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from cookiecutter.environment import StrictEnvironment
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from .baking import TEMPLATE, run


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_slug": "my project!"}, "project_slug 'my project!' is not a valid"),
        ({"project_slug": "2fast"}, "project_slug '2fast' is not a valid"),
        ({"package_name": "class"}, "package_name 'class' is a Python keyword"),
        ({"package_name": "match"}, "package_name 'match' is a Python keyword"),
        ({"package_name": "json"}, "package_name 'json' would shadow"),
        ({"package_name": "alembic"}, "package_name 'alembic' would shadow"),
        (
            {"package_name": "my-pkg"},
            "package_name 'my-pkg' is not a Python identifier",
        ),
        ({"package_name": "x" * 41}, "package_name is 41 characters long"),
    ],
)
def test_bad_answers_stop_generation_with_one_error_line(
    tmp_path: Path, capfd, answers: dict[str, str], message: str
) -> None:
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context=answers, output_dir=tmp_path
        )

    assert not any(tmp_path.iterdir()), "output folder left behind"
    errors = [line for line in capfd.readouterr().err.splitlines() if "ERROR:" in line]
    assert len(errors) == 1 and message in errors[0], errors


def test_the_cookiecutter_command_shows_the_error_line(tmp_path: Path) -> None:
    """What a user sees: ours is the one ERROR line on stderr, and no folder."""
    command = [sys.executable, "-m", "cookiecutter", "--no-input", str(TEMPLATE)]
    result = subprocess.run(
        [*command, "--output-dir", str(tmp_path), "package_name=class"],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "ERROR:" in line]
    assert errors == [
        "ERROR: package_name 'class' is a Python keyword: "
        "choose another, e.g. 'class_db'."
    ]
    assert not any(tmp_path.iterdir()), "output folder left behind"


def render_source(name: str, context: dict[str, object]) -> str:
    """A hook's code as cookiecutter renders it before running it."""
    environment = StrictEnvironment(
        context={"cookiecutter": context}, keep_trailing_newline=True
    )
    source = (TEMPLATE / "hooks" / name).read_text()
    return environment.from_string(source).render(cookiecutter=context)


def render_hook(name: str, context: dict[str, object]) -> ModuleType:
    """Render a hook and import it without running its main block."""
    code = render_source(name, context)
    spec = importlib.util.spec_from_loader(name.removesuffix(".py"), loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(code, name, "exec"), module.__dict__)
    return module


def test_pre_gen_accepts_good_answers() -> None:
    hook = render_hook("pre_gen_project.py", {"project_slug": "a", "package_name": "a"})
    assert hook.errors({"project_slug": "team-db2", "package_name": "team_db2"}) == []


def test_post_gen_removes_only_unselected_files_and_is_idempotent(
    tmp_path: Path,
) -> None:
    hook = render_hook(
        "post_gen_project.py",
        {"include_sample_revisions": True, "include_docker": True, "ci": "github"},
    )
    for path in [
        "migrations/versions/2026-a_sample_x.py",
        "migrations/versions/2026-b_mine.py",
        "tests/test_sample_teams.py",
        "docker-compose.yml",
        ".github/workflows/ci.yml",
    ]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    options = {"include_sample_revisions": "no", "include_docker": False, "ci": "none"}

    hook.remove(tmp_path, hook.unwanted(options))
    after_once = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    hook.remove(tmp_path, hook.unwanted(options))
    after_twice = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    assert after_once == after_twice
    assert Path("migrations/versions/2026-b_mine.py") in after_once
    for gone in ["docker-compose.yml", ".github", "tests/test_sample_teams.py"]:
        assert Path(gone) not in after_once


@pytest.mark.parametrize("name", ["pre_gen_project.py", "post_gen_project.py"])
def test_rendered_hooks_are_ruff_clean(tmp_path: Path, name: str) -> None:
    """The hooks are Jinja templates, so ruff can only check them once rendered."""
    context = {
        "project_slug": 'a"b\\c',
        "package_name": "pkg",
        "include_sample_revisions": True,
        "include_docker": False,
        "ci": "none",
    }
    (tmp_path / name).write_text(render_source(name, context))
    (tmp_path / "pyproject.toml").write_text((TEMPLATE / "pyproject.toml").read_text())
    ruff = [sys.executable, "-m", "ruff"]
    run([*ruff, "check", "--no-cache", name], cwd=tmp_path)
    run([*ruff, "format", "--check", "--no-cache", name], cwd=tmp_path)
