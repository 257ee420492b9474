"""`make squash` on an adopted history: same findings after the squash point,
and databases migrated before the squash upgrade to head after it.

    .venv/bin/python bench/adoption/adopt.py mlflow --into build/adoption
    .venv/bin/python bench/adoption/squash.py build/adoption/mlflow-migrations

Needs TEST_POSTGRES_URL and TEST_MYSQL_URL (the squash proves itself on
every backend). It squashes to the revision halfway through the history, so
it changes the project: adopt again to repeat. Steps and figures are printed.
"""

import os
import re
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import sqlalchemy as sa

FAILED = re.compile(r"^FAILED (\S+)", re.M)
PARAMETER = re.compile(r"\[(?:[a-z]+-)?([0-9a-f]{12})\]")


def sh(command: list[str], cwd: Path, env: dict | None = None, check: bool = True):
    print("   $", " ".join(command), flush=True)
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result, seconds


def order(project: Path) -> list[str]:
    """Revision ids, oldest first."""
    listing, _ = sh([".venv/bin/alembic", "history"], project)
    ids = re.findall(r"-> ([0-9a-f]{12})", listing.stdout)
    return list(reversed(ids))


def findings(project: Path) -> tuple[set[str], str, float]:
    result, seconds = sh(
        [".venv/bin/pytest", "-q", "-p", "no:cacheprovider", "-rf"],
        project,
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1]
    return set(FAILED.findall(result.stdout)), summary, seconds


@contextmanager
def server_database(variable: str) -> str:
    admin = sa.make_url(os.environ[variable])
    name = f"squashbench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            if admin.get_backend_name() == "postgresql":
                connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
            else:
                connection.exec_driver_sql(f"DROP DATABASE {name}")
        engine.dispose()


def after(test_id: str, later: set[str]) -> bool:
    """A test of a revision after the squash point, or of the whole history."""
    found = PARAMETER.search(test_id)
    return found is None or found.group(1) in later


def main() -> int:
    project = Path(sys.argv[1]).resolve()
    revisions = order(project)
    target = revisions[len(revisions) // 2 - 1]
    later = set(revisions[len(revisions) // 2 :])
    print(f"== {len(revisions)} revisions; squash to {target} (#{len(revisions) // 2})")

    print("== before: make test-migrations")
    failed_before, summary_before, seconds_before = findings(project)
    print(f"   {summary_before} ({seconds_before:.0f} s)")

    with ExitStack() as stack:
        urls = {
            "sqlite": f"sqlite:///{project / 'before-squash.sqlite3'}",
            "postgresql": stack.enter_context(server_database("TEST_POSTGRES_URL")),
            "mysql": stack.enter_context(server_database("TEST_MYSQL_URL")),
        }
        print(f"== databases migrated to {target} before the squash")
        for url in urls.values():
            sh([".venv/bin/alembic", "upgrade", target], project, {"DATABASE_URL": url})

        print("== make squash")
        squashed, seconds = sh(["make", "squash", f"to={target}"], project)
        print(f"   {squashed.stdout.strip().splitlines()[-1]} ({seconds:.0f} s)")

        print("== the same databases, upgraded to head after it")
        for backend, url in urls.items():
            sh([".venv/bin/alembic", "upgrade", "head"], project, {"DATABASE_URL": url})
            current, _ = sh(
                [".venv/bin/alembic", "current"], project, {"DATABASE_URL": url}
            )
            print(f"   {backend}: {current.stdout.strip()}")

    print("== after: make test-migrations")
    failed_after, summary_after, seconds_after = findings(project)
    print(f"   {summary_after} ({seconds_after:.0f} s)")
    kept = {t for t in failed_before if after(t, later)}
    now = {t for t in failed_after if after(t, later | {target})}
    print(f"   failures after the squash point: before {len(kept)}, after {len(now)}")
    for test_id in sorted(kept ^ now):
        print(f"   {'only before' if test_id in kept else 'only after'}: {test_id}")
    return 0 if kept == now else 1


if __name__ == "__main__":
    sys.exit(main())
