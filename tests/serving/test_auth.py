"""The optional API key: 403 like upstream, and no cost when it is off."""

from __future__ import annotations

import hmac

import pytest
import requests

from prosper_mock import MockServer, World, WorldRecipe

Q = "/api/v1/live-calls?call_log_id=1000"


@pytest.fixture
def world() -> World:
    return World.generate(WorldRecipe(live_calls=1, call_logs=4))


def test_a_non_ascii_or_empty_key_is_refused_cleanly(world: World) -> None:
    with MockServer(world, api_key=("X-Api-Key", "k3y")) as server:
        for sent in ("k3y\u00e9".encode(), b"\xff\xfe", b""):
            r = requests.get(server.url(Q), headers={"X-Api-Key": sent}, timeout=5)
            assert (r.status_code, r.json()) == (403, {"detail": "Invalid API key"})
        faulted = requests.get(server.url(Q), headers={"X-Mock-Fault": "status=503"}, timeout=5)
        assert faulted.status_code == 403  # the key is checked before any fault is applied
        ok = requests.get(server.url(Q), headers={"X-Api-Key": "k3y"}, timeout=5)
        assert ok.status_code == 200


def test_without_a_key_nothing_is_checked(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(a) or True)
    with MockServer(world) as server:
        assert requests.get(server.url(Q), timeout=5).status_code == 200
    assert calls == []
