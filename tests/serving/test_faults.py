"""Fault injection over real sockets: each kind, chosen by header or by seeded rules."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
import requests
from fastapi import FastAPI, HTTPException
from hypothesis import assume, given
from hypothesis import strategies as st

from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.control.client import ControlClient
from prosper_mock.serving.faults import FaultError, parse_faults
from tests.rawhttp import request
from tests.upstream import serve_upstream

PATH = b"/api/v1/live-calls?call_log_id=1003"


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer(World.generate(WorldRecipe(seed=1, live_calls=2, call_logs=8))) as server:
        yield server


def raw(mock: MockServer, fault: str) -> tuple[bytes, list[bytes]]:
    """Send a request with ``fault``; return everything received and the chunks as they came."""
    with socket.create_connection(("127.0.0.1", mock.port), timeout=5) as sock:
        sock.sendall(
            b"GET " + PATH + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"X-Mock-Fault: " + fault.encode() + b"\r\n\r\n"
        )
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks), chunks


def test_no_fault_by_default(mock: MockServer) -> None:
    everything, _ = raw(mock, "latency=0")
    assert everything.startswith(b"HTTP/1.1 200")


def test_latency(mock: MockServer) -> None:
    start = time.monotonic()
    r = requests.get(mock.url(PATH.decode()), headers={"X-Mock-Fault": "latency=250"}, timeout=5)
    assert r.status_code == 200 and time.monotonic() - start >= 0.25


@pytest.mark.parametrize(
    ("fault", "status", "detail", "retry"),
    [
        ("status=503;retry_after=2", 503, "Service Unavailable", "2"),
        ("status=429;retry_after=10;detail=Slow down", 429, "Slow down", "10"),
        ("status=500", 500, "Internal Server Error", None),
        ("status=502", 502, "Bad Gateway", None),
    ],
)
def test_error_answers(
    mock: MockServer, fault: str, status: int, detail: str, retry: str | None
) -> None:
    r = requests.get(mock.url(PATH.decode()), headers={"X-Mock-Fault": fault}, timeout=5)
    assert (r.status_code, r.json(), r.headers.get("Retry-After")) == (
        status,
        {"detail": detail},
        retry,
    )


def test_every_error_status_answers_as_fastapi_raises_it(mock: MockServer) -> None:
    """``status=N`` for every N in 400..599, by header and by rule: the answer of FastAPI's
    ``HTTPException(N)`` under uvicorn, byte for byte (the reason phrase and the detail are
    Python's name for N, else empty: 499, 512), and journalled with N."""
    app = FastAPI()

    @app.get("/status/{code}")
    async def fail(code: int) -> None:
        raise HTTPException(code)

    codes = range(400, 600)
    rules = [{"faults": f"status={c}", "match": {"call_log_id": str(c)}} for c in codes]
    ControlClient(mock.base_url).set_faults(rules)
    with serve_upstream(app) as upstream:
        for code in codes:
            fastapi = request("127.0.0.1", upstream, b"/status/%d" % code)
            header = b"X-Mock-Fault: status=%d\r\n" % code
            by_header = request("127.0.0.1", mock.port, PATH, headers=header)
            by_rule = request("127.0.0.1", mock.port, b"/api/v1/live-calls?call_log_id=%d" % code)
            for answer in (by_header, by_rule):
                assert (answer.status_line, answer.body, answer.headers["content-type"]) == (
                    fastapi.status_line,
                    fastapi.body,
                    fastapi.headers["content-type"],
                )
    assert [e.status for e in mock.state.journal.entries()] == [c for c in codes for _ in "hr"]


@pytest.mark.parametrize("status", ["399", "600", "200", "1000", "-500", "x"])
def test_a_status_out_of_range_is_refused_by_header_and_by_rule(
    mock: MockServer, status: str
) -> None:
    fault = f"status={status}"
    reason = "status must be " + ("4xx or 5xx" if status.isdigit() else "a whole number written")
    r = requests.get(mock.url(PATH.decode()), headers={"X-Mock-Fault": fault}, timeout=5)
    assert r.status_code == 400
    assert r.json()["detail"].startswith(f"X-Mock-Fault: bad fault {fault!r}: {reason}")
    rule = {"rules": [{"faults": fault}]}
    r = requests.put(mock.url("/__mock/faults"), json=rule, timeout=5)
    assert r.status_code == 422  # the control API's answer to bad input
    assert r.json()["detail"].startswith(f"bad fault {fault!r}: {reason}")
    assert requests.get(mock.url("/__mock/faults"), timeout=5).json() == {"rules": []}
    assert len(mock.state.journal) == 1  # the refused header's request; no fault applied


def test_dropped_connection(mock: MockServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="prosper_mock.access")
    everything, _ = raw(mock, "drop")
    assert everything == b""
    assert requests.get(mock.url(PATH.decode()), timeout=5).ok  # the server serves on
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    line = f'127.0.0.1 "GET {PATH.decode()} HTTP/1.1"'
    assert dropped == [f"{line} dropped by a fault: connection closed unanswered"]


def test_truncated_body(mock: MockServer) -> None:
    everything, _ = raw(mock, "truncate=20")
    head, _, body = everything.partition(b"\r\n\r\n")
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[
            1
        ]
    )
    assert len(body) == 20 < length


