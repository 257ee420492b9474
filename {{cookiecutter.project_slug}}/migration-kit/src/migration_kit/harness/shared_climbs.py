"""Under pytest-xdist: what each backend's climb found, for the other processes.

Each worker climbs its own backends (parallel.py), but the same-answer check
compares the rows of every backend, and the closing lines count what every
climb did. So after each climb the worker writes what it found into a
directory the controller made for the run: the answers (same_answer.py), the
verify() runs, the crash-rerun tally and the tables left unseeded. The worker
that runs the same-answer tests reads every backend's file first, waiting for
the climbs still going on other workers; the controller reads them all for
the closing lines.
"""

import pickle
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from . import crash_rerun, data_checks, same_answer, seeding
from .disposable_database import BACKENDS

# The key of the run's directory in what the controller sends each worker.
KEY = "migration_kit_shared_climbs"
# The run's directory, in the controller and its workers; None in one process.
DIRECTORY: Path | None = None
SHARED = ".climbed"
ENDED = ".ended"


def make_directory() -> Path:
    """The controller's: made once, before the first worker starts."""
    global DIRECTORY
    if DIRECTORY is None:
        DIRECTORY = Path(tempfile.mkdtemp(prefix="migration-climbs-"))
    return DIRECTORY


def use_directory(workerinput: dict[str, Any]) -> None:
    """A worker's: the directory its controller named."""
    global DIRECTORY
    DIRECTORY = Path(workerinput[KEY])


def remove_directory() -> None:
    global DIRECTORY
    if DIRECTORY is not None:
        shutil.rmtree(DIRECTORY, ignore_errors=True)
        DIRECTORY = None


def share(backend: str) -> None:
    """Write what ``backend``'s climb found, once; in one process, nothing."""
    if DIRECTORY is None or (DIRECTORY / f"{backend}{SHARED}").exists():
        return
    # All this process found so far: its findings name MySQL's as mariadb's
    # on MariaDB, and those of the backends it climbed before are the same.
    found = {
        "answers": same_answer.ANSWERS,
        "seeded_anew": same_answer.SEEDED_ANEW,
        "verified": data_checks.VERIFIED,
        "tally": crash_rerun.TALLY,
        "not_seeded": seeding.NOT_SEEDED,
    }
    written = DIRECTORY / f"{backend}.writing"
    written.write_bytes(pickle.dumps(found))
    # Whole or not there: a reader never sees half a file.
    written.replace(DIRECTORY / f"{backend}{SHARED}")


def ended(worker: str) -> None:
    """A worker's last word: it climbs nothing more."""
    if DIRECTORY is not None:
        (DIRECTORY / f"{worker}{ENDED}").touch()


def wait_and_read(backends: set[str], workerinput: dict[str, Any]) -> None:
    """Wait until ``backends`` have all been climbed, then read them.

    The scheduler hands these tests out after every climb (parallel.py), so
    each climb is on another worker, going or queued, and ends. A worker that
    ends without climbing its backend (-x stopped the run) stops the wait.
    """
    if DIRECTORY is None:
        return
    others = {f"gw{n}" for n in range(workerinput["workercount"])}
    others.discard(workerinput["workerid"])
    while not (names(SHARED) >= backends or names(ENDED) >= others):
        time.sleep(0.1)
    read()


def names(suffix: str) -> set[str]:
    """The backends shared, or the workers ended, so far."""
    assert DIRECTORY is not None
    return {path.name.removesuffix(suffix) for path in DIRECTORY.glob(f"*{suffix}")}


def read() -> list[str]:
    """Add every shared climb to this process's findings; the backends read."""
    if DIRECTORY is None:
        return []
    backends = [b for b in BACKENDS if b in names(SHARED)]
    for backend in backends:
        found = pickle.loads((DIRECTORY / f"{backend}{SHARED}").read_bytes())
        for revision, answers in found["answers"].items():
            same_answer.ANSWERS.setdefault(revision, {}).update(answers)
        for revision, on in found["verified"].items():
            data_checks.VERIFIED.setdefault(revision, set()).update(on)
        for kept, more in [
            (same_answer.SEEDED_ANEW, found["seeded_anew"]),
            (crash_rerun.TALLY, found["tally"]),
            (seeding.NOT_SEEDED, found["not_seeded"]),
        ]:
            for key, value in more.items():
                kept.setdefault(key, value)
    # In the order one process climbs them: the lines name them in it.
    for revision, on in same_answer.ANSWERS.items():
        same_answer.ANSWERS[revision] = dict(sorted(on.items(), key=climb_order))
    ordered = sorted(crash_rerun.TALLY.items(), key=climb_order)
    crash_rerun.TALLY.clear()
    crash_rerun.TALLY.update(ordered)
    return backends


def climb_order(item: tuple[str, Any]) -> int:
    return CLIMB_ORDER.index(item[0]) if item[0] in CLIMB_ORDER else len(CLIMB_ORDER)


CLIMB_ORDER = ["sqlite", "postgresql", "mysql", "mariadb"]
