"""The database a bench step works on, and the bench's own databases on a server."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool


def bench_engine() -> sa.Engine:
    """An engine on DATABASE_URL, as alembic itself would connect."""
    return sa.create_engine(os.environ["DATABASE_URL"], poolclass=NullPool)


class Server:
    """Creates, copies and drops databases named <name>_<hex>_* (unique per run)."""

    def __init__(self, url: str, name: str = "bench_data_migration") -> None:
        self.url = make_url(url)
        self.prefix = f"{name}_{uuid.uuid4().hex[:8]}_"
        self.created: list[str] = []
        self.admin = sa.create_engine(
            self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool
        )

    @property
    def postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    def database_url(self, name: str) -> URL:
        return self.url.set(database=self.prefix + name)

    def create(self, name: str, template: str | None = None) -> URL:
        """A new empty database, or a copy of ``template`` (its tables and rows)."""
        full = self.prefix + name
        self._run(self._drop(full))
        if self.postgresql:
            copy = f' TEMPLATE "{self.prefix + template}"' if template else ""
            self._run(f'CREATE DATABASE "{full}"{copy}')
        else:
            self._run(f"CREATE DATABASE `{full}` CHARACTER SET utf8mb4")
            if template:
                self._copy_tables(self.prefix + template, full)
        if full not in self.created:
            self.created.append(full)
        return self.database_url(name)

    def drop(self, name: str) -> None:
        """Drop one database now, to free its space before the next is made."""
        full = self.prefix + name
        self._run(self._drop(full))
        if full in self.created:
            self.created.remove(full)

    def drop_all(self) -> None:
        for name in self.created:
            self._run(self._drop(name))
        self.created.clear()
        self.admin.dispose()

    def _copy_tables(self, source: str, target: str) -> None:
        with self.admin.connect() as connection:
            tables = connection.scalars(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = :schema"
                ),
                {"schema": source},
            ).all()
            for table in tables:
                connection.exec_driver_sql(
                    f"CREATE TABLE `{target}`.`{table}` LIKE `{source}`.`{table}`"
                )
                connection.exec_driver_sql(
                    f"INSERT INTO `{target}`.`{table}`"
                    f" SELECT * FROM `{source}`.`{table}`"
                )

    def _drop(self, name: str) -> str:
        if self.postgresql:
            return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        return f"DROP DATABASE IF EXISTS `{name}`"

    def _run(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(statement)


@contextmanager
def server(url: str, name: str = "bench_data_migration") -> Iterator[Server]:
    """A Server whose databases are all dropped at the end, even on failure."""
    created = Server(url, name)
    try:
        yield created
    finally:
        created.drop_all()
