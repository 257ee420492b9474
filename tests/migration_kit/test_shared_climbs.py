"""What each pytest-xdist worker's climbs share with the run (shared_climbs.py):
read back in the order one process climbs, and a wait that always ends."""

import threading
from pathlib import Path

import pytest
from migration_kit.harness import crash_rerun, data_checks, same_answer, seeding
from migration_kit.harness import shared_climbs as shared

WORKERS = {"workerid": "gw0", "workercount": 2}


@pytest.fixture(autouse=True)
def run_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run's directory, and this process's findings empty."""
    monkeypatch.setattr(shared, "DIRECTORY", tmp_path)
    monkeypatch.setattr(same_answer, "ANSWERS", {})
    monkeypatch.setattr(same_answer, "SEEDED_ANEW", {})
    monkeypatch.setattr(data_checks, "VERIFIED", {})
    monkeypatch.setattr(crash_rerun, "TALLY", {})
    monkeypatch.setattr(seeding, "NOT_SEEDED", {})
    return tmp_path


def climbed_elsewhere(backend: str, **answers: str) -> None:
    """What another worker found and shared; this process keeps none of it."""
    mine = same_answer.ANSWERS, crash_rerun.TALLY
    same_answer.ANSWERS, crash_rerun.TALLY = {"r1": answers}, {}
    crash_rerun.TALLY.update((name, crash_rerun.Tally(revisions=1)) for name in answers)
    shared.share(backend)
    same_answer.ANSWERS, crash_rerun.TALLY = mine


def test_every_workers_climbs_are_read_in_the_order_one_process_climbs() -> None:
    # This worker climbed MySQL (on MariaDB); the other PostgreSQL and SQLite.
    same_answer.ANSWERS["r1"] = {"mariadb": "m"}
    crash_rerun.TALLY["mariadb"] = crash_rerun.Tally(revisions=1)
    climbed_elsewhere("postgresql", postgresql="p", sqlite="s")

    assert shared.read() == ["postgresql"]
    assert list(same_answer.ANSWERS["r1"].items()) == [
        ("sqlite", "s"),
        ("postgresql", "p"),
        ("mariadb", "m"),
    ]
    assert list(crash_rerun.TALLY) == ["sqlite", "postgresql", "mariadb"]


def test_the_wait_ends_once_every_backend_has_climbed() -> None:
    waiting = threading.Thread(
        target=shared.wait_and_read, args=({"sqlite", "mysql"}, WORKERS), daemon=True
    )
    waiting.start()
    climbed_elsewhere("sqlite", sqlite="s")
    climbed_elsewhere("mysql", mariadb="m")
    waiting.join(timeout=60)

    assert not waiting.is_alive()
    assert same_answer.ANSWERS == {"r1": {"sqlite": "s", "mariadb": "m"}}


def test_the_wait_ends_when_the_other_workers_end_without_a_climb() -> None:
    """-x stopped the run before MySQL was climbed: nothing more will come."""
    waiting = threading.Thread(
        target=shared.wait_and_read, args=({"mysql"}, WORKERS), daemon=True
    )
    waiting.start()
    shared.ended("gw1")
    waiting.join(timeout=60)

    assert not waiting.is_alive()
    assert same_answer.ANSWERS == {}


def test_one_process_shares_nothing_and_waits_for_nothing(
    monkeypatch: pytest.MonkeyPatch, run_directory: Path
) -> None:
    monkeypatch.setattr(shared, "DIRECTORY", None)
    same_answer.ANSWERS["r1"] = {"sqlite": "s"}

    shared.share("sqlite")
    shared.wait_and_read({"mysql"}, WORKERS)

    assert list(run_directory.iterdir()) == []
    assert shared.read() == []
