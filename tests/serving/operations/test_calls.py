"""Health and the call logs over real sockets, every answer checked against the spec."""

from __future__ import annotations

import math
from datetime import datetime

from prosper_mock import MockServer
from tests.spec_check import call

LOGS = "/api/v1/call-logs"


def test_health_is_ok(server: MockServer) -> None:
    r = call(server, "GET", "/api/v1/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_call_log_list_defaults_to_the_newest_200(server: MockServer) -> None:
    body = call(server, "GET", LOGS).json()
    total = len(server.world.call_logs)
    ids = [int(item["id"]) for item in body["call_logs"]]
    assert ids == sorted((log.id for log in server.world.call_logs), reverse=True)[:200]
    assert body["page_count"] == math.ceil(total / 200)
    assert body["next_page"] == (1 if total > 200 else None)
    assert all("recording_urls" not in item for item in body["call_logs"])


def test_walking_every_page_lists_each_call_log_once(server: MockServer) -> None:
    seen: list[str] = []
    page: int | None = 0
    counts = set()
    while page is not None:
        body = call(server, "GET", LOGS, page=page, limit=7).json()
        seen += [item["id"] for item in body["call_logs"]]
        counts.add(body["page_count"])
        page = body["next_page"]
    assert sorted(seen, key=int) == sorted(str(log.id) for log in server.world.call_logs)
    assert counts == {math.ceil(len(server.world.call_logs) / 7)}


def test_a_page_past_the_end_is_empty(server: MockServer) -> None:
    body = call(server, "GET", LOGS, page=10_000).json()
    assert body["call_logs"] == [] and body["next_page"] is None


def test_the_date_window_and_campaign_filter_the_list(server: MockServer) -> None:
    logs = sorted(server.world.call_logs, key=lambda log: log.id)
    middle = logs[len(logs) // 2].created_at
    body = call(server, "GET", LOGS, from_date=middle, limit=1000).json()
    assert body["call_logs"]
    assert all(
        datetime.fromisoformat(item["created_at"]) >= datetime.fromisoformat(middle)
        for item in body["call_logs"]
    )
    campaign = server.world.campaigns()[0]
    body = call(server, "GET", LOGS, campaign_id=campaign.id, limit=1000).json()
    assert body["call_logs"]
    for item in body["call_logs"]:
        target = server.world.target(item["campaign_target_id"])
        assert target is not None and target.campaign_id == campaign.id


def test_a_call_log_by_id_has_a_string_id_and_recordings_when_asked(server: MockServer) -> None:
    log = next(log for log in server.world.call_logs if log.recording_urls)
    plain = call(server, "GET", f"{LOGS}/{log.id}").json()
    assert plain["id"] == str(log.id) and plain["recording_urls"] == []
    for word in ("yes", "on", "1", "true"):
        full = call(server, "GET", f"{LOGS}/{log.id}", include_recordings=word).json()
        assert full["recording_urls"] == log.recording_urls


def test_unknown_live_only_and_negative_call_logs_are_not_found(server: MockServer) -> None:
    live_only = next(
        c for c in server.world.live_calls if c.call_log_id not in server.world.call_logs
    )
    for call_log_id in (live_only.call_log_id, 10**12, -1):
        r = call(server, "GET", f"{LOGS}/{call_log_id}")
        assert (r.status_code, r.json()) == (404, {"detail": "Call log not found"})
