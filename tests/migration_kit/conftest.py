"""The two fixtures of the harness's plugin these tests use: backend, database.

Not the plugin itself: its collection hooks look for a project's alembic.ini,
which the template has none of. A backend without a server skips its tests,
or fails them when REQUIRE_TEST_BACKENDS lists it (CI lists both servers).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from migration_kit.harness.disposable_database import (
    BACKENDS,
    disposable_database,
    required_backends,
    untested_backends,
    why_required,
)
from sqlalchemy import Engine


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    missing = untested_backends().get(request.param)
    if missing and request.param in required_backends():
        pytest.fail(f"{missing} ({why_required(request.param)})", pytrace=False)
    if missing:
        pytest.skip(missing)
    return request.param


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with disposable_database(backend, tmp_path) as engine:
        yield engine
