"""The online-only revisions met in this run, listed once at its end.

``--sql`` cannot render them (they need a database), so the offline test
records them here instead of failing; conftest.py prints one line for each.
"""

# revision id -> "ONLINE-ONLY <id> (<title>): <reason>", once per run.
ONLINE_ONLY: dict[str, str] = {}
