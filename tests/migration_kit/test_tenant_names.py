"""Where a tenant lives, and the rollout's options: bad input is one line."""

import pytest
from alembic.util import CommandError
from migration_kit import rollout
from migration_kit.tenants import tenant
from sqlalchemy import make_url


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
