"""Stubs: parsed and checked against the vendored spec, matched, counted, saved."""

from __future__ import annotations

import pytest

from prosper_mock import load_spec
from prosper_mock.serving.stubs import StubConflict, StubError, Stubs, parse_stub

SPEC = load_spec()
TARGET = "/api/v1/targets/{target_id}"


def test_an_answer_the_spec_documents_must_conform_naming_path_and_rule() -> None:
    with pytest.raises(StubError, match=r"at \$\.targets\[0\]: .* \(schema rule: required\)"):
        parse_stub(
            {"method": "GET", "path": "/api/v1/campaigns/c/targets", "body": {"targets": [{}]}},
            SPEC,
        )
    with pytest.raises(StubError, match=r"at \$\.next_page: .* \(schema rule: anyOf\)"):
        parse_stub(
            {
                "method": "GET",
                "path": "/api/v1/call-logs",
                "body": {"call_logs": [], "next_page": "x"},
            },
            SPEC,
        )
    with pytest.raises(StubError, match="give the stub a body"):
        parse_stub({"method": "GET", "path": "/api/v1/call-logs"}, SPEC)
    # an undocumented status, or unchecked: taken as given
    assert parse_stub({"method": "GET", "path": TARGET, "status": 503}, SPEC).status == 503
    bad = {"method": "GET", "path": "/api/v1/call-logs", "body": [], "unchecked": True}
    assert parse_stub(bad, SPEC).unchecked


@pytest.mark.parametrize(
    ("stub", "says"),
    [
        ({"method": "GET", "path": "/nope"}, "no operation"),
        ({"method": "PUT", "path": TARGET, "status": 503}, "has no PUT"),
        ({"method": "GET", "path": TARGET, "status": 700}, "status must be"),
        ({"method": "GET", "path": TARGET, "status": 503, "times": 0}, "times must be"),
        ({"method": "GET", "path": TARGET, "status": 503, "delay": 61}, "delay must be"),
        ({"method": "GET", "path": TARGET, "status": 503, "headers": {"a": 1}}, "headers"),
        ({"method": "GET", "path": TARGET, "status": 503, "id": "a b"}, "id must be"),
        ({"method": "GET", "path": TARGET, "nope": 1}, "unknown stub fields"),
        ([], "JSON object"),
    ],
)
def test_a_stub_that_is_no_request_of_the_api_is_refused(stub: object, says: str) -> None:
    with pytest.raises(StubError, match=says):
        parse_stub(stub, SPEC)


def test_after_and_times_count_matching_requests_and_the_stub_then_goes() -> None:
    stubs = Stubs()
    stub = stubs.add(
        parse_stub({"method": "GET", "path": TARGET, "status": 503, "after": 1, "times": 2}, SPEC)
    )
    taken = [stubs.take("GET", "/api/v1/targets/t", {}, None) for _ in range(4)]
    assert taken == [None, stub, stub, None] and not stubs
    saved_stub = stubs.add(
        parse_stub({"id": "k", "method": "GET", "path": TARGET, "status": 503}, SPEC)
    )
    with pytest.raises(StubConflict):
        stubs.add(saved_stub)
    saved = stubs.saved()
    stubs.clear()
    stubs.restore(saved)
    assert [s["id"] for s in stubs.to_list()] == ["k"]
    listed = stubs.to_list()
    other = Stubs()
    other.load(listed, SPEC)
    assert other.to_list() == listed
