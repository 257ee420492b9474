"""Tenants: a rollout of one new revision to many tenants, and new-tenant time.

    make bench-tenants [BENCH_ARGS="--tenants 1000 --mysql-tenants 200
        --loop-sample 50 --project PATH"]

Needs TEST_POSTGRES_URL (and TEST_MYSQL_URL for the MariaDB part). Bakes and
installs the default project (or uses an installed one, --project), then on
PostgreSQL, in a database of its own:

1. creates the tenants with ``migration_kit.tenants.create`` (one process,
   the way an application at sign-up would), times each, and gives each a few
   rows;
2. rolls a new revision (a column and its backfill) out to all of them with
   ``make migrate-tenants`` and 1, 2 and 4 runners (a new revision per run,
   so each run migrates every tenant), sampling the peak memory of the runner
   processes;
3. runs the plain shell loop ``alembic -x tenant=$t upgrade head`` (a process
   per tenant) over --loop-sample tenants, for a new revision, and scales its
   per-tenant time to all tenants (the whole loop would take most of an hour).

Then the same, 1 runner only, on MariaDB with a database per tenant. Prints
one Markdown table; the ratios are against the shell loop of the same run.
Everything it creates (the database, the MariaDB tenant databases) is
dropped at the end.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
HEAD = "8f7a6b5c4d02"

REVISION = '''"""Bench revision {n}: players.score_{n}, filled from players.id.

Data: every player's score_{n} is its id.
"""

import sqlalchemy as sa
from alembic import op

revision = "bench{n:08d}"
down_revision = "{down}"


def upgrade() -> None:
    op.add_column("players", sa.Column("score_{n}", sa.Integer()))
    op.execute("UPDATE players SET score_{n} = id")


def downgrade() -> None:
    op.drop_column("players", "score_{n}")
'''

# Run by the project's Python: create the tenants, time each, add rows.
CREATE_TENANTS = """
import json, sys, time
import sqlalchemy as sa
from migration_kit.settings import alembic_config
from migration_kit.tenants import create

names = sys.argv[1:]
seconds = []
for name in names:
    started = time.perf_counter()
    found = create(name, alembic_config())
    seconds.append(time.perf_counter() - started)
    engine = sa.create_engine(found.url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        if found.schema:
            connection.exec_driver_sql(f'SET search_path TO "{found.schema}"')
        connection.exec_driver_sql("INSERT INTO teams (id, name) VALUES (1, 'Reds')")
        connection.exec_driver_sql(
            "INSERT INTO players (id, name, team_id) VALUES "
            "(1, 'Ann', 1), (2, 'Bob', 1), (3, 'Cy', NULL)"
        )
    engine.dispose()
print(json.dumps(seconds))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--mysql-tenants", type=int, default=200)
    parser.add_argument("--loop-sample", type=int, default=50)
    parser.add_argument("--project", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tenants-") as folder:
        project = options.project or baked(Path(folder))
        rows = []
        with fresh(os.environ["TEST_POSTGRES_URL"], "postgresql") as url:
            rows += bench(project, url, options.tenants, [1, 2, 4], options.loop_sample)
        mysql = os.environ.get("TEST_MYSQL_URL")
        if mysql:
            with fresh(mysql, "mysql") as url:
                tenants = options.mysql_tenants
                try:
                    rows += bench(project, url, tenants, [1], options.loop_sample)
                finally:
                    drop_mysql_tenants(url, tenants)
    print_table(rows)


def baked(folder: Path) -> Path:
    project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(folder)))
    subprocess.run(["make", "install"], cwd=project, check=True)
    return project


class fresh:
    """A new database on the server ``server``, dropped afterwards."""

    def __init__(self, server: str, backend: str) -> None:
        self.server = sa.make_url(server)
        self.name = f"bench_tenants_{uuid.uuid4().hex[:10]}"
        self.quote = '"' if backend == "postgresql" else "`"

    def __enter__(self) -> str:
        self.admin(f"CREATE DATABASE {self.quote}{self.name}{self.quote}")
        url = self.server.set(database=self.name)
        return url.render_as_string(hide_password=False)

    def __exit__(self, *_: object) -> None:
        force = " WITH (FORCE)" if self.quote == '"' else ""
        self.admin(f"DROP DATABASE {self.quote}{self.name}{self.quote}{force}")

    def admin(self, statement: str) -> None:
        engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
        engine.dispose()


