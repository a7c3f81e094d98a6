"""GET /api/v1/live-calls over real sockets: every answer checked against the spec."""

from __future__ import annotations

import pytest
import requests

from prosper_mock import MockServer, Semantics, World, WorldRecipe
from tests.spec_check import assert_matches_spec, get_live_call


def test_live_call_by_id_is_a_flat_snapshot(server: MockServer) -> None:
    call = next(iter(server.world.live_calls))
    r = get_live_call(server, call_log_id=call.call_log_id)
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
    body = get_live_call(server, call_log_id=only_logged.call_log_id).json()
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
    phone = min(
        {c.user_phone_number for c in world.live_calls}
        & {c.user_phone_number for c in world.call_logs}
    )
    body = get_live_call(server, user_phone_number=phone).json()
    assert (body["source"], body["user_phone_number"]) == ("live_calls", phone)
    for call in list(world.live_calls):
        if call.user_phone_number == phone:
            world.delete_live_call(call.call_log_id)
    body = get_live_call(server, user_phone_number=phone).json()
    newest = max(
        (c for c in world.call_logs if c.user_phone_number == phone),
        key=lambda c: (c.created_at, c.call_log_id),
    )
    assert (body["source"], body["call_log_id"]) == ("call_logs", newest.call_log_id)


def test_variable_lookup_by_text_form(server: MockServer) -> None:
    call = server.world.start_call({"variables": {"copay_amount": 25.0, "verified": True}})
    assert (
        get_live_call(server, key="copay_amount", value="25.0").json()["call_log_id"]
        == call.call_log_id
    )
    assert (
        get_live_call(server, key="verified", value="true").json()["call_log_id"]
        == call.call_log_id
    )
    assert get_live_call(server, key="verified", value="True").status_code == 404


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
    r = get_live_call(server, **params)
    assert (r.status_code, r.json()) == (400, {"detail": detail})


def test_not_found_is_404(server: MockServer) -> None:
    r = get_live_call(server, call_log_id=987654321)
    assert (r.status_code, r.json()) == (404, {"detail": "Call not found"})


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


def test_a_changed_row_is_served_fresh_not_from_the_cache(server: MockServer) -> None:
    call = server.world.start_call({"variables": {"step": "one"}})
    assert get_live_call(server, call_log_id=call.call_log_id).json()["variables.step"] == "one"
    server.world.map_variables(call.call_log_id, {"step": "two"})
    assert get_live_call(server, call_log_id=call.call_log_id).json()["variables.step"] == "two"
