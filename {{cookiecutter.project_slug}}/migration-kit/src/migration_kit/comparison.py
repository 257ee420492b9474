"""What autogenerate compares, in one place for every command and test.

``make autorevision``, ``make check`` (``alembic check``), ``make sql`` and the
harness's models-match test all configure Alembic through env.py with
``context_options()``, so they always agree on what counts as a difference.
"""

from typing import Any

from .applied import TABLE as APPLIED_SUMS
from .settings import not_ours


def include_object(
    item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate's filter: leave out the tables alembic.ini's not_ours names.

    They are in the database but these migrations do not own them (made by
    another application, or by hand), e.g. spatial_ref_sys (PostGIS).
    """
    return not (type_ == "table" and (name in not_ours() or name == APPLIED_SUMS))


def context_options(dialect: str) -> dict[str, Any]:
    """The options every ``context.configure()`` in env.py passes."""
    return {
        "include_object": include_object,
        # Column types are compared (VARCHAR(100) vs VARCHAR(200) is a change).
        "compare_type": True,
        # Server defaults are not: each backend reflects them in its own
        # spelling, which reads as a change on some backends and not others.
        "compare_server_default": False,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        "render_as_batch": dialect == "sqlite",
    }
