"""The harness on a history shaped like the ones users bring, on every backend.

The fixture history (tests/fixtures/real_history, its README draws it) has a
`pass` downgrade declared irreversible, a broken downgrade followed by good
revisions, an upgrade that fails on generated rows in the middle (and passes
on empty tables, where its downgrade is tested), a broken upgrade on a side
branch, branches and merges, three roots, a depends_on, a revision per
dialect, one importing the application and ruff-dirty legacy code. One run
must name every broken revision, once each.
"""

import re
import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest

from .baking import HISTORY, STAIRWAY, WHOLE_HISTORY, run
from .test_harness import added, pytest_in, require_servers

FIXTURE = Path(__file__).parent / "fixtures" / "real_history"
HARNESS = (
    *STAIRWAY,
    WHOLE_HISTORY,
    *HISTORY,
)
BROKEN_DOWNGRADE = "aaaa00000003 (Add accounts.created_at.)"
FAILS_ON_ROWS = (
    "cccc00000006 (Create payments, on another branch: one per invoice, "
    "paid by its account.)"
)
GOT_PAST = (
    "it passed on empty tables, so the revisions after it were tested from "
    "there, on rows generated anew"
)
BROKEN_UPGRADE = (
    "555500000011 (Index invoices by a column that was never added, on a side branch.)"
)
IRREVERSIBLE = (
    "IRREVERSIBLE aaaa00000002 (Drop accounts.nickname, which nobody used.): "
    "the nicknames are gone, a downgrade cannot bring them back"
)
MYSQL_KEPT = "MySQL/MariaDB kept what ran before the error: the database may be "


@pytest.fixture(scope="module")
def project(install) -> Path:
    """A default bake, its own: its revisions are replaced by the fixture's."""
    return install("real_history", project_name="Real History")


def use_history(
    project: Path, without: tuple[str, ...] = (), setting: str = ""
) -> None:
    """The fixture's revisions and application package, minus ``without``."""
    versions = project / "migrations" / "versions"
    shutil.rmtree(versions)
    shutil.copytree(FIXTURE / "versions", versions)
    for prefix in without:
        for path in versions.glob(f"{prefix}_*.py"):
            path.unlink()
    shutil.copytree(FIXTURE / "legacy_app", project / "legacy_app", dirs_exist_ok=True)
    for sample_test in (project / "tests").glob("test_sample_*.py"):
        sample_test.unlink()  # they test the sample revisions, gone here
    ini = project / "alembic.ini"
    text = re.sub(r"(?m)^oldest_tested_downgrade = .*\n", "", ini.read_text())
    if setting:
        text = text.replace("[alembic]\n", f"[alembic]\n{setting}\n", 1)
    ini.write_text(text)


def fix_broken_downgrade(project: Path) -> None:
    revision = project / "migrations/versions/0003_a3_created_at.py"
    text = revision.read_text().replace('"created")', '"created_at")')
    revision.write_text(text)


def fix_upgrade_that_fails_on_rows(project: Path) -> None:
    edit_payments(
        project, "FROM invoices", "FROM invoices WHERE account_id IS NOT NULL"
    )


def edit_payments(project: Path, old: str, new: str) -> None:
    """cccc00000006, the revision whose upgrade fails on rows, edited."""
    revision = project / "migrations/versions/0006_c6_payments.py"
    revision.write_text(revision.read_text().replace(old, new))


def seeded(line: str, backend: str) -> str:
    """A failure line as the seeded stairway ends it: the seed and the replay."""
    revision = line.removeprefix("BROKEN ").removeprefix("revision ").split(" ")[0]
    command = (
        ".venv/bin/pytest tests/test_migrations.py"
        f' -k "(stairway or trace) and {backend} and {revision}"'
    )
    return f"{line} (seed 20260101; replay: MIGRATION_SEED=20260101 {command})"


def summary_lines(output: str, start: str) -> list[str]:
    # The line number in a SKIPPED line moves with every edit of the test.
    return [
        re.sub(r"^(SKIPPED \[\d+\]) \S+:\d+:", r"\1", line)
        for line in output.splitlines()
        if line.startswith(start)
    ]


