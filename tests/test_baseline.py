"""`make baseline` writes a root revision that recreates an existing database.

A database made by hand, outside Alembic (foreign keys in a cycle, indexes,
server defaults, unique and check constraints, an enum), is read by `make
baseline`; the revision it writes, upgraded on a new database, gives the very
same schema, and its downgrade leaves nothing, on every backend.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from .baking import run
from .production import BOOKKEEPING, execute, fresh_database, table_names

# The baked project's own comparison (tests/schema_snapshot.py) of two databases.
# SQLite keeps no name for most constraints; there Alembic names them after
# the project's naming convention (models.py), so names are not compared.
SCHEMA_DIFFERENCES = r"""
import json, re, sys
import sqlalchemy as sa
from migration_kit.harness.schema_snapshot import differences, snapshot

NAME = re.compile(r", \('name', '\w+'\)")
NAMED = ("primary key", "foreign keys", "unique constraints")

def shape(url):
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = snapshot(connection)
    engine.dispose()
    if url.startswith("sqlite"):
        for table in found["tables"].values():
            for aspect in NAMED:
                value = table[aspect]
                if isinstance(value, str):
                    table[aspect] = NAME.sub("", value)
                else:
                    table[aspect] = sorted(NAME.sub("", item) for item in value)
    return found

print(json.dumps(differences(shape(sys.argv[1]), shape(sys.argv[2]))))
"""


def legacy_schema() -> sa.MetaData:
    """Tables an application made with create_all before it used Alembic."""
    metadata = sa.MetaData()
    sa.Table(
        "authors",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("joined", sa.DateTime, server_default=sa.func.current_timestamp()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        # authors -> books -> authors: neither table can be created first.
        sa.Column(
            "favourite_book_id",
            sa.Integer,
            sa.ForeignKey("books.id", name="fk_authors_favourite", use_alter=True),
        ),
    )
    sa.Table(
        "books",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "author_id",
            sa.Integer,
            sa.ForeignKey("authors.id", name="fk_books_author", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.String(200), nullable=False, server_default="untitled"),
        sa.Column("pages", sa.Integer),
        sa.Column("state", sa.Enum("draft", "published", name="book_state")),
        sa.CheckConstraint("pages > 0", name="ck_pages"),
        sa.Index("ix_books_title", "title"),
        sa.UniqueConstraint("author_id", "title", name="uq_books_author_title"),
    )
    sa.Table("audit_log", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return metadata


def make_by_hand(url: str) -> None:
    engine = sa.create_engine(url)
    legacy_schema().create_all(engine)
    engine.dispose()
    # Production was stamped at some point: its version table is never copied.
    execute(
        url,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)",
        "INSERT INTO alembic_version VALUES ('0123456789ab')",
    )


@pytest.fixture(scope="module")
def project(install) -> Path:
    return install("baseline", include_sample_revisions=False)


@pytest.fixture
def versions(project: Path):
    """The project's revisions folder, emptied again after the test."""
    folder = project / "migrations" / "versions"
    yield folder
    for path in folder.glob("*.py"):
        path.unlink()


def baseline(project: Path, url: str | None, *make_arguments: str):
    env = {"DATABASE_URL": url} if url else {}
    command = ["make", "--no-print-directory", "baseline", *make_arguments]
    return run_unchecked(command, project, env)


