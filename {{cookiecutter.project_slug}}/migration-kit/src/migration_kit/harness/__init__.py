"""The migration harness: a pytest plugin and the generic migration tests.

Enable it in tests/conftest.py (``pytest_plugins``) and bring its tests into
a test file of yours (tests/test_migrations.py); docs/testing.md says how.
"""

import pytest

# The generic tests live in this package, not in a test file: without this,
# pytest would show a failed assert without the values it compared.
pytest.register_assert_rewrite(
    *(
        f"migration_kit.harness.{name}_tests"
        for name in (
            "data_checks",
            "history",
            "models",
            "offline",
            "stairway",
            "whole_history",
        )
    )
)

from .disposable_database import disposable_database  # noqa: E402
from .migration_steps import MigrationSteps  # noqa: E402

__all__ = ["MigrationSteps", "disposable_database"]
