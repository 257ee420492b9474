"""Fail if a throwaway test database (test_migrations_*) is left on a server.

    python .ci/leftover_databases.py list > before.txt
    python .ci/leftover_databases.py check before.txt

`check` ignores names listed in before.txt (there before this run began). Other
runs may share the servers, so a new name counts as left over only if it is
still there after a grace period: a live run drops its databases within it.
"""

import os
import sys
import time

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

PREFIX = "test_migrations_"
QUERIES = {
    "TEST_POSTGRES_URL": "SELECT datname FROM pg_database",
    "TEST_MYSQL_URL": "SELECT schema_name FROM information_schema.schemata",
}
GRACE_SECONDS = 300


def throwaway_databases() -> set[str]:
    names = set()
    for variable, query in QUERIES.items():
        engine = create_engine(os.environ[variable], poolclass=NullPool)
        with engine.connect() as connection:
            found = connection.scalars(text(query))
            names |= {f"{variable}: {n}" for n in found if n.startswith(PREFIX)}
    return names


def check(before: set[str]) -> int:
    deadline = time.monotonic() + GRACE_SECONDS
    # Only the names there now are suspects; later ones belong to other runs.
    suspects = throwaway_databases() - before
    while left := suspects & throwaway_databases():
        if time.monotonic() > deadline:
            print(f"ERROR: throwaway databases left behind: {sorted(left)}")
            return 1
        time.sleep(2)
    if before:
        print(f"note: older throwaway databases, not from this run: {sorted(before)}")
    print("no throwaway database left on either server")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["list"]:
        print("\n".join(sorted(throwaway_databases())))
    else:
        with open(sys.argv[2]) as listed:
            sys.exit(check({line.strip() for line in listed if line.strip()}))
