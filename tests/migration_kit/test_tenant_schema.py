"""The harness's PostgreSQL databases work in a schema that is not public, as
a tenant's migrations do (docs/tenants.md)."""

import pytest
import sqlalchemy as sa
from migration_kit.harness.disposable_database import TENANT_SCHEMA
from sqlalchemy import Engine


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_statement_naming_public_misses_the_tables(database: Engine) -> None:
    with database.connect() as connection:
        assert connection.scalar(sa.text("SELECT current_schema()")) == TENANT_SCHEMA
        connection.execute(sa.text("CREATE TABLE players (id integer)"))
        assert connection.scalar(sa.text("SELECT count(*) FROM players")) == 0
        with pytest.raises(sa.exc.ProgrammingError, match='"public.players" does not'):
            connection.execute(sa.text("SELECT count(*) FROM public.players"))
