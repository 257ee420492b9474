"""Adopt a real published Alembic history into a baked project, reproducibly.

    .venv/bin/python bench/adoption/adopt.py mlflow [--into build/adoption] [--naive]

Downloads the application's wheel from PyPI (pip download --no-deps), bakes
the template without sample revisions, and follows the generated README's
section "Adopting an existing project" step by step, editing exactly the
files it names. Each step and each file edited is printed, and written to
ADOPTION.md in the project. The project is then ready for
`make test-migrations` (README.md beside this file).

--naive stops before step 6: the revisions copied in, nothing declared (no
irreversible, online_only or seed_rows), as a first try by a new user; the
project is <history>-naive-migrations.
"""

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class History:
    distribution: str  # what pip installs: name==version
    versions: str  # the revisions' folder inside the wheel
    models: str  # models.py, README step 3
    # Python run in the project's venv with a database URL in sys.argv[1]:
    # the tables before the first revision (README step 5), or None.
    before_first_revision: str | None = None
    # README step 6: a seed_rows hook per revision id, for the rules its data
    # step relies on that the schema does not state.
    seed_rows: dict[str, str] = field(default_factory=dict)
    # The application pins SQLAlchemy 1.4: it goes in a venv of its own
    # (docs/adopting.md, "An application pinned to SQLAlchemy 1.4").
    own_venv: bool = False
    # Installed beside the application: in its own venv, where its own pins
    # resolve to releases it breaks on; else in the project's dependencies,
    # where the revisions need what only an extra of it installs.
    pins: tuple[str, ...] = ()
    # The application reads its settings when imported, and its revisions
    # import it: tests/conftest.py imports models.py (which sets them) before
    # the harness reads a revision (README step 3).
    settings_at_import: bool = False
    # README step 3: tables the history makes that the application's models
    # leave to another package (alembic.ini's not_ours, space-separated).
    not_ours: str = ""


