"""A shared world on Redis against the in-memory store, in the same run (issue: the world
shared on Redis): ``python -m benchmarks.shared``.

- **lookup CPU**: the lookup by id, 64 connections, through one process with each store: the
  requests each answers per second of its own CPU, and the commands Redis ran per lookup beside
  it (a read must not wait for Redis: target <= 1.1 x the memory store's CPU per request).
- **writes**: ``POST /__mock/call-logs`` through one process, 8 connections, with each store:
  writes per second (a shared write is appended to Redis and waited for by every process).
- **workers**: the lookup by id through ``--workers 2`` against ``--workers 1``, both on the
  shared store. This machine has 2 cores: wrk is pinned to the last, the mock's processes
  run on every core (one of them wrk's), so this shows the option works, not how it scales.
- **state file**: a ``PATCH`` of a target's input (each one appended and fsynced) with
  ``--state-file``, after 0 and after 50 000 added targets: the mean latency of one, at one
  connection (target: within 2 x at 50 000 of that at 0).

Redis is Debian's ``redis-server``, started on a free loopback port with no persistence.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from benchmarks import loader
from benchmarks.machine import cpu_seconds, ensure_command, pinning, serving

LOOKUP = "/api/v1/live-calls?call_log_id=1250"
CAMPAIGN = "53e92788-1132-4a51-99dd-0c2bea0fc377"  # the default world's first campaign
TARGETS = {
    "lookup_cpu": "a lookup with the Redis store costs <= 1.1 x the CPU per request of the "
    "memory store",
    "state_file": "a write with --state-file at 50 000 added targets costs <= 2 x one at 0",
}
POST_SCRIPT = """wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
"""
PATCH_SCRIPT = """wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"input_data": {"n": ' .. counter .. '}}')
end
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[tuple[str, int]]:
    """A ``redis-server`` on a free loopback port: its URL and pid."""
    binary = ensure_command("redis-server", "redis-server")
    if binary is None:
        raise RuntimeError("the shared-store benchmarks need redis-server (apt-get install)")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly",
         "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", process.pid
    finally:
        process.terminate()
        process.wait(10)


def _serve(*args: str) -> list[str]:
    return [sys.executable, "-m", "prosper_mock", "serve", "--port", "0", "--quiet", *args]


