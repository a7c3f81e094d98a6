"""The mock against the stubs users would otherwise write, on one lookup, in one run.

``python -m benchmarks.peers`` serves the lookup by id (``call_log_id=1250``, a live call of
the default world) from the mock (``prosper-mock serve``), from FastAPI + uvicorn with
upstream's signature answering the mock's body, and, when ``make bench-peers`` has installed
them under ``.peers/``, from Prism (``prism mock openapi.json``, static examples) and WireMock
(one stub mapping answering the mock's body, no request journal, a 30 s JIT warm-up). Each
server is pinned apart from wrk (``benchmarks.machine``); after a warm-up the servers take
turns for ``--rounds`` rounds (the first rotating each round), every server but the one
measured paused (``Turns``), and each figure is the median over the rounds, the ratio the
median of the per-round mock/peer ratios. It prints a Markdown table and writes it as JSON
(``--json``, default ``benchmarks/PEERS.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import loader
from benchmarks.machine import pinned, pinning

ROOT = Path(__file__).resolve().parents[1]
PEERS_DIR = ROOT / ".peers"  # where `make bench-peers` installs the npm packages
PATH = "/api/v1/live-calls"
QUERY = "call_log_id=1250"  # a live call of the default world (README's quick start)
CALL_LOG_ID = 1250
NOT_INSTALLED = "not installed (make bench-peers)"
BODY_ENV = "PROSPER_PEER_BODY"  # the file the FastAPI peer reads its answer from


@dataclass(frozen=True)
class Peer:
    """A server to measure: how to start it on a port, and how long to warm it up."""

    key: str  # what --only names
    name: str
    command: Callable[[int, Path], list[str] | None]  # None: not installed
    warmup_s: int = 1
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Row:
    """One line of the table: a server's medians, or why it was not measured."""

    server: str
    status: str = "measured"
    rps: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None  # mock req/s over this server's, median of the rounds
    body_bytes: int | None = None
    http_status: int | None = None  # of the answer to the lookup, checked before the rounds
    non_2xx: int = 0  # over every round
    rounds: list[dict[str, float]] = field(default_factory=list)


def fastapi_peer() -> Any:
    """The FastAPI peer (a uvicorn ``--factory``): upstream's signature, the mock's body.

    A stub as a user would write one: a dict of the calls it knows, returned by FastAPI.
    """
    from fastapi import FastAPI, HTTPException, Query

    known: dict[int, dict[str, Any]] = {
        CALL_LOG_ID: json.loads(Path(os.environ[BODY_ENV]).read_bytes())
    }
    app = FastAPI(title="Prosper Voice")

    # The signature of tests/upstream.py (the one the vendored spec was generated from).
    @app.get("/api/v1/live-calls")
    async def get_live_call(
        key: str | None = Query(None),
        value: str | None = Query(None),
        call_log_id: int | None = Query(None),
        user_phone_number: str | None = Query(None),
    ) -> dict[str, Any]:
        if call_log_id in known:
            return known[call_log_id]
        raise HTTPException(404, "Live call not found")

    return app


def _mock(port: int, _work: Path) -> list[str]:
    return [sys.executable, "-m", "prosper_mock", "serve", "--port", str(port), "--quiet"]


def _fastapi(port: int, _work: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.peers:fastapi_peer",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "critical",
        "--no-access-log",
    ]


def _prism(port: int, _work: Path) -> list[str] | None:
    prism = PEERS_DIR / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        return None
    spec = str(ROOT / "openapi.json")
    return [str(prism), "mock", spec, "-p", str(port), "-h", "127.0.0.1", "-v", "silent"]


def wiremock_jar() -> Path | None:
    """The standalone jar the npm ``wiremock`` package ships, if installed."""
    jars = sorted((PEERS_DIR / "node_modules" / "wiremock" / "build").glob("wiremock-*.jar"))
    return jars[-1] if jars else None


