from .migration_steps import script_directory


def test_history_has_one_head() -> None:
    heads = script_directory().get_heads()
    assert len(heads) <= 1, f"several heads {heads}: merge them (alembic merge heads)"
