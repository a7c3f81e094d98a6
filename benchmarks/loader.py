"""The load generator: wrk, one thread, pinned to its own core, its own CPU use measured.

A run whose loader was the bottleneck measures the loader, not the server: ``validity`` says
when a mock/ceiling pair cannot be read as a ratio (README, "Benchmarks").
"""

from __future__ import annotations

import re
import resource
import subprocess
import time
from dataclasses import dataclass

from benchmarks.machine import cpu_seconds, ensure_command, pinned

INSTALL = "apt-get install -y wrk"
# The loader's share of its core at or above which it, not the server, set the rate.
SATURATED = 0.9
# Below these shares of their cores neither side set the rate: something else on the machine
# did (a busy machine); only read at a concurrency where the server should be the bottleneck.
IDLE = 0.5
BUSY_CONNECTIONS = 8


class WrkMissing(Exception):
    """wrk is not installed and could not be installed here."""


def ensure_wrk() -> str:
    """The path of wrk, installed with apt-get first when missing and this process is root."""
    found = ensure_command("wrk", "wrk")
    if found:
        return found
    raise WrkMissing(
        f"the benchmarks need wrk as their load generator: install it ({INSTALL}, as root, "
        "or your system's package manager) and run again"
    )


def wrk_version(text: str) -> str:
    """The version in ``wrk -v``'s first line (``wrk 4.1.0 [epoll] Copyright ...``)."""
    m = re.match(r"wrk\s+(\S+)", text.strip())
    return m.group(1) if m else "unknown"


def installed_wrk_version() -> str:
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return wrk_version(out.stdout or out.stderr)


@dataclass(frozen=True)
class Run:
    """One wrk run: its rate and latencies, and the CPU share of its core each side used."""

    rps: float
    requests: int
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors: connect, read, write, timeout
    non_2xx: int  # answers outside 2xx/3xx (every answer of a 404 or 422 case)
    loader_cpu: float  # wrk's CPU seconds over the run's wall seconds
    server_cpu: float | None  # the server's, when its pid was given


def _ms(out: str, label: str) -> float:
    m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
    if not m:
        return 0.0
    return round(float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)], 3)


def parse(out: str) -> tuple[float, int, float, float, int, int]:
    """Requests/s, requests, p50 and p99 ms, socket errors and non-2xx/3xx answers in wrk's
    ``--latency`` output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    if rate is None or done is None:
        raise RuntimeError(f"no rate in wrk's output:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = sum(int(g) for g in sockets.groups()) if sockets else 0
    return (
        float(rate.group(1)),
        int(done.group(1)),
        _ms(out, "50%"),
        _ms(out, "99%"),
        errors,
        int(non_2xx.group(1)) if non_2xx else 0,
    )


def run(
    url: str,
    connections: int,
    seconds: int,
    cpus: str | None = None,
    server_pid: int | None = None,
) -> Run:
    """wrk on ``url`` for ``seconds`` (whole, at least 1), pinned to ``cpus`` when given.

    wrk's CPU time comes from ``getrusage(RUSAGE_CHILDREN)`` around it: the only child reaped
    in between is wrk (taskset execs it).
    """
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, seconds)}s", "--latency", url]
    server_before = cpu_seconds(server_pid) if server_pid else 0.0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(pinned(cpus, argv), capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    server = (cpu_seconds(server_pid) - server_before) / wall if server_pid else None
    return Run(*parse(out), round(used / wall, 3), server)


def validity(connections: int, loader_cpu: float, server_cpu: float | None) -> str | None:
    """Why a run cannot be read against another (``None``: it can).

    The loader saturated when it used ``SATURATED`` of its core or more: the rate is wrk's.
    At ``BUSY_CONNECTIONS`` or more a server that can keep up is the bottleneck and uses its
    core; when neither it nor the loader reached ``IDLE`` of theirs, the rate is far below
    what wrk alone reaches and the server was starved by other load on the machine.
    """
    if loader_cpu >= SATURATED:
        return f"loader saturated (wrk {loader_cpu:.0%} of its core)"
    if (
        connections >= BUSY_CONNECTIONS
        and server_cpu is not None
        and server_cpu < IDLE
        and loader_cpu < IDLE
    ):
        return (
            f"server starved (server {server_cpu:.0%}, wrk {loader_cpu:.0%} of their cores: "
            "the machine is busy)"
        )
    return None