def wiremock_mapping(body: bytes) -> dict[str, Any]:
    """The one stub: ``GET /api/v1/live-calls?call_log_id=1250`` answers ``body``."""
    return {
        "request": {
            "method": "GET",
            "urlPath": PATH,
            "queryParameters": {"call_log_id": {"equalTo": str(CALL_LOG_ID)}},
        },
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json; charset=utf-8"},
            "body": body.decode(),
        },
    }


def _wiremock(port: int, work: Path) -> list[str] | None:
    jar = wiremock_jar()
    if jar is None or shutil.which("java") is None:
        return None
    return [
        "java",
        "-jar",
        str(jar),
        "--port",
        str(port),
        "--bind-address",
        "127.0.0.1",
        "--root-dir",
        str(work / "wiremock"),
        "--no-request-journal",
        "--disable-request-logging",
        "--disable-banner",
    ]


def peers(jit_warmup_s: int) -> list[Peer]:
    """The servers in table order, the mock first."""
    return [
        Peer("mock", "prosper-mock", _mock),
        Peer("fastapi", "FastAPI + uvicorn", _fastapi),
        Peer("prism", "Prism (static)", _prism, warmup_s=2),
        Peer("wiremock", "WireMock", _wiremock, warmup_s=jit_warmup_s),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def fetch(url: str) -> tuple[int, bytes]:
    """Status and body of one GET (an HTTP error is an answer too)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass(frozen=True)
class Server:
    """A running server: its base URL, and its process group, which ``Turns`` pauses."""

    base: str
    group: int


class Turns:
    """Only the server whose turn it is runs; the others are paused (``SIGSTOP`` to their
    process groups), so an idle peer's background work (a JVM's JIT and GC, node's timers)
    cannot take the measured server's core. Everyone is resumed on leaving."""

    def __init__(self) -> None:
        self._servers: dict[str, Server] = {}

    def add(self, name: str, server: Server) -> None:
        self._servers[name] = server

    def only(self, name: str) -> None:
        for other, server in self._servers.items():
            if other != name:
                _signal(server.group, signal.SIGSTOP)
        _signal(self._servers[name].group, signal.SIGCONT)

    def resume_all(self) -> None:
        for server in self._servers.values():
            _signal(server.group, signal.SIGCONT)


def _signal(group: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # it exited: the next fetch says so
        os.killpg(group, sig)


@contextmanager
def serving(command: list[str], port: int, env: dict[str, str]) -> Iterator[Server]:
    """``command`` pinned to the server CPU, in a process group of its own; its base URL
    once it answers HTTP."""
    proc = subprocess.Popen(
        pinned(pinning().server, command),
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a JVM or node start on a busy machine
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {proc.returncode}")
            try:
                fetch(f"{base}{PATH}?{QUERY}")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not answer within 60 s") from None
                time.sleep(0.1)
        yield Server(base, proc.pid)
    finally:
        _signal(proc.pid, signal.SIGCONT)  # a paused process would not act on SIGTERM
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def median_ratio(mock_rps: list[float], peer_rps: list[float]) -> float:
    """The median of the per-round mock/peer ratios (each round measures both back to back)."""
    return statistics.median(m / p for m, p in zip(mock_rps, peer_rps, strict=True) if p > 0)


def build_rows(
    names: list[str],
    runs: dict[str, list[loader.Run]],
    bodies: dict[str, tuple[int, int]],
    missing: list[str],
) -> list[Row]:
    """The table: the first of ``names`` is the mock; servers in ``missing`` were not run."""
    mock_rps = [r.rps for r in runs[names[0]]]
    rows = []
    for name in names:
        if name in missing:
            rows.append(Row(name, status=NOT_INSTALLED))
            continue
        got = runs[name]
        rows.append(
            Row(
                name,
                rps=statistics.median(r.rps for r in got),
                p99_ms=statistics.median(r.p99_ms for r in got),
                ratio=median_ratio(mock_rps, [r.rps for r in got]),
                body_bytes=bodies[name][1],
                http_status=bodies[name][0],
                non_2xx=sum(r.non_2xx for r in got),
                rounds=[{"rps": r.rps, "p99_ms": r.p99_ms} for r in got],
            )
        )
    return rows


def markdown(rows: list[Row]) -> str:
    """The table as Markdown: server, req/s, p99, mock/peer ratio, the answer's status and size."""
    lines = [
        "| Server | req/s | p99 | mock/peer | answer |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        if row.rps is None or row.p99_ms is None or row.ratio is None:
            lines.append(f"| {row.server} | {row.status} | | | |")
        else:
            lines.append(
                f"| {row.server} | {row.rps:,.0f} | {row.p99_ms:.2f} ms | {row.ratio:.2f} "
                f"| {row.http_status}, {row.body_bytes} B |"
            )
    return "\n".join(lines)


def run(
    rounds: int, seconds: int, connections: int, jit_warmup_s: int, only: set[str] | None = None
) -> list[Row]:
    """Start every installed server (of ``only``, and the mock), warm each up, then measure
    them in rotating rounds."""
    turns = Turns()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        mock_port = free_port()
        mock = stack.enter_context(serving(_mock(mock_port, work), mock_port, {}))
        stack.callback(turns.resume_all)  # before the servers stop (callbacks run last first)
        _, body = fetch(f"{mock.base}{PATH}?{QUERY}")
        (work / "body.json").write_bytes(body)
        mappings = work / "wiremock" / "mappings"
        mappings.mkdir(parents=True)
        (mappings / "live-call.json").write_text(json.dumps(wiremock_mapping(body)))
        bases: dict[str, str] = {}
        bodies: dict[str, tuple[int, int]] = {}
        missing: list[str] = []
        chosen = [p for p in peers(jit_warmup_s) if only is None or p.key in only | {"mock"}]
        for peer in chosen:
            port = free_port()
            command = peer.command(port, work)
            if command is None:
                missing.append(peer.name)
                continue
            if peer.name == chosen[0].name:
                server = mock
            else:
                env = {BODY_ENV: str(work / "body.json"), **peer.env}
                server = stack.enter_context(serving(command, port, env))
            turns.add(peer.name, server)
            turns.only(peer.name)  # warmed up alone
            bases[peer.name] = server.base
            status, answer = fetch(f"{bases[peer.name]}{PATH}?{QUERY}")
            bodies[peer.name] = (status, len(answer))
            print(f"{peer.name}: {status}, {len(answer)} B; warm-up {peer.warmup_s} s", flush=True)
            loader.run(
                f"{bases[peer.name]}{PATH}?{QUERY}", connections, peer.warmup_s, pinning().loader
            )
        names = list(bases)
        runs: dict[str, list[loader.Run]] = {name: [] for name in names}
        for i in range(rounds):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                turns.only(name)
                time.sleep(0.2)
                got = loader.run(
                    f"{bases[name]}{PATH}?{QUERY}", connections, seconds, pinning().loader
                )
                runs[name].append(got)
                print(f"round {i + 1} {name}: {got.rps:,.0f}/s, p99 {got.p99_ms:.2f} ms")
    ordered = [p.name for p in chosen]
    return build_rows(ordered, {**runs, **{m: [] for m in missing}}, bodies, missing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--jit-warmup", type=int, default=30, help="WireMock's warm-up, seconds")
    parser.add_argument(
        "--only",
        action="append",
        choices=[p.key for p in peers(0)[1:]],
        help="measure only this peer (repeatable; the mock always runs)",
    )
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "PEERS.json")
    args = parser.parse_args()
    started = time.monotonic()
    only = set(args.only) if args.only else None
    rows = run(args.rounds, args.seconds, args.connections, args.jit_warmup, only)
    table = markdown(rows)
    print(table)
    args.json.write_text(
        json.dumps(
            {
                "command": " ".join(["python -m benchmarks.peers", *sys.argv[1:]]),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "load": os.getloadavg(),
                "rounds": args.rounds,
                "seconds": args.seconds,
                "connections": args.connections,
                "rows": [asdict(r) for r in rows],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"({time.monotonic() - started:.0f} s; {args.json})")


if __name__ == "__main__":
    main()
