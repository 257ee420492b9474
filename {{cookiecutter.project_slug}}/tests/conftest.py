from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from .disposable_database import BACKENDS, disposable_database, skip_unless_configured
from .migration_steps import MigrationSteps


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    skip_unless_configured(request.param)
    return request.param


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with disposable_database(backend, tmp_path) as engine:
        yield engine


@pytest.fixture
def steps(database: Engine) -> MigrationSteps:
    return MigrationSteps(database)
