"""Harness time per revision: a synthetic chain of revisions on SQLite and PostgreSQL.

    make bench-harness            (TEST_POSTGRES_URL adds PostgreSQL)

Bakes the default project into a temporary folder, installs it, then times the
generated stairway and base->head->base tests with 0, 50 and 100 synthetic
revisions appended to the sample history. The cost of the synthetic revisions,
(t(N) - t(0)) / N, is the harness time per revision; the ratio of that figure
at 100 and at 50 revisions is ~1.0 when the cost grows linearly. The generated
harness creates and drops its own databases.

Those runs seed rows (the default). The 100-revision chain is then timed again
with MIGRATION_SEED_ROWS=0: seeded / unseeded is what seeding costs (at most
1.5 wanted).

Last, the data checks (same answer, crash and rerun, verify): the whole
tests/test_migrations.py on the 100-revision chain, on SQLite and PostgreSQL
in one run as `make test-migrations` runs them, with the checks on and with
MIGRATION_SKIP_CHECKS naming all three (the harness as it was before them);
the fastest of three interleaved runs each. `--checks` times only that.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
SIZES = [0, 50, 100]
# The generic tests a bake brings in through tests/test_migrations.py, by node.
GENERIC = "tests/test_migrations.py"
STAIRWAY = (f"{GENERIC}::test_stairway", f"{GENERIC}::test_downgrade_leaves_no_trace")
WHOLE_HISTORY = f"{GENERIC}::test_upgrade_to_head_and_downgrade_to_base"
TESTS = [*STAIRWAY, WHOLE_HISTORY]
SAMPLE_HEAD = "8f7a6b5c4d02"

REVISION = '''"""Synthetic revision {n}: table bench_{n}, pointing at the one before.

Revision ID: {revision}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bench_{n}",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Unicode(50), nullable=False),
        sa.Column("previous_id", sa.Integer(), {reference}nullable=True),
    )
    op.create_index("ix_bench_{n}_name", "bench_{n}", ["name"])


def downgrade() -> None:
    op.drop_index("ix_bench_{n}_name", table_name="bench_{n}")
    op.drop_table("bench_{n}")
'''


def write_chain(versions: Path, count: int) -> None:
    for old in versions.glob("*_bench_*.py"):
        old.unlink()
    down = SAMPLE_HEAD
    for n in range(1, count + 1):
        revision = f"bench{n:07d}"
        reference = f'sa.ForeignKey("bench_{n - 1}.id"), ' if n > 1 else ""
        text = REVISION.format(n=n, revision=revision, down=down, reference=reference)
        (versions / f"2030_01_01_{n:04d}-{revision}_bench_{n}.py").write_text(text)
        down = revision


def harness_seconds(project: Path, backend: str, **settings: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [".venv/bin/pytest", "-q", "-p", "no:cacheprovider", "-k", backend, *TESTS],
        cwd=project,
        env={
            **os.environ,
            "REQUIRE_TEST_BACKENDS": backend.replace("sqlite", ""),
            **settings,
        },
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0 or " passed" not in result.stdout:
        sys.exit(f"ERROR: the harness failed on {backend}:\n{result.stdout[-3000:]}")
    return seconds


def main() -> None:
    backends = ["sqlite"]
    if os.environ.get("TEST_POSTGRES_URL"):
        backends.append("postgresql")
    else:
        print("note: TEST_POSTGRES_URL is not set, so PostgreSQL is left out")
    with tempfile.TemporaryDirectory() as folder:
        project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=folder))
        subprocess.run(["make", "install"], cwd=project, check=True)
        if "--checks" not in sys.argv:
            print(f"{'backend':<12}{'revisions':>10}{'seconds':>10}{'s/revision':>12}")
            for backend in backends:
                report(project, backend)
        data_checks_ratio(project, backends)


CHECKS_OFF = "same-answer crash-rerun verify"
# Interleaved rounds; the fastest run of each counts (the machine is shared).
ROUNDS = 3


def data_checks_ratio(project: Path, backends: list[str]) -> None:
    """The generated tests with the data checks on / off, on the 100 chain."""
    write_chain(project / "migrations/versions", SIZES[-1])
    settings = {"REQUIRE_TEST_BACKENDS": ",".join(backends[1:]), "TEST_MYSQL_URL": ""}
    timed = {}
    for label, skip in [("off", CHECKS_OFF), ("on", "")] * ROUNDS:
        started = time.perf_counter()
        result = subprocess.run(
            # The synthetic tables are not in models.py: no models test.
            [".venv/bin/pytest", "-q", "-p", "no:cacheprovider", GENERIC]
            + ["--deselect", f"{GENERIC}::test_models_match_migrations_at_head"],
            cwd=project,
            env={**os.environ, **settings, "MIGRATION_SKIP_CHECKS": skip},
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"ERROR: the harness failed:\n{result.stdout[-3000:]}")
        timed[label] = min(seconds, timed.get(label, seconds))
    names = "+".join(backends)
    for label in ("off", "on"):
        print(
            f"{names}: {SIZES[-1]} revisions, data checks {label}: {timed[label]:.2f} s"
        )
    ratio = timed["on"] / timed["off"]
    print(f"{names}: data checks on / off = {ratio:.2f} (at most 1.5 wanted)")


def report(project: Path, backend: str) -> None:
    per_revision = {}
    for size in SIZES:
        write_chain(project / "migrations/versions", size)
        seconds = harness_seconds(project, backend)
        if size == 0:
            baseline = seconds
            print(f"{backend:<12}{size:>10}{seconds:>10.2f}{'(baseline)':>12}")
            continue
        per_revision[size] = (seconds - baseline) / size
        print(f"{backend:<12}{size:>10}{seconds:>10.2f}{per_revision[size]:>12.4f}")
    ratio = per_revision[SIZES[-1]] / per_revision[SIZES[-2]]
    print(f"{backend}: per-revision cost at {SIZES[-1]} / at {SIZES[-2]} = {ratio:.2f}")
    unseeded = harness_seconds(project, backend, MIGRATION_SEED_ROWS="0")
    print(f"{backend:<12}{SIZES[-1]:>10}{unseeded:>10.2f}{'(unseeded)':>12}")
    print(
        f"{backend}: seeded / unseeded at {SIZES[-1]} revisions = "
        f"{seconds / unseeded:.2f} (at most 1.5 wanted)"
    )


if __name__ == "__main__":
    main()
