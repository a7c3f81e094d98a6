"""The HTTP app over real sockets: every rule of the endpoint, checked against the spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from prosper_mock import MockServer, Semantics, World, WorldRecipe

from .spec_check import assert_matches_spec

ROOT = Path(__file__).resolve().parent.parent


def get(server: MockServer, **params: object) -> requests.Response:
    response = requests.get(server.url("/api/v1/live-calls"), params=params, timeout=5)
    assert_matches_spec(response)
    return response


def test_live_call_by_id_is_a_flat_snapshot(server: MockServer) -> None:
    call = next(iter(server.world.live_calls))
    r = get(server, call_log_id=call.call_log_id)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert list(body)[:3] == ["source", "call_log_id", "user_phone_number"]
    assert body["source"] == "live_calls"
    assert body["call_log_id"] == call.call_log_id
    assert body["agent_data.voice.provider"] == call.agent_data["voice"]["provider"]
    assert not any(isinstance(v, dict) for v in body.values())
    assert isinstance(body["transcript"], list)


def test_finished_call_comes_from_call_logs_with_its_export_fields(server: MockServer) -> None:
    only_logged = next(
        log for log in server.world.call_logs if log.call_log_id not in server.world.live_calls
    )
    body = get(server, call_log_id=only_logged.call_log_id).json()
    assert body["source"] == "call_logs"
    for name in (
        "id",
        "to",
        "from_",
        "created_at",
        "call_length",
        "call_ended_reason",
        "recording_urls",
        "campaign_target_id",
        "transcripts",
    ):
        assert name in body, name


def test_phone_lookup_prefers_live_then_most_recent(server: MockServer) -> None:
    world = server.world
    phone = next(iter(set(world.live_calls.base.by_phone) & set(world.call_logs.base.by_phone)))
    body = get(server, user_phone_number=phone).json()
    assert (body["source"], body["user_phone_number"]) == ("live_calls", phone)
    for call in list(world.live_calls):
        if call.user_phone_number == phone:
            world.delete_live_call(call.call_log_id)
    body = get(server, user_phone_number=phone).json()
    newest = max(
        (c for c in world.call_logs if c.user_phone_number == phone),
        key=lambda c: (c.created_at, c.call_log_id),
    )
    assert (body["source"], body["call_log_id"]) == ("call_logs", newest.call_log_id)


def test_variable_lookup_by_text_form(server: MockServer) -> None:
    call = server.world.start_call({"variables": {"copay_amount": 25.0, "verified": True}})
    assert get(server, key="copay_amount", value="25.0").json()["call_log_id"] == call.call_log_id
    assert get(server, key="verified", value="true").json()["call_log_id"] == call.call_log_id
    assert get(server, key="verified", value="True").status_code == 404


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({}, "Provide one of call_log_id, user_phone_number, or key and value"),
        ({"key": "external_id"}, "value is required when key is given"),
        ({"value": "PAT-001"}, "key is required when value is given"),
        ({"unknown": "1"}, "Provide one of call_log_id, user_phone_number, or key and value"),
    ],
)
def test_nothing_to_look_up_is_400(server: MockServer, params: dict, detail: str) -> None:
    r = get(server, **params)
    assert (r.status_code, r.json()) == (400, {"detail": detail})


def test_not_found_is_404(server: MockServer) -> None:
    r = get(server, call_log_id=987654321)
    assert (r.status_code, r.json()) == (404, {"detail": "Call not found"})


def test_validation_error_is_422_in_fastapi_shape(server: MockServer) -> None:
    r = get(server, call_log_id="abc")
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


def test_configured_semantics_change_the_undocumented_answers() -> None:
    semantics = Semantics(missing_lookup=422, not_found_status=410, not_found_detail="Gone")
    with MockServer(
        World.generate(WorldRecipe(live_calls=2, call_logs=3)), semantics=semantics
    ) as s:
        r = requests.get(s.url("/api/v1/live-calls?key=x"), timeout=5)
        assert r.status_code == 422
        assert r.json() == {
            "detail": [
                {
                    "type": "missing",
                    "loc": ["query", "value"],
                    "msg": "Field required",
                    "input": None,
                }
            ]
        }
        assert_matches_spec(r)
        r = requests.get(s.url("/api/v1/live-calls?call_log_id=1"), timeout=5)
        assert (r.status_code, r.json()) == (410, {"detail": "Gone"})


def test_semantics_reject_impossible_settings() -> None:
    with pytest.raises(ValueError):
        Semantics(missing_lookup=418)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Semantics(not_found_status=200)


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
    get(server, call_log_id="abc")
    get(server, user_phone_number="+1", user_phone_number_extra="x")
    entries = server.state.journal.entries()
    assert [(e.status, e.params.get("call_log_id")) for e in entries] == [(422, "abc"), (404, None)]
    assert entries[1].params["user_phone_number"] == "+1"


def test_a_changed_row_is_served_fresh_not_from_the_cache(server: MockServer) -> None:
    call = server.world.start_call({"variables": {"step": "one"}})
    assert get(server, call_log_id=call.call_log_id).json()["variables.step"] == "one"
    server.world.map_variables(call.call_log_id, {"step": "two"})
    assert get(server, call_log_id=call.call_log_id).json()["variables.step"] == "two"
