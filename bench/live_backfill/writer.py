"""The application: short writes to random players at a steady rate.

    python writer.py RESULT_FILE --rows N [--rate 100] [--connections 8]

Run in the baked project's virtual environment with DATABASE_URL set. Prints
"ready" once its connections are open, writes until its stdin closes, lets the
writes in flight finish, then writes RESULT_FILE (JSON): each write's wait in
ms, the failed ones, and the names it wrote per player.

Each write is ``UPDATE players SET name = ... WHERE id = <random>`` in its own
autocommit transaction. Writes are due on a fixed schedule (open loop), and a
write's wait runs from when it was due to when it committed: when every
connection is stuck behind a lock, the writes due meanwhile queue up, as an
application's requests would, and their queueing counts as waiting too.
"""

import argparse
import json
import os
import queue
import random
import sys
import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

WRITE = sa.text("UPDATE players SET name = :name WHERE id = :id")
STOP = None


@dataclass
class Log:
    """What the writes saw; appended to from every connection's thread."""

    waits_ms: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    names: dict[int, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, due: float, player: int, name: str, error: str | None) -> None:
        wait = (time.perf_counter() - due) * 1000
        with self.lock:
            self.waits_ms.append(wait)
            if error:
                self.failed.append(error)
            else:
                self.names.setdefault(player, []).append(name)


def connection_loop(
    engine: sa.Engine, due_writes: queue.Queue, log: Log, opened: threading.Barrier
) -> None:
    """One application connection: take the next due write, run it, record it."""
    with engine.connect() as connection:
        opened.wait(timeout=60)
        while (write := due_writes.get()) is not STOP:
            due, player, name = write
            try:
                connection.execute(WRITE, {"id": player, "name": name})
                log.record(due, player, name, None)
            except sa.exc.DBAPIError as error:
                # MariaDB gives up after innodb_lock_wait_timeout (50 s).
                log.record(due, player, name, " ".join(str(error.orig).split()))


def schedule(due_writes: queue.Queue, rows: int, rate: float, stop: threading.Event):
    """Queue a write every 1/rate seconds, each due at its own slot in time."""
    started = time.perf_counter()
    sequence = 0
    while not stop.is_set():
        due = started + sequence / rate
        time.sleep(max(due - time.perf_counter(), 0))
        due_writes.put((due, random.randint(1, rows), f"written {sequence}"))
        sequence += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", help="where to write the JSON result")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    engine = sa.create_engine(
        os.environ["DATABASE_URL"], isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    due_writes: queue.Queue = queue.Queue()
    log = Log()
    # The writes start only once every connection is open, so the first
    # waits are not connection set-up.
    opened = threading.Barrier(args.connections + 1)
    threads = [
        # Daemons, so Ctrl-C ends the process even while they wait on a lock.
        threading.Thread(
            target=connection_loop,
            args=(engine, due_writes, log, opened),
            daemon=True,
        )
        for _ in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    opened.wait(timeout=60)
    stop = threading.Event()
    scheduler = threading.Thread(
        target=schedule, args=(due_writes, args.rows, args.rate, stop), daemon=True
    )
    print("ready", flush=True)
    scheduler.start()
    sys.stdin.read()  # the runner closes stdin when the backfill is over
    stop.set()
    scheduler.join()
    for _ in threads:
        due_writes.put(STOP)
    for thread in threads:
        thread.join()
    engine.dispose()
    with open(args.result, "w") as file:
        json.dump(
            {"waits_ms": log.waits_ms, "failed": log.failed, "names": log.names}, file
        )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        # Ctrl-C reaches the whole bench; the runner says what happened.
        sys.exit(130)
