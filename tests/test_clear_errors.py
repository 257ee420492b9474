"""Bad input to a baked project's alembic gives one clear line, never a traceback.

``failure_line`` checks the shape: a non-zero exit, no traceback, and exactly
one line besides alembic's INFO lines, the ``FAILED:`` one.
"""

import pytest

from .production import (
    HEAD,
    alembic,
    extra_revision,
    failure_line,
    fresh_database,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://app:s3cret@db.example/app", "needs the driver 'mysql'"),
        ("nosuchdb://app:s3cret@db.example/app", "no database dialect 'nosuchdb'"),
        ("postgresql+psycopg://app:s3cret@db:port/app", "is not a database URL"),
        ("s3cret", "is not a database URL"),
        (
            "postgresql+psycopg://app:s3cret@127.0.0.1:9/app",
            "cannot connect to DATABASE_URL postgresql+psycopg://app:***@127.0.0.1:9/app",
        ),
    ],
    ids=["missing-driver", "unknown-dialect", "bad-port", "not-a-url", "unreachable"],
)
def test_bad_database_url(project, url: str, expected: str) -> None:
    result = alembic(project, url, "upgrade", "head")
    assert expected in failure_line(result)
    assert "s3cret" not in result.stdout + result.stderr


def test_unknown_revision(project, tmp_path) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        line = failure_line(alembic(project, url, "upgrade", "abc123"))
    assert "Can't locate revision identified by 'abc123'" in line


def test_multiple_heads(project, tmp_path) -> None:
    with (
        fresh_database("sqlite", tmp_path) as url,
        extra_revision(project, "a1b2c3d4e5f6", None, "    pass\n"),
    ):
        line = failure_line(alembic(project, url, "upgrade", "head"))
    assert "the history has 2 heads" in line and "alembic merge heads" in line


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MIGRATION_LOCK_WAIT", "soon", "is not a number of seconds"),
        ("MIGRATION_LOCK_TIMEOUT", "5 parsecs", "is not a PostgreSQL duration"),
        ("MIGRATION_STATEMENT_TIMEOUT", "'; DROP", "is not a PostgreSQL duration"),
    ],
)
def test_bad_migration_setting(project, tmp_path, variable, value, expected) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        result = alembic(project, url, "upgrade", HEAD, **{variable: value})
        line = failure_line(result)
    assert variable in line and expected in line
