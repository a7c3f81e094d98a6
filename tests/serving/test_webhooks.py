"""Webhook deliveries over real sockets: the payload, the headers, failures, a hanging
receiver, a redirect, reruns, faults, serving that never waits for a receiver, and several
processes on a shared store sending each event once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from prosper_mock import ControlClient, MockServer, VirtualClock, World, WorldRecipe
from prosper_mock.receiver import WebhookReceiver
from prosper_mock.serving.webhooks import NO_URL
from tests.clirun import serve
from tests.redisserver import RedisServer

SEED_0_CAMPAIGN = "53e92788-1132-4a51-99dd-0c2bea0fc377"
KEYS = {"campaign_id", "call_log_id", "target_id", "attempt", "max_attempts"}
KEYS |= {"next_attempt_scheduled"}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as found:
        yield found


def _world() -> World:
    clock = VirtualClock("2026-01-15T15:00:00+00:00")
    return World.generate(WorldRecipe(seed=6, live_calls=4, call_logs=12), clock=clock)


def _launch(server: MockServer, phones: int = 2) -> tuple[str, list[str]]:
    campaign = server.world.campaigns()[0].id
    targets = [{"phone_number": f"+1555000{i:04d}"} for i in range(phones)]
    answer = requests.post(
        server.url(f"/api/v1/campaigns/{campaign}/targets"),
        json={"targets": targets, "launch": True},
        timeout=5,
    ).json()
    return campaign, [t["id"] for t in answer["targets"]]


def _advance(server: MockServer, seconds: float) -> None:
    r = requests.post(server.url("/__mock/clock/advance"), json={"seconds": seconds}, timeout=5)
    assert r.status_code == 200


def _events(server: MockServer, **query: str) -> list[dict]:
    return requests.get(server.url("/__mock/webhooks"), params=query, timeout=5).json()["events"]


def _settled(server: MockServer, count: int, sends: int = 1) -> list[dict]:
    """The events once ``count`` of them are no longer pending after ``sends`` sends."""
    deadline = time.monotonic() + 10
    while True:
        events = _events(server)
        done = [e for e in events if e["state"] != "pending" and len(e["sends"]) >= sends]
        if len(done) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def test_each_ended_call_posts_upstreams_six_keys_agreeing_with_the_api(
    receiver: WebhookReceiver,
) -> None:
    with MockServer(_world(), webhook_url=receiver.url) as server:
        campaign, targets = _launch(server)
        _advance(server, 3600)
        payloads = receiver.wait_for(count=2)
        assert {p["target_id"] for p in payloads} == set(targets)
        for payload in payloads:
            assert set(payload) == KEYS
            assert payload["campaign_id"] == campaign
            target = requests.get(server.url(f"/api/v1/targets/{payload['target_id']}")).json()
            log = requests.get(server.url(f"/api/v1/call-logs/{payload['call_log_id']}"))
            assert log.status_code == 200
            assert log.json()["campaign_target_id"] == payload["target_id"]
            assert target["call_log_ids"][payload["attempt"] - 1] == payload["call_log_id"]
            assert target["retries"] == payload["attempt"] - 1
            if payload["next_attempt_scheduled"] is None:
                assert target["status"] != "Scheduled"
            else:
                assert target["scheduled_time"] == payload["next_attempt_scheduled"]
        got = receiver.received[0]
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["User-Agent"].startswith("prosper-voice-mock/")
        assert all(e["state"] == "delivered" for e in _settled(server, 2))


def test_no_url_means_no_event_and_no_delivery(receiver: WebhookReceiver) -> None:
    with MockServer(_world()) as server:
        _launch(server)
        _advance(server, 3600)
        time.sleep(0.3)
        assert _events(server) == [] and receiver.received == []
        assert "webhooks" not in server.world.changes()


def test_a_campaigns_own_url_and_headers_win_over_the_default(
    receiver: WebhookReceiver,
) -> None:
    with WebhookReceiver() as other, MockServer(_world(), webhook_url=other.url) as server:
        campaign = server.world.campaigns()[0].id
        setting = {"url": receiver.url, "headers": {"Authorization": "Bearer t"}}
        r = requests.put(server.url(f"/__mock/campaigns/{campaign}/webhook"), json=setting)
        assert r.json()["source"] == "campaign"
        _launch(server, 1)
        _advance(server, 3600)
        receiver.wait_for()
        assert receiver.received[0].headers["Authorization"] == "Bearer t"
        assert other.received == []


def test_a_failed_delivery_is_recorded_then_rerun_once_within_its_window(
    receiver: WebhookReceiver,
) -> None:
    receiver.answer(500)
    with MockServer(_world(), webhook_url=receiver.url) as server:
        campaign, _ = _launch(server)
        _advance(server, 3600)
        events = _settled(server, 2)
        assert [e["state"] for e in events] == ["failed", "failed"]
        assert events[0]["sends"][0]["status"] == 500
        rerun = f"/api/v1/campaigns/{campaign}/webhooks/rerun-failed"
        outside = {"from_date": "2026-01-14T00:00:00Z", "to_date": "2026-01-15T14:59:59Z"}
        r = requests.post(server.url(rerun), json=outside)
        assert (r.status_code, r.json()["rerun"]) == (202, 0)
        receiver.answer(200)
        times = sorted(e["created_at"] for e in events)
        window = {"from_date": times[0], "to_date": times[-1]}  # both ends inclusive
        r = requests.post(server.url(rerun), json=window)
        assert (r.status_code, r.json()["rerun"]) == (202, 2)
        receiver.wait_for(count=2)
        events = _settled(server, 2, sends=2)
        assert [e["state"] for e in events] == ["delivered", "delivered"]
        assert [len(e["sends"]) for e in events] == [2, 2]
        assert requests.post(server.url(rerun), json=window).json()["rerun"] == 0
        time.sleep(0.2)
        assert len(receiver.received) == 4  # two failed, two rerun: none sent twice


def test_a_refused_connection_is_a_failed_delivery() -> None:
    with WebhookReceiver() as gone:
        url = gone.url
    with MockServer(_world(), webhook_url=url) as server:
        _launch(server, 1)
        _advance(server, 3600)
        [event] = _settled(server, 1)
        assert event["state"] == "failed"
        assert event["sends"][0]["status"] is None
        assert event["sends"][0]["error"].startswith("could not connect")


def test_a_hanging_receiver_times_out_and_delays_neither_serving_nor_others(
    receiver: WebhookReceiver,
) -> None:
    with WebhookReceiver() as hanging:
        hanging.answer(200, delay=30)
        with MockServer(_world(), webhook_url=receiver.url, webhook_timeout=5.0) as server:
            slow = server.world.campaigns()[1].id
            requests.put(server.url(f"/__mock/campaigns/{slow}/webhook"), json={"url": hanging.url})
            _launch(server, 1)
            requests.post(
                server.url(f"/api/v1/campaigns/{slow}/targets"),
                json={"targets": [{"phone_number": "+15550009999"}], "launch": True},
            )
            _advance(server, 3600)
            started = time.monotonic()
            receiver.wait_for(timeout=5)
            assert time.monotonic() - started < 2.5  # not behind the hanging one (5 s)
            began = time.monotonic()
            assert requests.get(server.url("/api/v1/health"), timeout=5).status_code == 200
            assert time.monotonic() - began < 2.0
            events = _settled(server, 2)
            hung = next(e for e in events if e["payload"]["campaign_id"] == slow)
            assert hung["state"] == "failed" and "within 5 s" in hung["sends"][0]["error"]


def test_a_redirect_is_not_followed(receiver: WebhookReceiver) -> None:
    with WebhookReceiver() as redirecting:
        redirecting.answer(307)
        with MockServer(_world(), webhook_url=redirecting.url) as server:
            _launch(server, 1)
            _advance(server, 3600)
            [event] = _settled(server, 1)
        assert event["state"] == "failed" and event["sends"][0]["status"] == 307
        assert "redirect is not followed" in event["sends"][0]["error"]
        assert receiver.received == [] and len(redirecting.received) == 1


def test_an_event_whose_campaign_lost_its_url_fails_saying_so(receiver: WebhookReceiver) -> None:
    receiver.answer(500)
    with MockServer(_world(), webhook_url=receiver.url) as server:
        campaign, _ = _launch(server, 1)
        _advance(server, 3600)
        _settled(server, 1)
        requests.put(server.url(f"/__mock/campaigns/{campaign}/webhook"), json={"url": None})
        window = {"from_date": "2026-01-01T00:00:00Z", "to_date": "2026-02-01T00:00:00Z"}
        rerun = f"/api/v1/campaigns/{campaign}/webhooks/rerun-failed"
        requests.post(server.url(rerun), json=window)
        [event] = _settled(server, 1, sends=2)
        assert event["state"] == "failed" and event["sends"][1]["error"] == NO_URL


def _with_faults(server: MockServer, url: str, faults: str) -> str:
    campaign = server.world.campaigns()[0].id
    setting = {"url": url, "faults": faults}
    r = requests.put(server.url(f"/__mock/campaigns/{campaign}/webhook"), json=setting, timeout=5)
    assert r.status_code == 200, r.text
    return campaign


def test_a_duplicate_fault_sends_each_event_twice_and_records_both(
    receiver: WebhookReceiver,
) -> None:
    with MockServer(_world()) as server:
        _with_faults(server, receiver.url, "duplicate")
        _, [target_id] = _launch(server, 1)
        _advance(server, 3600)
        assert receiver.wait_for(target_id, count=2) == [receiver.payloads[0]] * 2
        [event] = _settled(server, 1, sends=2)
        assert event["state"] == "delivered" and len(event["sends"]) == 2


def test_a_reorder_fault_sends_the_events_waiting_together_newest_first(
    receiver: WebhookReceiver,
) -> None:
    with MockServer(_world()) as server:
        _with_faults(server, receiver.url, "reorder")
        _launch(server, 3)
        _advance(server, 3600)  # the three calls end in one move: their events wait together
        receiver.wait_for(count=3)
        ids = [e["payload"]["call_log_id"] for e in _events(server)]  # oldest event first
        sent = [p["call_log_id"] for p in receiver.payloads]
        assert sent == ids[::-1]


def test_a_drop_fault_sends_nothing_and_records_a_failure_to_rerun(
    receiver: WebhookReceiver,
) -> None:
    with MockServer(_world()) as server:
        campaign = _with_faults(server, receiver.url, "drop")
        _launch(server, 1)
        _advance(server, 3600)
        [event] = _settled(server, 1)
        assert event["state"] == "failed" and event["sends"][0]["error"].startswith("dropped")
        assert receiver.received == []
        _with_faults(server, receiver.url, "")
        window = {"from_date": event["created_at"], "to_date": event["created_at"]}
        rerun = f"/api/v1/campaigns/{campaign}/webhooks/rerun-failed"
        assert requests.post(server.url(rerun), json=window, timeout=5).json()["rerun"] == 1
        receiver.wait_for()


def test_a_latency_fault_makes_deliveries_late(receiver: WebhookReceiver) -> None:
    with MockServer(_world()) as server:
        _with_faults(server, receiver.url, "latency=700")
        _launch(server, 1)
        _advance(server, 3600)
        began = time.monotonic()
        receiver.wait_for()
        assert time.monotonic() - began >= 0.6


def test_on_the_system_clock_a_call_ended_through_the_control_api_is_delivered(
    receiver: WebhookReceiver,
) -> None:
    world = World.generate(WorldRecipe(seed=6, live_calls=4, call_logs=12))  # the real clock
    with MockServer(world, webhook_url=receiver.url) as server:
        _, [target_id] = _launch(server, 1)
        [call] = requests.get(server.url(f"/api/v1/targets/{target_id}"), timeout=5).json()[
            "call_log_ids"
        ]
        ended = requests.post(server.url(f"/__mock/live-calls/{call}/end"), json={}, timeout=5)
        assert ended.status_code == 200
        [payload] = receiver.wait_for(target_id)
        assert (payload["call_log_id"], payload["attempt"]) == (call, 1)


def test_a_launch_answers_which_calls_wait_for_the_targets_hours() -> None:
    with MockServer(_world()) as server:
        campaign = server.world.campaigns()[0].id
        closed = {"sunday": [{"start": "09:00", "end": "10:00"}], "tz": "UTC"}
        added = requests.post(
            server.url(f"/api/v1/campaigns/{campaign}/targets"),
            json={"targets": [{"phone_number": {"value": "+15550001", "operating_hours": closed}}]},
            timeout=5,
        ).json()
        target_id = added["targets"][0]["id"]
        answer = requests.post(
            server.url(f"/api/v1/campaigns/{campaign}/calls"),
            json={"target_ids": [target_id]},
            timeout=5,
        ).json()
        when = "2026-01-18T09:00:00.000+00:00"  # the Sunday after
        assert answer == {
            "launched": [],
            "skipped": [],
            "scheduled": [{"target_id": target_id, "scheduled_time": when}],
        }
        target = requests.get(server.url(f"/api/v1/targets/{target_id}"), timeout=5).json()
        assert (target["status"], target["scheduled_time"]) == ("Scheduled", when)


def test_two_processes_on_one_store_send_each_event_once_and_agree_on_its_outcome(
    redis_server: RedisServer, redis_namespace: str
) -> None:
    with WebhookReceiver() as receiver:
        args = ["--quiet", "--store", redis_server.url, "--store-namespace", redis_namespace]
        args += ["--virtual-clock", "--webhook-url", receiver.url]
        with serve(args) as first, serve(args) as second:
            one, other = ControlClient(first.base_url), ControlClient(second.base_url)
            phones = [{"phone_number": f"+1555000{n:04d}"} for n in range(4)]
            one.api(
                "POST",
                f"/api/v1/campaigns/{SEED_0_CAMPAIGN}/targets",
                {"targets": phones, "launch": True},
            )
            for _ in range(3):  # a day a step, through every attempt: some are retried
                other.advance_clock(86_400)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                events = one.webhook_events()
                if events and all(e["state"] == "delivered" for e in events):
                    break
                time.sleep(0.1)
            assert events and all(e["state"] == "delivered" for e in events)
            assert other.webhook_events() == events  # the same events, the same outcomes
            time.sleep(0.5)  # a second sender, were there one, would have sent by now
        sent = sorted((p["target_id"], p["attempt"]) for p in receiver.payloads)
        assert sent == sorted((e["payload"]["target_id"], e["payload"]["attempt"]) for e in events)
        assert len(sent) == len(set(sent)) >= 4  # once each
        assert all(len(e["sends"]) == 1 for e in events)
