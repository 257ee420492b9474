"""Measure the sample revision against its references on every configured backend.

Runs in the baked project's virtual environment (main.py starts it). Every
step is a fresh child process on a freshly restored copy of the same seeded
database; its wall time and peak RSS (os.wait4, in peak.py) are what the table
shows.
After each step the bench checks the data, so a fast wrong answer fails.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from itertools import zip_longest
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from database import server
from hand_written import revision_file
from seed import expected_teams, players
from startup import breakdown
from startup import table as startup_table

HERE = Path(__file__).resolve().parent
PLAYERS_REVISION = "5d3e0a1c2b01"
SERVERS = {"postgresql": "TEST_POSTGRES_URL", "mysql": "TEST_MYSQL_URL"}
SAMPLE = "sample revision"
SQL = "hand-written SQL"
BARE_SQL = "hand-written SQL, no Alembic"
INDEX_KEPT_SQL = "hand-written SQL, index kept"
PER_ROW = "per-row ORM loop"
BATCHED = "batched helper"


class BenchError(Exception):
    """A step failed or left wrong data."""


@dataclass
class Measure:
    seconds: float
    peak_mb: float


@dataclass
class Result:
    backend: str
    contender: str
    upgrade: Measure
    downgrade: Measure | None = None
    facts: dict[str, object] = field(default_factory=dict)


def measure(command: list[str], project: Path, url: str) -> Measure:
    """Run ``command`` as a child; its wall time and peak resident memory."""
    env = {**os.environ, "DATABASE_URL": url}
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as output:
        result = Path(tmp) / "measure.json"
        peak = [sys.executable, str(HERE / "peak.py"), str(result)]
        status = subprocess.run(
            peak + command, cwd=project, env=env, stdout=output, stderr=output
        ).returncode
        if status:
            output.seek(0)
            tail = output.read().decode(errors="replace")[-3000:]
            raise BenchError(f"{' '.join(command)} exited {status}:\n{tail}")
        return Measure(**json.loads(result.read_text()))


def contenders(project: Path, per_row: bool) -> dict[str, tuple[list, list | None]]:
    """Each contender's upgrade command, and its downgrade command if it has one."""
    alembic = str(project / ".venv" / "bin" / "alembic")
    hand_written = ["-c", str(hand_written_history(project, "best"))]
    index_kept = ["-c", str(hand_written_history(project, "index-kept"))]
    python = sys.executable
    steps = {
        SAMPLE: ([alembic, "upgrade", "head"], [alembic, "downgrade", "-1"]),
        SQL: (
            [alembic, *hand_written, "upgrade", "head"],
            [alembic, *hand_written, "downgrade", "-1"],
        ),
        BARE_SQL: (
            [python, str(HERE / "hand_written.py"), "upgrade"],
            [python, str(HERE / "hand_written.py"), "downgrade"],
        ),
        INDEX_KEPT_SQL: (
            [alembic, *index_kept, "upgrade", "head"],
            [alembic, *index_kept, "downgrade", "-1"],
        ),
        BATCHED: ([python, str(HERE / "batched.py")], None),
    }
    if per_row:
        steps[PER_ROW] = ([python, str(HERE / "per_row_orm.py")], None)
    return steps


def hand_written_history(project: Path, variant: str) -> Path:
    """An alembic.ini whose history is revision 1 and the hand-written revision 2.

    The reference then runs through the same ``alembic`` command, env.py and
    start-up as the sample, and differs from it only in revision 2.
    """
    versions, ini = history_from_revision_1(project, f"bench-hand-written-{variant}")
    revision_file(versions, variant)
    return ini


def history_from_revision_1(project: Path, name: str) -> tuple[Path, Path]:
    """A versions folder ``<name>-versions`` holding the project's revision 1,
    and ``<name>.ini``, the project's alembic.ini with that folder as history.

    Add revisions to the folder; ``alembic -c <name>.ini`` then runs them
    through the project's own env.py.
    """
    versions = project / f"{name}-versions"
    shutil.rmtree(versions, ignore_errors=True)
    versions.mkdir()
    for first in (project / "migrations" / "versions").glob(f"*{PLAYERS_REVISION}*.py"):
        shutil.copy(first, versions)
    ini = project / f"{name}.ini"
    ini.write_text(
        (project / "alembic.ini")
        .read_text()
        .replace("[alembic]\n", f"[alembic]\nversion_locations = {versions}\n", 1)
    )
    return versions, ini


def check_upgraded(url: str, rows: int, teams: int) -> dict[str, object]:
    """Teams exist once per name and every player points at its former team."""
    engine = sa.create_engine(url, poolclass=NullPool)
    query = sa.text(
        "SELECT players.id, teams.name FROM players"
        " LEFT JOIN teams ON teams.id = players.team_id ORDER BY players.id"
    )
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("players")}
        team_count = connection.scalar(sa.text("SELECT count(*) FROM teams"))
        found = connection.execution_options(yield_per=20_000).execute(query)
        mapped = without = wrong = 0
        for row, expected in zip_longest(found, players(rows, teams)):
            if (
                row is None
                or expected is None
                or tuple(row)
                != (
                    expected["id"],
                    expected["team"],
                )
            ):
                wrong += 1
            elif row[1] is None:
                without += 1
            else:
                mapped += 1
    engine.dispose()
    facts = {"teams": team_count, "mapped": mapped, "without_team": without}
    if "team" in columns or team_count != expected_teams(rows, teams) or wrong:
        raise BenchError(f"wrong data after upgrade: {facts}, {wrong} wrong players")
    return facts


