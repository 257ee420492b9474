"""The harness never migrates a database it did not create."""

import pytest
from migration_kit.harness.disposable_database import server_url
from migration_kit.harness.migration_steps import MigrationSteps, NotDisposable
from sqlalchemy import create_engine


def test_refuses_a_database_it_did_not_create(backend: str, tmp_path) -> None:
    url = server_url(backend) or f"sqlite:///{tmp_path / 'yours.sqlite3'}"
    with pytest.raises(NotDisposable, match="^refusing to migrate .*only migrates"):
        MigrationSteps(create_engine(url))
