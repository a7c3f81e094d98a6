"""docker/healthcheck.py against a mock in-process, with and without the control token."""

from __future__ import annotations

from urllib.parse import urlsplit

from prosper_mock import MockServer, World, WorldRecipe
from tests.docker.scripts import load

healthcheck = load("healthcheck")


def port_of(server: MockServer) -> str:
    return str(urlsplit(server.url("/")).port)


def test_without_a_token_the_served_spec_is_the_health_signal(server: MockServer) -> None:
    assert healthcheck.healthy(port_of(server), None)


def test_with_a_token_the_control_health_must_name_the_mock(world: World) -> None:
    with MockServer(world, control_token="s3cret") as server:
        assert healthcheck.healthy(port_of(server), "s3cret")
        assert not healthcheck.healthy(port_of(server), "wrong")  # a 401 is not healthy


def test_nobody_listening_is_unhealthy() -> None:
    with MockServer(World.generate(WorldRecipe(seed=1, live_calls=1, call_logs=1))) as server:
        port = port_of(server)
    assert not healthcheck.healthy(port, None, timeout=1)
