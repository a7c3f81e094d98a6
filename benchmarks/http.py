"""HTTP throughput and latency: the mock against its baselines, in the same run.

For each lookup kind three baselines serve a fixed body of the same size and status as the
mock's answer: the bare aiohttp ceiling (a plain route, ``benchmarks.ceiling``) on asyncio's
loop and on uvloop (the mock's), and the limit (``benchmarks.limit``: uvloop and httptools
answering the same bytes to every request, nothing else). The load generator is wrk
(``benchmarks.loader``), pinned to a core of its own, away from the servers'
(``benchmarks.machine.pinning``). Each side's capacity, requests per second of the server's
CPU, is measured too: where wrk saturates its core (the limit does, and the mock may), the
rate is wrk's, but what a request costs the server is still read from its CPU time.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlencode

import requests

from benchmarks import loader
from benchmarks.machine import Pinning, pinning, serving

BY_ID = "call_log_id=1250"  # a live call of the default world (README's quick start)


LIVE_CALLS = "/api/v1/live-calls"


def cases(base_url: str) -> dict[str, str]:
    """The path and query of each case; the phone and the variable are those of call 1250,
    so every lookup kind finds a call (whatever the generator makes of the default seed).
    The last case is a call-logs page of 200, the list's default."""
    call = requests.get(f"{base_url}{LIVE_CALLS}?{BY_ID}", timeout=10).json()
    lookups = {
        "by id": BY_ID,
        "by phone": urlencode({"user_phone_number": call["user_phone_number"]}),
        "by variable": urlencode({"key": "external_id", "value": call["variables.external_id"]}),
        "404": "call_log_id=99999999",
        "422": "call_log_id=abc",
    }
    paths = {name: f"{LIVE_CALLS}?{query}" for name, query in lookups.items()}
    paths["call-logs page"] = "/api/v1/call-logs?limit=200"
    return paths


def _process(args: list[str], cpus: str | None) -> AbstractContextManager[tuple[str, int]]:
    """``python -m args`` pinned to ``cpus``: its URL and pid once it serves."""
    return serving([sys.executable, "-m", *args], cpus)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


SIDES = ("mock", "bare", "uvloop", "limit")  # bare: the aiohttp ceiling on asyncio's loop


