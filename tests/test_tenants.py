"""Tenants (docs/tenants.md): one tenant at a time, a new one, and the rollout.

Each backend's tenants live in a database of their own: PostgreSQL schemas in
a fresh database, SQLite files beside a fresh one, and MySQL databases with
unique names (a MySQL tenant is a database on the shared server), dropped
afterwards.
"""

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from . import migration_kit as kit  # noqa: F401 (puts the unbaked kit on the path)
from .baking import run, unchecked
from .production import (
    FIRST,
    HEAD,
    PLAYER_TEAMS,
    PLAYERS,
    execute,
    fresh_database,
    rows,
    server_url,
    version,
)

BACKENDS = ["sqlite", "postgresql", "mysql"]
# What revision 1 leaves, written directly: five tenants are set up in SQL
# instead of five alembic runs of most of a second each.
AT_FIRST_REVISION = (
    "CREATE TABLE players (id INTEGER NOT NULL, name VARCHAR(200) NOT NULL, "
    "position VARCHAR(200), team VARCHAR(100), CONSTRAINT pk_players PRIMARY KEY (id))",
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
    f"INSERT INTO alembic_version VALUES ('{FIRST}')",
    PLAYERS,
)


def tenant_url(url: str, name: str) -> str:
    """Where tenant ``name`` of DATABASE_URL ``url`` lives, to look inside it."""
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.update_query_dict({"options": f"-csearch_path={name}"})
    elif backend == "mysql":
        parsed = parsed.set(database=name)
    else:
        path = Path(parsed.database)
        parsed = parsed.set(database=str(path.with_suffix(f".{name}{path.suffix}")))
    return parsed.render_as_string(hide_password=False)


def names(backend: str, *wanted: str) -> list[str]:
    """Tenant names; unique ones on MySQL, where a tenant is a server's database."""
    prefix = f"t{uuid.uuid4().hex[:8]}_" if backend == "mysql" else ""
    return [prefix + name for name in wanted]


@contextmanager
def tenants_of(backend: str, directory: Path, made: list[str]) -> Iterator[str]:
    """A fresh DATABASE_URL; on MySQL, the tenant databases ``made`` are
    dropped afterwards (elsewhere they go with the database or folder)."""
    with fresh_database(backend, directory) as url:
        try:
            yield url
        finally:
            if backend == "mysql":
                execute(url, *(f"DROP DATABASE IF EXISTS `{name}`" for name in made))


def make_room(backend: str, url: str, name: str) -> None:
    """An empty tenant, as an operator would make one by hand."""
    if backend == "postgresql":
        execute(url, f'CREATE SCHEMA "{name}"')
    elif backend == "mysql":
        execute(url, f"CREATE DATABASE `{name}`")
    else:
        Path(sa.make_url(tenant_url(url, name)).database).touch()


def tenants_env(url: str, *listed: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "MIGRATION_TENANTS": " ".join(listed),
        "MIGRATION_LOCK_WAIT": "60",
    }


