"""The control API's webhooks: a campaign's setting and the events, through ControlClient."""

from __future__ import annotations

import pytest
import requests

from prosper_mock import ControlClient, ControlError, MockServer

NO_ANSWER = {"call_categorization": {"category": "NO_RESPONSE", "target_status": "Scheduled"}}


def test_a_campaigns_webhook_is_set_read_and_cleared(mock: MockServer) -> None:
    control = ControlClient(mock.base_url)
    campaign = control.campaigns()[0]["id"]
    assert control.webhook(campaign) == {
        "campaign_id": campaign,
        "url": None,
        "headers": {},
        "max_attempts": 3,
        "faults": "",
        "source": "none",
    }
    found = control.set_webhook(
        campaign, "http://127.0.0.1:9/h", {"X-Key": "k"}, max_attempts=2, faults="drop , reorder"
    )
    assert found == {
        "campaign_id": campaign,
        "url": "http://127.0.0.1:9/h",
        "headers": {"X-Key": "k"},
        "max_attempts": 2,
        "faults": "reorder,drop",
        "source": "campaign",
    }
    assert control.webhook(campaign) == found
    control.clear_webhook(campaign)
    assert control.webhook(campaign)["source"] == "none"


def test_a_bad_setting_or_campaign_is_refused_and_changes_nothing(mock: MockServer) -> None:
    control = ControlClient(mock.base_url)
    campaign = control.campaigns()[0]["id"]
    for url, headers, faults in (
        ("mailto:x@y", {}, ""),
        ("http://h/x", {"Content-Type": "text/plain"}, ""),
        ("http://h/x", {}, "latency=99999"),
        ("http://h/x", {}, "explode"),
    ):
        with pytest.raises(ControlError) as refused:
            control.set_webhook(campaign, url, headers, faults=faults)
        assert refused.value.status == 422
    with pytest.raises(ControlError) as missing:
        control.webhook("no-such-campaign")
    assert (missing.value.status, missing.value.detail) == (404, "Campaign not found")
    with pytest.raises(ControlError) as unknown:
        control.set_webhook("no-such-campaign", "http://h/x")
    assert unknown.value.status == 404
    r = requests.put(mock.url(f"/__mock/campaigns/{campaign}/webhook"), json={"headers": {}})
    assert r.status_code == 422  # url is required: null says "no deliveries"
    assert control.webhook(campaign)["source"] == "none"


def test_events_are_listed_oldest_first_and_filtered(mock: MockServer) -> None:
    control = ControlClient(mock.base_url)
    campaign = control.campaigns()[0]["id"]
    control.set_webhook(campaign, "http://127.0.0.1:9/h")
    added = control.api(
        "POST",
        f"/api/v1/campaigns/{campaign}/targets",
        {"targets": [{"phone_number": "+15550001"}, {"phone_number": "+15550002"}]},
    )
    ids = [t["id"] for t in added["targets"]]
    control.api("POST", f"/api/v1/campaigns/{campaign}/calls", {"target_ids": ids})
    for target_id in ids:
        call = control.api("GET", f"/api/v1/targets/{target_id}")["call_log_ids"][-1]
        control.end_call(call, **NO_ANSWER)
    events = control.webhook_events()
    assert [e["payload"]["target_id"] for e in events] == ids
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert control.webhook_events(target_id=ids[1])[0]["payload"]["attempt"] == 1
    assert control.webhook_events(campaign_id="other") == []
    assert (
        len(control.webhook_events(state="pending")) + len(control.webhook_events(state="failed"))
        == 2
    )  # the receiver at port 9 is not there: pending until the send fails
    for query in ({"state": "lost"}, {"page": "2"}):
        r = requests.get(mock.url("/__mock/webhooks"), params=query, timeout=5)
        assert r.status_code == 422


def test_limit_keeps_the_latest_events_oldest_first(mock: MockServer) -> None:
    control = ControlClient(mock.base_url)
    campaign = control.campaigns()[0]["id"]
    control.set_webhook(campaign, "http://127.0.0.1:9/h")
    for n in range(3):
        added = control.api(
            "POST",
            f"/api/v1/campaigns/{campaign}/targets",
            {"targets": [{"phone_number": f"+1555000{n}"}], "launch": True},
        )
        control.end_call(added["call_log_ids"][0])
    everything = control.webhook_events()
    latest = control.call("webhook_events", query={"limit": 2})
    assert latest["count"] == 3 and latest["events"] == everything[1:]
    for bad in ("0", "x", "10001"):
        r = requests.get(mock.url("/__mock/webhooks"), params={"limit": bad}, timeout=5)
        assert r.status_code == 422