def run_unchecked(command: list[str], cwd: Path, env: dict[str, str]):
    """Run a command, whatever its exit code; DATABASE_URL only as given."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        command, cwd=cwd, env={**environment, **env}, capture_output=True, text=True
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_baseline_recreates_the_schema_and_its_downgrade_removes_it(
    project: Path, versions: Path, backend: str, tmp_path: Path
) -> None:
    (tmp_path / "source").mkdir()
    (tmp_path / "copy").mkdir()
    with (
        fresh_database(backend, tmp_path / "source") as source,
        fresh_database(backend, tmp_path / "copy") as copy,
    ):
        make_by_hand(source)

        made = baseline(project, source, "exclude=audit_log")

        assert made.returncode == 0, made.stdout + made.stderr
        assert "creates 2 tables" in made.stdout
        [revision] = versions.glob("*_baseline_*.py")
        run([".venv/bin/ruff", "check", str(revision)], cwd=project)
        alembic = [".venv/bin/alembic"]
        run([*alembic, "upgrade", "head"], cwd=project, env={"DATABASE_URL": copy})
        execute(source, "DROP TABLE audit_log")
        assert schema_differences(project, source, copy) == []
        run([*alembic, "downgrade", "base"], cwd=project, env={"DATABASE_URL": copy})
        assert table_names(copy) == BOOKKEEPING
        if backend == "postgresql":
            assert enum_types(copy) == []


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_a_baseline_from_sqlite_creates_the_tables_on_every_backend(
    project: Path, versions: Path, backend: str, tmp_path: Path
) -> None:
    # docs/adopting.md: SQLite, the best source for revisions that run on
    # every backend. It reflects DATETIME and BLOB, which PostgreSQL lacks.
    (tmp_path / "copy").mkdir()
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    execute(
        source,
        "CREATE TABLE sessions (id INTEGER PRIMARY KEY, started DATETIME NOT NULL,"
        " token BLOB, seen TIMESTAMP, note VARCHAR(20))",
    )
    assert baseline(project, source).returncode == 0
    [revision] = versions.glob("*_baseline_*.py")
    assert "sa.DateTime()" in revision.read_text()
    with fresh_database(backend, tmp_path / "copy") as copy:
        alembic = [".venv/bin/alembic"]
        run([*alembic, "upgrade", "head"], cwd=project, env={"DATABASE_URL": copy})
        assert "sessions" in table_names(copy)
        run([*alembic, "downgrade", "base"], cwd=project, env={"DATABASE_URL": copy})


def test_the_baseline_runs_again_after_a_kill_on_mariadb(
    project: Path, versions: Path, tmp_path: Path
) -> None:
    """MariaDB commits each CREATE at once: a second run finishes a killed one."""
    (tmp_path / "source").mkdir()
    (tmp_path / "copy").mkdir()
    with (
        fresh_database("mysql", tmp_path / "source") as source,
        fresh_database("mysql", tmp_path / "copy") as copy,
    ):
        make_by_hand(source)
        run(
            ["make", "--no-print-directory", "baseline"],
            project,
            {"DATABASE_URL": source},
        )
        alembic = [".venv/bin/alembic", "upgrade", "head"]
        run(alembic, cwd=project, env={"DATABASE_URL": copy})
        # Where a kill before its last step leaves it: both tables and their
        # index made, the foreign key of the cycle not yet, no version stamped.
        execute(
            copy,
            "ALTER TABLE authors DROP FOREIGN KEY fk_authors_favourite",
            "DELETE FROM alembic_version",
        )

        again = run_unchecked(alembic, project, {"DATABASE_URL": copy})

        assert again.returncode == 0, again.stderr[-600:]
        assert schema_differences(project, source, copy) == []


def schema_differences(project: Path, first: str, second: str) -> list[str]:
    command = [".venv/bin/python", "-c", SCHEMA_DIFFERENCES, first, second]
    return json.loads(run(command, cwd=project).stdout)


def enum_types(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return [enum["name"] for enum in sa.inspect(engine).get_enums()]
    finally:
        engine.dispose()


def test_without_database_url_it_says_what_to_set(project: Path, versions: Path):
    made = baseline(project, None)

    assert made.returncode != 0
    assert [x for x in made.stderr.splitlines() if x.startswith("ERROR:")] == [
        "ERROR: DATABASE_URL is not set: set it to the database whose tables the "
        "baseline should create (production, or a copy of it)."
    ]
    assert list(versions.glob("*.py")) == []


def test_an_unreachable_server_is_one_line_without_the_password(
    project: Path, versions: Path
):
    made = baseline(project, "postgresql+psycopg://app:s3cret@127.0.0.1:9/app")

    assert made.returncode != 0
    [line] = [x for x in made.stderr.splitlines() if x.startswith("ERROR:")]
    assert "127.0.0.1:9" in line
    assert "s3cret" not in made.stdout + made.stderr
    assert "Traceback" not in made.stderr
    assert list(versions.glob("*.py")) == []


def test_an_empty_database_is_refused(project: Path, versions: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    execute(url, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")

    made = baseline(project, url)

    assert made.returncode != 0
    [line] = [x for x in made.stderr.splitlines() if x.startswith("ERROR:")]
    assert "has no tables other than alembic_version" in line
    assert list(versions.glob("*.py")) == []


def test_a_missing_sqlite_file_is_refused_not_created(
    project: Path, versions: Path, tmp_path: Path
):
    missing = tmp_path / "typo.sqlite3"

    made = baseline(project, f"sqlite:///{missing}")

    assert made.returncode != 0
    [line] = [x for x in made.stderr.splitlines() if x.startswith("ERROR:")]
    assert "names no existing file" in line
    assert not missing.exists()
    assert list(versions.glob("*.py")) == []


def test_leaving_out_a_table_that_others_refer_to_is_refused(
    project: Path, versions: Path, tmp_path: Path
):
    url = f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
    make_by_hand(url)

    made = baseline(project, url, "exclude=authors")

    assert made.returncode != 0
    assert [x for x in made.stderr.splitlines() if x.startswith("ERROR:")] == [
        "ERROR: table books refers to authors, which is left out: leave out both, "
        "or neither."
    ]
    assert list(versions.glob("*.py")) == []
