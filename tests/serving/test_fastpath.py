"""The fast path answers exactly as aiohttp does: the same bytes (but ``Date``'s value), the
same journal, the same access lines, whatever is sent, on one connection or pipelined."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prosper_mock import World, WorldRecipe, create_app
from prosper_mock.serving import fastpath
from prosper_mock.serving.eventloop import new_event_loop
from prosper_mock.serving.faults import FaultRule, parse_faults
from prosper_mock.serving.runner import SERVER_OPTIONS, ServerOptions, start_app
from prosper_mock.serving.state import MockState, state_of

KEY = ("X-Api-Key", "s3cret")
LOOKUP = b"/api/v1/live-calls"
DATE = re.compile(rb"\r\nDate: [^\r]*\r\n")


@dataclass
class Served:
    """A mock app on a loopback port, in a thread of its own, with or without the fast path."""

    state: MockState
    port: int
    loop: asyncio.AbstractEventLoop


@contextmanager
def served(
    fast: bool,
    api_key: tuple[str, str] | None = None,
    access: logging.Logger | None = None,
    options: ServerOptions = SERVER_OPTIONS,
) -> Iterator[Served]:
    world = World.generate(WorldRecipe(live_calls=3, call_logs=5))
    app = create_app(world, api_key=api_key, body_timeout=0.3)
    loop = new_event_loop()
    started = threading.Event()
    ports: list[int] = []

    def run() -> None:
        listening = loop.run_until_complete(
            start_app(app, "127.0.0.1", 0, access_log=access, options=options, fast_path=fast)
        )
        ports.append(listening.port)
        started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(listening.close())
            loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield Served(state_of(app), ports[0], loop)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def ids(state: MockState) -> list[int]:
    return state.world.sample_ids(2)["live_calls"]


def exchange(port: int, chunks: list[bytes], pause: float = 0.0) -> bytes:
    """Send ``chunks`` (``pause`` s apart) on one connection; everything read until it closes."""
    received = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each chunk as sent
        try:
            for i, chunk in enumerate(chunks):
                if i and pause:
                    time.sleep(pause)
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):  # it closed early: read what it sent
            pass
        try:
            while data := sock.recv(65536):
                received.append(data)
        except ConnectionResetError:  # closed with our bytes unread
            received.append(b"<reset>")
    return DATE.sub(b"\r\nDate: -\r\n", b"".join(received))


def journal(state: MockState) -> list[tuple[Any, ...]]:
    """What the journal keeps of each request but its times (the request's headers, the
    answer's and what produced it included)."""
    return [
        (
            *(e.method, e.path, e.raw_query, e.operation_id, e.status, e.headers, e.body),
            *(e.answer_headers, e.answer_body, e.producer, e.stub, e.unchecked),
        )
        for e in state.journal
    ]


def head(target: bytes, *headers: bytes, method: bytes = b"GET", version: bytes = b"1.1") -> bytes:
    lines = [method + b" " + target + b" HTTP/" + version, b"Host: 127.0.0.1", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


# The last request of every exchange: aiohttp's on both sides (Connection: close), so each
# server answers everything before it and closes.
CLOSE = head(LOOKUP + b"?call_log_id=1", b"Connection: close")


BODIES = {b"Content-Length: 2": b"{}", b"Transfer-Encoding: chunked": b"2\r\n{}\r\n0\r\n\r\n"}


def requests_for(known: list[int], key: bytes) -> st.SearchStrategy[bytes]:
    """One request of any kind: hits, misses, and everything the fast path hands on."""
    hits = st.sampled_from([f"call_log_id={i}".encode() for i in known])  # kept once asked
    query = st.one_of(
        hits,
        hits,
        hits,
        st.integers(0, 20).map(lambda n: b"call_log_id=%d" % n),
        st.sampled_from([b"call_log_id=abc", b"", b"user_phone_number=%2B1", b"call_log_id=1#x"]),
        st.binary(max_size=12).map(lambda b: b"call_log_id=" + b),
    )
    extra = st.sampled_from(
        [
            b"",
            b"",
            b"",
            b"",
            key,
            b"X-Api-Key: wrong",
            b"X-Mock-Fault: status=503",
            b"x-mock-fault: nonsense",
            b"Connection: keep-alive",
            b"Connection: close",
            b"Content-Length: 2",
            b"Transfer-Encoding: chunked",
            b"Expect: 100-continue",
            b"Upgrade: h2c\r\nConnection: Upgrade",
            b"Accept: */*\r\nUser-Agent: t",
            b"X-Bad: a\x01b",
            b"X-Latin: \xe9",
        ]
    )
    plain = st.builds(
        lambda q, e, method, version, path: (
            head(
                path + (b"?" + q if q or path == LOOKUP else b""),
                *([key, e] if key and e != key else [e]),
                method=method,
                version=version,
            ).replace(b"\r\n\r\n\r\n", b"\r\n\r\n")
            + BODIES.get(e, b"")
        ),
        query,
        extra,
        st.sampled_from([b"GET", b"GET", b"GET", b"HEAD", b"POST"]),
        st.sampled_from([b"1.1", b"1.1", b"1.1", b"1.0"]),
        st.sampled_from([LOOKUP, LOOKUP, LOOKUP, b"/api/v1/call-logs", b"/api/v1/live-calls/"]),
    )
    odd = st.sampled_from(
        [
            b"GET /api/v1/live-calls?call_log_id=1\r\n\r\n",  # HTTP/0.9
            b"GET /api/v1/live-calls?call_log_id=1 HTTP/1.1\nHost: x\n\n",  # bare LF
            b"GET http://127.0.0.1/api/v1/live-calls?call_log_id=1 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"\r\n",
        ]
    )
    return st.one_of(plain, plain, plain, odd)


def compare(fast: Served, slow: Served, chunks: list[bytes], pause: float = 0.0) -> None:
    before = (len(journal(fast.state)), len(journal(slow.state)))
    assert exchange(fast.port, chunks, pause) == exchange(slow.port, chunks, pause)
    # both answered everything they were sent before closing: their journals are complete
    assert journal(fast.state)[before[0] :] == journal(slow.state)[before[1] :]


@pytest.mark.parametrize("api_key", [None, KEY], ids=["open", "api-key"])
def test_the_fast_path_answers_every_request_as_aiohttp_does(
    api_key: tuple[str, str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = f"{KEY[0]}: {KEY[1]}".encode() if api_key else b""
    written: list[bytes] = []
    send = fastpath.FastProtocol._send

    def counted(self: fastpath.FastProtocol, head: bytes, *args: Any) -> None:
        written.append(head)
        send(self, head, *args)

    monkeypatch.setattr(fastpath.FastProtocol, "_send", counted)
    # A request that leaves the connection waiting (an upgrade, a chunked body) ends at the
    # idle timeout: a short one keeps the test short.
    options = {**SERVER_OPTIONS, "keepalive_timeout": 0.3}
    with (
        served(True, api_key, options=options) as fast,  # type: ignore[arg-type]
        served(False, api_key, options=options) as slow,  # type: ignore[arg-type]
    ):
        known = ids(fast.state)
        assert known == ids(slow.state)
        for server in (fast, slow):  # each query's first answer is kept
            for i in known:
                exchange(server.port, [head(LOOKUP + b"?call_log_id=%d" % i, key), CLOSE])

        lookups = [head(LOOKUP + b"?call_log_id=%d" % i, key) for i in known]

        @settings(
            max_examples=40,
            derandomize=True,  # the same exchanges every run
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(
            st.lists(st.sampled_from(lookups), max_size=4),  # a client polling, then anything
            st.lists(requests_for(known, key), min_size=1, max_size=5),
            st.sampled_from(["pipelined", "one by one", "split"]),
        )
        def same(polls: list[bytes], requests: list[bytes], how: str) -> None:
            requests = polls + requests
            if how == "pipelined":
                compare(fast, slow, [b"".join(requests), CLOSE], 0.02)
            elif how == "split":  # heads that arrive in pieces
                whole = b"".join(requests)
                cut = len(whole) // 3
                compare(fast, slow, [whole[:cut], whole[cut:], CLOSE], 0.02)
            else:
                compare(fast, slow, [*requests, CLOSE], 0.01)

        same()
        # the fast path wrote many of those answers itself, aiohttp the others
        assert len(written) >= 3 and len(journal(fast.state)) > len(written)


def test_a_kept_answer_is_written_by_the_fast_path_and_not_by_aiohttp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed: list[bytes] = []
    hand_over = fastpath.FastProtocol._hand_over

    def spy(self: fastpath.FastProtocol, pieces: list[bytes]) -> None:
        handed.append(b"".join(pieces))
        hand_over(self, pieces)

    monkeypatch.setattr(fastpath.FastProtocol, "_hand_over", spy)
    with served(True) as fast:
        first = head(LOOKUP + b"?call_log_id=%d" % ids(fast.state)[0])
        exchange(fast.port, [first, CLOSE], 0.05)  # a miss: aiohttp answers and keeps it
        assert handed == [first]  # and has the connection from then on
        handed.clear()
        answered = exchange(fast.port, [first * 3, CLOSE], 0.05)
        assert answered.count(b"HTTP/1.1 200 OK\r\n") == 3
        assert handed == [CLOSE]  # the three hits never reached aiohttp


def test_fault_rules_and_a_changed_world_send_requests_to_aiohttp_again() -> None:
    with served(True) as fast, served(False) as slow:
        lookups = [head(LOOKUP + b"?call_log_id=%d" % i) for i in ids(fast.state)]
        for server in (fast, slow):
            exchange(server.port, [*lookups, CLOSE])
        for server in (fast, slow):
            server.state.set_fault_rules([FaultRule(parse_faults("status=503"))])
        compare(fast, slow, [b"".join(lookups) + CLOSE])
        assert {e.status for e in fast.state.journal.entries()[-3:-1]} == {503}
        for server in (fast, slow):
            server.state.clear_faults()
            call = ids(server.state)[0]
            server.loop.call_soon_threadsafe(server.state.driver.end_call, call)
        time.sleep(0.2)
        compare(fast, slow, [b"".join(lookups) + CLOSE])


def test_answers_written_by_the_fast_path_carry_the_current_date() -> None:
    with served(True) as fast:
        lookup = head(LOOKUP + b"?call_log_id=%d" % ids(fast.state)[0])
        exchange(fast.port, [lookup, CLOSE])
        with socket.create_connection(("127.0.0.1", fast.port), timeout=10) as sock:
            dates = []
            for _ in range(2):
                sock.sendall(lookup)
                data = sock.recv(65536)
                dates.append(re.search(rb"Date: ([^\r]*)", data).group(1))  # type: ignore[union-attr]
                time.sleep(1.1)
        assert dates[0] != dates[1]
        from email.utils import parsedate_to_datetime

        assert abs(parsedate_to_datetime(dates[1].decode()).timestamp() - time.time()) < 3


def test_the_fast_path_logs_the_access_line_aiohttp_logs(caplog: pytest.LogCaptureFixture) -> None:
    lines: dict[bool, list[str]] = {}
    for fast in (True, False):
        logger = logging.getLogger(f"tests.fastpath.access.{fast}")
        with caplog.at_level(logging.INFO, logger=logger.name), served(fast, access=logger) as s:
            lookup = head(LOOKUP + b"?call_log_id=%d" % ids(s.state)[0])
            exchange(s.port, [lookup, CLOSE])
            caplog.clear()
            exchange(s.port, [lookup * 2 + CLOSE])
            time.sleep(0.1)
            lines[fast] = [re.sub(r"\d+\.\d+s$", "-s", r.getMessage()) for r in caplog.records]
    assert lines[True] == lines[False] and len(lines[True]) == 3


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "aiohttp"])
def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(fast: bool) -> None:
    options = {**SERVER_OPTIONS, "keepalive_timeout": 0.5}
    with served(fast, options=options) as s:  # type: ignore[arg-type]
        lookup = head(LOOKUP + b"?call_log_id=%d" % ids(s.state)[0])
        exchange(s.port, [lookup, CLOSE])
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
            for _ in range(3):  # each answer restarts the wait
                time.sleep(0.3)
                sock.sendall(lookup)
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
            started = time.monotonic()
            assert sock.recv(65536) == b""  # closed by the server
            assert 0.3 < time.monotonic() - started < 2
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
            sock.sendall(lookup[:10])  # half a head, never finished
            started = time.monotonic()
            assert sock.recv(65536) == b""
            assert 0.3 < time.monotonic() - started < 2
