import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .baking import bake
from .baking import install as install_project
from .production import installed_project

# `make test` runs this suite. The bakes' make commands must run as a user's
# do, not as sub-makes of it, which print "Entering directory" lines.
for variable in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):
    os.environ.pop(variable, None)


@pytest.fixture(scope="session")
def install(cookies_session) -> Callable[..., Path]:
    """Bake and install a project once per run, by name; reused after."""
    projects: dict[str, Path] = {}

    def installed(name: str, **answers: object) -> Path:
        if name not in projects:
            projects[name] = bake(cookies_session, **answers)
            install_project(projects[name])
        return projects[name]

    return installed


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    """The default project, installed once for the session; a module that needs
    another project defines its own ``project``."""
    return installed_project(cookies_session)


@pytest.fixture
def temporary() -> Iterator[Path]:
    """A short TMPDIR: a unix socket's path may not exceed about 100 bytes."""
    with tempfile.TemporaryDirectory(prefix="emb-") as directory:
        yield Path(directory)
