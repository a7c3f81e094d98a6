"""The request pipeline: API key, faults, validation, operation, journal, in that order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prosper_mock import MockServer, Semantics, World, WorldRecipe
from prosper_mock.serving.render import SnapshotCache, render_answer
from prosper_mock.serving.spec import Operation, load_spec
from prosper_mock.world.lookup import NotFound, NothingToLookUp
from tests.rawhttp import request as raw_request

OP = "get_live_call_api_v1_live_calls_get"
Q = "/api/v1/live-calls"


@pytest.fixture
def world() -> World:
    return World.generate(WorldRecipe(live_calls=1, call_logs=2))


def test_each_step_answers_before_the_next_runs(world: World) -> None:
    ran: list[dict[str, Any]] = []

    async def operation(request: web.Request, params: dict[str, Any], state: Any) -> NotFound:
        ran.append(params)
        return NotFound()

    with MockServer(world, api_key=("X-Key", "k"), operations={OP: operation}) as s:
        fault = {"X-Mock-Fault": "status=503"}
        assert (
            requests.get(s.url(Q + "?call_log_id=abc"), headers=fault, timeout=5).status_code == 403
        )
        key = {"X-Key": "k"}
        r = requests.get(s.url(Q + "?call_log_id=abc"), headers=key | fault, timeout=5)
        assert r.status_code == 503  # faults come before validation
        assert (
            requests.get(s.url(Q + "?call_log_id=abc"), headers=key, timeout=5).status_code == 422
        )
        assert ran == []  # the operation never ran for a refused request
        r = requests.get(s.url(Q + "?call_log_id=7"), headers=key, timeout=5)
        assert (r.status_code, r.json()) == (404, {"detail": "Call not found"})
        assert [p["call_log_id"] for p in ran] == [7]
        statuses = [e.status for e in s.state.journal]
        assert statuses == [403, 503, 422, 404]  # every request journalled once


def test_a_dropped_connection_is_journalled_as_0_and_a_crash_not_at_all(world: World) -> None:
    async def operation(request: web.Request, params: dict[str, Any], state: Any) -> NotFound:
        raise RuntimeError("boom")

    with MockServer(world, operations={OP: operation}) as s:
        with pytest.raises(requests.ConnectionError):
            requests.get(s.url(Q + "?call_log_id=1"), headers={"X-Mock-Fault": "drop"}, timeout=5)
        assert requests.get(s.url(Q + "?call_log_id=1"), timeout=5).status_code == 500
        assert [e.status for e in s.state.journal] == [0]


def test_the_slow_and_truncate_faults_shape_the_rendered_answer(world: World) -> None:
    call = next(iter(world.live_calls))
    with MockServer(world) as s:
        url = s.url(f"{Q}?call_log_id={call.call_log_id}")
        whole = requests.get(url, timeout=5).content
        slow = requests.get(url, headers={"X-Mock-Fault": "slow=1"}, timeout=5)
        assert slow.content == whole
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            requests.get(url, headers={"X-Mock-Fault": "truncate=5"}, timeout=5)


def test_render_answer_passes_a_response_through_and_words_the_others() -> None:
    snapshots = SnapshotCache()
    own = web.Response(text="mine")
    assert render_answer(own, Semantics(), snapshots) is own
    missing = NothingToLookUp("give call_log_id", "call_log_id")
    assert render_answer(missing, Semantics(), snapshots).status == 400
    as_422 = render_answer(missing, Semantics(missing_lookup=422), snapshots)
    assert isinstance(as_422, web.Response) and as_422.status == 422
    assert as_422.body == (
        b'{"detail":[{"type":"missing","loc":["query","call_log_id"],'
        b'"msg":"Field required","input":null}]}'
    )
    gone = render_answer(
        NotFound(), Semantics(not_found_status=410, not_found_detail="x"), snapshots
    )
    assert isinstance(gone, web.Response) and (gone.status, gone.body) == (410, b'{"detail":"x"}')


# -- every operation of the spec ------------------------------------------------------

SPEC_OPS = list(load_spec().operations())


def _target(op: Operation, segment: str = "1") -> bytes:
    return re.sub(r"\{[^}]+\}", segment, op.path).encode()


def test_faults_and_the_journal_apply_to_every_operation(world: World) -> None:
    with MockServer(world) as mock:
        for op in SPEC_OPS:
            fault = b"X-Mock-Fault: status=503\r\n"
            answer = raw_request("127.0.0.1", mock.port, _target(op), op.method.encode(), fault)
            assert answer.status == 503, op.operation_id
            # the body is refused (or accepted) after the fault step, and journalled too
            body = b"{" if op.request_body is not None else None
            answer = raw_request("127.0.0.1", mock.port, _target(op), op.method.encode(), body=body)
            # Every operation is implemented: a broken body is a 422, none a server error.
            assert answer.status == 422 if body else answer.status < 500, op.operation_id
        entries = mock.state.journal.entries()
    assert [(e.operation_id, e.status) for e in entries[::2]] == [
        (op.operation_id, 503) for op in SPEC_OPS
    ]
    assert [e.operation_id for e in entries[1::2]] == [op.operation_id for op in SPEC_OPS]


def _nested(depth: int) -> bytes:
    return b'{"target_ids":' + b"[" * depth + b"]" * depth + b"}"


GARBAGE_BODIES = [
    b"\x00\x01\x02",
    b"\xef\xbb\xbf{}",
    "{}".encode("utf-16"),
    b"[" * 100_000,  # json.loads gives up (RecursionError): 400
    _nested(900),
    b'{"input_data": {"a": ' + b"[" * 900 + b"]" * 900 + b"}}",  # accepted, deep: never walked
    b'{"targets": [' + b'{"phone_number": 1},' * 3000 + b"1]}",
    b"NaN",
    b'{"a": Infinity, "from_date": -Infinity}',
    b"1" * 5000,  # int_max_str_digits: a ValueError inside json.loads
    b'"\\ud800"',
]
GARBAGE_TYPES = [b"application/json", b"", b"application/json; charset=latin-1", b"\xff/\xfe"]


@pytest.mark.parametrize("op", SPEC_OPS, ids=[o.operation_id[:40] for o in SPEC_OPS])
def test_no_request_of_any_shape_is_a_500(world: World, op: Operation) -> None:
    with MockServer(world) as mock:
        for segment in ["%00", "%ff", "-0", "1" * 5000, "%7B%7D", "a%2Fb", "%20"]:
            for query in [b"", b"?page=%ff&limit=&status=&from_date=%00", b"?" + b"a=&" * 300]:
                target = _target(op, segment) + query
                status = raw_request("127.0.0.1", mock.port, target, op.method.encode()).status
                assert status < 500 or status == 501, (target, status)
        for body in GARBAGE_BODIES:
            for content_type in GARBAGE_TYPES:
                headers = b"Content-Type: " + content_type + b"\r\n"
                answer = raw_request(
                    "127.0.0.1", mock.port, _target(op), op.method.encode(), headers, body=body
                )
                assert answer.status < 500 or answer.status == 501, (body[:40], answer)


def test_replacing_one_operation_keeps_the_others(world: World) -> None:
    async def broken(request: Any, params: dict[str, Any], state: Any) -> Any:
        return NotFound()

    with MockServer(world, operations={OP: broken}) as mock:
        assert (
            requests.get(mock.url("/api/v1/live-calls?call_log_id=1250"), timeout=5).status_code
            == 404
        )
        assert requests.get(mock.url("/api/v1/health"), timeout=5).json() == {"status": "ok"}


# Path segments as a client may write them: escapes of any bytes (UTF-8 or not), an escaped
# `%`, `?` or `.`, dot segments, and the characters curl reads as globs.
SEGMENTS = st.lists(
    st.one_of(
        st.binary(min_size=1, max_size=3).map(lambda b: "".join(f"%{x:02X}" for x in b)),
        st.sampled_from(["%E9", "%25E9", "%2541", "%41", "a%3Fb", "%2e%2e", "..", ".", "[1]"]),
        st.text("0123456789-_~.aZ{},'!$()*+;=:@", min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=3,
).map("".join)


@pytest.fixture(scope="module")
def journalling() -> Iterator[MockServer]:
    with MockServer(World.generate(WorldRecipe(live_calls=1, call_logs=2))) as server:
        yield server


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segment=SEGMENTS)
def test_the_journal_keeps_the_path_as_sent(journalling: MockServer, segment: str) -> None:
    """Every journalled request's path is the one in its request line, escapes as written:
    decoded, ``%25E9`` and ``%E9`` (or ``a%3Fb`` and ``a?b``) would read the same."""
    target = f"/api/v1/call-logs/{segment}"
    before = len(journalling.state.journal)
    answer = raw_request("127.0.0.1", journalling.port, target.encode())
    entries = journalling.state.journal.entries()[before:]
    # A path no route takes (an escaped "/" splits a segment) is a 404 and not journalled.
    unrouted = (answer.status, answer.body) == (404, b'{"detail":"Not Found"}')
    assert [e.path for e in entries] == ([] if unrouted else [target])