HISTORIES = {
    "mlflow": History(
        distribution="mlflow-skinny==3.17.2",
        versions="mlflow/store/db_migrations/versions",
        models='''"""mlflow's models: the schema at the latest revision."""

import mlflow.store.model_registry.dbmodels.models  # noqa: F401  (tables on Base)
import mlflow.store.tracking.dbmodels.models  # noqa: F401  (tables on Base)
import mlflow.store.workspace.dbmodels.models  # noqa: F401  (tables on Base)
from mlflow.store.db.base_sql_model import Base  # noqa: F401
''',
        # mlflow makes these tables itself (InitialBase.metadata.create_all)
        # before it runs its first revision, 451aebb31d03.
        before_first_revision=(
            "import sys, sqlalchemy as sa\n"
            "from mlflow.store.tracking.dbmodels.initial_models import Base\n"
            "Base.metadata.create_all(sa.create_engine(sys.argv[1]))\n"
        ),
        # The revisions a first seeded run names with an upgrade or downgrade
        # that raises on rows mlflow itself never writes.
        seed_rows={
            "90e64c465722": '''def seed_rows(rows):
    """mlflow: every run belongs to an experiment (runs.experiment_id is set)."""
    experiments = [row["experiment_id"] for row in rows["experiments"]]
    runs = [
        {**run, "experiment_id": experiments[n % len(experiments)]}
        for n, run in enumerate(rows["runs"])
    ]
    return {"runs": runs}
''',
            "1b5f0d9ad7c1": '''def seed_rows(rows):
    """mlflow: every endpoint has a name of its own."""
    endpoints = enumerate(rows["endpoints"])
    return {"endpoints": [{**row, "name": f"endpoint {n}"} for n, row in endpoints]}
''',
            "75868b020152": '''def seed_rows(rows):
    """mlflow: spans.dimension_attributes holds mlflow's own JSON, or NULL."""
    spans = [{**span, "dimension_attributes": None} for span in rows["spans"]]
    return {"spans": spans}
''',
        },
    ),
    "dagster": History(
        distribution="dagster==1.13.29",
        versions="dagster/_core/storage/alembic/versions",
        models='''"""dagster's models: the schema at the latest revision."""

from dagster._core.storage.event_log.schema import SqlEventLogStorageMetadata
from dagster._core.storage.runs.schema import RunStorageSqlMetadata
from dagster._core.storage.schedules.schema import ScheduleStorageSqlMetadata
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData()


for metadata in (
    SqlEventLogStorageMetadata,
    RunStorageSqlMetadata,
    ScheduleStorageSqlMetadata,
):
    for table in metadata.sorted_tables:
        table.to_metadata(Base.metadata)
''',
    ),
    "optuna": History(
        distribution="optuna==5.1.0",
        versions="optuna/storages/_rdb/alembic/versions",
        models='''"""optuna's models: the schema at the latest revision."""

from optuna.storages._rdb.models import BaseModel as Base  # noqa: F401
''',
        # SQLite holds optuna's enums as text, and its distributions as JSON
        # in a Text column: a first seeded run names these two revisions.
        seed_rows={
            "v2.4.0.a": '''def seed_rows(rows):
    """optuna: a study's direction is a StudyDirection; a value is a number
    reported at a step of its trial."""
    directions = ["MINIMIZE", "MAXIMIZE"]
    studies = [
        {**study, "direction": directions[n % 2]}
        for n, study in enumerate(rows["studies"])
    ]
    trials = [row["trial_id"] for row in rows["trials"]]
    values = [
        {**value, "trial_id": trials[n % len(trials)], "step": n, "value": n / 2}
        for n, value in enumerate(rows["trial_values"])
    ]
    return {"studies": studies, "trial_values": values}
''',
            "v3.0.0.a": '''def seed_rows(rows):
    """optuna: distribution_json is a distribution optuna 2 wrote."""
    uniform = '{"name": "UniformDistribution", "attributes": {"low": 0.0, "high": 1.0}}'
    params = [
        {**param, "distribution_json": uniform, "param_value": 0.5}
        for param in rows["trial_params"]
    ]
    return {"trial_params": params}
''',
        },
    ),
    "meltano": History(
        distribution="meltano==4.4.1",
        versions="meltano/migrations/versions",
        models='''"""Meltano's models: the schema at the latest revision."""

import meltano.core.job.job  # noqa: F401  (tables on SystemModel.metadata)
import meltano.core.job_state  # noqa: F401
import meltano.core.setting  # noqa: F401
from meltano.core.models import SystemModel as Base  # noqa: F401
''',
    ),
    "ihatemoney": History(
        distribution="ihatemoney==7.2.1",
        versions="ihatemoney/migrations/versions",
        models='''"""ihatemoney's models: the schema at the latest revision."""

import sqlalchemy as sa
from ihatemoney.models import db

# SQLAlchemy-Continuum adds the *_version and transaction tables when the
# mappers are configured, as the application does at startup.
sa.orm.configure_mappers()

Base = db.Model
''',
    ),
    "zenml": History(
        distribution="zenml==0.98.0",
        versions="zenml/zen_stores/migrations/versions",
        models='''"""ZenML's models: the schema at the latest revision."""

import zenml.zen_stores.schemas  # noqa: F401  (tables on SQLModel.metadata)
from sqlmodel import SQLModel as Base  # noqa: F401
''',
        # zenml[local] pins alembic<=1.15.2, below this project's 1.16.3: its
        # other packages by hand instead (their pins, from zenml's metadata).
        pins=("sqlmodel==0.0.38", "sqlalchemy-utils", "passlib[bcrypt]"),
    ),
    "superset": History(
        distribution="apache-superset==6.1.0",
        versions="superset/migrations/versions",
        models='''"""Superset's models: the schema at the latest revision."""

import os
import tempfile

from sqlalchemy.engine import make_url

# Superset reads these when imported; migrations use none of them.
os.environ.setdefault("SUPERSET_SECRET_KEY", "only-for-migrations")
os.environ.setdefault("SUPERSET_HOME", tempfile.mkdtemp(prefix="superset-home-"))
# Some revisions read the schema through Superset's own engine (db.engine),
# not Alembic's connection: it must be the database being migrated. Under
# --sql (a URL that names no database) Superset gets a scratch SQLite one.
url = os.environ.get("DATABASE_URL", "sqlite:///superset_migrations.sqlite3")
if make_url(url).database is None:
    url = "sqlite://"
os.environ.setdefault("SUPERSET__SQLALCHEMY_DATABASE_URI", url)

from flask_appbuilder import Model  # noqa: E402
from superset.app import create_app  # noqa: E402

# Superset defines its models once its app exists (encrypted columns need it),
# and its revisions use its db inside an app context.
create_app().app_context().push()

import superset.connectors.sqla.models  # noqa: E402, F401
import superset.models.core  # noqa: E402, F401
import superset.models.dashboard  # noqa: E402, F401
import superset.models.slice  # noqa: E402, F401

Base = Model
''',
        # Flask-AppBuilder's tables (ab_user, ...), which create_app() makes
        # before the first revision runs (its init refers to ab_user). Run in
        # .venv-app; an absolute SQLite path, as Flask-SQLAlchemy resolves a
        # relative one against the app's instance folder.
        before_first_revision=(
            "import os, sys; "
            "path = os.path.abspath(sys.argv[1].removeprefix('sqlite:///')); "
            "os.environ['DATABASE_URL'] = 'sqlite:///' + path; "
            "import superset_migrations.models"
        ),
        own_venv=True,
        # flask-caching 2.4+ passes ignore_delete_many_errors, which 6.1's
        # SupersetMetastoreCache refuses (create_app fails); the `superset`
        # CLI imports rich, which the wheel does not require; the drivers
        # are Superset's own (its postgres and mysql extras).
        pins=("flask-caching<2.4", "rich", "psycopg2-binary", "mysqlclient"),
    ),
    "airflow": History(
        distribution="apache-airflow-core==3.3.2",
        versions="airflow/migrations/versions",
        models='''"""Airflow's models: the schema at the latest revision."""

import os
from pathlib import Path

# airflow.configuration reads AIRFLOW_HOME when imported (~/airflow unless
# set) and makes its logs folder there; migrations use none of it. Airflow's
# own engine is a SQLite file there, never opened: the revisions use Alembic's.
# One folder in the project, not one per process.
home = Path(__file__).resolve().parents[2] / ".airflow-home"
os.environ.setdefault("AIRFLOW_HOME", str(home))

from airflow import models  # noqa: E402
from airflow.models.base import Base  # noqa: E402, F401

# Airflow defines its tables on Base by importing every model module, as
# its own env.py does before it runs a revision.
models.import_all_models()
''',
        settings_at_import=True,
        # Flask-AppBuilder's tables, which Airflow 3's FAB provider now
        # defines (the squashed first revision still makes them), and
        # _xcom_archive, where eed27faa34e3 keeps the pickled XComs it removes.
        not_ours=(
            "ab_permission ab_permission_view ab_permission_view_role "
            "ab_register_user ab_role ab_user ab_user_role ab_view_menu "
            "_xcom_archive"
        ),
    ),
}