def tenant_names(url: str, count: int) -> list[str]:
    # MySQL: the tenants are databases of the server, named after this run's.
    prefix = sa.make_url(url).database + "_" if url.startswith("mysql") else "t"
    return [f"{prefix}{n:04d}" for n in range(count)]


def drop_mysql_tenants(url: str, count: int) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for name in tenant_names(url, count):
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    engine.dispose()


def bench(
    project: Path, url: str, count: int, runner_counts: list[int], sample: int
) -> list[dict]:
    backend = sa.make_url(url).get_backend_name()
    names = tenant_names(url, count)
    env = {**os.environ, "DATABASE_URL": url}
    python = str(project / ".venv/bin/python")
    created = subprocess.run(
        [python, "-c", CREATE_TENANTS, *names],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    creations = json.loads(created.stdout)
    # The first call in a process imports env.py, the models and the
    # revisions: shown apart from the rest, whose spread is the server's.
    first, rest = creations[0], sorted(creations[1:])
    listing = project / "bench-tenants.txt"
    listing.write_text("\n".join(names) + "\n")
    env["MIGRATION_TENANTS"] = f"file:{listing}"
    rows = []
    down = HEAD
    for number, runners in enumerate(runner_counts, start=1):
        down = add_revision(project, number, down)
        seconds, peak = timed_with_memory(
            ["make", "migrate-tenants", f"parallel={runners}"], project, env
        )
        rows.append(
            {
                "backend": backend,
                "tenants": count,
                "how": f"make migrate-tenants parallel={runners}",
                "seconds": seconds,
                "per tenant ms": 1000 * seconds / count,
                "peak MB (first tenth / all)": peak,
            }
        )
    down = add_revision(project, len(runner_counts) + 1, down)
    alembic = str(project / ".venv/bin/alembic")
    started = time.perf_counter()
    for name in names[:sample]:
        subprocess.run(
            [alembic, "-x", f"tenant={name}", "upgrade", "head"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
    per_tenant = (time.perf_counter() - started) / sample
    loop = {
        "backend": backend,
        "tenants": count,
        "how": f"shell loop of alembic -x tenant=... ({sample} timed, scaled)",
        "seconds": per_tenant * count,
        "per tenant ms": 1000 * per_tenant,
    }
    for row in rows:
        row["vs loop"] = loop["seconds"] / row["seconds"]
        row["new tenant s (first / median / p99 / max)"] = (
            f"{first:.3f} / {rest[len(rest) // 2]:.3f} / "
            f"{rest[len(rest) * 99 // 100]:.3f} / {rest[-1]:.3f}"
        )
    listing.unlink()
    for revision in project.glob("migrations/versions/*bench_*.py"):
        revision.unlink()
    return [*rows, loop]


def add_revision(project: Path, number: int, down: str) -> str:
    path = project / f"migrations/versions/2099_01_01_{number:04d}-bench_{number}.py"
    path.write_text(REVISION.format(n=number, down=down))
    return f"bench{number:08d}"


def timed_with_memory(command: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    """Wall time, and the largest summed RSS of the command's processes (MB)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE)
    samples: list[tuple[float, float]] = []

    def sample() -> None:
        while process.poll() is None:
            samples.append((time.perf_counter(), tree_rss(process.pid)))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    output, _ = process.communicate()
    sampler.join()
    seconds = time.perf_counter() - started
    print(output.decode().strip().splitlines()[-1], file=sys.stderr)
    # Flat in the number of tenants: the peak over the first tenth of the run
    # (about a tenth of the tenants) against the peak over all of it.
    early = [rss for at, rss in samples if at - started <= seconds / 10]
    return seconds, f"{max(early, default=0):.0f} / {max(r for _, r in samples):.0f}"


def tree_rss(root: int) -> float:
    """The RSS of ``root`` and its descendants, in MB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines()
            )
        except (OSError, ValueError):
            continue
        pid = int(fields["Pid"])
        children.setdefault(int(fields["PPid"]), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 1024


def print_table(rows: list[dict]) -> None:
    columns = [
        "backend",
        "tenants",
        "how",
        "seconds",
        "per tenant ms",
        "vs loop",
        "peak MB (first tenth / all)",
        "new tenant s (first / median / p99 / max)",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if isinstance(value, float):
                value = f"{value:.1f}" if column != "vs loop" else f"{value:.1f}x"
            cells.append("" if value is None else str(value))
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