def schema_differences(url: str, replayed: str, created: str) -> list[str]:
    """The harness's comparison of two tenants' schemas (not empty ones).
    PostgreSQL qualifies an index's table with its schema: the tenant's name
    is left out."""
    from migration_kit.harness.schema_snapshot import differences, snapshot

    snapshots = []
    for name in (replayed, created):
        engine = sa.create_engine(tenant_url(url, name), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                taken = json.dumps(snapshot(connection))
        finally:
            engine.dispose()
        snapshots.append(json.loads(taken.replace(f" {name}.", " ")))
    assert snapshots[1]["tables"], snapshots
    return differences(*snapshots)


README_COMMANDS = [
    "make create-tenant name=acme",
    "make migrate tenant=acme",
    'MIGRATION_TENANTS="acme" make migrate-tenants',
]


def readme_commands(project: Path) -> list[str]:
    """The commands of the README's Tenants section, in order."""
    readme = (project / "README.md").read_text()
    section = readme.split("## Tenants\n", 1)[1].split("\n## ", 1)[0]
    return [span for span in re.findall(r"`([^`]+)`", section) if "make " in span]


@pytest.mark.parametrize("backend", BACKENDS)
def test_readme_tenants_section_works_as_written(
    project: Path, backend: str, tmp_path: Path
) -> None:
    """The README's commands, word for word (MySQL: a unique name for acme).
    Then ``make migrate tenant=`` replays the history in an empty tenant: it
    ends with exactly the schema of the created one, and it leaves another
    tenant as it was, version and rows included."""
    assert readme_commands(project) == README_COMMANDS
    acme, replayed, other = names(backend, "acme", "replayed", "other")
    with tenants_of(backend, tmp_path, [acme, replayed, other]) as url:
        outputs = []
        for command in README_COMMANDS:
            words = shlex.split(command.replace("acme", acme))
            at = words.index("make")
            env = dict(word.split("=", 1) for word in words[:at])
            done = run(words[at:], project, {**env, "DATABASE_URL": url})
            outputs.append(done.stdout + done.stderr)
        assert f"tenant {acme} created at head" in outputs[0]
        assert f"1 tenant at {HEAD}: 0 migrated, 1 already at head" in outputs[2]
        assert version(tenant_url(url, acme)) == [HEAD]

        make_room(backend, url, replayed)
        make_room(backend, url, other)
        execute(tenant_url(url, other), *AT_FIRST_REVISION)
        players = "SELECT * FROM players ORDER BY id"
        players_of_other = rows(tenant_url(url, other), players)

        run(["make", "migrate", f"tenant={replayed}"], project, {"DATABASE_URL": url})

        assert schema_differences(url, replayed, acme) == []
        assert version(tenant_url(url, other)) == [FIRST]
        assert rows(tenant_url(url, other), players) == players_of_other
        with pytest.raises(sa.exc.DBAPIError):  # no teams table in the other
            rows(tenant_url(url, other), "SELECT count(*) FROM teams")


def test_a_missing_tenant_is_refused_not_created(project: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    result = unchecked(
        ["make", "migrate", "tenant=nobody"], project, {"DATABASE_URL": url}
    )
    assert result.returncode != 0
    assert (
        "FAILED: tenant 'nobody' does not exist: create it with "
        "make create-tenant name=nobody" in result.stdout + result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "app.nobody.sqlite3").exists()


@pytest.mark.parametrize("backend", BACKENDS)
def test_rollout_goes_past_a_failure_and_resumes_after_a_killed_runner(
    project: Path, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """t3 fails (a teams table of its own is in the way); the runner is
    killed while it waits for t4, which someone else is migrating; a second
    runner (PostgreSQL, MySQL) skips t4 meanwhile; a third takes t4 over."""
    listed = names(backend, "t1", "t2", "t3", "t4", "t5")
    t3, t4 = listed[2], listed[3]
    with tenants_of(backend, tmp_path, listed) as url:
        for name in listed:
            make_room(backend, url, name)
            execute(tenant_url(url, name), *AT_FIRST_REVISION)
        execute(tenant_url(url, t3), "CREATE TABLE teams (id INTEGER PRIMARY KEY)")
        env = tenants_env(url, *listed)

        monkeypatch.chdir(project)  # the lock's name is in its alembic.ini
        with held(tenant_url(url, t4), t4):
            first = subprocess.Popen(
                ["make", "migrate-tenants"],
                cwd=project,
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                wait_for_claim(url, t3, t4, first)
                if backend != "sqlite":
                    second = unchecked(["make", "migrate-tenants"], project, env)
                    assert second.returncode != 0, second.stdout + second.stderr
                    assert "3 migrated, 0 already at head, 1 failed, 1 not reached" in (
                        second.stdout
                    )
                    assert version(tenant_url(url, t4)) == [FIRST]
            finally:
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()

        third = unchecked(["make", "migrate-tenants"], project, env)
        assert third.returncode != 0
        assert f"5 tenants at {HEAD}: 4 migrated, 0 already at head, 1 failed" in (
            third.stdout
        )
        [failed] = [line for line in third.stderr.splitlines() if "FAILED" in line]
        assert failed.startswith(f"FAILED {t3}: revision {HEAD} (Move players.team")
        assert "Traceback" not in third.stderr
        assert version(tenant_url(url, t3)) == [FIRST]
        for name in set(listed) - {t3}:
            assert version(tenant_url(url, name)) == [HEAD]
            assert rows(tenant_url(url, name), PLAYER_TEAMS)[0] == (1, "Reds")


@contextmanager
def held(url: str, name: str) -> Iterator[None]:
    """Tenant ``name``'s migration lock (PostgreSQL, MySQL), or its file's
    write lock (SQLite), held as a run migrating that tenant would hold it."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        holder = sqlite3.connect(parsed.database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
        finally:
            holder.close()
        return
    from migration_kit.locking import migration_lock

    schema = name if parsed.get_backend_name() == "postgresql" else None
    engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection, migration_lock(connection, schema):
            yield
    finally:
        engine.dispose()


def wait_for_claim(
    url: str, failed: str, claimed: str, runner: subprocess.Popen
) -> None:
    """Until ``failed`` is failed in the ledger, and ``claimed`` is claimed
    (its row locked; on SQLite, which locks no rows: a moment later)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    ledger = sa.table("migration_kit_rollout", sa.column("tenant"), sa.column("state"))
    state = sa.select(ledger.c.state).where(ledger.c.tenant == failed)
    free = sa.select(ledger.c.tenant).where(ledger.c.tenant == claimed)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            assert runner.poll() is None, "the runner ended before the held tenant"
            with engine.connect() as connection:
                if sa.inspect(connection).has_table("migration_kit_rollout") and (
                    connection.scalar(state) == "failed"
                ):
                    if engine.dialect.name == "sqlite":
                        time.sleep(1)
                        return
                    locked = free.with_for_update(skip_locked=True)
                    if connection.scalar(locked) is None:
                        return
            time.sleep(0.1)
        raise AssertionError(f"{claimed} was never claimed")
    finally:
        engine.dispose()


NAMES_PUBLIC = '''"""Number the players, naming the public schema.

Revision ID: c0ffee0000a1
Revises: 8f7a6b5c4d02
"""

from alembic import op

revision = "c0ffee0000a1"
down_revision = "8f7a6b5c4d02"


def upgrade() -> None:
    op.execute("UPDATE public.players SET name = name")


def downgrade() -> None:
    pass
'''


def test_the_stairway_fails_a_revision_that_names_public(project: Path) -> None:
    """The harness's PostgreSQL stairway runs outside public, as tenants do."""
    server = server_url("postgresql").render_as_string(hide_password=False)
    revision = project / "migrations/versions/2026_01_03_0000-c0ffee0000a1_public.py"
    revision.write_text(NAMES_PUBLIC)
    try:
        result = unchecked(
            [
                ".venv/bin/pytest",
                "-p",
                "no:cacheprovider",
                "tests/test_migrations.py",
                "-k",
                "stairway and postgresql and c0ffee0000a1",
            ],
            project,
            {"TEST_POSTGRES_URL": server},
        )
    finally:
        revision.unlink()
    assert result.returncode == 1, result.stdout
    assert (
        "revision c0ffee0000a1 (Number the players, naming the public schema.): "
        'upgrade failed: UndefinedTable: relation "public.players" does not exist'
    ) in result.stdout, result.stdout


def test_failed_canaries_hold_back_the_rest_and_stay_failed_until_asked(
    project: Path, tmp_path: Path
) -> None:
    """canary=2: t2 fails, so t3 and the tenant with a database of its own are
    not started; once t2 is fixed, a plain rerun still reports it failed, and
    retry=failed takes every one to head. The list is a file of names and a
    URL, with comments (SQLite: the waves are the ledger's, whatever the
    database)."""
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    own = f"sqlite:///{tmp_path / 'own.sqlite3'}"
    for target in (*(tenant_url(url, name) for name in ("t1", "t2", "t3")), own):
        execute(target, *AT_FIRST_REVISION)
    execute(tenant_url(url, "t2"), "CREATE TABLE teams (id INTEGER PRIMARY KEY)")
    listing = tmp_path / "tenants.txt"
    listing.write_text(f"# one per line\nt1\nt2\nt3\n{own}  # its own database\n")
    env = {"DATABASE_URL": url, "MIGRATION_TENANTS": f"file:{listing}"}

    result = unchecked(["make", "migrate-tenants", "canary=2"], project, env)

    assert result.returncode != 0
    held_back = f"4 tenants at {HEAD}: 1 migrated, 0 already at head, 1 failed, "
    assert f"{held_back}2 not reached." in result.stdout
    assert (
        "A canary failed, so the tenants after the canaries were not started"
        in result.stderr
    )
    assert version(tenant_url(url, "t3")) == version(own) == [FIRST]

    execute(tenant_url(url, "t2"), "DROP TABLE teams")
    again = unchecked(["make", "migrate-tenants", "canary=2"], project, env)
    assert again.returncode != 0
    assert f"{held_back}2 not reached." in again.stdout
    retried = run(["make", "migrate-tenants", "canary=2", "retry=failed"], project, env)
    assert f"4 tenants at {HEAD}: 4 migrated, 0 already at head, 0 failed" in (
        retried.stdout
    )
    for target in (*(tenant_url(url, name) for name in ("t1", "t2", "t3")), own):
        assert version(target) == [HEAD]
        assert rows(target, PLAYER_TEAMS)[0] == (1, "Reds")
