"""Webhook steps, EHR events, webhook reruns and API keys over real sockets."""

from __future__ import annotations

from prosper_mock import MockServer
from tests.spec_check import call


def _live_target(server: MockServer) -> tuple[str, str, int]:
    live = next(c for c in server.world.live_calls if c.campaign_target_id)
    target = server.world.target(live.campaign_target_id or "")
    assert target is not None
    return target.campaign_id, target.id, live.call_log_id


def test_a_webhook_step_lands_in_the_target_and_its_live_call(server: MockServer) -> None:
    campaign, target_id, call_log_id = _live_target(server)
    path = f"/api/v1/campaigns/{campaign}/targets/{target_id}/step/verify"
    body = call(server, "POST", path, json={"confirmation_code": "C-77"}).json()
    assert body["target"]["output_data"]["verify"] == {"confirmation_code": "C-77"}
    found = call(server, "GET", "/api/v1/live-calls", key="confirmation_code", value="C-77").json()
    assert found["call_log_id"] == call_log_id


def test_a_webhook_step_for_an_unknown_target_is_not_found(server: MockServer) -> None:
    campaign = server.world.campaigns()[0].id
    r = call(server, "POST", f"/api/v1/campaigns/{campaign}/targets/nope/step/x", json={})
    assert (r.status_code, r.json()) == (404, {"detail": "Target not found"})


def test_an_appointment_created_adds_a_pending_target(server: MockServer) -> None:
    campaign = server.world.campaigns()[0].id
    body = call(
        server,
        "POST",
        f"/api/v1/campaigns/{campaign}/ehr-event/appt",
        json={
            "event_type": "appointment_created",
            "external_id": "EHR-1",
            "event_data": {"phone_number": "+15550009999"},
        },
    ).json()
    assert body["added"], body
    added = [t["id"] for t in body["added"]]
    target = server.world.target(added[0])
    assert target is not None and target.status == "Pending" and target.external_id == "EHR-1"
    cancelled = call(
        server,
        "POST",
        f"/api/v1/campaigns/{campaign}/ehr-event/appt",
        json={"event_type": "appointment_cancelled", "external_id": "EHR-1"},
    ).json()
    assert cancelled["removed"] == added
    assert server.world.target(added[0]) is None


def test_rerun_failed_webhooks_is_accepted(server: MockServer) -> None:
    campaign = server.world.campaigns()[0].id
    r = call(
        server,
        "POST",
        f"/api/v1/campaigns/{campaign}/webhooks/rerun-failed",
        json={"from_date": "2026-01-01T00:00:00Z", "to_date": "2026-01-02T00:00:00Z"},
    )
    assert r.status_code == 202 and r.json()["status"] == "accepted"


def test_deleting_an_api_key_is_acknowledged(server: MockServer) -> None:
    r = call(server, "DELETE", "/api/v1/api-keys/key_123")
    assert (r.status_code, r.json()) == (200, {"id": "key_123", "status": "deleted"})


def test_an_ehr_event_refuses_a_target_id_no_path_can_reach(server: MockServer) -> None:
    campaign = server.world.campaigns()[0].id
    for bad in ("", "a/b"):
        r = call(
            server,
            "POST",
            f"/api/v1/campaigns/{campaign}/ehr-event/appt",
            json={"event_type": "appointment_created", "target_id": bad},
        )
        assert r.status_code == 400, r.text
        assert r.json()["detail"].startswith("target_id "), r.json()
        assert server.world.target(bad) is None
    # The same rule as adding targets: the same words after the field's place.
    r = call(
        server,
        "POST",
        f"/api/v1/campaigns/{campaign}/targets",
        json={"targets": [{"phone_number": "+1", "id": "a/b"}]},
    )
    assert r.status_code == 400 and r.json()["detail"].startswith("targets[0].id "), r.json()
