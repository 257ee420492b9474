"""migration_kit: the machinery of a migrations project, behind one API.

Revisions import what they need from here, and only from here: the names in
``__all__`` stay as stable as a library's. The rest of the package serves
``migrations/env.py`` (``migration_kit.environment``), the test harness (a
pytest plugin, ``migration_kit.harness.plugin``) and the ``migration-kit``
command (``migration_kit.cli``).
"""

from .backfills import backfill
from .data_migrations import (
    NAMING_CONVENTION,
    exact_unicode,
    migration_session,
    ordered_batch,
    set_from,
    update_in_batches,
)
from .lint import squawk_ignore
from .rerun import done

__version__ = "1.0.0"

__all__ = [
    "NAMING_CONVENTION",
    "__version__",
    "backfill",
    "done",
    "exact_unicode",
    "migration_session",
    "ordered_batch",
    "set_from",
    "squawk_ignore",
    "update_in_batches",
]
