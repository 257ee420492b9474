"""The history as a whole: one head, and irreversible revisions that say why."""

from .migration_steps import revisions, script_directory


def test_history_has_one_head() -> None:
    heads = script_directory().get_heads()
    assert len(heads) <= 1, f"several heads {heads}: merge them (alembic merge heads)"


def test_irreversible_revisions_say_why() -> None:
    """``irreversible`` is the reason the run prints (docs/changing-data.md)."""
    unexplained = [
        script.revision
        for script in revisions()
        if hasattr(script.module, "irreversible")
        and not (
            isinstance(script.module.irreversible, str)
            and script.module.irreversible.strip()
        )
    ]
    assert not unexplained, (
        f"revisions {', '.join(unexplained)}: irreversible must say why the "
        'downgrade cannot give the data back, as text: irreversible = "..."'
    )
