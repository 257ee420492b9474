"""A stairway on MySQL/MariaDB opens a connection per migration step: each must
be cheap, and as secure as the server offers."""

from pathlib import Path

import pytest
from migration_kit.harness.disposable_database import disposable_database
from pymysql.constants import CLIENT


@pytest.mark.parametrize("backend", ["mysql"], indirect=True)
def test_tls_is_prepared_only_where_the_server_offers_it(
    backend: str, tmp_path: Path
) -> None:
    with disposable_database(backend, tmp_path) as engine:
        with engine.connect() as first:
            server = first.connection.dbapi_connection
            offered = bool(server.server_capabilities & CLIENT.SSL)
            first.invalidate()  # as each migration step does: a new connection
        with engine.connect() as second:
            driver = second.connection.dbapi_connection
            # PyMySQL 1.2 builds an SSL context (55 ms) for every connection
            # unless told there is no TLS to use.
            assert driver.ssl is offered
            assert second.exec_driver_sql("SELECT 1").scalar() == 1
