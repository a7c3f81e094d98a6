"""HTTP throughput and latency: the mock against a bare aiohttp ceiling, in the same run.

For each lookup kind the ceiling serves a fixed body of the same size as the mock's answer,
so the ratio isolates what the mock adds (validation, lookup, rendering) over aiohttp itself.
The load generator is wrk when installed, otherwise ``benchmarks.loader`` (its own process).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import requests

BY_ID = "call_log_id=1250"  # a live call of the default world (README's quick start)


def cases(base_url: str) -> dict[str, str]:
    """The query of each case; the phone and the variable are those of call 1250, so every
    lookup kind finds a call (whatever the generator makes of the default seed)."""
    call = requests.get(f"{base_url}/api/v1/live-calls?{BY_ID}", timeout=10).json()
    return {
        "by id": BY_ID,
        "by phone": urlencode({"user_phone_number": call["user_phone_number"]}),
        "by variable": urlencode({"key": "external_id", "value": call["variables.external_id"]}),
        "404": "call_log_id=99999999",
        "422": "call_log_id=abc",
    }


@contextmanager
def _process(args: list[str]) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", *args], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        stream = proc.stderr if args[0] == "prosper_mock" else proc.stdout
        assert stream is not None
        for line in stream:
            if "serving on " in line:
                yield line.split("serving on ")[1].split()[0]
                break
        else:
            raise RuntimeError(f"{args} did not start")
    finally:
        proc.terminate()
        proc.wait(10)


def _wrk(url: str, connections: int, duration: float) -> dict[str, Any]:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(connections),
            "-d",
            f"{max(1, int(duration))}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return 0.0
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50_ms": ms("50%"), "p99_ms": ms("99%"), "errors": out.count("Non-2xx")}


def measure(url: str, connections: int, duration: float) -> dict[str, Any]:
    if shutil.which("wrk"):
        return _wrk(url, connections, duration)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.loader",
            url,
            "--connections",
            str(connections),
            "--duration",
            str(duration),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _paired(mock_url: str, bare_url: str, connections: int, duration: float, rounds: int) -> dict:
    """``rounds`` runs of each side, alternating which goes first (mock, bare, bare, mock, ...)
    so drift in the machine's speed falls on both; the median run of each side."""
    runs: dict[str, list[dict[str, Any]]] = {"mock": [], "bare": []}
    for r in range(rounds):
        order = (("mock", mock_url), ("bare", bare_url))
        for side, url in order if r % 2 == 0 else order[::-1]:
            time.sleep(0.2)
            runs[side].append(measure(url, connections, duration))
    return {
        side: {key: _median([m[key] for m in ms]) for key in ("rps", "p50_ms", "p99_ms", "errors")}
        for side, ms in runs.items()
    }


def run(
    duration: float = 3.0, connections: tuple[int, ...] = (1, 64), rounds: int = 3
) -> dict[str, Any]:
    rows = []
    with _process(["prosper_mock", "serve", "--port", "0", "--quiet"]) as mock:
        for name, query in cases(mock).items():
            answer = requests.get(f"{mock}/api/v1/live-calls?{query}", timeout=10)
            size, status = len(answer.content), answer.status_code
            if name.startswith("by ") and status != 200:
                raise RuntimeError(f"{name}: {query} answers {status}, not a found call")
            with _process(
                ["benchmarks.ceiling", "--size", str(size), "--status", str(status)]
            ) as bare:
                for c in connections:
                    path = f"/api/v1/live-calls?{query}"
                    pair = _paired(f"{mock}{path}", f"{bare}{path}", c, duration, rounds)
                    m, b = pair["mock"], pair["bare"]
                    rows.append(
                        {
                            "case": name,
                            "status": status,
                            "bytes": size,
                            "connections": c,
                            "rounds": rounds,
                            "mock_rps": m["rps"],
                            "ceiling_rps": b["rps"],
                            "rps_ratio": round(m["rps"] / b["rps"], 3) if b["rps"] else None,
                            "mock_p50_ms": m["p50_ms"],
                            "mock_p99_ms": m["p99_ms"],
                            "ceiling_p50_ms": b["p50_ms"],
                            "ceiling_p99_ms": b["p99_ms"],
                            "p99_ratio": round(m["p99_ms"] / b["p99_ms"], 3)
                            if b["p99_ms"]
                            else None,
                            "errors": m["errors"] + b["errors"],
                        }
                    )
    scaling = []
    for workers in (1, 2):  # the by-id lookup at the highest concurrency, 1 then 2 processes
        with _process(
            ["prosper_mock", "serve", "--port", "0", "--quiet", "--workers", str(workers)]
        ) as mock:
            time.sleep(0.3)
            m = measure(f"{mock}/api/v1/live-calls?{BY_ID}", max(connections), duration)
            scaling.append({"workers": workers, "rps": m["rps"], "p99_ms": m["p99_ms"]})
    return {
        "loader": "wrk" if shutil.which("wrk") else "benchmarks.loader (Python)",
        "rows": rows,
        "workers": scaling,
    }


if __name__ == "__main__":
    print(json.dumps(run(duration=float(sys.argv[1]) if len(sys.argv) > 1 else 3.0), indent=2))