def test_one_run_names_every_broken_revision_on_every_backend(project: Path) -> None:
    require_servers()
    use_history(project)

    result = pytest_in(project, "-rA", *HARNESS)

    out = result.stdout
    assert result.returncode == 1, out
    assert summary_lines(out, "BROKEN ") == every_broken_revision(out)
    # Declared once for the run, not once per backend.
    assert summary_lines(out, "IRREVERSIBLE ") == [IRREVERSIBLE]
    assert summary_lines(out, "SKIPPED ") == [
        # 555500000012 and the merge after it, two tests each, on 3 backends.
        f"SKIPPED [12] not reached: revision {BROKEN_UPGRADE} failed to upgrade",
        f"SKIPPED [3] revision {BROKEN_DOWNGRADE}: no downgrade to compare, "
        "see its stairway",
        f"SKIPPED [3] revision {BROKEN_UPGRADE}: no downgrade to compare, "
        "see its stairway",
    ]
    # The upgrade that fails on rows passed on empty tables, and its downgrade
    # there left nothing behind.
    passed = summary_lines(out, "PASSED ")
    for backend in ("sqlite", "postgresql", "mysql"):
        assert f"PASSED {NO_TRACE}[{backend}-cccc00000006]" in passed
    failed = [line.split(" - ")[0] for line in summary_lines(out, "FAILED ")]
    assert failed == [
        f"FAILED tests/{test}[{backend}{revision}]"
        for backend in ("sqlite", "postgresql", "mysql")
        for test, revision in [
            ("test_migrations.py::test_stairway", "-aaaa00000003"),
            ("test_migrations.py::test_stairway", "-cccc00000006"),
            ("test_migrations.py::test_stairway", "-555500000011"),
            (
                "test_migrations.py::test_upgrade_to_head_and_downgrade_to_base",
                "",
            ),
        ]
    ]
    # The revisions after the broken downgrade and after the upgrade that
    # fails on rows, on the branches beside the broken upgrade and across
    # every merge were all tested, on each backend.
    assert out.rstrip().splitlines()[-1].strip("= ").split(" in ")[0] == (
        "12 failed, 68 passed, 18 skipped"
    )
    message = (
        f"revision {BROKEN_DOWNGRADE}: downgrade failed: UndefinedColumn: "
        'column "created" of relation "accounts" does not exist'
    )
    assert seeded(message, "postgresql") + "\n" in out


def test_two_workers_climb_each_backend_once_and_name_every_broken_revision(
    project: Path,
) -> None:
    """Three backends on two cores or more: pytest-xdist workers by default, a
    backend's tests on one worker, and the run ends as one process (-n 0)
    ends it, the same answers compared across every backend."""
    require_servers()
    use_history(project)
    selection = (*HARNESS, SAME_ANSWER)

    result = pytest_in(project, *selection)
    alone = pytest_in(project, "-n", "0", *selection)

    out = result.stdout
    assert result.returncode == 1, out
    assert re.search(r"^created: [23]/[23] workers$", out, re.MULTILINE), out
    assert " workers" not in alone.stdout
    assert summary_lines(out, "BROKEN ") == every_broken_revision(out)
    assert summary_lines(out, "IRREVERSIBLE ") == [IRREVERSIBLE]
    # Each stairway climbed once: one list of its slowest revisions.
    slowest = [line.strip("- ") for line in out.splitlines() if "slowest rev" in line]
    assert slowest == [
        f"slowest revisions on {backend}"
        for backend in ("sqlite", "postgresql", "mysql")
    ]
    # Each worker saw its own backend's rows; the one that compared, all.
    mysql = "mariadb" if " on mariadb: " in out else "mysql"
    assert re.fullmatch(
        rf"SAME ANSWER compared \d+ revisions across {mysql}, postgresql, sqlite",
        summary_lines(out, "SAME ANSWER ")[0],
    ), out
    assert closing_lines(out) == closing_lines(alone.stdout)
    assert outcome(out) == outcome(alone.stdout)


SAME_ANSWER = "tests/test_migrations.py::test_same_answer_on_every_backend"
# The lines a run ends with, the harness's and pytest's short summary.
CLOSING = ("BROKEN", "IRREVERSIBLE", "SEEDED", "NOT ", "SAME", "CRASH", "VERIFIED")


def closing_lines(out: str) -> list[str]:
    lines = summary_lines(out, "")
    return [line for line in lines if line.startswith(CLOSING)] + [
        line.split(" - ")[0] for line in lines if line.startswith(("FAILED", "SKIP"))
    ]


