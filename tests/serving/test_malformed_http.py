"""Malformed HTTP over raw sockets: a clean 4xx or a bounded close, and the server serves on."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.clirun import Served, serve
from tests.upstream import serve_upstream

OK = b"/api/v1/live-calls?call_log_id=1003"


@pytest.fixture(scope="module")
def mock() -> Iterator[Served]:
    with serve(["--live-calls", "2", "--call-logs", "8", "--quiet"]) as served:
        yield served


def port(served: Served) -> int:
    return int(served.base_url.rsplit(":", 1)[1])


def exchange(served: Served, data: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes, then read until the server closes (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port(served)), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def request(target: bytes, extra: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + b"\r\n"


CASES = {
    "invalid percent-encoding": request(b"/api/v1/live-calls?call_log_id=%zz%"),
    "invalid UTF-8 (encoded)": request(b"/api/v1/live-calls?key=%FF%FE&value=%C3"),
    "invalid UTF-8 (raw)": request(b"/api/v1/live-calls?key=\xff\xfe"),
    "NUL byte (encoded)": request(b"/api/v1/live-calls?call_log_id=1%00"),
    "NUL byte (raw)": request(b"/api/v1/live-calls?key=a\x00b"),
    "100 KB query string": request(b"/api/v1/live-calls?key=" + b"k" * 100_000),
    "10 000 parameters": request(
        b"/api/v1/live-calls?" + b"&".join(b"p%d=1" % i for i in range(10_000))
    ),
    "a very long header line": request(OK, b"X-Long: " + b"v" * 200_000 + b"\r\n"),
    "many headers": request(OK, b"".join(b"X-H%d: v\r\n" % i for i in range(5_000))),
    "request line in bad form": b"GARBAGE\r\n\r\n",
    "no HTTP version": b"GET /api/v1/live-calls\r\n\r\n",
    "bad method token": b"G(T /api/v1/live-calls HTTP/1.1\r\nHost: x\r\n\r\n",
    "HTTP/9.9": b"GET /api/v1/live-calls HTTP/9.9\r\nHost: x\r\n\r\n",
    "bad header line": b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
    "binary junk": bytes(range(256)) * 4,
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_request_gets_a_clean_4xx(mock: Served, name: str) -> None:
    answer = exchange(mock, CASES[name])
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    assert status is not None and 400 <= status < 500, answer[:200]
    assert requests.get(mock.url(OK.decode()), timeout=5).status_code == 200


def test_stalled_half_requests_do_not_block_others_and_are_closed(mock: Served) -> None:
    """100 clients send half a request and stall (slowloris): others are served meanwhile,
    and every stalled connection is closed after the 5 s keep-alive timeout."""
    half = b"GET /api/v1/live-calls?call_log_id=1003 HTTP/1.1\r\nHost: x\r\n"
    stalled = [socket.create_connection(("127.0.0.1", port(mock)), timeout=15) for _ in range(100)]
    try:
        for sock in stalled:
            sock.sendall(half)
        assert requests.get(mock.url(OK.decode()), timeout=5).status_code == 200
        for sock in stalled:  # recv times out (15 s) unless the server closes them first
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1024) == b""  # closed by the server, nothing answered
    finally:
        for sock in stalled:
            sock.close()
    assert requests.get(mock.url(OK.decode()), timeout=5).status_code == 200


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_memory_stays_bounded_under_repeated_abuse(mock: Served) -> None:
    for name in ("100 KB query string", "10 000 parameters", "many headers"):
        exchange(mock, CASES[name])
    before = rss_kib(mock.process.pid)
    for _ in range(15):
        for name in ("100 KB query string", "10 000 parameters", "many headers", "binary junk"):
            exchange(mock, CASES[name])
    growth = rss_kib(mock.process.pid) - before
    assert growth < 20 * 1024, f"RSS grew by {growth} KiB over 60 abusive requests"


@pytest.fixture(scope="module")
def upstream_port() -> Iterator[int]:
    with serve_upstream() as found:
        yield found


# One request of each kind of route: every route is behind the same connection guard.
HTTP_0_9 = {
    "control change": b"POST /__mock/reset\r\n\r\n",
    "control wrong method": b"PATCH /__mock/reset\r\n\r\n",
    "dashboard page": b"GET /__mock/\r\n\r\n",
    "dashboard redirect": b"GET /__mock\r\n\r\n",
    "lookup": b"GET /api/v1/live-calls?call_log_id=1003\r\n\r\n",
    "vendored write": b"POST /api/v1/campaigns/c1/targets\r\n\r\n",
    "split path parameter": b"GET /api/v1/targets/a%2Fb\r\n\r\n",
    "wrong method": b"PUT /api/v1/live-calls\r\n\r\n",
    "spec document": b"GET /openapi.json\r\n\r\n",
    "unknown path": b"GET /nowhere\r\n\r\n",
}


@pytest.mark.parametrize("name", list(HTTP_0_9))
def test_http_0_9_is_refused_before_any_handler_as_upstream_refuses_it(
    mock: Served, upstream_port: int, name: str
) -> None:
    line = HTTP_0_9[name]
    before = requests.get(mock.url("/__mock/health"), timeout=5).json()["world_version"]
    seen = len(requests.get(mock.url("/__mock/journal"), timeout=5).json()["entries"])
    with socket.create_connection(("127.0.0.1", upstream_port), timeout=10) as sock:
        sock.sendall(line)
        expected = b"".join(iter(lambda: sock.recv(65536), b""))
    assert expected.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert exchange(mock, line) == expected  # byte for byte, then the connection is closed
    assert requests.get(mock.url("/__mock/health"), timeout=5).json()["world_version"] == before
    after = requests.get(mock.url("/__mock/journal"), timeout=5).json()["entries"]
    assert len(after) == seen  # nothing was looked up either
    rejected = [line for line in mock.stderr if "HTTP/0.9" in line]
    assert rejected and "Traceback" not in "\n".join(mock.stderr)
