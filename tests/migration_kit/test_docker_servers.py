"""TEST_DOCKER=1: the URL built from a container (a stand-in here, no docker)."""

from dataclasses import dataclass

import pytest
from migration_kit.harness import docker_servers


@dataclass
class StandIn:
    """The attributes testcontainers' database containers have."""

    username: str = "root"
    password: str = "p@ss:word"
    dbname: str = "test"
    starts: int = 0
    stops: int = 0

    def start(self) -> None:
        self.starts += 1

    def stop(self) -> None:
        self.stops += 1

    def get_container_host_ip(self) -> str:
        return "127.0.0.1"

    def get_exposed_port(self, port: int) -> str:
        return str(40000 + port)


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("postgresql", "postgresql+psycopg://root:***@127.0.0.1:45432/test"),
        ("mysql", "mysql+pymysql://root:***@127.0.0.1:43306/test"),
    ],
)
def test_url_of_a_container(backend: str, expected: str) -> None:
    url = docker_servers.url_of(backend, StandIn())
    assert url.render_as_string() == expected
    assert url.password == "p@ss:word"


def test_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_DOCKER", raising=False)
    assert not docker_servers.enabled()
    monkeypatch.setenv("TEST_DOCKER", "1")
    assert docker_servers.enabled()


def test_one_container_per_backend_removed_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container = StandIn()
    monkeypatch.setattr(docker_servers, "_container", lambda backend: container)

    first = docker_servers.server_url("postgresql")
    again = docker_servers.server_url("postgresql")
    docker_servers.stop_all()

    assert first == again
    assert (container.starts, container.stops) == (1, 1)
