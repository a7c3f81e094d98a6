"""wrk pinned to one CPU, the server on another: the measuring core shared by the benchmarks
that compare servers back to back (``benchmarks.versus``, ``benchmarks.peers``).

Needs ``wrk`` and ``taskset`` (Linux), and two cores.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVER_CPU = 0
LOAD_CPU = 1


def pinned(cpu: int, command: list[str]) -> list[str]:
    """``command`` run on ``cpu`` alone (taskset execs it: the pid stays the command's)."""
    return ["taskset", "-c", str(cpu), *command]


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run measured."""

    rps: float
    requests: int
    p99_ms: float
    non_2xx: int = 0  # answers wrk counts as errors: a peer that does not find the call


def parse(out: str) -> WrkRun:
    """The rate, the request count, the p99 (0.0 without ``--latency``) and the non-2xx
    answers of wrk's output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    if rate is None or done is None:
        raise RuntimeError(f"no rate in wrk's output:\n{out}")
    p99 = re.search(r"\b99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else 0.0
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return WrkRun(float(rate.group(1)), int(done.group(1)), p99_ms, int(bad.group(1)) if bad else 0)


def wrk(url: str, cpu: int, connections: int, seconds: int) -> WrkRun:
    """What wrk (one thread, pinned to ``cpu``, ``--latency``) measures on ``url``."""
    out = subprocess.run(
        pinned(cpu, ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse(out)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
