"""The run's session (``contracts/runner.py``): every answer counted and judged, every fault
one finding with a curl that resends the request, and nothing judged that depends on a fault."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prosper_contracts.generation import run_settings
from prosper_contracts.runner import EndpointFault, fault_of
from prosper_contracts.target import Target
from prosper_contracts.test_fallback import test_fallback_semantics as fallback_suite
from prosper_contracts.test_workflow import (
    test_call_log_pages_and_each_log_against_its_listing_and_snapshot as logs_suite,
)
from prosper_contracts.test_workflow import (
    test_target_pages_and_each_target_against_its_listing_and_calls as targets_suite,
)
from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.control.client import ControlClient

REQUEST = SimpleNamespace(config=SimpleNamespace(option=SimpleNamespace(prosper_sample=[])))


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(World.generate(WorldRecipe(seed=2, live_calls=6, call_logs=40))) as server:
        yield server


@pytest.fixture
def faults(mock: MockServer) -> Iterator[ControlClient]:
    """The mock's control API; its fault rules are cleared after the test."""
    control = ControlClient(mock.base_url)
    try:
        yield control
    finally:
        control.clear_faults()


def target_of(mock: MockServer) -> Target:
    return Target(mock.base_url, control=ControlClient(mock.base_url))


def rules(target: Target) -> list[tuple[str, str]]:
    return [(f.rule, f.operation) for f in target.findings.items]


def test_a_dropped_connection_is_one_finding_and_no_transport_error(
    mock: MockServer, faults: ControlClient
) -> None:
    faults.set_faults([{"faults": "drop", "match": {"call_log_id": "1000"}}])
    target = target_of(mock)
    with pytest.raises(EndpointFault) as raised:
        target.get({"call_log_id": "1000"})
    (finding,) = target.findings.items
    assert raised.value.finding == finding
    assert (finding.rule, finding.operation) == ("complete-answer", "GET /api/v1/live-calls")
    assert target.record.answers["GET /api/v1/live-calls"]["no answer"] == 1
    done = subprocess.run(finding.curl, shell=True, capture_output=True, text=True, timeout=30)
    assert done.returncode == 52, done  # curl: (52) Empty reply from server: the same drop
    assert "Empty reply from server" in done.stderr


def test_a_server_error_is_a_fault_whose_curl_resends_the_body_and_its_type(
    mock: MockServer, faults: ControlClient
) -> None:
    campaign = str(faults.campaigns()[0]["id"])
    faults.set_faults([{"faults": "status=503", "match": {"fault": "yes"}}])
    target = target_of(mock)
    body = {"targets": [{"phone_number": "+15550001234", "external_id": "X'1"}], "launch": False}
    path = f"/api/v1/campaigns/{campaign}/targets"
    answer = target.request("POST", path, params={"fault": "yes"}, json=body)
    finding = fault_of(answer)
    assert finding is not None and finding.rule == "no-server-error"
    assert finding.operation == "POST /api/v1/campaigns/{campaign_id}/targets"
    faults.clear_faults()  # resent without the fault: the mock adds what the curl carries
    done = subprocess.run(finding.curl, shell=True, capture_output=True, text=True, timeout=30)
    head, _, sent = done.stdout.partition("\n\n")
    assert head.startswith("HTTP/1.1 200"), done.stdout[:500]
    (added,) = json.loads(sent)["targets"]
    assert (added["phone_number"], added["external_id"]) == ("+15550001234", "X'1")


@pytest.fixture(scope="module")
def echo() -> Iterator[MockServer]:
    """A server that answers each request with its body, byte for byte."""
    from aiohttp import web

    async def back(request: web.Request) -> web.Response:
        return web.Response(body=await request.read(), content_type="application/octet-stream")

    app = web.Application()
    app.router.add_post("/echo", back)
    with MockServer(app_factory=lambda _world, **_: app) as server:
        yield server


def test_a_curl_sends_any_body_byte_for_byte(echo: MockServer) -> None:
    from prosper_contracts.findings import curl_command

    @given(body=st.binary(max_size=40) | st.text(max_size=40))
    @run_settings(15, None)
    def resent(body: bytes | str) -> None:
        command = curl_command(echo.url("/echo"), method="POST", body=body).replace(" -i ", " ")
        done = subprocess.run(["bash", "-c", command], capture_output=True, timeout=30)
        assert done.stdout == (body.encode() if isinstance(body, str) else body), command

    resent()


def test_a_page_walk_that_hits_a_server_error_reports_it_once(
    mock: MockServer, faults: ControlClient
) -> None:
    faults.set_faults([{"faults": "status=500", "match": {"page": "2", "limit": "7"}}])
    target = target_of(mock)
    logs_suite(target)
    assert rules(target) == [("no-server-error", "GET /api/v1/call-logs")]


def test_a_page_walk_that_hits_an_undocumented_status_reports_it_once(
    mock: MockServer, faults: ControlClient
) -> None:
    """A 403 (an API key refused, say) is the operation's undocumented status, one finding:
    not also a page walk that stopped."""
    faults.set_faults([{"faults": "status=403", "match": {"page": "2", "limit": "7"}}])
    target = target_of(mock)
    logs_suite(target)
    assert rules(target) == [("documented-status", "GET /api/v1/call-logs")]


