"""The control API's reads: the latest live calls, call logs and targets, and one call."""

from __future__ import annotations

import json

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from prosper_mock import MockServer
from prosper_mock.control.client import ControlClient, ControlError
from prosper_mock.control.routes import control_spec_bytes

CONTROL = OpenAPI.from_dict(json.loads(control_spec_bytes()))


def get(mock: MockServer, path: str) -> requests.Response:
    r = requests.get(mock.url("/__mock" + path), timeout=5)
    CONTROL.validate_response(RequestsOpenAPIRequest(r.request), RequestsOpenAPIResponse(r))
    return r


def test_a_started_call_leads_the_live_calls_and_its_end_the_call_logs(mock: MockServer) -> None:
    c = ControlClient(mock.base_url)
    first = get(mock, "/live-calls").json()
    assert first["count"] == 4 and len(first["live_calls"]) == 4
    cid = c.start_call(user_phone_number="+15550004444")["call"]["call_log_id"]
    latest = get(mock, "/live-calls?limit=1").json()
    assert latest["count"] == 5
    assert [r["call_log_id"] for r in latest["live_calls"]] == [cid]
    one = get(mock, f"/live-calls/{cid}").json()
    assert one["call"]["user_phone_number"] == "+15550004444"
    assert (
        one["snapshot"]
        == requests.get(mock.url(f"/api/v1/live-calls?call_log_id={cid}"), timeout=5).json()
    )
    c.advance_clock(120)
    c.end_call(cid)
    logs = get(mock, "/call-logs?limit=2").json()
    assert logs["count"] == 13 and logs["call_logs"][0]["id"] == cid
    ended = get(mock, f"/call-logs/{cid}").json()
    assert ended["call_log"]["call_length"] == "0:02:00"
    assert ended["snapshot"]["source"] == "call_logs"
    assert get(mock, f"/live-calls/{cid}").status_code == 404


def test_the_reads_are_not_journalled(mock: MockServer) -> None:
    c = ControlClient(mock.base_url)
    campaign = c.campaigns()[0]["id"]
    for path in ("/live-calls", "/call-logs", f"/campaigns/{campaign}/targets", "/live-calls/1"):
        get(mock, path)
    assert c.journal() == []


def test_a_campaigns_newest_targets_come_first(mock: MockServer) -> None:
    c = ControlClient(mock.base_url)
    campaign = c.campaigns()[0]["id"]
    before = c.campaign_targets(campaign)["count"]
    body = {"targets": [{"phone_number": "+15550001234", "external_id": "NEW-1"}]}
    r = requests.post(mock.url(f"/api/v1/campaigns/{campaign}/targets"), json=body, timeout=5)
    added = r.json()["targets"][0]["id"]
    targets = get(mock, f"/campaigns/{campaign}/targets?limit=2").json()
    assert targets["count"] == before + 1
    assert targets["targets"][0]["id"] == added
    assert targets["targets"][0] == c.api("GET", f"/api/v1/targets/{added}")
    missing = get(mock, "/campaigns/nope/targets")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Campaign not found"})


@pytest.mark.parametrize(
    "path",
    [
        "/live-calls?limit=0",
        "/live-calls?limit=1001",
        "/live-calls?limit=x",
        "/call-logs?limit=-1",
        "/call-logs?limit=%EF%BC%91",  # a fullwidth digit is not a limit
        "/live-calls?since=3",
        "/live-calls/abc",
        "/call-logs/1.5",
    ],
)
def test_bad_reads_are_422(mock: MockServer, path: str) -> None:
    r = get(mock, path)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]


def test_the_targets_limit_is_the_vendored_listings(mock: MockServer) -> None:
    campaign = ControlClient(mock.base_url).campaigns()[0]["id"]
    assert get(mock, f"/campaigns/{campaign}/targets?limit=100").status_code == 200
    assert get(mock, f"/campaigns/{campaign}/targets?limit=101").status_code == 422


def test_an_unknown_call_is_404(mock: MockServer) -> None:
    c = ControlClient(mock.base_url)
    with pytest.raises(ControlError) as live:
        c.live_call(99999)
    with pytest.raises(ControlError) as log:
        c.call_log(99999)
    assert (live.value.status, log.value.status) == (404, 404)


def test_health_says_whether_the_world_is_simulated(mock: MockServer) -> None:
    from prosper_mock.world.simulation import Simulation

    assert get(mock, "/health").json()["simulation"] is False
    mock.state.attach_simulation(Simulation(mock.world, 0, 6, mock.world.clock.now()))
    assert get(mock, "/health").json()["simulation"] is True