class Adoption:
    """The README's steps on one project, each logged with the files it edits."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.log: list[str] = []

    def step(self, text: str) -> None:
        print(f"== {text}", flush=True)
        self.log.append(f"- {text}")

    def edited(self, relative: str, how: str) -> None:
        print(f"   edited {relative}: {how}", flush=True)
        self.log.append(f"  - edited `{relative}`: {how}")

    def run(
        self, *command: str, env: dict[str, str] | None = None, shown: str = ""
    ) -> str:
        shown = shown or " ".join(command)
        print(f"   $ {shown}", flush=True)
        self.log.append(f"  - ran `{shown}`")
        result = subprocess.run(
            command,
            cwd=self.project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            sys.exit(
                f"ERROR: {' '.join(command)} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def replace(self, relative: str, old: str, new: str, how: str) -> None:
        path = self.project / relative
        text = path.read_text()
        if old not in text:
            sys.exit(
                f"ERROR: {relative} has no {old!r}: the README step no longer fits"
            )
        path.write_text(text.replace(old, new, 1))
        self.edited(relative, how)


def download(history: History, cache: Path) -> Path:
    """The wheel, from PyPI, once."""
    cache.mkdir(parents=True, exist_ok=True)
    name = history.distribution.split("==")[0].replace("-", "_")
    version = history.distribution.split("==")[1]
    found = list(cache.glob(f"{name}-{version}-*.whl"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--dest",
                str(cache),
                history.distribution,
            ],
            check=True,
        )
        found = list(cache.glob(f"{name}-{version}-*.whl"))
    return found[0]


def revisions_from(wheel: Path, folder: str, into: Path) -> int:
    """Unzip the revision files of ``folder`` into ``into``; how many."""
    into.mkdir(parents=True)
    count = 0
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            path = Path(member)
            wanted = path.parent.as_posix() == folder and path.suffix == ".py"
            if wanted and path.name != "__init__.py":
                (into / path.name).write_bytes(archive.read(member))
                count += 1
    return count


def adopt(name: str, into: Path, naive: bool = False) -> Path:
    history = HISTORIES[name]
    wheel = download(history, into / "wheels")
    title = f"{name} naive migrations" if naive else f"{name} migrations"
    slug = title.replace(" ", "-")
    shutil.rmtree(into / slug, ignore_errors=True)
    project = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            output_dir=str(into),
            extra_context={
                "project_name": title,
                "include_sample_revisions": False,
                "include_docker": False,
                "ci": "none",
            },
        )
    )
    package = slug.replace("-", "_")
    work = Adoption(project)
    work.step(f"baked the template into {project} without the sample revisions")

    work.step("1. revisions: copied into migrations/versions/legacy")
    count = revisions_from(
        wheel, history.versions, project / "migrations/versions/legacy"
    )
    work.log.append(f"  - {count} revision files from {wheel.name}:{history.versions}")
    work.replace(
        "alembic.ini",
        "[alembic]\n",
        "[alembic]\nrecursive_version_locations = true\n",
        "recursive_version_locations = true under [alembic]",
    )

    if history.own_venv:
        application_venv(work, history, wheel)
    else:
        work.step("2. the application as a dependency")
        added = "".join(
            f'    "{name}",\n' for name in (history.distribution, *history.pins)
        )
        work.replace(
            "pyproject.toml",
            '    "sqlalchemy>=2.0",\n',
            f'    "sqlalchemy>=2.0",\n{added}',
            f"{', '.join((history.distribution, *history.pins))} added to dependencies",
        )
        work.run("make", "install")

    work.step("3. models.py imports the application's models")
    (project / f"src/{package}/models.py").write_text(history.models)
    work.edited(f"src/{package}/models.py", "content replaced")
    if history.settings_at_import:
        work.replace(
            "tests/conftest.py",
            "pytest_plugins = ",
            f"import {package}.models  # noqa: F401  (the application's settings "
            "first)\n\npytest_plugins = ",
            f"imports {package}.models above pytest_plugins: the application's "
            "settings before the harness reads a revision",
        )
    if history.not_ours:
        work.replace(
            "alembic.ini",
            "not_ours =\n",
            f"not_ours = {history.not_ours}\n",
            f"not_ours = {history.not_ours} under [migration_kit]",
        )

    work.step("4. legacy revisions left out of ruff and squawk")
    work.replace(
        "pyproject.toml",
        "[tool.ruff]\n",
        '[tool.ruff]\nextend-exclude = ["migrations/versions/legacy"]\n',
        'extend-exclude = ["migrations/versions/legacy"] under [tool.ruff]',
    )
    squawk = project / ".squawk.toml"
    squawk.write_text(squawk.read_text() + 'excluded_paths = ["*/legacy/*"]\n')
    work.edited(".squawk.toml", 'excluded_paths = ["*/legacy/*"] added')

    if history.before_first_revision:
        make_baseline(work, history)
    else:
        work.step("5. no baseline: the first revision needs no tables made before it")
    if naive:
        work.step("6. (naive) nothing declared: irreversible, online_only, seed_rows")
    else:
        declare_irreversible(work, name)
        declare_online_only(work, name)
        give_seed_rows(work, history)
    (project / "ADOPTION.md").write_text(
        f"# Adopting {history.distribution}\n\n" + "\n".join(work.log) + "\n"
    )
    return project


def application_venv(work: Adoption, history: History, wheel: Path) -> None:
    """docs/adopting.md, "An application pinned to SQLAlchemy 1.4": its own
    venv, by the guide's commands; the project's .venv (make install) for lint."""
    work.step("2. the application in a venv of its own (it pins SQLAlchemy 1.4)")
    pip = ".venv-app/bin/pip"
    venv = (sys.executable, "-m", "venv", ".venv-app")
    work.run(*venv, shown="python3 -m venv .venv-app")
    work.run(
        pip, "install", "--quiet", str(wheel), *history.pins, "alembic>=1.16.3", "ruff"
    )
    work.run(pip, "install", "--quiet", "--no-deps", "-e", "migration-kit", "-e", ".")
    work.run("make", "install")
    work.replace(
        "alembic.ini",
        "# revisions_python = .venv-app/bin/python",
        "revisions_python = .venv-app/bin/python",
        "revisions_python = .venv-app/bin/python: make test-migrations runs the "
        "revisions there",
    )


def make_baseline(work: Adoption, history: History) -> None:
    work.step("5. baseline: the tables before the first revision, from SQLite")
    source = work.project / "before-first-revision.sqlite3"
    source.unlink(missing_ok=True)
    url = f"sqlite:///{source.name}"
    # An application in a venv of its own makes its tables there, and the
    # baseline reads them with its models (docs/adopting.md).
    bin_ = ".venv-app/bin" if history.own_venv else ".venv/bin"
    work.run(
        f"{bin_}/python",
        "-c",
        history.before_first_revision,
        url,
        shown=f"{bin_}/python -c '<the app's create_all of that time>' {url}",
    )
    make = ["make", "baseline"] + ([f"BIN={bin_}"] if history.own_venv else [])
    written = work.run(
        *make,
        env={**os.environ, "DATABASE_URL": url},
        shown=f"DATABASE_URL={url} {' '.join(make)}",
    )
    baseline = re.search(r"wrote (\S+):", written).group(1)
    revision = re.search(
        r'^revision: str = "(\w+)"', (work.project / baseline).read_text(), re.M
    ).group(1)
    work.log.append(f"  - wrote `{baseline}` (revision {revision})")
    roots = [
        path
        for path in sorted((work.project / "migrations/versions/legacy").glob("*.py"))
        if re.search(r"^down_revision\s*=\s*None", path.read_text(), re.M)
    ]
    for root in roots:
        relative = root.relative_to(work.project).as_posix()
        text = root.read_text()
        root.write_text(
            re.sub(
                r"^down_revision\s*=\s*None",
                f'down_revision = "{revision}"',
                text,
                count=1,
                flags=re.M,
            )
        )
        work.edited(relative, f'down_revision = None -> "{revision}"')
    source.unlink()


def declare_irreversible(work: Adoption, application: str) -> None:
    """README step 6: a downgrade that is a bare ``pass``, or only raises,
    undoes nothing on purpose; say so in the revision's own file."""
    work.step("6. irreversible declared where the downgrade undoes nothing")
    legacy = work.project / "migrations/versions/legacy"
    for path in sorted(legacy.glob("*.py")):
        reason = undoes_nothing(path.read_text())
        if reason is None:
            continue
        declaration = f'irreversible = "{application}: {reason}"\n\n\n'
        insert_before(path, "downgrade", declaration)
        work.edited(
            path.relative_to(work.project).as_posix(), f"irreversible: {reason}"
        )


