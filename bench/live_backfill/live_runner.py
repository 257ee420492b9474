"""How long the application's writes wait while a backfill runs on its table.

Runs in the baked project's virtual environment, started by live_bench.py
with bench/data_migration on PYTHONPATH (it reuses that bench's databases,
seed and peak measurement). Per backend: one seeded database at the expand
revision, then per contender a fresh copy of it, on which the writer
(writer.py) updates random players while ``alembic upgrade head`` runs the
backfill revision. After each contender the bench checks every row, so a fast
wrong answer fails.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from database import Server, server
from history import EXPAND, PLAYERS, RATING, history
from runner import BenchError, Measure, measure

HERE = Path(__file__).resolve().parent
SEED = HERE.parent / "data_migration" / "seed.py"
SERVERS = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
CONTENDERS = ("in-transaction", "online")
PLAYERS_TABLE = sa.table("players", sa.column("id"), sa.column("name"))
WRONG_RATING = (
    f"SELECT count(*) FROM players WHERE rating IS NULL OR rating <> {RATING}"
)
# The seed names every player "Player <id>"; only the writer changes names.
RENAMED = "SELECT count(*) FROM players WHERE name <> CONCAT('Player ', id)"


@dataclass
class Result:
    backend: str
    contender: str
    rows: int
    backfill: Measure
    writes: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)


class Writer:
    """The application's writer process, writing from start() until stop()."""

    def __init__(self, project: Path, url: str, args: argparse.Namespace) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-live-writer-")
        self.result = Path(self.tmp.name) / "writes.json"
        command = [sys.executable, str(HERE / "writer.py"), str(self.result)]
        options = ["--rows", str(args.rows), "--rate", str(args.rate)]
        self.process = subprocess.Popen(
            command + options + ["--connections", str(args.connections)],
            cwd=project,
            env={**os.environ, "DATABASE_URL": url},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            started = self.process.stdout.readline().strip() == "ready"
        except BaseException:
            self.kill()
            raise
        if not started:
            self.kill()
            raise BenchError("the writer did not start (its error is above)")

    def stop(self) -> dict[str, Any]:
        """Stop writing; the writes in flight finish first. What the writes saw."""
        self.process.stdin.close()
        status = self.process.wait()
        try:
            if status:
                raise BenchError(f"the writer exited {status} (its error is above)")
            return json.loads(self.result.read_text())
        finally:
            self.tmp.cleanup()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.tmp.cleanup()


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ordered list (nan if it is empty)."""
    if not ordered:
        return math.nan
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def wait_summary(writes: dict[str, Any]) -> dict[str, Any]:
    waits = sorted(writes["waits_ms"])
    failed = writes["failed"]
    return {
        "p50_ms": percentile(waits, 0.50),
        "p99_ms": percentile(waits, 0.99),
        "max_ms": waits[-1] if waits else math.nan,
        "done": len(waits) - len(failed),
        "failed": len(failed),
        "first_error": failed[0] if failed else None,
    }


def check(url: str, rows: int, names: dict[str, list[str]]) -> dict[str, Any]:
    """Every player has its rating, and a written player a name the writer committed."""
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        count = connection.scalar(sa.text("SELECT count(*) FROM players"))
        wrong = connection.scalar(sa.text(WRONG_RATING))
        renamed = connection.scalar(sa.text(RENAMED))
        found = names_of(connection, [int(player) for player in names])
    engine.dispose()
    # A name the writer committed but the table lacks: the data step undid a write.
    lost = sum(
        found.get(int(player)) not in written for player, written in names.items()
    )
    facts = {
        "players": count,
        "wrong_rating": wrong,
        "renamed": renamed,
        "lost_writes": lost,
    }
    if count != rows or wrong or lost or renamed != len(names):
        raise BenchError(f"wrong data after the backfill: {facts}")
    return facts


def names_of(connection: sa.Connection, players: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(players), 1_000):
        chunk = players[start : start + 1_000]
        query = sa.select(PLAYERS_TABLE).where(PLAYERS_TABLE.c.id.in_(chunk))
        found.update(connection.execute(query).all())
    return found


def seed(databases: Server, project: Path, args: argparse.Namespace) -> None:
    """The seed database: revision 1, N players, then the expand revision."""
    alembic = str(project / ".venv" / "bin" / "alembic")
    ini = str(history(project, args.package, CONTENDERS[0]))
    url = databases.create("seed").render_as_string(hide_password=False)
    measure([alembic, "-c", ini, "upgrade", PLAYERS], project, url)
    measure([sys.executable, str(SEED), str(args.rows), "1000"], project, url)
    measure([alembic, "-c", ini, "upgrade", EXPAND], project, url)


def bench_contender(
    databases: Server, backend: str, contender: str, args: argparse.Namespace
) -> Result:
    project = args.project
    alembic = str(project / ".venv" / "bin" / "alembic")
    ini = str(history(project, args.package, contender, args.batch_size))
    url = databases.create(contender, template="seed").render_as_string(
        hide_password=False
    )
    writer = Writer(project, url, args)
    try:
        backfill = measure([alembic, "-c", ini, "upgrade", "head"], project, url)
    except BaseException:
        # The backfill's error (or Ctrl-C) is the news; the writes are moot.
        writer.kill()
        raise
    writes = writer.stop()
    result = Result(backend, contender, args.rows, backfill, wait_summary(writes))
    result.facts = check(url, args.rows, writes["names"])
    databases.drop(contender)
    return result


def server_version(url: str) -> str:
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        version = connection.scalar(sa.text("SELECT version()"))
    engine.dispose()
    return str(version).split(" on ")[0]


def bench_backend(name: str, url: str, args: argparse.Namespace) -> list[Result]:
    print(f"{name}: {server_version(url)}", file=sys.stderr)
    with server(url, "bench_live_backfill") as databases:
        print(f"{name}: seeding {args.rows:,} players", file=sys.stderr)
        seed(databases, args.project, args)
        results = []
        for contender in CONTENDERS:
            print(f"{name}: {contender}, load {load()}", file=sys.stderr)
            results.append(bench_contender(databases, name, contender, args))
        return results


def pause_between_batches() -> str:
    """What the online backfill pauses: MIGRATION_BACKFILL_PAUSE or its default."""
    pause = os.environ.get("MIGRATION_BACKFILL_PAUSE", "").strip()
    return f"{pause} s" if pause else "the default pause (backfill.DEFAULT_PAUSE)"


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def table(results: list[Result], args: argparse.Namespace) -> str:
    lines = [
        f"{args.rows:,} players; the writer: {args.rate:g} writes/s on "
        f"{args.connections} connections; online batches of {args.batch_size:,}, "
        f"{pause_between_batches()} between them. "
        "Backfill: wall clock and max RSS of "
        "`alembic upgrade head`; a write's wait runs from when it was due to its "
        "commit.",
        "",
        "| backend | contender | backfill | peak MB | online / in-transaction "
        "| write p50 | write p99 | write max | writes done | writes failed |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        same = {r.contender: r for r in results if r.backend == result.backend}
        base = same[CONTENDERS[0]].backfill.seconds
        w = result.writes
        lines.append(
            f"| {result.backend} | {result.contender} "
            f"| {result.backfill.seconds:.2f} s | {result.backfill.peak_mb:.0f} "
            f"| {result.backfill.seconds / base:.2f}x "
            f"| {w['p50_ms']:.1f} ms | {w['p99_ms']:.1f} ms | {w['max_ms']:.0f} ms "
            f"| {w['done']:,} | {w['failed']:,} |"
        )
    errors = {r.writes["first_error"] for r in results if r.writes["first_error"]}
    lines += [f"\nA failed write: {error}" for error in sorted(errors)]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    for name, variable in SERVERS.items():
        url = os.environ.get(variable, "").strip()
        if name not in args.backends:
            continue
        if not url:
            print(f"{name}: skipped, set {variable} to bench it", file=sys.stderr)
            continue
        results += bench_backend(name, url, args)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--package", required=True, help="the baked package's name")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rate", type=float, default=100.0, help="writes per second")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--batch-size", type=int, default=1_000, help="the online backfill's"
    )
    parser.add_argument(
        "--backends",
        type=lambda text: set(text.split(",")),
        default=set(SERVERS),
        help="comma-separated, from postgresql,mysql (default: both)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    args.project = args.project.resolve()
    print(f"load average at start: {load()}", file=sys.stderr)
    try:
        results = run(args)
    except BenchError as error:
        sys.exit(f"bench failed: {error}")
    except KeyboardInterrupt:
        sys.exit("bench interrupted; its databases are dropped")
    except sa.exc.OperationalError as error:
        # One line, naming the server but never its password.
        sys.exit(f"bench failed: {' '.join(str(error.orig).split())}")
    print(table(results, args))
    print(f"\nload average at the end: {load()}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
