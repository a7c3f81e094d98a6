"""HTTP throughput and latency: the mock against a bare aiohttp ceiling, in the same run.

For each lookup kind the ceiling serves a fixed body of the same size as the mock's answer,
so the ratio isolates what the mock adds (validation, lookup, rendering) over aiohttp itself.
The load generator is wrk (``benchmarks.loader``), pinned to a core of its own, away from the
servers' (``benchmarks.machine.pinning``).
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


def _paired(
    mock: tuple[str, int],
    bare: tuple[str, int],
    path: str,
    connections: int,
    seconds: int,
    rounds: int,
    cpus: Pinning,
) -> dict[str, dict[str, Any]]:
    """``rounds`` runs of each side, alternating which goes first (mock, bare, bare, mock, ...)
    so drift in the machine's speed falls on both; the median run of each side, with the
    highest loader share and the lowest server share of its core seen in any of its runs."""
    runs: dict[str, list[loader.Run]] = {"mock": [], "bare": []}
    for r in range(rounds):
        order = (("mock", mock), ("bare", bare))
        for side, (url, pid) in order if r % 2 == 0 else order[::-1]:
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
        out[side] = figures
    return out


def _invalid(connections: int, pair: dict[str, dict[str, Any]]) -> str | None:
    """Why the pair's ratio means nothing (the first side that cannot be read), or ``None``."""
    for side, label in (("bare", "ceiling"), ("mock", "mock")):
        why = loader.validity(connections, pair[side]["loader_cpu"], pair[side]["server_cpu"])
        if why:
            return f"{label}: {why}"
    return None


def run(
    seconds: int = 3, connections: tuple[int, ...] = (1, 64), rounds: int = 3
) -> dict[str, Any]:
    """Every case at each of ``connections``, mock against ceiling, then ``--workers`` 1 and 2.

    A row whose loader saturated (or whose server was starved) carries ``invalid``, its reason,
    and no ratios: its figures are the loader's or the machine's, not the server's.
    """
    loader.ensure_wrk()
    cpus = pinning()
    rows = []
    mock_args = ["prosper_mock", "serve", "--port", "0", "--quiet"]
    with _process(mock_args, cpus.server) as mock:
        for name, path in cases(mock[0]).items():
            answer = requests.get(f"{mock[0]}{path}", timeout=10)
            size, status = len(answer.content), answer.status_code
            if not name[0].isdigit() and status != 200:
                raise RuntimeError(f"{name}: {path} answers {status}, not a found answer")
            ceiling_args = ["benchmarks.ceiling", "--size", str(size), "--status", str(status)]
            with _process(ceiling_args, cpus.server) as bare:
                for c in connections:
                    pair = _paired(mock, bare, path, c, seconds, rounds, cpus)
                    rows.append(_row(name, status, size, c, rounds, pair))
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
    name: str, status: int, size: int, c: int, rounds: int, pair: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    m, b = pair["mock"], pair["bare"]
    invalid = _invalid(c, pair)

    def ratio(a: float, over: float) -> float | None:
        return round(a / over, 3) if over and invalid is None else None

    return {
        "case": name,
        "status": status,
        "bytes": size,
        "connections": c,
        "rounds": rounds,
        "mock_rps": m["rps"],
        "ceiling_rps": b["rps"],
        "rps_ratio": ratio(m["rps"], b["rps"]),
        "mock_p50_ms": m["p50_ms"],
        "mock_p99_ms": m["p99_ms"],
        "ceiling_p50_ms": b["p50_ms"],
        "ceiling_p99_ms": b["p99_ms"],
        "p99_ratio": ratio(m["p99_ms"], b["p99_ms"]),
        # A 404 or 422 case answers nothing else: only a 200 case counts other statuses.
        "errors": m["errors"] + b["errors"] + (m["non_2xx"] + b["non_2xx"] if status == 200 else 0),
        "mock_loader_cpu": m["loader_cpu"],
        "ceiling_loader_cpu": b["loader_cpu"],
        "mock_server_cpu": m["server_cpu"],
        "ceiling_server_cpu": b["server_cpu"],
        "invalid": invalid,
    }


if __name__ == "__main__":
    print(json.dumps(run(seconds=int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=2))
