"""Instructions per request, counted by callgrind: the hot path's cost where rates swing.

On a shared machine the same server's wrk rate can move by a fifth from one run to the
next (other tenants' load); the instructions a request costs do not. Each server runs
under ``valgrind --tool=callgrind`` with instrumentation off, so its start-up is not
counted; it answers ``WARMUP`` requests (the mock's answer cache filled, every code path
compiled), then counting is switched on (``callgrind_control -i on``) for ``requests``
requests sent one after another on one keep-alive connection, and off again; the dump's
total over the count is the figure. The run is deterministic to about 0.2 %.

Compared on each lookup of ``benchmarks.http``: the mock (``prosper-mock serve``, uvloop
as it serves by default) and the bare aiohttp ceiling serving a body of the same size and
status from a plain route, on asyncio's loop and on uvloop (aiohttp's own floor on the
mock's loop), and the limit (``benchmarks.limit``: uvloop and httptools, the same bytes to
every request). ``baseline / mock`` over 1 means the baseline does more work per request
than the mock: the throughput the mock can reach on a core of its own, relative to it. The
kernel's share of a request (its socket calls) is not counted: the same for every server.
Instructions are not cycles (a cache miss costs more than an add), so this
complements the wrk figures; it does not replace them. Needs ``valgrind`` (Linux).
"""

from __future__ import annotations

import glob
import os
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.machine import ensure_command, serving

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 300
_LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)")


class CallgrindMissing(Exception):
    """valgrind is not installed and could not be installed here."""


@dataclass
class Counted:
    """A server under callgrind: its pid, port, and the dump files callgrind writes."""

    pid: int
    port: int
    out: str

    def count(self, path: str, requests: int) -> tuple[float, int, int]:
        """Instructions per request over ``requests`` GETs of ``path`` (after the warm-up),
        with the answer's status and body size."""
        raw = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode()
        # The first ask of a query is answered, and its answer kept, on a connection of its
        # own: the mock's fast path serves the connections that ask it again.
        with socket.create_connection(("127.0.0.1", self.port), timeout=300) as first:
            _exchange(first, raw)
        with socket.create_connection(("127.0.0.1", self.port), timeout=300) as sock:
            for _ in range(WARMUP):
                status, size = _exchange(sock, raw)
            before = set(glob.glob(self.out + "*"))
            _control("-z", self.pid)  # this case counts from zero, whatever came before
            _control("-i", "on", self.pid)
            for _ in range(requests):
                _exchange(sock, raw)
            _control("-i", "off", self.pid)
            _control("-d", self.pid)
        dumps = sorted(set(glob.glob(self.out + "*")) - before)
        if not dumps:
            raise RuntimeError("callgrind wrote no dump")
        return _total(Path(dumps[-1]).read_text(errors="replace")) / requests, status, size


def _control(*args: object) -> None:
    subprocess.run(["callgrind_control", *map(str, args)], capture_output=True, check=True)


def _total(dump: str) -> int:
    """The instruction count in a callgrind dump: its ``totals:`` line, or ``summary:`` (one
    may be 0 where the other counts, depending on how the dump was triggered)."""
    found = re.findall(r"^(?:summary|totals):\s*(\d+)", dump, re.MULTILINE)
    if not found:
        raise RuntimeError("no totals in the callgrind dump")
    return max(int(n) for n in found)


def _exchange(sock: socket.socket, raw: bytes) -> tuple[int, int]:
    """Send one request, read its whole answer: its status and body size."""
    sock.sendall(raw)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = _LENGTH.search(head)
    size = int(length.group(1)) if length else 0
    while len(body) < size:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1]), size


@contextmanager
def counted(argv: list[str]) -> Iterator[Counted]:
    """``argv`` (a server printing ``serving on http://127.0.0.1:PORT``) under callgrind,
    counting nothing until told to (valgrind runs the server in its own process)."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "callgrind.out")
        callgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        command = [*callgrind, f"--callgrind-out-file={out}.%p", *argv]
        with serving(command, None, cwd=str(ROOT)) as (url, pid):
            yield Counted(pid, int(url.rsplit(":", 1)[1].split("/")[0]), f"{out}.{pid}")


def ensure_valgrind() -> str:
    """The path of valgrind, installed with apt-get first when missing and this process is
    root; ``CallgrindMissing`` says how to install it otherwise."""
    found = ensure_command("callgrind_control", "valgrind")
    if found is None:
        raise CallgrindMissing(
            "the instruction counts need valgrind: install it (apt-get install -y valgrind, "
            "as root, or your system's package manager) and run again"
        )
    return found


def _baseline(size: int, status: int, path: str, loop: str) -> list[str]:
    """The ceiling on ``loop`` (its plain route: ``path``'s), or the limit (``loop="limit"``)."""
    answer = ["--size", str(size), "--status", str(status)]
    if loop == "limit":
        return [sys.executable, "-m", "benchmarks.limit", *answer]
    route = ["--path", path.partition("?")[0], "--loop", loop]
    return [sys.executable, "-m", "benchmarks.ceiling", *answer, *route]


def run(cases: dict[str, str] | None = None, requests: int = 2000) -> dict[str, Any]:
    """Instructions per request of the mock and of both ceilings, for each case (name: path
    and query; default: ``benchmarks.http``'s lookups), and the ceiling/mock ratios."""
    from benchmarks import http

    ensure_valgrind()
    rows: list[dict[str, Any]] = []
    mock = [sys.executable, "-m", "prosper_mock", "serve", "--port", "0", "--quiet"]
    with counted(mock) as server:
        chosen = (
            cases if cases is not None else _lookups(http.cases(f"http://127.0.0.1:{server.port}"))
        )
        for name, path in chosen.items():
            per, status, size = server.count(path, requests)
            rows.append({"case": name, "status": status, "bytes": size, "mock": round(per)})
    for row in rows:
        path = chosen[row["case"]]
        for loop in ("asyncio", "uvloop", "limit"):
            with counted(_baseline(row["bytes"], row["status"], path, loop)) as bare:
                per, status, _ = bare.count(path, requests)
            if status != row["status"]:
                raise RuntimeError(f"{loop} baseline answered {status}, not {row['status']}")
            key = "limit" if loop == "limit" else f"ceiling_{loop}"
            row[key] = round(per)
            row["ratio_limit" if loop == "limit" else f"ratio_{loop}"] = round(per / row["mock"], 3)
    return {"requests": requests, "warmup": WARMUP, "valgrind": _version(), "rows": rows}


def _lookups(paths: dict[str, str]) -> dict[str, str]:
    """The live-calls lookups of ``benchmarks.http.cases`` (not the call-logs page)."""
    return {name: path for name, path in paths.items() if "live-calls" in path}


def _version() -> str:
    done = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def main() -> None:
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests counted per case")
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    try:
        print(json.dumps(run(requests=args.requests), indent=2))
    except CallgrindMissing as missing:
        sys.exit(f"benchmarks.instructions: {missing}")


if __name__ == "__main__":
    main()
