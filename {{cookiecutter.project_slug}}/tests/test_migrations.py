"""The generic migration tests, run on every revision in migrations/versions.

They come from migration_kit (docs/testing.md), so a new revision is tested
without a line of test code. Delete a line to leave that test out.
"""

from migration_kit.harness import (
    data_checks_tests,
    history_tests,
    models_tests,
    offline_tests,
    stairway_tests,
    whole_history_tests,
)

# Up, down and up again for each revision, on seeded rows, leaving no trace.
test_stairway = stairway_tests.test_stairway
test_downgrade_leaves_no_trace = stairway_tests.test_downgrade_leaves_no_trace
# What each upgrade did to the data: the same rows on every backend, the same
# end after a crash and a second run, and what its verify() promises.
test_same_answer_on_every_backend = data_checks_tests.test_same_answer_on_every_backend
test_upgrade_runs_again_after_a_crash = (
    data_checks_tests.test_upgrade_runs_again_after_a_crash
)
test_upgrade_keeps_its_promise = data_checks_tests.test_upgrade_keeps_its_promise
# `alembic upgrade head`, then down to base (or the newest irreversible point).
test_upgrade_to_head_and_downgrade_to_base = (
    whole_history_tests.test_upgrade_to_head_and_downgrade_to_base
)
# models.py describes the schema the migrations build.
test_models_match_migrations_at_head = models_tests.test_models_match_migrations_at_head
# Every revision renders as SQL (`alembic upgrade --sql`) for every dialect.
test_revision_renders_as_sql = offline_tests.test_revision_renders_as_sql
# One head, and irreversible revisions that say why.
test_history_has_one_head = history_tests.test_history_has_one_head
test_irreversible_revisions_say_why = history_tests.test_irreversible_revisions_say_why
