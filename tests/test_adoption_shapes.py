"""docs/adopting.md step 3, followed as written, on applications of two shapes.

One reads its settings when imported (and a revision imports it), one makes
its tables by a call; the history makes a table its framework owns, which the
models do not define, left out by ``not_ours``. The bake's own models become
the application's: the migrations stay the sample's.
"""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .baking import GENERIC, MODELS, unchecked
from .production import HEAD

PACKAGE = "team_migrations"
APP = f"{PACKAGE}.application"
# The application's settings module: it cannot be imported without its key.
CONFIG = """import os

if "APP_SECRET_KEY" not in os.environ:
    raise RuntimeError("APP_SECRET_KEY is not set")
"""
# Its tables, made by a call on the MetaData it is given.
STORAGE = """from . import models


def define_tables(metadata):
    for table in models.Base.metadata.sorted_tables:
        table.to_metadata(metadata)
"""
# A revision of its history: it imports the application, and makes a table
# that the application's framework defines elsewhere.
REVISION = f'''"""Add the framework's users."""

import sqlalchemy as sa
from alembic import op

from {APP} import config  # noqa: F401

revision = "f00dbad00016"
down_revision = "{HEAD}"


def upgrade() -> None:
    op.create_table("ab_user", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("ab_user")
'''


@pytest.fixture
def application(project: Path) -> Iterator[Path]:
    """The bake's models moved into an application package; restored after."""
    source = project / "src" / PACKAGE
    models, conftest, ini = (
        source / "models.py",
        project / "tests/conftest.py",
        project / "alembic.ini",
    )
    kept = {path: path.read_text() for path in (models, conftest, ini)}
    app = source / "application"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "config.py").write_text(CONFIG)
    (app / "models.py").write_text(
        f"from . import config  # noqa: F401\n{kept[models]}"
    )
    (app / "storage.py").write_text(STORAGE)
    revision = project / "migrations/versions/2099_01_01_0000-f00dbad00016_users.py"
    revision.write_text(REVISION)
    try:
        yield project
    finally:
        revision.unlink()
        shutil.rmtree(app)
        for path, text in kept.items():
            path.write_text(text)


def example(project: Path, marker: str) -> str:
    """The python block of docs/adopting.md that holds ``marker``, for this app."""
    guide = (project / "docs/adopting.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, re.DOTALL)
    [block] = [block for block in blocks if marker in block]
    return block.replace("<app>", APP)


def follow_step_3(project: Path, models: str) -> None:
    (project / "src" / PACKAGE / "models.py").write_text(models)
    conftest = project / "tests/conftest.py"
    first = example(project, "the application's settings first")
    conftest.write_text(first + conftest.read_text())
    [not_ours] = re.findall(r"^not_ours = .*$", docs_of(project), re.MULTILINE)
    ini = project / "alembic.ini"
    ini.write_text(re.sub(r"^not_ours =.*$", not_ours, ini.read_text(), flags=re.M))


# What these tests are about happens before any database: SQLite is enough.
SQLITE_ONLY = {
    "TEST_POSTGRES": "off",
    "TEST_POSTGRES_URL": "",
    "TEST_MYSQL_URL": "",
    "REQUIRE_TEST_BACKENDS": "",
    "MIGRATION_DEPLOY_BACKEND_OPTIONAL": "1",
}


def docs_of(project: Path) -> str:
    return (project / "docs/adopting.md").read_text()


def test_an_application_that_reads_settings_at_import(application: Path) -> None:
    follow_step_3(application, example(application, "os.environ.setdefault"))

    result = unchecked([".venv/bin/pytest", "-v", GENERIC], application, SQLITE_ONLY)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_stairway[sqlite-f00dbad00016] PASSED" in result.stdout, result.stdout


def test_an_application_that_makes_its_tables_by_a_call(application: Path) -> None:
    settings = example(application, "os.environ.setdefault")
    by_a_call = example(application, "define_tables(Base.metadata)")
    # The same application: its settings first, then its tables by the call.
    preamble = settings.split("import <app>")[0].split(f"import {APP}")[0]
    follow_step_3(application, f"{preamble}\n{by_a_call}".replace("\n\n\n\n", "\n\n"))

    result = unchecked([".venv/bin/pytest", MODELS], application, SQLITE_ONLY)

    assert result.returncode == 0, result.stdout + result.stderr


def test_without_not_ours_the_models_test_names_the_framework_table(
    application: Path,
) -> None:
    follow_step_3(application, example(application, "os.environ.setdefault"))
    ini = application / "alembic.ini"
    ini.write_text(re.sub(r"^not_ours =.*$", "not_ours =", ini.read_text(), flags=re.M))

    result = unchecked([".venv/bin/pytest", MODELS], application, SQLITE_ONLY)

    assert result.returncode == 1, result.stdout
    assert "ab_user" in result.stdout