def test_a_target_walk_that_hits_a_server_error_reports_it_once(
    mock: MockServer, faults: ControlClient
) -> None:
    faults.set_faults([{"faults": "status=500", "match": {"page": "1", "limit": "4"}}])
    target = target_of(mock)
    targets_suite(target, REQUEST)  # type: ignore[arg-type]
    assert rules(target) == [("no-server-error", "GET /api/v1/campaigns/{campaign_id}/targets")]


def test_a_target_whose_call_cannot_be_looked_up_is_not_judged(
    mock: MockServer, faults: ControlClient
) -> None:
    """A lookup of a target's call that answers 500 is that finding, not a call that does
    not resolve nor a status that disagrees."""
    mock.state.clear_journal()
    targets_suite(target_of(mock), REQUEST)  # type: ignore[arg-type]
    looked_up = [
        e.params["call_log_id"]
        for e in mock.state.journal.entries()
        if e.path == "/api/v1/live-calls" and "call_log_id" in e.params
    ]
    faults.set_faults([{"faults": "status=500", "match": {"call_log_id": looked_up[0]}}])
    target = target_of(mock)
    targets_suite(target, REQUEST)  # type: ignore[arg-type]
    assert rules(target) == [("no-server-error", "GET /api/v1/live-calls")]


def test_the_fallback_machine_stops_at_a_server_error_with_one_finding(
    mock: MockServer, faults: ControlClient
) -> None:
    faults.set_faults([{"faults": "status=500", "probability": 0.05}])
    target = target_of(mock)
    fallback_suite(target, 10, None)  # no FlakyStrategyDefinition, no replay
    assert rules(target) == [("no-server-error", "GET /api/v1/live-calls")]
    assert len(target.findings.seen) == 1


def test_answers_are_counted_by_operation_and_status(mock: MockServer) -> None:
    target = target_of(mock)
    target.get({"call_log_id": "1000"})
    target.get({"call_log_id": "x"})
    target.get(path="/api/v1/call-logs/1000")
    assert target.record.answers == {
        "GET /api/v1/live-calls": {"200": 1, "422": 1},
        "GET /api/v1/call-logs/{call_log_id}": {"200": 1},
    }
    assert target.record.requests == 3 and target.findings.items == []


def test_an_answer_that_does_not_come_in_time_is_a_finding(
    mock: MockServer, faults: ControlClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prosper_contracts.target

    monkeypatch.setattr(prosper_contracts.target, "TIMEOUT", 0.3)
    faults.set_faults([{"faults": "latency=1500", "match": {"call_log_id": "1001"}}])
    target = target_of(mock)
    with pytest.raises(EndpointFault):
        target.get({"call_log_id": "1001"})
    (finding,) = target.findings.items
    assert (finding.rule, finding.message) == ("complete-answer", "no answer: timed out")


def test_a_suites_own_mock_is_counted_apart_as_its_journal_lists_and_its_findings_marked(
    mock: MockServer, faults: ControlClient
) -> None:
    """The endpoint under test's counts are what its journal lists; what a suite sends to a
    mock of its own is counted in a record of its own, its findings marked as made there,
    without the endpoint's fault note."""
    faults.set_faults([{"faults": "status=503", "match": {"call_log_id": "1000"}}])
    target = target_of(mock)
    target.record.fault_note = "the mock's fault rules may cause it"
    with MockServer(World.generate(WorldRecipe(seed=3, live_calls=2, call_logs=4))) as own_mock:
        faulty = ControlClient(own_mock.base_url)
        faulty.set_faults([{"faults": "status=500", "match": {"call_log_id": "1001"}}])
        own = Target(own_mock.base_url, record=target.record.own_mock("test_x"))
        mock.state.clear_journal()
        target.get({"call_log_id": "1000"})
        own.get({"call_log_id": "1001"})
        own.get(path="/api/v1/call-logs")
        journalled = [(e.path, e.status) for e in own_mock.state.journal.entries()]
    assert [(e.path, e.status) for e in mock.state.journal.entries()] == [
        ("/api/v1/live-calls", 503)
    ]
    assert target.record.answers == {"GET /api/v1/live-calls": {"503": 1}}
    assert sorted(journalled) == [("/api/v1/call-logs", 200), ("/api/v1/live-calls", 500)]
    assert target.record.own_mock_answers() == {
        "GET /api/v1/live-calls": {"500": 1},
        "GET /api/v1/call-logs": {"200": 1},
    }
    assert (target.record.requests, target.record.own_mock_requests) == (1, 2)
    theirs, ours = target.findings.items
    assert theirs.where == "" and theirs.message.endswith("(the mock's fault rules may cause it)")
    assert ours.where == "test_x" and "fault rules" not in ours.message
    assert str(ours).startswith("[no-server-error] GET /api/v1/live-calls: answered 500")
    assert str(ours).split("\n")[0].endswith("(on the mock test_x started for itself)")
    assert target.record.findings_on("GET /api/v1/live-calls") == [theirs]
    assert target.record.own_mocks[0].findings_on("GET /api/v1/live-calls") == [ours]
    assert target.record.last is not None and target.record.last.where == "test_x"