def declare_online_only(work: Adoption, application: str) -> None:
    """README step 6: a revision that reads the database to choose its steps
    cannot render with --sql; the first run names each, and this is the rule
    that picks exactly those out of these histories."""
    work.step("6. online_only declared where a revision reads the database")
    legacy = work.project / "migrations/versions/legacy"
    for path in sorted(legacy.glob("*.py")):
        reason = reads_the_database(path.read_text())
        if reason is None:
            continue
        insert_before(path, "upgrade", f'online_only = "{application}: {reason}"\n\n\n')
        work.edited(path.relative_to(work.project).as_posix(), f"online_only: {reason}")


def give_seed_rows(work: Adoption, history: History) -> None:
    """README step 6: the rules a revision's data step relies on, as seed_rows."""
    if not history.seed_rows:
        return
    work.step("6. seed_rows where a data step relies on rules the schema lacks")
    legacy = work.project / "migrations/versions/legacy"
    for revision, hook in history.seed_rows.items():
        # <id>_<slug>.py, or <id>.py (optuna)
        [path] = [
            p
            for p in legacy.glob(f"{revision}*.py")
            if p.stem.split("_")[0] == revision
        ]
        insert_before(path, "upgrade", f"{hook}\n\n")
        rule = hook.split('"""')[1]
        work.edited(path.relative_to(work.project).as_posix(), f"seed_rows: {rule}")


