"""A baked project's make targets work on the async URL an async app keeps.

Each test hands DATABASE_URL the async driver (asyncpg, aiosqlite, aiomysql)
and reads the result back through a sync driver. The lock, the timeouts and
atomic revisions on async URLs are in ``test_production_safety.py``.
"""

from pathlib import Path

import pytest

from .baking import run
from .production import (
    BOOKKEEPING,
    HEAD,
    alembic,
    failure_line,
    fresh_database,
    harness_on_async_urls,
    table_names,
    through,
    version,
)


def make(project: Path, url: str, *target: str) -> str:
    return run(["make", *target], cwd=project, env={"DATABASE_URL": url}).stdout


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_make_targets_on_an_async_url(project, backend, tmp_path) -> None:
    with fresh_database(backend, tmp_path) as url:
        async_url = through("async", url)
        make(project, async_url, "migrate")
        assert version(url) == [HEAD]
        assert {"players", "teams"} <= table_names(url)
        assert "No new upgrade operations detected" in make(project, async_url, "check")
        assert f"{HEAD} (head)" in make(project, async_url, "current")
        make(project, async_url, "downgrade", "rev=base")
        assert version(url) == []
        assert table_names(url) == BOOKKEEPING


def test_make_sql_on_an_async_url_opens_no_database(project) -> None:
    unreachable = "postgresql+asyncpg://app:s3cret@127.0.0.1:9/app"
    sql = make(project, unreachable, "sql")
    assert "CREATE TABLE players" in sql and "SET lock_timeout" in sql


def test_unreachable_async_server_is_one_line_without_the_password(project) -> None:
    # A closed port: asyncpg raises a bare OSError there, not a DBAPI error.
    result = alembic(
        project, "postgresql+asyncpg://app:s3cret@127.0.0.1:9/app", "upgrade", "head"
    )
    line = failure_line(result)
    url = "postgresql+asyncpg://app:***@127.0.0.1:9/app"
    assert f"cannot connect to DATABASE_URL {url}" in line
    assert "s3cret" not in result.stdout + result.stderr


def test_harness_runs_on_async_test_urls(project) -> None:
    harness_on_async_urls(project)