def test_slow_body(mock: MockServer) -> None:
    everything, chunks = raw(mock, "slow=20")
    assert everything.startswith(b"HTTP/1.1 200")
    assert everything.endswith(b"}") and len(chunks) > 5  # the body trickled in


def test_rules_are_deterministic_under_the_seed_and_can_match_a_parameter() -> None:
    def statuses(seed: int = 1) -> list[int]:
        with MockServer(World.generate(WorldRecipe(seed=seed, live_calls=2, call_logs=8))) as s:
            ControlClient(s.base_url).set_faults(
                [
                    {"faults": "status=503", "match": {"call_log_id": "1001"}},
                    {"faults": "status=500", "probability": 0.5},
                ]
            )
            out = [requests.get(s.url(PATH.decode()), timeout=5).status_code for _ in range(30)]
            assert (
                requests.get(s.url("/api/v1/live-calls?call_log_id=1001"), timeout=5).status_code
                == 503
            )
            assert requests.get(s.url("/__mock/health"), timeout=5).ok  # control is never faulted
            return out

    first = statuses()
    assert set(first) == {200, 500}
    assert statuses() == first
    assert statuses(seed=2) != first  # the world's seed drives the draws


@pytest.mark.parametrize(
    "bad",
    [
        "explode",
        "latency=x",
        "status=200",
        "latency=5-1",
        "",
        "drop=5",
        "latency=5;x=1",
        "status=503;retry_after=-1",
        "status=503;bogus=1",
        "status=503;detail=caf\udce9",
    ],
)
def test_bad_fault_is_a_clear_400(mock: MockServer, bad: str) -> None:
    with pytest.raises(FaultError):
        parse_faults(bad)
    if bad:
        # Sent as bytes: a non-UTF-8 byte reaches the server as a lone surrogate.
        header = bad.encode("utf-8", "surrogateescape")
        r = requests.get(mock.url(PATH.decode()), headers={"X-Mock-Fault": header}, timeout=5)
        assert r.status_code == 400 and "X-Mock-Fault" in r.json()["detail"]


# Every number of the grammar, each with where its value's text goes.
NUMBERS = {
    "latency": ("latency={}", lambda f: f.min_ms),
    "latency's upper bound": ("latency=0-{}", lambda f: f.max_ms),
    "slow": ("slow={}", lambda f: f.min_ms),
    "status": ("status={}", lambda f: f.status),
    "retry_after": ("status=503;retry_after={}", lambda f: f.retry_after),
    "truncate": ("truncate={};", lambda f: f.bytes),
}
# Text int() takes but the grammar does not: signs, `_`, whitespace, other scripts' digits.
LOOKALIKES = st.text(
    st.sampled_from("0123456789+_ \t\n\xa0\u3000\uff14\uff19\u00b9\u0663\u07c0"), max_size=6
)


@pytest.mark.parametrize("field", NUMBERS)
@given(text=st.one_of(LOOKALIKES, st.text(max_size=8)))
def test_a_number_is_accepted_only_as_ascii_digits(field: str, text: str) -> None:
    """Whatever a number's text, it is accepted only as the digits 0-9 (``int()`` also takes
    ``4_99``, `` 499``, full-width ``499``), and then it is that number; else a ``FaultError``."""
    template, value = NUMBERS[field]
    assume(not set(text) & set(",;-"))  # the grammar's separators end the value
    try:
        [fault] = parse_faults(template.format(text))
    except FaultError as exc:
        assert str(exc).startswith("bad fault ")
        return
    digits = text.rstrip(" \t")  # optional whitespace before a separator, as in HTTP lists
    assert digits.isascii() and digits.isdigit(), text
    assert value(fault) == int(digits)


@pytest.mark.parametrize(
    "value", ["4_99", "\uff14\uff19\uff19", " 499", "+499", "499\u3000", "0x1f3"]
)
def test_a_status_written_other_than_in_digits_is_refused(mock: MockServer, value: str) -> None:
    fault = f"status={value}"
    r = requests.get(mock.url(PATH.decode()), headers={"X-Mock-Fault": fault.encode()}, timeout=5)
    assert r.status_code == 400
    assert r.json() == {
        "detail": f"X-Mock-Fault: bad fault {fault!r}: status must be a whole number written "
        "in the digits 0-9 (at most 18 of them)"
    }
