"""A role that may not create alembic_version gets one line saying what to GRANT.

Alembic creates alembic_version before the first revision runs, outside any
revision: the failure is one ``FAILED:`` line, and nothing has changed.
"""

import pytest
import sqlalchemy as sa

from .logins import alembic_failure, database_with_login
from .production import (
    HEAD,
    alembic,
    execute,
    succeeded,
    table_names,
    version,
)

# What each backend's line names, and the GRANT that fixes it.
LACKS = {
    "postgresql": (
        "the user {user} lacks CREATE on schema public",
        "GRANT CREATE ON SCHEMA public TO {user}",
    ),
    "mysql": (
        "the user {user} lacks CREATE on database `{database}`",
        "GRANT ALL ON `{database}`.* TO '{user}'@'%'",
    ),
}


@pytest.mark.parametrize(
    ("backend", "command"),
    [
        ("postgresql", ["upgrade", "head"]),
        ("postgresql", ["check"]),
        ("mysql", ["upgrade", "head"]),
    ],
)
def test_a_user_who_may_not_create_tables_gets_one_line(
    project, backend, command, tmp_path
):
    with database_with_login(backend, tmp_path, may_create=False) as (url, admin_url):
        names = {
            "user": sa.make_url(url).username,
            "database": sa.make_url(url).database,
        }
        lacks, grant = (words.format(**names) for words in LACKS[backend])
        line = alembic_failure(alembic(project, url, *command))
        assert line.startswith("FAILED: could not create the alembic_version table")
        assert lacks in line
        assert "this run changed nothing in the database" in line
        assert grant.split(" TO ")[0] in line
        assert table_names(admin_url) == set()

        # The advice works.
        execute(admin_url, grant.replace("%", "%%"))
        succeeded(alembic(project, url, "upgrade", "head"))
        assert version(url) == [HEAD]
