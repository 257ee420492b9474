"""Throwaway PostgreSQL and MySQL servers in docker, for TEST_DOCKER=1.

When TEST_DOCKER=1 and a backend has no TEST_*_URL, the first test that needs
it starts a container with testcontainers (``pip install -e ".[docker]"``);
``stop_all`` removes the containers when the run ends. The template that made
this project could not run a docker engine: only ``url_of`` was tested there,
with a stand-in container object.
"""

import atexit
import os
from typing import Any

from sqlalchemy.engine import URL

from ..errors import one_line

IMAGES = {"postgresql": "postgres:16", "mysql": "mysql:8.4"}
PORTS = {"postgresql": 5432, "mysql": 3306}
DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}

_RUNNING: dict[str, Any] = {}


class DockerUnavailable(RuntimeError):
    """TEST_DOCKER=1 cannot work here, in one line that says why."""


def enabled() -> bool:
    return os.environ.get("TEST_DOCKER", "") == "1"


def check_available() -> None:
    """DockerUnavailable unless testcontainers is installed and a daemon answers."""
    _container_classes()
    import docker  # installed with testcontainers

    try:
        docker.from_env().ping()
    except docker.errors.DockerException as error:
        raise DockerUnavailable(
            f"TEST_DOCKER=1, but no docker daemon answers ({one_line(error)}): "
            "start docker, or unset TEST_DOCKER and set TEST_POSTGRES_URL and "
            "TEST_MYSQL_URL to servers."
        ) from None


def server_url(backend: str) -> URL:
    """The URL of this run's container for ``backend``, started on first use."""
    if backend not in _RUNNING:
        container = _container(backend)
        # Registered before start: an interrupted start is still removed.
        _RUNNING[backend] = container
        container.start()
    return url_of(backend, _RUNNING[backend])


def url_of(backend: str, container: Any) -> URL:
    """A URL on the container's server as a user that may create databases."""
    return URL.create(
        DRIVERS[backend],
        username=container.username,
        password=container.password,
        host=container.get_container_host_ip(),
        port=int(container.get_exposed_port(PORTS[backend])),
        database=container.dbname,
    )


def stop_all() -> None:
    while _RUNNING:
        _, container = _RUNNING.popitem()
        container.stop()


atexit.register(stop_all)


def _container(backend: str) -> Any:
    MySqlContainer, PostgresContainer = _container_classes()
    if backend == "postgresql":
        return PostgresContainer(IMAGES[backend], driver=None)
    # root, because the harness creates a database per test.
    return MySqlContainer(IMAGES[backend], username="root", password="root")


def _container_classes() -> tuple[Any, Any]:
    try:
        from testcontainers.community.mysql import MySqlContainer
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        pass
    else:
        return MySqlContainer, PostgresContainer
    try:  # testcontainers before its community package
        from testcontainers.mysql import MySqlContainer
        from testcontainers.postgres import PostgresContainer
    except ImportError:
        raise DockerUnavailable(
            'TEST_DOCKER=1 needs testcontainers: pip install -e ".[docker]"'
        ) from None
    return MySqlContainer, PostgresContainer
