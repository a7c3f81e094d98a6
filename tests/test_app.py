"""The HTTP app over a real socket: routes, FastAPI's framework answers."""

from __future__ import annotations

import requests

from prosper_mock import MockServer


def test_live_call_by_id_is_a_flat_snapshot(server: MockServer) -> None:
    call = next(iter(server.world.live_calls))
    r = requests.get(server.url("/api/v1/live-calls"), params={"call_log_id": call.call_log_id})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["source"] == "live_calls"
    assert body["call_log_id"] == call.call_log_id
    assert not any(isinstance(v, dict) for v in body.values())