def _wrk(url: str, connections: int, seconds: int, cpus: str | None, pid: int | None,
         script: str | None = None) -> loader.Run:  # fmt: skip
    if script is None:
        return loader.run(url, connections, seconds, cpus, pid)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua.name]
        before = cpu_seconds(pid) if pid else 0.0
        started = time.perf_counter()
        out = subprocess.run(
            [*(["taskset", "-c", cpus] if cpus else []), *argv, url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        wall = time.perf_counter() - started
        server = (cpu_seconds(pid) - before) / wall if pid else None
        return loader.Run(*loader.parse(out), 0.0, server)
    finally:
        os.unlink(lua.name)


def _per_cpu(run: loader.Run) -> float:
    """Requests answered per second of the server's CPU."""
    return run.rps / run.server_cpu if run.server_cpu else 0.0


def _commands(store: str) -> int:
    """How many commands the Redis at ``store`` has run."""
    from redis import Redis

    with Redis.from_url(store) as client:
        return int(client.info("stats")["total_commands_processed"])


def lookup_cpu(store: str, seconds: int, rounds: int) -> dict[str, Any]:
    cpus = pinning()
    found: dict[str, list[float]] = {"memory": [], "redis": []}
    commands: list[float] = []
    with (
        serving(_serve(), cpus.server) as (memory_url, memory_pid),
        serving(_serve("--store", store, "--store-namespace", "bench-read"), cpus.server) as (
            redis_url,
            redis_pid,
        ),
    ):
        sides = (("memory", memory_url, memory_pid), ("redis", redis_url, redis_pid))
        for url in (memory_url, redis_url):  # warm up
            _wrk(url + LOOKUP, 64, 1, cpus.loader, None)
        for _ in range(rounds):
            for side, url, pid in sides:
                before = _commands(store)
                run = _wrk(url + LOOKUP, 64, seconds, cpus.loader, pid)
                if run.non_2xx or run.errors:
                    raise RuntimeError(f"{side}: {run.non_2xx} non-2xx, {run.errors} errors")
                found[side].append(_per_cpu(run))
                if side == "redis":
                    commands.append((_commands(store) - before) / max(run.requests, 1))
    memory, redis = max(found["memory"]), max(found["redis"])
    return {
        "memory_per_cpu_second": round(memory),
        "redis_per_cpu_second": round(redis),
        "cpu_ratio": round(memory / redis, 3),
        # Every command Redis ran while the shared mock answered, the processes' beats and
        # ticks included, per lookup: a read itself sends none.
        "redis_commands_per_lookup": round(max(commands), 5),
        "met": memory / redis <= 1.1,
        "rounds": rounds,
    }


def writes(store: str, seconds: int) -> dict[str, Any]:
    cpus = pinning()
    found = {}
    for side, args in (
        ("memory", ()),
        ("redis", ("--store", store, "--store-namespace", "bench-write")),
    ):
        with serving(_serve(*args), cpus.server) as (url, pid):
            run = _wrk(url + "/__mock/call-logs", 8, seconds, cpus.loader, pid, POST_SCRIPT)
            found[side] = {"per_second": round(run.rps), "p50_ms": run.p50_ms, "p99_ms": run.p99_ms,
                           "errors": run.errors + run.non_2xx}  # fmt: skip
    return found


def workers(store: str, seconds: int) -> dict[str, Any]:
    cpus = pinning()
    found = {}
    for count in (1, 2):
        args = ("--workers", str(count), "--store", store, "--store-namespace", f"bench-w{count}")
        with serving(_serve(*args), None) as (url, _):
            _wrk(url + LOOKUP, 64, 1, cpus.loader, None)
            run = _wrk(url + LOOKUP, 64, seconds, cpus.loader, None)
            found[f"workers_{count}"] = round(run.rps)
    found["ratio"] = round(found["workers_2"] / found["workers_1"], 3)
    found["pinning"] = f"wrk on core {cpus.loader}; the mock's processes on every core"
    return found


def state_file(seconds: int, added: int) -> dict[str, Any]:
    found = {}
    for count in (0, added):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "state.json"
            with serving(_serve("--state-file", str(path)), None) as (url, _):
                phones = [{"phone_number": f"+1555{i:07d}"} for i in range(max(count, 1))]
                for start in range(0, len(phones), 20_000):
                    chunk = {"targets": phones[start : start + 20_000]}
                    answer = requests.post(f"{url}/api/v1/campaigns/{CAMPAIGN}/targets",
                                           json=chunk, timeout=600)  # fmt: skip
                    answer.raise_for_status()
                target = answer.json()["targets"][0]["id"]
                run = _wrk(f"{url}/api/v1/targets/{target}", 1, seconds, None, None, PATCH_SCRIPT)
                if run.non_2xx or run.errors:
                    raise RuntimeError(f"PATCH at {count}: {run.non_2xx} non-2xx")
                found[f"at_{count}"] = {
                    "per_second": round(run.rps),
                    "mean_ms": round(1000 / run.rps, 3),
                    "p99_ms": run.p99_ms,
                }
    ratio = found[f"at_{added}"]["mean_ms"] / found["at_0"]["mean_ms"]
    return {**found, "ratio": round(ratio, 3), "met": ratio <= 2.0, "added": added}


def run(seconds: int = 5, rounds: int = 3, added: int = 50_000) -> dict[str, Any]:
    """Every figure of this module, in one run."""
    loader.ensure_wrk()
    with tempfile.TemporaryDirectory() as folder, redis_server(Path(folder)) as (store, _):
        return {
            "lookup_cpu": lookup_cpu(store, seconds, rounds),
            "writes": writes(store, seconds),
            "workers": workers(store, seconds),
            "state_file": state_file(seconds, added),
            "machine_cores": os.cpu_count(),
        }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shared", description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--added", type=int, default=50_000)
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures = run(args.seconds, args.rounds, args.added)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
