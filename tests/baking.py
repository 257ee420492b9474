"""Bake the template the way users do, and run what it generates."""

import os
import subprocess
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure, the assertion shows its whole output."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
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
