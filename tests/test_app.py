"""The HTTP app over real sockets: routes from the spec, framework answers, no shared state."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import requests

from prosper_mock import Journal, MockServer, World, WorldRecipe

from .spec_check import get_live_call

ROOT = Path(__file__).resolve().parent.parent


def test_validation_error_is_422_in_fastapi_shape(server: MockServer) -> None:
    r = get_live_call(server, call_log_id="abc")
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["query", "call_log_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "abc",
            }
        ]
    }


def test_openapi_json_is_the_vendored_file_unchanged(server: MockServer) -> None:
    r = requests.get(server.url("/openapi.json"), timeout=5)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content == (ROOT / "openapi.json").read_bytes()


def test_operation_without_handler_answers_501(tmp_path: Path) -> None:
    doc = json.loads((ROOT / "openapi.json").read_text())
    doc["paths"]["/api/v1/calls/{call_id}"] = {
        "get": {
            "operationId": "get_call_api_v1_calls__call_id__get",
            "parameters": [
                {"name": "call_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {"200": {"description": "ok"}},
        }
    }
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(doc))
    with MockServer(World.generate(WorldRecipe(live_calls=1, call_logs=1)), spec_path=spec) as s:
        r = requests.get(s.url("/api/v1/calls/12"), timeout=5)
        assert r.status_code == 501
        assert "get_call_api_v1_calls__call_id__get" in r.json()["detail"]
        # Path parameters are validated from the spec too, FastAPI-style.
        r = requests.get(s.url("/api/v1/calls/x"), timeout=5)
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["path", "call_id"]


def test_many_servers_in_one_process_have_their_own_worlds() -> None:
    w1 = World.generate(WorldRecipe(seed=1, live_calls=2, call_logs=2))
    w2 = World.generate(WorldRecipe(seed=2, live_calls=2, call_logs=2))
    with MockServer(w1) as s1, MockServer(w2) as s2:
        new = s1.world.start_call({"user_phone_number": "+19990001111"})
        assert (
            requests.get(
                s1.url(f"/api/v1/live-calls?call_log_id={new.call_log_id}"), timeout=5
            ).status_code
            == 200
        )
        assert (
            requests.get(
                s2.url(f"/api/v1/live-calls?call_log_id={new.call_log_id}"), timeout=5
            ).status_code
            == 404
        )


def test_every_answered_request_is_journalled(server: MockServer) -> None:
    get_live_call(server, call_log_id="abc")
    get_live_call(server, user_phone_number="+1", user_phone_number_extra="x")
    entries = server.state.journal.entries()
    assert [(e.status, e.params.get("call_log_id")) for e in entries] == [(422, "abc"), (404, None)]
    assert entries[1].params["user_phone_number"] == "+1"


BIG_QUERY = "call_log_id=1250" + "&a" * 8000  # 16 KB: one lookup, 8 000 blank parameters


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_big_queries_cost_the_journal_about_their_size(world: World) -> None:
    with MockServer(world) as server, requests.Session() as http:
        url = server.url("/api/v1/live-calls?" + BIG_QUERY)
        tracemalloc.start()
        try:
            for _ in range(5):
                http.get(url, timeout=5)
            before = traced()
            for _ in range(40):
                assert http.get(url, timeout=5).status_code == 404
            grown = traced() - before
        finally:
            tracemalloc.stop()
        assert len(server.state.journal) == 45
    assert grown < 40 * 48 * 1024, f"{grown // 40} bytes per request"


def test_the_journal_given_keeps_its_byte_bound_under_big_queries(world: World) -> None:
    journal = Journal(max_bytes=300 * 1024)
    with MockServer(world, journal=journal) as server, requests.Session() as http:
        assert server.state.journal is journal
        for _ in range(40):
            http.get(server.url("/api/v1/live-calls?" + BIG_QUERY), timeout=5)
            assert journal.nbytes <= journal.max_bytes
    assert 10 < len(journal) < 40 and journal.entries()[-1].seq == 40