def outcome(out: str) -> str:
    """The counts of the last line, without its time (and the deselected
    count, which only one process knows)."""
    last = out.rstrip().splitlines()[-1].strip("= ").split(" in ")[0]
    return re.sub(r", \d+ deselected", "", last)


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ({"MIGRATION_SKIP_CHECKS": "all"}, "MIGRATION_SKIP_CHECKS names no check"),
        (
            {"TEST_MYSQL_URL": "mysql+pymysql://root@127.0.0.1:1/test"},
            "cannot connect to TEST_MYSQL_URL",
        ),
        (
            {"TEST_MYSQL_URL": "", "REQUIRE_TEST_BACKENDS": "mysql"},
            "mysql: set TEST_MYSQL_URL to a server URL",
        ),
    ],
)
def test_a_setup_problem_with_workers_is_one_error_line(
    project: Path, setting: dict[str, str], error: str
) -> None:
    """Checked before the workers start: a worker's usage error would end the
    run in a traceback of pytest-xdist's."""
    require_servers()
    use_history(project)

    result = pytest_in(project, "-n", "2", **setting)

    assert result.returncode == 4, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"ERROR: {error}"), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "no tests ran" in result.stdout.splitlines()[-1], result.stdout


NO_TRACE = "tests/test_migrations.py::test_downgrade_leaves_no_trace"
NO_SUCH_INDEX = {  # the downgrade of cccc00000006 on empty tables, edited
    "sqlite": "downgrade failed: OperationalError: no such index: ix_payments_currency",
    "postgresql": "downgrade failed: UndefinedObject: index "
    '"ix_payments_currency" does not exist',
    "mysql": "downgrade failed: OperationalError: (1091, \"Can't DROP INDEX "
    f'`ix_payments_currency`; check that it exists"); {MYSQL_KEPT}partly '
    "downgraded, while alembic_version still names the revision itself",
}


def test_a_broken_downgrade_is_named_where_its_upgrade_passed_on_empty_tables(
    project: Path,
) -> None:
    """cccc00000006 fails on rows, passes on empty tables: its downgrade is
    tested there, and the revisions after it still are, on every backend."""
    require_servers()
    use_history(project)
    edit_payments(
        project,
        '    op.drop_table("payments")',
        '    op.drop_index("ix_payments_currency", "payments")\n'
        '    op.drop_table("payments")',
    )

    result = pytest_in(project, "-rA", *HARNESS)

    out = result.stdout
    assert result.returncode == 1, out
    assert summary_lines(out, "BROKEN ") == every_broken_revision(out, NO_SUCH_INDEX)
    message = (
        f"revision {FAILS_ON_ROWS}: upgrade failed: NotNullViolation: null value "
        'in column "account_id" of relation "payments" violates not-null '
        "constraint DETAIL: Failing row contains (4, EUR, null).; "
        f"{GOT_PAST}; on empty tables, {NO_SUCH_INDEX['postgresql']}"
    )
    assert seeded(message, "postgresql") + "\n" in out
    assert summary_lines(out, "SKIPPED ") == [
        f"SKIPPED [12] not reached: revision {BROKEN_UPGRADE} failed to upgrade",
        *(
            f"SKIPPED [3] revision {revision}: no downgrade to compare, "
            "see its stairway"
            for revision in (BROKEN_DOWNGRADE, FAILS_ON_ROWS, BROKEN_UPGRADE)
        ),
    ]
    # The merge built on it was climbed from there, on every backend.
    passed = summary_lines(out, "PASSED ")
    for backend in ("sqlite", "postgresql", "mysql"):
        for test in ("test_stairway", "test_downgrade_leaves_no_trace"):
            assert (
                f"PASSED tests/test_migrations.py::{test}[{backend}-eeee00000007]"
                in passed
            )
    assert out.rstrip().splitlines()[-1].strip("= ").split(" in ")[0] == (
        "12 failed, 65 passed, 21 skipped"
    )


