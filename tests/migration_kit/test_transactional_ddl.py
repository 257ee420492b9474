"""Schema changes roll back with their transaction, except on MySQL/MariaDB.

The harness runs SQLite through the same transaction recipe as
``alembic upgrade`` (``sqlite.py``), so what a test sees is what a deploy does:
a revision that fails on SQLite or PostgreSQL leaves no table half built.
"""

import sqlalchemy as sa


def test_schema_changes_roll_back_with_the_transaction(database: sa.Engine) -> None:
    with database.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (id INTEGER)")
        connection.rollback()

    kept = "scratch" in sa.inspect(database).get_table_names()
    # MySQL and MariaDB commit every schema statement as it runs.
    assert kept == (database.dialect.name in ("mysql", "mariadb"))
