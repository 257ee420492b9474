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
    column: str | None = None,
    dropped_column: str | None = None,
    index: str | None = None,
    foreign_key: str | None = None,
) -> bool:
    """Whether a killed run already made ``table`` (or its named part) so."""
    migration = op.get_context()
    if migration.as_sql or migration.dialect.name not in ("mysql", "mariadb"):
        return False
    database = sa.inspect(op.get_bind())
    if column or dropped_column:
        columns = {c["name"] for c in database.get_columns(table)}
        return column in columns if column else dropped_column not in columns
    if index:
        return index in {i["name"] for i in database.get_indexes(table)}
    if foreign_key:
        return foreign_key in {k["name"] for k in database.get_foreign_keys(table)}
    return database.has_table(table)
