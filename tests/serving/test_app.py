"""The HTTP app over real sockets: routes from the spec, framework answers, no shared state."""

from __future__ import annotations

import gc
import json
import logging
import socket
import time
import tracemalloc
from pathlib import Path

import pytest
import requests

from prosper_mock import Journal, MockServer, World, WorldRecipe, create_app
from tests.rawhttp import request as raw_request
from tests.spec_check import get_live_call

ROOT = Path(__file__).resolve().parents[2]


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


# A control change and a vendored write: the guard is the same for every route.
HALF_SENT = ["/__mock/live-calls", "/api/v1/campaigns/c1/targets"]


def part_of_a_body(port: int, path: str = HALF_SENT[0]) -> bytes:
    """A POST that names the mock (as the control guard wants) and sends 10 of 100 bytes."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
        + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        + b'{"user_pho'
    )


def logged_when(caplog: pytest.LogCaptureFixture, says: str) -> str:
    """The server's log once a line saying ``says`` is in it (the server logs from its thread)."""
    for _ in range(200):
        if says in caplog.text:
            break
        time.sleep(0.025)
    return caplog.text


@pytest.mark.parametrize("path", HALF_SENT)
def test_a_client_gone_mid_body_is_one_line_and_no_traceback(
    world: World, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.INFO)
    with MockServer(world) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(part_of_a_body(server.port, path))
        text = logged_when(caplog, "went away")
        assert requests.get(server.url("/__mock/health"), timeout=5).ok
        assert list(server.state.journal) == []  # unanswered: not journalled
    assert "Traceback" not in text and not any(r.exc_info for r in caplog.records)
    gone = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.INFO
    assert gone[0].getMessage() == (
        f'127.0.0.1 "POST {path} HTTP/1.1" client went away mid-request '
        "(10 of 100 body bytes received)"
    )


@pytest.mark.parametrize("path", HALF_SENT)
def test_a_stalled_body_times_out_and_the_connection_is_closed(
    world: World, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.INFO)
    with MockServer(world, body_timeout=0.3) as server:
        stats = server.world.stats()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(part_of_a_body(server.port, path))
            assert sock.recv(1024) == b""  # closed, nothing answered (recv times out otherwise)
        text = logged_when(caplog, "timed out")
        assert server.world.stats() == stats  # the half-sent call was never started
        assert requests.get(server.url("/__mock/health"), timeout=5).ok
    assert "Traceback" not in text and "went away" not in text
    [line] = [r for r in caplog.records if "timed out" in r.getMessage()]
    assert line.levelno == logging.WARNING and line.getMessage() == (
        f'127.0.0.1 "POST {path} HTTP/1.1" body timed out after 0.3 s '
        "(10 of 100 body bytes received): connection closed"
    )


def test_a_lookup_with_an_unread_body_is_answered_as_upstream_answers_it(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # FastAPI never reads a GET's body: the lookup is answered, the timeout does not apply.
    with MockServer(world, body_timeout=0.3) as server:
        stalled = (
            b"GET /api/v1/live-calls?call_log_id=1 HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 9\r\n\r\nab"
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(stalled)
            assert sock.recv(1024).startswith(b"HTTP/1.1 404 ")
    assert "Traceback" not in caplog.text


def test_body_timeout_must_be_positive(world: World) -> None:
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="body_timeout must be"):
            create_app(world, body_timeout=bad)


def test_the_api_app_alone_has_no_control_api_and_more_routes_come_before_the_catch_all() -> None:
    from aiohttp import web

    from prosper_mock.serving.app import create_api_app

    async def extra(request: web.Request) -> web.Response:
        return web.Response(text="extra")

    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    alone = create_api_app(world)
    assert not any(r.canonical.startswith("/__mock") for r in alone.router.resources())
    app = create_api_app(world, more_routes=[lambda a: a.router.add_get("/extra", extra)])
    with MockServer(app_factory=lambda _world: app) as s:
        assert requests.get(s.url("/extra"), timeout=5).text == "extra"
        r = requests.get(s.url("/elsewhere"), timeout=5)
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})


def test_an_escaped_slash_routes_by_the_decoded_path_journalled_as_sent(
    server: MockServer,
) -> None:
    # uvicorn decodes the path before Starlette routes it: c%2Ftargets is c/targets there.
    campaign = server.world.campaigns()[0].id
    target = f"/api/v1/campaigns/{campaign}%2Ftargets".encode()
    escaped = raw_request("127.0.0.1", server.port, target)
    plain = raw_request("127.0.0.1", server.port, target.replace(b"%2F", b"/"))
    assert (escaped.status, escaped.body) == (200, plain.body)
    first, second = server.state.journal.entries()
    assert first.path == target.decode() and second.path == target.decode().replace("%2F", "/")
    assert (
        first.operation_id
        == second.operation_id
        == ("get_campaign_targets_api_v1_campaigns__campaign_id__targets_get")
    )
    # A parameter ending in one: a 307 to the path without it, journalling nothing.
    moved = raw_request("127.0.0.1", server.port, b"/api/v1/api-keys/k%2F?x=1", b"DELETE")
    assert moved.status == 307 and moved.headers["location"].endswith("/api-keys/k?x=1")
    assert len(server.state.journal) == 2
