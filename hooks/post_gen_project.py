"""Remove the optional files the answers did not ask for.

Only deletes; never creates, runs git or touches the network, so running it
twice leaves the same tree.
"""

import json
import shutil
import sys
from pathlib import Path

SAMPLE_REVISIONS = ["migrations/versions/*_sample_*.py", "tests/test_sample_*.py"]
DOCKER = ["docker-compose.yml"]
GITHUB = [".github"]


def as_bool(value: object) -> bool:
    """A yes/no answer: a boolean, or text such as "no" given on the command line."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "on"}
    return bool(value)


def unwanted(options: dict[str, object]) -> list[str]:
    """Glob patterns, relative to the project, of files to delete."""
    patterns: list[str] = []
    if not as_bool(options["include_sample_revisions"]):
        patterns.extend(SAMPLE_REVISIONS)
    if not as_bool(options["include_docker"]):
        patterns.extend(DOCKER)
    if options["ci"] != "github":
        patterns.extend(GITHUB)
    return patterns


def remove(project: Path, patterns: list[str]) -> None:
    for pattern in patterns:
        for path in project.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


if __name__ == "__main__":
    # Cookiecutter renders this file first; tojson twice gives a Python string
    # literal holding JSON, whatever characters the answers contain.
    ANSWERS = json.loads({{ {
        "include_sample_revisions": cookiecutter.include_sample_revisions,
        "include_docker": cookiecutter.include_docker,
        "ci": cookiecutter.ci,
    }|tojson|tojson }})  # noqa: E501  # fmt: skip
    remove(Path.cwd(), unwanted(ANSWERS))
    sys.exit(0)