def check_restored(url: str, rows: int, teams: int) -> bool:
    """Every player is back exactly as seeded, and teams is gone."""
    engine = sa.create_engine(url, poolclass=NullPool)
    query = sa.text("SELECT id, name, position, team FROM players ORDER BY id")
    with engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        found = connection.execution_options(yield_per=20_000).execute(query)
        wrong = sum(
            row is None or expected is None or dict(row._mapping) != expected
            for row, expected in zip_longest(found, players(rows, teams))
        )
    engine.dispose()
    if wrong or "teams" in tables:
        raise BenchError(f"downgrade did not restore: {wrong} players differ")
    return True


class SqliteFiles:
    """A seeded SQLite file, and a fresh copy of it for each contender."""

    name = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.seed_file = directory / "seed.sqlite3"
        self.work_file = directory / "work.sqlite3"

    def seed_url(self) -> str:
        return f"sqlite:///{self.seed_file}"

    def restore(self) -> str:
        shutil.copyfile(self.seed_file, self.work_file)
        return f"sqlite:///{self.work_file}"


class ServerDatabases:
    """A seeded database on a server, copied into a fresh one per contender."""

    def __init__(self, name: str, databases) -> None:
        self.name = name
        self.databases = databases

    def seed_url(self) -> str:
        return self.databases.create("seed").render_as_string(hide_password=False)

    def restore(self) -> str:
        work = self.databases.create("work", template="seed")
        return work.render_as_string(hide_password=False)


def bench_backend(target, project: Path, args: argparse.Namespace) -> list[Result]:
    alembic = str(project / ".venv" / "bin" / "alembic")
    seed_url = target.seed_url()
    print(f"{target.name}: seeding {args.rows:,} players", file=sys.stderr)
    measure([alembic, "upgrade", PLAYERS_REVISION], project, seed_url)
    seed = [sys.executable, str(HERE / "seed.py"), str(args.rows), str(args.teams)]
    measure(seed, project, seed_url)
    results = []
    for contender, (upgrade, downgrade) in contenders(project, args.per_row).items():
        print(f"{target.name}: {contender}", file=sys.stderr)
        url = target.restore()
        result = Result(target.name, contender, measure(upgrade, project, url))
        result.facts = check_upgraded(url, args.rows, args.teams)
        if downgrade:
            result.downgrade = measure(downgrade, project, url)
            result.facts["restored"] = check_restored(url, args.rows, args.teams)
        results.append(result)
    return results


def run(project: Path, args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    if "sqlite" in args.backends:
        with tempfile.TemporaryDirectory(prefix="bench-data-migration-") as tmp:
            results += bench_backend(SqliteFiles(Path(tmp)), project, args)
    for name, variable in SERVERS.items():
        url = os.environ.get(variable, "").strip()
        if name not in args.backends:
            continue
        if not url:
            print(f"{name}: skipped, set {variable} to bench it", file=sys.stderr)
            continue
        with server(url) as databases:
            results += bench_backend(ServerDatabases(name, databases), project, args)
    return results


def ratio(numerator: Measure | None, denominator: Measure | None) -> str:
    if numerator is None or denominator is None:
        return ""
    return f"{numerator.seconds / denominator.seconds:.2f}x"


def table(results: list[Result], args: argparse.Namespace) -> str:
    lines = [
        f"{args.rows:,} players, {args.teams:,} teams, 1% without a team. "
        "Time: wall clock of the whole child process; peak: its max RSS.",
        "",
        "| backend | contender | upgrade | peak MB | downgrade | peak MB "
        "| upgrade / SQL | downgrade / SQL | per-row loop / this |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        same = {r.contender: r for r in results if r.backend == result.backend}
        sql, per_row = same[SQL], same.get(PER_ROW)
        down = result.downgrade
        lines.append(
            f"| {result.backend} | {result.contender} "
            f"| {result.upgrade.seconds:.2f} s | {result.upgrade.peak_mb:.0f} "
            f"| {f'{down.seconds:.2f} s' if down else ''} "
            f"| {f'{down.peak_mb:.0f}' if down else ''} "
            f"| {ratio(result.upgrade, sql.upgrade)} | {ratio(down, sql.downgrade)} "
            f"| {ratio(per_row.upgrade if per_row else None, result.upgrade)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--teams", type=int, default=1_000)
    parser.add_argument("--no-per-row", dest="per_row", action="store_false")
    parser.add_argument(
        "--backends",
        type=lambda text: set(text.split(",")),
        default={"sqlite", *SERVERS},
        help="comma-separated, from sqlite,postgresql,mysql (default: all)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--startup-runs",
        type=int,
        default=7,
        help="runs per row of the start-up breakdown (0: leave it out)",
    )
    args = parser.parse_args()
    try:
        results = run(args.project.resolve(), args)
    except BenchError as error:
        sys.exit(f"bench failed: {error}")
    except sa.exc.OperationalError as error:
        # One line, naming the server but never its password.
        sys.exit(f"bench failed: {' '.join(str(error.orig).split())}")
    print(table(results, args))
    if args.startup_runs:
        rows = breakdown(args.project.resolve(), args.startup_runs)
        print(f"\n{startup_table(rows, args.startup_runs)}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
