"""Campaigns and targets over real sockets: reads, writes, and their refusals."""

from __future__ import annotations

import pytest
import requests

from prosper_mock import MockServer, Semantics, World
from tests.spec_check import call

NO_CAMPAIGN = "/api/v1/campaigns/no-such-campaign"


def _campaign(server: MockServer) -> str:
    return server.world.campaigns()[0].id


def _patient_campaign(server: MockServer) -> str:
    return next(c.id for c in server.world.campaigns() if c.kind == "patient")


def test_targets_are_paged_oldest_first_without_overlap(server: MockServer) -> None:
    campaign = _campaign(server)
    ids: list[str] = []
    page: int | None = 0
    while page is not None:
        body = call(
            server, "GET", f"/api/v1/campaigns/{campaign}/targets", page=page, limit=9
        ).json()
        assert all(t["campaign_id"] == campaign for t in body["targets"])
        ids += [t["id"] for t in body["targets"]]
        page = body["next_page"]
    assert len(ids) == len(set(ids))
    assert len(ids) == server.world.targets_page(campaign, 0, 100).page_count * 0 + len(ids)
    first = call(server, "GET", f"/api/v1/campaigns/{campaign}/targets").json()
    assert [t["id"] for t in first["targets"]] == ids[:10]


def test_the_patient_view_leaves_out_fax_links_and_payor_data(server: MockServer) -> None:
    campaign = _patient_campaign(server)
    body = call(server, "GET", f"/api/v1/campaigns/{campaign}/patient/targets").json()
    assert body["targets"]
    assert all(t["fax_links"] is None and t["payor_api_data"] is None for t in body["targets"])


def test_a_status_filter_keeps_only_that_status(server: MockServer) -> None:
    campaign = _campaign(server)
    body = call(
        server, "GET", f"/api/v1/campaigns/{campaign}/targets", status="In Progress", limit=100
    ).json()
    assert body["targets"]
    assert {t["status"] for t in body["targets"]} == {"In Progress"}


def test_variables_are_the_campaign_flow_inputs(server: MockServer) -> None:
    campaign = server.world.campaigns()[0]
    body = call(server, "GET", f"/api/v1/campaigns/{campaign.id}/variables").json()
    assert body == {"campaign_id": campaign.id, "variables": list(campaign.variables)}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"{NO_CAMPAIGN}/targets", None),
        ("GET", f"{NO_CAMPAIGN}/patient/targets", None),
        ("GET", f"{NO_CAMPAIGN}/variables", None),
        ("POST", f"{NO_CAMPAIGN}/targets", {"targets": []}),
        ("DELETE", f"{NO_CAMPAIGN}/targets", {"target_ids": []}),
        ("POST", f"{NO_CAMPAIGN}/calls", {"count": 1}),
        (
            "POST",
            f"{NO_CAMPAIGN}/webhooks/rerun-failed",
            {"from_date": "2026-01-01", "to_date": "2026-01-02"},
        ),
    ],
)
def test_an_unknown_campaign_is_not_found(
    server: MockServer, method: str, path: str, body: object
) -> None:
    version = server.world.version
    r = call(server, method, path, json=body)
    assert (r.status_code, r.json()) == (404, {"detail": "Campaign not found"})
    assert server.world.version == version


def test_an_unknown_target_is_not_found(server: MockServer) -> None:
    r = call(server, "GET", "/api/v1/targets/nope")
    assert (r.status_code, r.json()) == (404, {"detail": "Target not found"})
    r = call(server, "PATCH", "/api/v1/targets/nope", json={"input_data": {"a": 1}})
    assert (r.status_code, r.json()) == (404, {"detail": "Target not found"})


def test_the_not_found_status_is_configurable() -> None:
    with MockServer(World.generate(), semantics=Semantics(not_found_status=410)) as server:
        r = requests.get(server.url("/api/v1/targets/nope"), timeout=5)
        assert (r.status_code, r.json()) == (410, {"detail": "Target not found"})