def test_a_downgrade_trace_is_named_where_its_upgrade_passed_on_empty_tables(
    project: Path,
) -> None:
    require_servers()
    use_history(project)
    # Its upgrade makes an index that its downgrade does not drop.
    edit_payments(
        project,
        "    op.execute(",
        '    op.create_index("ix_invoices_id_account_id", "invoices", '
        '["id", "account_id"])\n    op.execute(',
    )

    result = pytest_in(project, *HARNESS)

    out = result.stdout
    assert result.returncode == 1, out
    # The index left behind breaks the upgrade again, as on any stair.
    assert summary_lines(out, "BROKEN ") == every_broken_revision(out, INDEX_LEFT)
    for backend, trace in INDEX_TRACE.items():
        test = f"test_downgrade_leaves_no_trace[{backend}-cccc00000006]"
        assert failure_text(out, test) == (
            f"revision {FAILS_ON_ROWS}: its downgrade on empty tables left a trace:"
            f"\n  table invoices, indexes: left {trace}"
        )
    assert out.rstrip().splitlines()[-1].strip("= ").split(" in ")[0] == (
        "15 failed, 65 passed, 18 skipped"
    )


INDEX_LEFT = {  # the upgrade again of cccc00000006 on empty tables, edited
    "sqlite": "upgrade again failed: OperationalError: index "
    "ix_invoices_id_account_id already exists",
    "postgresql": "upgrade again failed: DuplicateTable: relation "
    '"ix_invoices_id_account_id" already exists',
    "mysql": 'upgrade again failed: OperationalError: (1061, "Duplicate key name '
    f"'ix_invoices_id_account_id'\"); {MYSQL_KEPT}partly upgraded, while "
    "alembic_version still names the revisions before it",
}
REFLECTED_INDEX = (
    "[('column_names', ['id', 'account_id']), ('name', 'ix_invoices_id_account_id')]"
)
INDEX_TRACE = {
    "sqlite": REFLECTED_INDEX,
    "postgresql": "CREATE INDEX ix_invoices_id_account_id ON tenant_schema.invoices "
    "USING btree (id, account_id)",
    "mysql": REFLECTED_INDEX,
}


def failure_text(out: str, test: str) -> str:
    """What pytest printed for one failed test, between its header and the next."""
    section = re.split(rf"_+ {re.escape(test)} _+\n", out)[1]
    return re.split(r"\n[_=]{3,} ", section)[0]


def every_broken_revision(
    out: str, on_empty_tables: dict[str, str] | None = None
) -> list[str]:
    """The BROKEN lines the fixture history ends a run with, in order.

    ``on_empty_tables``: per backend, how cccc00000006's downgrade (or upgrade
    again) failed there.
    """
    mysql = "mariadb" if " on mariadb: " in out else "mysql"
    got_past = {
        backend: f"{GOT_PAST}; on empty tables, {failure}"
        for backend, failure in (on_empty_tables or {}).items()
    }
    return [
        seeded(
            f"BROKEN {BROKEN_DOWNGRADE} downgrade on sqlite: KeyError: 'created'",
            "sqlite",
        ),
        seeded(
            f"BROKEN {FAILS_ON_ROWS} upgrade on sqlite: IntegrityError: "
            "NOT NULL constraint failed: payments.account_id; "
            f"{got_past.get('sqlite', GOT_PAST)}",
            "sqlite",
        ),
        seeded(
            f"BROKEN {BROKEN_UPGRADE} upgrade on sqlite: "
            "OperationalError: no such column: number",
            "sqlite",
        ),
        seeded(
            f"BROKEN {BROKEN_DOWNGRADE} downgrade on postgresql: UndefinedColumn: "
            'column "created" of relation "accounts" does not exist',
            "postgresql",
        ),
        seeded(
            f"BROKEN {FAILS_ON_ROWS} upgrade on postgresql: NotNullViolation: "
            'null value in column "account_id" of relation "payments" violates '
            "not-null constraint DETAIL: Failing row contains (4, EUR, null).; "
            f"{got_past.get('postgresql', GOT_PAST)}",
            "postgresql",
        ),
        seeded(
            f"BROKEN {BROKEN_UPGRADE} upgrade on postgresql: "
            'UndefinedColumn: column "number" does not exist',
            "postgresql",
        ),
        seeded(
            f"BROKEN {BROKEN_DOWNGRADE} downgrade on {mysql}: OperationalError: "
            '(1091, "Can\'t DROP COLUMN `created`; check that it exists"); '
            f"{MYSQL_KEPT}partly downgraded, while alembic_version still names "
            "the revision itself",
            "mysql",
        ),
        seeded(
            f"BROKEN {FAILS_ON_ROWS} upgrade on {mysql}: IntegrityError: "
            "(1048, \"Column 'account_id' cannot be null\"); "
            f"{MYSQL_KEPT}partly upgraded, while alembic_version still names "
            f"the revisions before it; {got_past.get('mysql', GOT_PAST)}",
            "mysql",
        ),
        seeded(
            f"BROKEN {BROKEN_UPGRADE} upgrade on {mysql}: OperationalError: "
            "(1072, \"Key column 'number' doesn't exist in table\"); "
            f"{MYSQL_KEPT}partly upgraded, while alembic_version still names "
            "the revisions before it",
            "mysql",
        ),
    ]


