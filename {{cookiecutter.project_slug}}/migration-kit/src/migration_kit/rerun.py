"""Revisions that a second run finishes, after a run was killed half way.

MySQL and MariaDB commit every schema change as it runs, whatever the
transaction. A revision killed after its second ALTER keeps the first two,
and running it again fails on the first one (``Table 'teams' already
exists``). So on these databases each step of a revision asks ``done(...)``
first and skips itself when a killed run did it already:

    if not done("teams"):
        op.create_table("teams", ...)
    if not done("players", column="team_id"):
        op.add_column("players", sa.Column("team_id", sa.Integer()))

A downgrade asks the same of what it drops:

    if not done("players", dropped_column="team_id"):
        op.drop_column("players", "team_id")

Data steps make themselves safe to repeat: ``INSERT ... SELECT`` of the rows
not there yet, ``UPDATE ... WHERE`` the new value is not set yet.

On PostgreSQL and SQLite a revision is one transaction, undone as a whole if
it fails, so ``done`` is always False there and asks the database nothing. So
it is under ``--sql``, which renders every step.
"""

import sqlalchemy as sa
from alembic import op


def done(
    table: str,
    *,
    dropped: bool = False,
    column: str | None = None,
    dropped_column: str | None = None,
    index: str | None = None,
    dropped_index: str | None = None,
    foreign_key: str | None = None,
    dropped_foreign_key: str | None = None,
) -> bool:
    """Whether a killed run already made ``table`` (or its named part) so.

    ``done("teams")`` asks whether the table exists, ``done("teams",
    dropped=True)`` whether it is gone; ``column=``, ``index=`` and
    ``foreign_key=`` whether the part exists, their ``dropped_`` forms whether
    it is gone.
    """
    migration = op.get_context()
    if migration.as_sql or migration.dialect.name not in ("mysql", "mariadb"):
        return False
    database = sa.inspect(op.get_bind())
    if dropped:
        return not database.has_table(table)
    if column or dropped_column:
        columns = {c["name"] for c in database.get_columns(table)}
        return present(columns, column, dropped_column)
    if index or dropped_index:
        indexes = {i["name"] for i in database.get_indexes(table)}
        return present(indexes, index, dropped_index)
    if foreign_key or dropped_foreign_key:
        keys = {k["name"] for k in database.get_foreign_keys(table)}
        return present(keys, foreign_key, dropped_foreign_key)
    return database.has_table(table)


def present(names: set[str | None], added: str | None, dropped: str | None) -> bool:
    """``added`` is among ``names``, or else ``dropped`` is not."""
    return added in names if added else dropped not in names