def test_added_and_launched_targets_call_at_once(server: MockServer) -> None:
    campaign = _patient_campaign(server)
    target = {
        "phone_number": "+15550001111",
        "patient": {"first_name": "Ada", "last_name": "Byron", "external_id": "PAT-XYZ-1"},
        "input_data": {"appointment_type": "Follow-up"},
    }
    body = call(
        server,
        "POST",
        f"/api/v1/campaigns/{campaign}/targets",
        json={"targets": [target], "launch": True},
    ).json()
    assert len(body["targets"]) == 1 and len(body["call_log_ids"]) == 1
    target_id, call_log_id = body["targets"][0]["id"], body["call_log_ids"][0]
    by_phone = call(server, "GET", "/api/v1/live-calls", user_phone_number="+15550001111").json()
    assert (by_phone["source"], by_phone["call_log_id"]) == ("live_calls", call_log_id)
    by_id = call(server, "GET", "/api/v1/live-calls", key="external_id", value="PAT-XYZ-1").json()
    assert by_id["call_log_id"] == call_log_id
    assert by_id["campaign_target_id"] == target_id
    seen = call(server, "GET", f"/api/v1/targets/{target_id}").json()
    assert seen["status"] == "In Progress" and seen["call_log_ids"] == [call_log_id]


def test_duplicates_by_external_id_are_ignored_by_default(server: MockServer) -> None:
    campaign = _patient_campaign(server)
    target = {"phone_number": "+15550002222", "external_id": "EXT-DUP"}
    path = f"/api/v1/campaigns/{campaign}/targets"
    call(server, "POST", path, json={"targets": [target]})
    again = call(server, "POST", path, json={"targets": [target]}).json()
    assert (again["targets"], again["ignored_external_ids"]) == ([], ["EXT-DUP"])
    forced = call(
        server, "POST", path, json={"targets": [target], "allow_duplicates": False}
    ).json()
    assert len(forced["targets"]) == 1


def test_launch_needs_target_ids_or_count(server: MockServer) -> None:
    campaign = _campaign(server)
    r = call(server, "POST", f"/api/v1/campaigns/{campaign}/calls", json={})
    assert (r.status_code, r.json()) == (400, {"detail": "Provide target_ids or count"})


def test_launch_by_count_calls_pending_targets(server: MockServer) -> None:
    campaign = _campaign(server)
    body = call(server, "POST", f"/api/v1/campaigns/{campaign}/calls", json={"count": 2}).json()
    assert len(body["launched"]) == 2
    for launched in body["launched"]:
        target = call(server, "GET", f"/api/v1/targets/{launched['target_id']}").json()
        assert target["status"] == "In Progress"
        assert launched["call_log_id"] in target["call_log_ids"]


def test_an_unknown_target_in_a_launch_changes_nothing(server: MockServer) -> None:
    campaign = _campaign(server)
    version = server.world.version
    r = call(server, "POST", f"/api/v1/campaigns/{campaign}/calls", json={"target_ids": ["nope"]})
    assert r.status_code == 404 and r.json()["detail"].startswith("Target not found")
    assert server.world.version == version


def test_input_data_merges_until_the_target_starts(server: MockServer) -> None:
    campaign = _campaign(server)
    path = f"/api/v1/campaigns/{campaign}/targets"
    added = call(
        server,
        "POST",
        path,
        json={"targets": [{"phone_number": "+15550003333", "input_data": {"a": 1}}]},
    ).json()
    target_id = added["targets"][0]["id"]
    merged = call(
        server, "PATCH", f"/api/v1/targets/{target_id}", json={"input_data": {"b": 2}}
    ).json()
    assert merged["input_data"]["a"] == 1 and merged["input_data"]["b"] == 2
    call(server, "POST", f"/api/v1/campaigns/{campaign}/calls", json={"target_ids": [target_id]})
    r = call(server, "PATCH", f"/api/v1/targets/{target_id}", json={"input_data": {"c": 3}})
    assert r.status_code == 409
    forced = call(
        server,
        "PATCH",
        f"/api/v1/targets/{target_id}",
        json={"input_data": {"c": 3}, "only_if_not_started": False},
    ).json()
    assert forced["input_data"]["c"] == 3


def test_deleted_targets_are_gone_and_unknown_ones_listed(server: MockServer) -> None:
    campaign = _campaign(server)
    path = f"/api/v1/campaigns/{campaign}/targets"
    added = call(server, "POST", path, json={"targets": [{"phone_number": "+15550004444"}]}).json()
    target_id = added["targets"][0]["id"]
    body = call(server, "DELETE", path, json={"target_ids": [target_id, "nope"]}).json()
    assert body == {"deleted": [target_id], "not_found": ["nope"]}
    assert call(server, "GET", f"/api/v1/targets/{target_id}").status_code == 404


def test_workers_refuse_writes_with_409(world: World) -> None:
    with MockServer(world, read_only=True) as server:
        campaign = _campaign(server)
        r = call(server, "POST", f"/api/v1/campaigns/{campaign}/calls", json={"count": 1})
        assert r.status_code == 409 and "read-only" in r.json()["detail"]
        assert call(server, "GET", f"/api/v1/campaigns/{campaign}/targets").status_code == 200
