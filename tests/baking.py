"""Bake the template the way users do, and run what it generates."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
# git as on a fresh machine: no user or system config (signing, hooks, aliases).
GIT = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Template Test",
    "GIT_AUTHOR_EMAIL": "template-test@example.invalid",
    "GIT_COMMITTER_NAME": "Template Test",
    "GIT_COMMITTER_EMAIL": "template-test@example.invalid",
}
# The generic tests a bake brings in through tests/test_migrations.py, by node.
GENERIC = "tests/test_migrations.py"
STAIRWAY = (f"{GENERIC}::test_stairway", f"{GENERIC}::test_downgrade_leaves_no_trace")
WHOLE_HISTORY = f"{GENERIC}::test_upgrade_to_head_and_downgrade_to_base"
OFFLINE = f"{GENERIC}::test_revision_renders_as_sql"
MODELS = f"{GENERIC}::test_models_match_migrations_at_head"
HISTORY = (
    f"{GENERIC}::test_history_has_one_head",
    f"{GENERIC}::test_irreversible_revisions_say_why",
)


def unchecked(
    command: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, whatever its exit code, with ``env`` added."""
    return subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure, the assertion shows its whole output."""
    result = unchecked(command, cwd, env)
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode} in {cwd}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


def bake(cookies, **answers: object) -> Path:
    """Bake with these answers and return the project folder; fail loudly."""
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Path(result.project_path)


UV = str(Path(sys.executable).with_name("uv"))
PIP_INSTALL = " -m pip install "


def install(project: Path) -> None:
    """What `make install` does, through uv: 5 s where pip takes 24, paid by
    every bake of a run (a quarter of CI's time went there).

    The packages are the recipe's own, read from `make -n install`; the
    tests of a new user's path (test_textbook_change.py, a pytest-alembic
    user's) run `make install` itself.
    """
    recipe = run(["make", "-n", "install"], cwd=project).stdout.splitlines()
    [packages] = [
        line.split(PIP_INSTALL, 1)[1]
        for line in recipe
        if PIP_INSTALL in line and " -e " in line
    ]
    venv = [UV, "venv", "--quiet", "--seed", "--python", sys.executable, ".venv"]
    run(venv, cwd=project)
    # Compiled as pip does: this sandbox writes no bytecode at import
    # (PYTHONDONTWRITEBYTECODE), so every command of the bake would compile
    # SQLAlchemy and Alembic again, 1.2 s each.
    pip = [UV, "pip", "install", "--compile-bytecode", "--python", ".venv/bin/python"]
    run([*pip, *shlex.split(packages)], cwd=project)


def passed_tests(output: str) -> list[str]:
    """The tests a ``pytest -v`` run passed, by name and parameters, whether it
    ran in one process (``file::test[sqlite] PASSED``) or on pytest-xdist's
    workers, which a run of several backends starts (``PASSED file::test[sqlite]``)."""
    return [
        one or other
        for one, other in re.findall(r"::(\S+) PASSED|\] PASSED \S+::(\S+)", output)
    ]