def test_fixed_history_passes_with_a_legacy_part_left_untested(project: Path) -> None:
    """Downgrading "to base" stops at the newest irreversible point, exactly."""
    require_servers()
    use_history(
        project,
        without=("0013", "0014", "0016"),  # the broken side branch and its merge
        setting="oldest_tested_downgrade = eeee00000007",
    )
    fix_broken_downgrade(project)
    fix_upgrade_that_fails_on_rows(project)

    result = pytest_in(project, *HARNESS)

    assert result.returncode == 0, result.stdout
    assert summary_lines(result.stdout, "IRREVERSIBLE ") == [
        IRREVERSIBLE,
        "IRREVERSIBLE 6 revisions older than eeee00000007 "
        "(Merge invoice lines and payments.): oldest_tested_downgrade in alembic.ini",
    ]
    # Per backend 13 stairs, 7 downgrades (6 are legacy), 1 base<->head;
    # and the 2 history tests.
    assert "skipped" not in result.stdout
    assert re.search(r"\n=+ 65 passed in ", result.stdout), result.stdout


@pytest.mark.parametrize(
    ("without", "setting", "error"),
    [
        (
            (),
            "oldest_tested_downgrade = nope",
            "ERROR: alembic.ini: oldest_tested_downgrade = nope is not a revision "
            "of migrations/versions: give the id of the oldest revision whose "
            "downgrade is tested (alembic history lists them), or leave it empty "
            "to test every downgrade.",
        ),
        (
            ("0016",),  # the last merge
            "",
            "ERROR: the history has 2 heads (555500000012, 777700000012), so head "
            'is ambiguous: join them with alembic merge heads -m "merge", then '
            "run again.",
        ),
    ],
)
def test_a_history_that_cannot_run_is_one_line(
    project: Path, without: tuple[str, ...], setting: str, error: str
) -> None:
    use_history(project, without=without, setting=setting)

    result = pytest_in(project, *HARNESS)

    assert result.returncode == 4, result.stdout
    assert result.stderr.strip() == error


# A data-only revision on each branch: the project's models stay as they are.
DATA_REVISION = '''"""Rename the position {old} to {new}.

Revision ID: {revision}
Revises: 8f7a6b5c4d02
"""

from alembic import op

revision = "{revision}"
down_revision = "8f7a6b5c4d02"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE players SET position = '{new}' WHERE position = '{old}'")


def downgrade() -> None:
    op.execute("UPDATE players SET position = '{old}' WHERE position = '{new}'")
'''
BRANCHES = [("b1a2c3d4e5f6", "goalie", "keeper"), ("c1a2b3d4e5f6", "winger", "wing")]


def test_two_branches_and_their_merge_pass_make_test_migrations(install) -> None:
    """What the one-head error says to do leaves a history the harness passes."""
    project = install("default")
    versions = project / "migrations" / "versions"
    with ExitStack() as cleanup:
        for day, (revision, old, new) in enumerate(BRANCHES, start=1):
            path = versions / f"2026_02_0{day}_0000-{revision}_rename_{old}.py"
            text = DATA_REVISION.format(revision=revision, old=old, new=new)
            cleanup.enter_context(added(path, text))
        before = set(versions.glob("*.py"))
        run([".venv/bin/alembic", "merge", "heads", "-m", "merge"], cwd=project)
        [merge] = set(versions.glob("*.py")) - before
        cleanup.callback(merge.unlink)
        result = subprocess.run(
            ["make", "test-migrations"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=900,
        )

    assert result.returncode == 0, result.stdout + result.stderr
    # Both branches and the merge were climbed: the slowest-revisions report.
    for revision, _, _ in BRANCHES:
        assert f"{revision} (Rename the position" in result.stdout
    assert "BROKEN" not in result.stdout
