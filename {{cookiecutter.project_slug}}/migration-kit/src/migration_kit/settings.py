"""The project's settings: the ``[migration_kit]`` section of alembic.ini.

Every command and the harness read them from the alembic.ini of the project
they run in (the nearest one at or above the working directory), so a
project's settings live in one file beside Alembic's own.
"""

from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.util import CommandError

SECTION = "migration_kit"
DEFAULTS = {
    # The database the project deploys to: sqlite, postgresql or mysql.
    "database": "sqlite",
    "default_url": "sqlite:///migrations.sqlite3",
    "lock_name": "migrations",
    "not_ours": "",
    # The Python the harness runs the revisions in, when they import an
    # application that only imports there (docs/adopting.md): .venv-app/bin/python.
    "revisions_python": "",
    # The harness's data checks to leave out, and crash-rerun's stops per
    # revision (harness/data_checks.py).
    "skip_checks": "",
    "crash_stops": "8",
    # Where make migrate-tenants finds the tenants (rollout.py).
    "tenants": "",
}


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: here) with alembic.ini."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "alembic.ini").is_file():
            return folder
    raise CommandError(
        f"no alembic.ini in {here} or above it: run this from the project's folder."
    )


def alembic_config() -> Config:
    """The project's alembic.ini, with logging left to the caller."""
    config = Config(project_root() / "alembic.ini")
    config.attributes["configure_logger"] = False
    return config


@cache
def _section(path: str) -> dict[str, str]:
    return {**DEFAULTS, **Config(path).get_section(SECTION, {})}


def setting(name: str, config: Config | None = None) -> str:
    """The value of ``name`` in ``config``'s file (default: the project's)."""
    path = config.config_file_name if config else None
    return _section(str(path or project_root() / "alembic.ini"))[name].strip()


def not_ours(config: Config | None = None) -> frozenset[str]:
    """Tables in the database that these migrations do not own."""
    return frozenset(setting("not_ours", config).split())
