"""What a failed verification says, and a stub as a context manager."""

from __future__ import annotations

from prosper_mock import MockServer
from prosper_mock.control.client import ControlClient
from prosper_mock.control.verdicts import StubHandle, describe, failure


def test_a_failure_names_the_matcher_the_count_and_each_differing_part() -> None:
    matcher = {"method": "GET", "path": "/api/v1/call-logs", "query": {"limit": "6"}, "count": 2}
    entry = {"seq": 7, "method": "GET", "path": "/api/v1/call-logs", "query": [["limit", "5"]]}
    verdict = {
        "ok": False,
        "count": 1,
        "expected": "exactly 2",
        "seqs": [3],
        "near_misses": [
            {
                "entry": {**entry, "status": 200},
                "differences": [{"part": "query.limit", "expected": "6", "actual": "5"}],
            }
        ],
    }
    assert failure(matcher, verdict).splitlines() == [
        'expected exactly 2 request(s) matching GET /api/v1/call-logs with query {"limit": "6"}; '
        "the journal has 1 (seq 3)",
        "nearest requests that did not match:",
        '  #7 GET /api/v1/call-logs?limit=5 -> 200: query.limit: expected "6", got "5"',
    ]
    empty = {"ok": False, "count": 0, "expected": "at least 1", "seqs": [], "near_misses": []}
    assert failure({}, empty).endswith("the journal holds no requests at all")
    assert describe({"request_body": {"a": 1}, "request_body_exact": True}) == (
        'any method any path with exactly the body {"a": 1}'
    )


def test_a_stub_handle_removes_its_stub_once_even_when_it_is_gone(mock: MockServer) -> None:
    control = ControlClient(mock.base_url)
    stub = control.add_stub(method="GET", path="/api/v1/call-logs", status=503, times=1)
    with StubHandle(control, stub) as handle:
        assert handle.refresh()["answered"] == 0
        handle.remove()
    assert control.stubs() == []  # leaving the block after a removal is no error
