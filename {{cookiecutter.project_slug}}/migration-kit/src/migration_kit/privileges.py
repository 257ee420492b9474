"""What to GRANT when the run's user may not create or read alembic_version.

Alembic creates alembic_version in the first run on a database, before any
revision: a role that may not create tables (PostgreSQL 15 and later grant no
CREATE on the public schema to other roles) fails there.
"""

import re

from .driver_errors import error_codes

# PostgreSQL's insufficient_privilege; MySQL/MariaDB: command denied, access denied.
NO_PRIVILEGE = {"42501", 1142, 1044}
NO_CREATE_ON_SCHEMA = re.compile(r"permission denied for schema (\S+)")
PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")
# "CREATE command denied to user 'u'@'h' for table `db`.`alembic_version`"
MYSQL_DENIED = re.compile(
    r"(\w+) command denied to user ('.*'@'.*') for table (`.*?`)\."
)


def privilege_problem(
    cause: BaseException, dialect: str, user: str | None, action: str
) -> tuple[str, str]:
    """Which privilege the run's user lacks for alembic_version, and what to GRANT.

    Both are "" when ``cause`` is not about a privilege.
    """
    if not error_codes(cause) & NO_PRIVILEGE:
        return "", ""
    who = f"the user {user}" if user else "the user in DATABASE_URL"
    if dialect in ("mysql", "mariadb"):
        return mysql_problem(str(cause), who)
    role = role_name(user)
    schema = NO_CREATE_ON_SCHEMA.search(str(cause))
    if action == "create" and schema:
        return f": {who} lacks CREATE on schema {schema[1]}", (
            f"have the schema's owner run GRANT CREATE ON SCHEMA {schema[1]} TO "
            f"{role}, or create alembic_version there first and grant {role} "
            "SELECT, INSERT, UPDATE, DELETE on it, then run again"
        )
    return f": {who} may not {action} it", (
        f"have its owner run GRANT SELECT, INSERT, UPDATE, DELETE ON "
        f"alembic_version TO {role}, then run again"
    )


def mysql_problem(message: str, who: str) -> tuple[str, str]:
    denied = MYSQL_DENIED.search(message)
    if not denied:
        return f": {who} lacks a privilege", (
            f"grant {who} what migrations need on this database, then run again"
        )
    command, account, database = denied.groups()
    return f": {who} lacks {command} on database {database}", (
        f"have an administrator run GRANT ALL ON {database}.* TO {account} (or "
        "the privileges your revisions need), then run again"
    )


def role_name(user: str | None) -> str:
    """``user`` as PostgreSQL needs it in a GRANT: quoted unless plain."""
    if not user:
        return "<role>"
    if PLAIN_NAME.fullmatch(user):
        return user
    return '"' + user.replace('"', '""') + '"'
