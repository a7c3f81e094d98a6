"""The whole-API workflow over real sockets, as an integrator runs it: add and launch a target,
poll its live call, let the clock move, read the finished call from the call logs, and see the
target finished. Every answer on the way is checked against the spec."""

from __future__ import annotations

import requests

from prosper_mock import MockServer, World
from prosper_mock.world.clock import VirtualClock
from tests.spec_check import call


def _world() -> World:
    world = World.generate()
    world.clock = VirtualClock(world.origin["recipe"]["anchor"])
    return world


def test_a_launched_target_becomes_a_call_log_and_a_finished_target() -> None:
    with MockServer(_world()) as server:
        campaign = next(c for c in server.world.campaigns() if c.kind == "patient")
        added = call(
            server,
            "POST",
            f"/api/v1/campaigns/{campaign.id}/targets",
            json={
                "targets": [
                    {
                        "phone_number": "+15557654321",
                        "patient": {
                            "first_name": "Grace",
                            "last_name": "Hopper",
                            "date_of_birth": "1906-12-09",
                            "external_id": "PAT-WALK-1",
                        },
                        "input_data": {"appointment_type": "Annual physical"},
                    }
                ],
                "launch": True,
            },
        ).json()
        target_id, call_log_id = added["targets"][0]["id"], added["call_log_ids"][0]

        by_phone = call(server, "GET", "/api/v1/live-calls", user_phone_number="+15557654321")
        by_external_id = call(
            server, "GET", "/api/v1/live-calls", key="external_id", value="PAT-WALK-1"
        )
        for found in (by_phone.json(), by_external_id.json()):
            assert (found["source"], found["call_log_id"]) == ("live_calls", call_log_id)
            assert found["campaign_target_id"] == target_id
        assert call(server, "GET", f"/api/v1/targets/{target_id}").json()["status"] == (
            "In Progress"
        )
        assert call(server, "GET", f"/api/v1/call-logs/{call_log_id}").status_code == 404

        moved = requests.post(server.url("/__mock/clock/advance"), json={"seconds": 900}, timeout=5)
        assert moved.status_code == 200, moved.text

        ended = call(server, "GET", "/api/v1/live-calls", call_log_id=call_log_id).json()
        assert ended["source"] == "call_logs"
        log = call(server, "GET", f"/api/v1/call-logs/{call_log_id}").json()
        assert log["id"] == str(call_log_id) and log["campaign_target_id"] == target_id
        listed = call(server, "GET", "/api/v1/call-logs", campaign_id=campaign.id).json()
        assert str(call_log_id) in [item["id"] for item in listed["call_logs"]]
        target = call(server, "GET", f"/api/v1/targets/{target_id}").json()
        assert target["status"] not in ("Pending", "In Progress")
        assert target["call_log_ids"] == [call_log_id]
        assert target["last_call_date"] is not None
