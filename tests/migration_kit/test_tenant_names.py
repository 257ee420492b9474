"""Where a tenant lives, and the rollout's options: bad input is one line."""

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.util import CommandError
from migration_kit import rollout
from migration_kit.tenants import tenant
from sqlalchemy import create_engine, make_url


def test_a_name_lives_beside_the_database_url() -> None:
    postgresql = tenant("acme", make_url("postgresql+psycopg://u@h/app"))
    assert (postgresql.schema, postgresql.url.database) == ("acme", "app")
    mysql = tenant("acme", make_url("mysql+pymysql://u@h/app"))
    assert (mysql.schema, mysql.url.database) == (None, "acme")
    sqlite = tenant("acme", make_url("sqlite:///data/app.sqlite3"))
    assert (sqlite.schema, sqlite.url.database) == (None, "data/app.acme.sqlite3")


def test_a_url_is_a_tenant_of_its_own_shown_without_its_password() -> None:
    found = tenant("postgresql+psycopg://u:s3cret@h/shop_1", make_url("sqlite://"))
    assert found.url.database == "shop_1" and found.schema is None
    assert "s3cret" not in found.name and "shop_1" in found.name


@pytest.mark.parametrize("name", ["acme-corp", "1st", "a b", "x" * 64, "é"])
def test_a_name_that_needs_quoting_is_refused(name: str) -> None:
    with pytest.raises(CommandError, match="is not a name of letters, digits"):
        tenant(name, make_url("postgresql+psycopg://u@h/app"))


def test_sqlite_in_memory_has_no_place_for_tenants() -> None:
    with pytest.raises(CommandError, match="set it to a file"):
        tenant("acme", make_url("sqlite://"))


@pytest.mark.parametrize(
    "arguments", [["--parallel", "0"], ["--parallel", "x"], ["--waves", "2"]]
)
def test_bad_rollout_options_are_refused(arguments: list[str]) -> None:
    with pytest.raises(CommandError) as refused:
        rollout._options(arguments)
    assert "\n" not in str(refused.value)
    assert "--parallel" in str(refused.value)


def test_rollout_options() -> None:
    given = ["--canary", "5", "--parallel", "4", "--retry-failed"]
    assert rollout._options(given) == {"canary": 5, "parallel": 4, "retry_failed": 1}


def test_tenants_come_from_a_query_on_the_control_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    control = make_url(f"sqlite:///{tmp_path / 'control.sqlite3'}")
    engine = create_engine(control)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE customers (slug VARCHAR(20))")
        connection.exec_driver_sql("INSERT INTO customers VALUES ('acme'), ('zeta')")
    engine.dispose()
    monkeypatch.setenv(rollout.SOURCE_VARIABLE, "sql:SELECT slug FROM customers")
    assert sorted(rollout.tenant_entries(Config(), control)) == ["acme", "zeta"]
    monkeypatch.setenv(rollout.SOURCE_VARIABLE, "sql:SELECT slug FROM nowhere")
    with pytest.raises(CommandError, match="the tenants query failed") as refused:
        rollout.tenant_entries(Config(), control)
    assert "\n" not in str(refused.value)
