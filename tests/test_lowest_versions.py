"""A baked project passes its suite with the lowest versions it declares.

uv installs every direct dependency at its lower bound in pyproject.toml
(``--resolution lowest-direct``), so a floor set too low fails here, in CI,
rather than on a user's machine.
"""

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from .baking import UV, bake, run
from .production import harness_on_async_urls

EXTRAS = "test,postgresql,mysql,async"
KIT_EXTRAS = "harness"


def floors(project: Path) -> dict[str, Version]:
    """Each direct dependency's lower bound, as the project's pyproject.toml
    and migration-kit's declare them (the kit itself ships in the project)."""
    requirements = declared(project, EXTRAS) + declared(
        project / "migration-kit", KIT_EXTRAS
    )
    bounds = {}
    for requirement in map(Requirement, requirements):
        if requirement.name == "migration-kit":
            continue
        [bound] = [s.version for s in requirement.specifier if s.operator == ">="]
        bounds[requirement.name.lower()] = Version(bound)
    return bounds


def declared(folder: Path, extras: str) -> list[str]:
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"]]
    for extra in extras.split(","):
        requirements += project["optional-dependencies"][extra]
    return requirements


def installed(project: Path, names: list[str]) -> dict[str, Version]:
    script = (
        "import sys, importlib.metadata as m\n"
        "for name in sys.argv[1:]: print(name, m.version(name))"
    )
    output = run([".venv/bin/python", "-c", script, *names], cwd=project).stdout
    pairs = (line.split() for line in output.splitlines())
    return {name: Version(version) for name, version in pairs}


def test_suite_passes_at_the_lowest_declared_versions(cookies_session) -> None:
    project = bake(cookies_session, project_name="Lowest Versions")
    run([UV, "venv", "--quiet", "--python", sys.executable, ".venv"], cwd=project)
    install = [UV, "pip", "install", "--quiet", "--python", ".venv/bin/python"]
    run(
        [*install, "--resolution", "lowest-direct"]
        + ["-e", f"./migration-kit[{KIT_EXTRAS}]", "-e", f".[{EXTRAS}]"],
        cwd=project,
    )
    bounds = floors(project)
    # Every one at its floor, but psycopg: where its floor has no binary wheel
    # for this Python, the installer takes the first release that has one.
    exact = {name: bound for name, bound in bounds.items() if name != "psycopg"}
    assert installed(project, list(exact)) == exact
    # Writing a revision runs alembic.ini's post-write hooks, which the suite
    # does not; make test then lints and migrates the new revision too.
    run(["make", "revision", "m=at the floor", "tables=players teams"], cwd=project)
    assert list(project.glob("migrations/versions/*_at_the_floor.py"))
    run(["make", "test"], cwd=project)
    harness_on_async_urls(project)