def insert_before(path: Path, function: str, text: str) -> None:
    """Write ``text`` into a revision file, just above its ``def <function>``."""
    source = path.read_text()
    line = next(
        node.lineno
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef) and node.name == function
    )
    lines = source.splitlines(keepends=True)
    path.write_text("".join([*lines[: line - 1], text, *lines[line - 1 :]]))


# What a revision calls when it reads the database, and how the line says it.
READS_THE_DATABASE = {
    "inspect(": "inspects the database to choose its steps",
    "has_table(": "inspects the database to choose its steps",
    "has_column(": "inspects the database to choose its steps",
    "has_index(": "inspects the database to choose its steps",
    "autoload_with=": "reflects a table from the database",
    ".query(": "reads rows through a Session on the connection",
    "storage.migration.utils import": "its helpers inspect the database",
    "migrations.shared.utils import": "its helpers inspect the database",
}


def reads_the_database(text: str) -> str | None:
    for call, reason in READS_THE_DATABASE.items():
        if call in text:
            return reason
    return None


def undoes_nothing(text: str) -> str | None:
    """Why the revision's downgrade undoes nothing, or None when it does."""
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade":
            body = [
                statement
                for statement in node.body
                if not (
                    isinstance(statement, ast.Expr)
                    and isinstance(statement.value, ast.Constant)
                )
            ]
            if all(isinstance(statement, ast.Pass) for statement in body):
                return "the downgrade is a bare pass upstream"
            if len(body) == 1 and isinstance(body[0], ast.Raise):
                return "the downgrade raises upstream: none is possible"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("history", choices=sorted(HISTORIES))
    parser.add_argument("--into", type=Path, default=TEMPLATE / "build" / "adoption")
    parser.add_argument(
        "--naive", action="store_true", help="copy the revisions, declare nothing"
    )
    arguments = parser.parse_args()
    project = adopt(arguments.history, arguments.into.resolve(), arguments.naive)
    print(f"adopted into {project}; steps in {project / 'ADOPTION.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
