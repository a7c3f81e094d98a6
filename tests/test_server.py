"""MockServer: a real loopback port in a background thread; start errors are reported."""

from __future__ import annotations

import socket

import pytest
import requests

from prosper_mock import MockServer, World, WorldRecipe


def test_start_stop_and_restart_a_fresh_one() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=2))
    server = MockServer(world).start()
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert requests.get(server.url("/openapi.json"), timeout=5).ok
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
    finally:
        server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url("/openapi.json"), timeout=2)
    server.stop()  # stopping twice is harmless


def test_a_busy_port_is_reported_to_the_caller() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            MockServer(World.generate(WorldRecipe(live_calls=1, call_logs=1)), port=port).start()


def test_create_app_adds_the_control_api_to_the_api_app_unless_told_not_to() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    with MockServer(world) as with_control, MockServer(world, control=False) as without:
        assert requests.get(with_control.url("/__mock/journal"), timeout=5).status_code == 200
        r = requests.get(without.url("/__mock/journal"), timeout=5)
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


def test_serve_options_are_frozen_and_keep_secrets_out_of_their_repr() -> None:
    import dataclasses

    from prosper_mock.server import ServeOptions

    options = ServeOptions(control_token="t0ken", api_key=("X-API-Key", "s3cret"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.port = 1  # type: ignore[misc]
    assert "t0ken" not in repr(options) and "s3cret" not in repr(options)
    assert dataclasses.replace(options, port=9).port == 9
