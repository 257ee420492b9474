"""Time every SQL statement of one alembic command, in process.

    python statements.py [-c INI] upgrade head | downgrade -1

Run from the baked project's root with DATABASE_URL set. Listens to every
engine's cursor executions, runs the command through Alembic's API, and
prints each statement with its time, then what ran outside SQL: env.py,
revision loading, Python between statements.
"""

import argparse
import time

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

WIDTH = 90


class StatementClock:
    """Wall time of each statement run on any engine."""

    def __init__(self) -> None:
        self.timings: list[tuple[float, str]] = []
        self._started = 0.0
        sa.event.listen(sa.Engine, "before_cursor_execute", self.before)
        sa.event.listen(sa.Engine, "after_cursor_execute", self.after)

    def before(self, *_args) -> None:
        self._started = time.perf_counter()

    def after(self, _connection, _cursor, statement: str, *_args) -> None:
        text = " ".join(statement.split())
        self.timings.append((time.perf_counter() - self._started, text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="alembic.ini")
    parser.add_argument("direction", choices=("upgrade", "downgrade"))
    parser.add_argument("revision")
    args = parser.parse_args()
    clock = StatementClock()
    started = time.perf_counter()
    getattr(command, args.direction)(Config(args.config), args.revision)
    total = time.perf_counter() - started
    in_sql = sum(seconds for seconds, _ in clock.timings)
    for seconds, text in clock.timings:
        if seconds >= 0.005:
            shown = text if len(text) <= WIDTH else text[: WIDTH - 3] + "..."
            print(f"{seconds:8.3f} s  {shown}")
    print(f"{in_sql:8.3f} s  all {len(clock.timings)} statements")
    print(f"{total - in_sql:8.3f} s  outside SQL (env.py, revisions, Python)")


if __name__ == "__main__":
    main()