def _sides(
    servers: dict[str, tuple[str, int]],
    path: str,
    connections: int,
    seconds: int,
    rounds: int,
    cpus: Pinning,
) -> dict[str, dict[str, Any]]:
    """``rounds`` runs of each server, the first rotating each round so drift in the
    machine's speed falls on all; the median run of each side, with the highest loader share
    and the lowest server share of its core seen in any of its runs, and its capacity (the
    median of requests per second of the server's CPU)."""
    names = list(servers)
    runs: dict[str, list[loader.Run]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for side in names[shift:] + names[:shift]:
            url, pid = servers[side]
            time.sleep(0.2)
            runs[side].append(loader.run(f"{url}{path}", connections, seconds, cpus.loader, pid))
    out: dict[str, dict[str, Any]] = {}
    for side, ms in runs.items():
        figures: dict[str, Any] = {
            key: _median([getattr(m, key) for m in ms])
            for key in ("rps", "p50_ms", "p99_ms", "errors", "non_2xx")
        }
        figures["loader_cpu"] = max(m.loader_cpu for m in ms)
        figures["server_cpu"] = round(min(m.server_cpu or 0.0 for m in ms), 3)
        figures["capacity"] = round(_median([m.rps / m.server_cpu for m in ms if m.server_cpu]))
        out[side] = figures
    return out


def _invalid(connections: int, figures: dict[str, Any]) -> str | None:
    """Why one side's rate cannot be read as the server's (``loader.validity``), or ``None``."""
    return loader.validity(connections, figures["loader_cpu"], figures["server_cpu"])


def run(
    seconds: int = 3,
    connections: tuple[int, ...] = (1, 64),
    rounds: int = 3,
    only: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Every case (or those named in ``only``) at each of ``connections``, mock against
    ceiling, then ``--workers`` 1 and 2.

    A row whose loader saturated (or whose server was starved) carries ``invalid``, its reason,
    and no ratios: its figures are the loader's or the machine's, not the server's.
    """
    loader.ensure_wrk()
    cpus = pinning()
    rows = []
    mock_args = ["prosper_mock", "serve", "--port", "0", "--quiet"]
    with _process(mock_args, cpus.server) as mock:
        for name, path in cases(mock[0]).items():
            if only is not None and name not in only:
                continue
            answer = requests.get(f"{mock[0]}{path}", timeout=10)
            size, status = len(answer.content), answer.status_code
            if not name[0].isdigit() and status != 200:
                raise RuntimeError(f"{name}: {path} answers {status}, not a found answer")
            answer_args = ["--size", str(size), "--status", str(status)]
            route = ["--path", path.partition("?")[0]]
            with (
                _process(["benchmarks.ceiling", *answer_args, *route], cpus.server) as bare,
                _process(
                    ["benchmarks.ceiling", *answer_args, *route, "--loop", "uvloop"], cpus.server
                ) as on_uvloop,
                _process(["benchmarks.limit", *answer_args], cpus.server) as limit,
            ):
                servers = {"mock": mock, "bare": bare, "uvloop": on_uvloop, "limit": limit}
                for c in connections:
                    sides = _sides(servers, path, c, seconds, rounds, cpus)
                    rows.append(_row(name, status, size, c, rounds, sides))
    scaling = []
    for workers in (1, 2):  # the by-id lookup at the highest concurrency, 1 then 2 processes
        with _process([*mock_args, "--workers", str(workers)], cpus.server) as (url, _):
            time.sleep(0.3)
            by_id = f"{url}{LIVE_CALLS}?{BY_ID}"
            m = loader.run(by_id, max(connections), seconds, cpus.loader)
            scaling.append(
                {
                    "workers": workers,
                    "rps": m.rps,
                    "p99_ms": m.p99_ms,
                    "loader_cpu": m.loader_cpu,
                    "invalid": loader.validity(max(connections), m.loader_cpu, None),
                }
            )
    return {
        "loader": f"wrk {loader.installed_wrk_version()} (1 thread)",
        "pinning": cpus.describe(),
        "rows": rows,
        "workers": scaling,
    }


def _row(
    name: str, status: int, size: int, c: int, rounds: int, sides: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """One case at ``c`` connections: each side's figures, and the mock's ratios to each
    baseline. A ratio whose sides cannot both be read (``_invalid``) is ``None``, with the
    reason in ``{side}_invalid``; against the limit, where wrk saturates, ``limit_cpu_ratio``
    (the mock's capacity over the limit's) still says what a request costs each."""
    m = sides["mock"]
    row: dict[str, Any] = {
        "case": name,
        "status": status,
        "bytes": size,
        "connections": c,
        "rounds": rounds,
        "mock_rps": m["rps"],
        "mock_p50_ms": m["p50_ms"],
        "mock_p99_ms": m["p99_ms"],
        "mock_loader_cpu": m["loader_cpu"],
        "mock_server_cpu": m["server_cpu"],
        "mock_capacity": m["capacity"],
        # A 404 or 422 case answers nothing else: only a 200 case counts other statuses.
        "errors": sum(f["errors"] + (f["non_2xx"] if status == 200 else 0) for f in sides.values()),
    }
    mock_invalid = row["mock_invalid"] = _invalid(c, m)
    for side, label in (("bare", "ceiling"), ("uvloop", "uvloop"), ("limit", "limit")):
        b = sides[side]
        invalid = next(
            (
                f"{who}: {why}"
                for who, why in ((label, _invalid(c, b)), ("mock", mock_invalid))
                if why
            ),
            None,
        )
        row[f"{label}_rps"] = b["rps"]
        row[f"{label}_p50_ms"] = b["p50_ms"]
        row[f"{label}_p99_ms"] = b["p99_ms"]
        row[f"{label}_loader_cpu"] = b["loader_cpu"]
        row[f"{label}_server_cpu"] = b["server_cpu"]
        row[f"{label}_capacity"] = b["capacity"]
        row[f"{label}_invalid"] = invalid
        row[f"{label}_own_invalid"] = _invalid(c, b)
        row[f"{label}_raw_ratio"] = round(m["rps"] / b["rps"], 3) if b["rps"] else None
        ok = invalid is None
        row[f"{label}_ratio"] = round(m["rps"] / b["rps"], 3) if ok and b["rps"] else None
        row[f"{label}_p99_ratio"] = (
            round(m["p99_ms"] / b["p99_ms"], 3) if ok and b["p99_ms"] else None
        )
        row[f"{label}_cpu_ratio"] = (
            round(m["capacity"] / b["capacity"], 3) if b["capacity"] else None
        )
    # the names earlier results used for the asyncio ceiling
    row["rps_ratio"], row["p99_ratio"] = row["ceiling_ratio"], row["ceiling_p99_ratio"]
    row["invalid"] = row["ceiling_invalid"]
    return row


if __name__ == "__main__":
    print(json.dumps(run(seconds=int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=2))
