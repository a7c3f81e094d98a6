"""Stubs and verification over real sockets: a retrying client, the spec check, the journal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from prosper_mock import MockServer, VirtualClock, World, WorldRecipe
from prosper_mock.control.client import ControlClient, ControlError

KEY = ("X-API-Key", "sekrit-key-123")


@pytest.fixture
def keyed() -> Iterator[MockServer]:
    """The mock requiring an API key, so its redaction shows in the journal."""
    clock = VirtualClock("2026-01-15T15:00:00+00:00")
    world = World.generate(WorldRecipe(seed=6, live_calls=2, call_logs=3), clock=clock)
    with MockServer(world, api_key=KEY) as server:
        yield server


def _target(c: ControlClient) -> str:
    campaign = c.campaigns()[0]["id"]
    return str(c.campaign_targets(campaign, limit=1)["targets"][0]["id"])


def test_a_503_stubbed_for_the_third_lookup_is_retried_and_verified(keyed: MockServer) -> None:
    c = ControlClient(keyed.base_url)
    target = _target(c)
    stub = c.add_stub(
        method="GET",
        path="/api/v1/targets/{target_id}",
        after=2,  # the world answers the first two
        times=1,
        status=503,
        body={"detail": "Service Unavailable"},
        headers={"Retry-After": "0"},
    )
    client = requests.Session()
    retry = Retry(total=2, status_forcelist=[503], backoff_factor=0, allowed_methods=["GET"])
    client.mount("http://", HTTPAdapter(max_retries=retry))
    client.headers.update({KEY[0]: KEY[1], "User-Agent": "retrying-client/1"})
    url = keyed.url(f"/api/v1/targets/{target}")
    answers = [client.get(url, timeout=5) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]  # the 503 was retried
    with pytest.raises(ControlError) as gone:
        c.stub(stub["id"])  # answered its one time: gone
    assert gone.value.status == 404

    verdict = c.verify(
        method="GET",
        path="/api/v1/targets/{target_id}",
        headers={"User-Agent": "retrying-client/1"},
        count=4,
    )
    assert verdict["ok"], verdict
    entries = c.journal(path=f"/api/v1/targets/{target}")
    assert [(e["status"], e["producer"], e["stub"]) for e in entries] == [
        (200, "world", None),
        (200, "world", None),
        (503, "stub", stub["id"]),
        (200, "world", None),
    ]
    for e in entries:
        headers = {n.lower(): v for n, v in e["headers"]}
        assert headers["user-agent"] == "retrying-client/1"
        assert headers["x-api-key"] == "[redacted]"  # never the key itself
        assert KEY[1] not in str(e)
    assert entries[2]["answer"]["body"] == '{"detail":"Service Unavailable"}'
    assert ["Retry-After", "0"] in entries[2]["answer"]["headers"]


def test_a_stub_whose_200_body_breaks_the_spec_is_refused_naming_the_rule(
    mock: MockServer,
) -> None:
    c = ControlClient(mock.base_url)
    with pytest.raises(ControlError) as refused:
        c.add_stub(
            method="GET",
            path="/api/v1/call-logs",
            status=200,
            body={"call_logs": [], "next_page": "nowhere"},
        )
    assert refused.value.status == 422
    detail = str(refused.value.detail)
    assert "schema rule:" in detail and "$" in detail, detail
    assert c.stubs() == []  # nothing added
    for _ in range(2):  # kept: the next ones are answered from the answer cache (fast path)
        assert requests.get(mock.url("/api/v1/call-logs"), timeout=5).status_code == 200
    # the same answer, unchecked, is taken (kept answers are not) and marked so in the journal
    kept = c.add_stub(
        method="GET",
        path="/api/v1/call-logs",
        status=200,
        body={"next_page": "nowhere"},
        unchecked=True,
    )
    r = requests.get(mock.url("/api/v1/call-logs"), timeout=5)
    assert r.json() == {"next_page": "nowhere"}
    entry = c.journal(path="/api/v1/call-logs")[-1]
    assert (entry["producer"], entry["stub"], entry["unchecked"]) == ("stub", kept["id"], True)


def test_a_stub_on_a_path_no_operation_has_is_refused(mock: MockServer) -> None:
    c = ControlClient(mock.base_url)
    for stub, words in (
        ({"method": "GET", "path": "/api/v1/nowhere", "status": 200}, "no operation"),
        ({"method": "PUT", "path": "/api/v1/call-logs", "status": 200}, "no PUT"),
    ):
        with pytest.raises(ControlError) as refused:
            c.add_stub(**stub)
        assert refused.value.status == 422 and words in str(refused.value.detail)


def test_the_journal_shows_a_posts_body_answer_and_producer(mock: MockServer) -> None:
    c = ControlClient(mock.base_url)
    campaign = c.campaigns()[0]["id"]
    body = {"targets": [{"phone_number": "+15550001234", "external_id": "J-1"}]}
    r = requests.post(
        mock.url(f"/api/v1/campaigns/{campaign}/targets"),
        json=body,
        headers={"Authorization": "Bearer very-secret"},
        timeout=5,
    )
    entry = c.journal(method="POST")[-1]
    assert entry["body"] is not None and '"external_id": "J-1"' in entry["body"]
    assert entry["answer"]["status"] == r.status_code
    assert entry["answer"]["body"] == r.text
    assert entry["producer"] == "world"
    assert ["Authorization", "[redacted]"] in entry["headers"]
    assert "very-secret" not in str(entry)


def test_a_stub_matches_a_json_subset_of_the_body_and_faults_keep_their_header(
    mock: MockServer,
) -> None:
    c = ControlClient(mock.base_url)
    campaign = c.campaigns()[0]["id"]
    path = f"/api/v1/campaigns/{campaign}/targets"
    c.add_stub(
        method="POST",
        path=path,
        request_body={"targets": [{"external_id": "STUBBED"}]},
        status=409,
        body={"detail": "duplicate"},
    )
    one = {"phone_number": "+15550001234", "external_id": "STUBBED"}
    stubbed = requests.post(mock.url(path), json={"targets": [one]}, timeout=5)
    other = {"targets": [{**one, "external_id": "OTHER"}]}
    assert (stubbed.status_code, stubbed.json()) == (409, {"detail": "duplicate"})
    assert requests.post(mock.url(path), json=other, timeout=5).status_code == 200
    stubbed_entry = c.journal(method="POST")[-2]
    assert stubbed_entry["producer"] == "stub" and '"STUBBED"' in stubbed_entry["body"]
    faulted = requests.get(
        mock.url("/api/v1/call-logs"), headers={"X-Mock-Fault": "status=500"}, timeout=5
    )
    entry = c.journal(path="/api/v1/call-logs")[-1]
    assert (entry["status"], entry["producer"]) == (faulted.status_code, "fault")
    assert ["X-Mock-Fault", "status=500"] in entry["headers"]


def test_verify_lists_the_near_misses_with_the_parts_that_differ(mock: MockServer) -> None:
    c = ControlClient(mock.base_url)
    requests.get(mock.url("/api/v1/call-logs?limit=5"), timeout=5)
    requests.get(mock.url("/api/v1/live-calls?call_log_id=1"), timeout=5)
    verdict = c.verify(method="GET", path="/api/v1/call-logs", query={"limit": "6"})
    assert (verdict["ok"], verdict["count"], verdict["expected"]) == (False, 0, "at least 1")
    nearest = verdict["near_misses"][0]
    assert nearest["entry"]["path"] == "/api/v1/call-logs"
    assert nearest["differences"] == [{"part": "query.limit", "expected": "6", "actual": "5"}]
    assert c.verify(path="/api/v1/call-logs", query={"limit": "5"}, count=1)["ok"]


def test_stubs_are_state_reset_removes_them_and_a_snapshot_keeps_them(
    mock: MockServer,
) -> None:
    c = ControlClient(mock.base_url)
    c.add_stub(id="one", method="GET", path="/api/v1/call-logs", status=503)
    name = c.snapshot()
    c.clear_stubs()
    assert c.stubs() == []
    c.restore(name)
    assert [s["id"] for s in c.stubs()] == ["one"]
    with pytest.raises(ControlError) as twice:
        c.add_stub(id="one", method="GET", path="/api/v1/call-logs", status=503)
    assert twice.value.status == 409
    c.reset()
    assert c.stubs() == []
    c.add_stub(id="two", method="GET", path="/api/v1/call-logs", status=503)
    c.remove_stub("two")
    with pytest.raises(ControlError) as missing:
        c.remove_stub("two")
    assert missing.value.status == 404


def test_a_stubs_delay_holds_its_answer(mock: MockServer) -> None:
    import time

    c = ControlClient(mock.base_url)
    c.add_stub(method="GET", path="/api/v1/targets/{target_id}", status=503, delay=0.3)
    began = time.monotonic()
    r = requests.get(mock.url("/api/v1/targets/t-1"), timeout=5)
    assert r.status_code == 503 and time.monotonic() - began >= 0.3
    assert r.content == b""  # no body given: none sent


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(["call_log_id", "user_phone_number", "key", "value", "limit"]),
    st.text(alphabet="0123456789+abc%", max_size=6),
)
def test_a_request_no_stub_matches_gets_the_worlds_answer(
    stubbed_mock: MockServer, name: str, value: str
) -> None:
    url = stubbed_mock.url("/api/v1/live-calls")
    with_stub = requests.get(url, params={name: value}, timeout=5)
    c = ControlClient(stubbed_mock.base_url)
    saved = c.stubs()
    c.clear_stubs()
    try:
        without = requests.get(url, params={name: value}, timeout=5)
    finally:
        for stub in saved:
            c.add_stub(
                **{k: v for k, v in stub.items() if k not in ("operation_id", "seen", "answered")}
            )
    assert (with_stub.status_code, with_stub.content) == (without.status_code, without.content)


@pytest.fixture(scope="module")
def stubbed_mock() -> Iterator[MockServer]:
    """A mock with stubs that match none of the live-call lookups above."""
    world = World.generate(WorldRecipe(seed=6, live_calls=2, call_logs=3))
    with MockServer(world) as server:
        c = ControlClient(server.base_url)
        c.add_stub(method="GET", path="/api/v1/live-calls", query={"key": "never"}, status=503)
        c.add_stub(method="GET", path="/api/v1/call-logs", status=503)
        yield server
