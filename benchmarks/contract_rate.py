"""The contract suite's generated requests per second, next to ``st run`` (schemathesis' own
command) on the same running mock in the same run, and the time of a default run.

Each client runs twice against one ``prosper-mock serve`` (a small and a large number of
examples); the requests are counted by the mock's journal, so the rate (the difference in
requests over the difference in time) is free of start-up and counts what was really sent.
The kit's run is its schemathesis suite (``-k spec_conformance``), whose every answer is also
judged by the run's session (``contracts/runner.py``); ``st run`` runs its fuzzing phase with
its default checks. The default run is ``prosper-mock contract`` as a CI job runs it: the
in-process mock, every suite; its target is under 30 s on 2 cores. It is timed 3 times (the
median), with its CPU seconds and the machine's load average before each run beside it: on a
machine busy with other work the wall time is the machine's, the CPU seconds still the run's.
``python -m benchmarks.contract_rate --default-run`` times it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prosper_mock.control.client import ControlClient

ST = Path(sys.executable).with_name("st")
DEFAULT_RUN_TARGET_S = 30.0  # a default run on 2 cores: fast enough for every pull request


@contextmanager
def _served() -> Iterator[str]:
    """A ``prosper-mock serve`` on a free loopback port, its journal large enough to count."""
    process = subprocess.Popen(
        [sys.executable, "-m", "prosper_mock", "serve", "--port", "0", "--quiet",
         "--journal-max-bytes", str(1 << 30)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            match = re.search(r"serving on (http://\S+)", line)
            if match and not found:
                found.append(match.group(1))
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(60):
            raise RuntimeError("prosper-mock serve did not start")
        yield found[0]
    finally:
        process.terminate()
        process.wait(30)


def _timed(
    argv: Sequence[str], control: ControlClient, cwd: str | None = None
) -> tuple[int, float]:
    """(requests the mock received, seconds) for one command, run in ``cwd``."""
    control.clear_journal()
    start = time.perf_counter()
    env = {**os.environ, "NO_COLOR": "1"}
    subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd)
    seconds = time.perf_counter() - start
    return len(control.journal()), seconds


def st_timed(
    url: str, examples: int, operations: Sequence[str], control: ControlClient
) -> tuple[int, float]:
    """``st run``'s fuzzing phase on ``operations`` (all if none), timed as ``_timed`` does.

    It runs in a scratch directory: st keeps its crash cache (``.schemathesis/``) and
    hypothesis' database in its working directory, which is the work tree otherwise.
    """
    paths = [
        part
        for name in operations
        if " " in name
        for part in ("--include-path", name.split(" ", 1)[1])
    ]
    argv = [str(ST), "run", f"{url}/openapi.json", "--phases", "fuzzing",
            "--continue-on-failure", "--max-examples", str(examples), "--workers", "1",
            *paths]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="st-run-") as scratch:
        return _timed(argv, control, cwd=scratch)


def _rate(small: tuple[int, float], large: tuple[int, float]) -> dict[str, Any]:
    requests, seconds = large[0] - small[0], large[1] - small[1]
    return {
        "requests": requests,
        "seconds": round(seconds, 2),
        "requests_per_second": round(requests / seconds, 1) if seconds > 0 else None,
    }


def run(examples: int = 300, operations: tuple[str, ...] = ()) -> dict[str, Any]:
    """Both rates over every operation, or over ``operations`` (``--operation`` names), and
    the default run's time (not in a run limited to ``operations``: a smoke run)."""
    chosen = [part for name in operations for part in ("--operation", name)]
    with _served() as url:
        control = ControlClient(url)

        def kit(n: int) -> list[str]:
            return [sys.executable, "-m", "prosper_mock", "contract", "--base-url", url,
                    "--examples", str(n), "-k", "spec_conformance", *chosen]  # fmt: skip

        ours = _rate(_timed(kit(1), control), _timed(kit(examples + 1), control))
        theirs = _rate(
            st_timed(url, 1, operations, control),
            st_timed(url, examples + 1, operations, control),
        )
    found: dict[str, Any] = {
        "examples": ours["requests"],  # generated and sent, both modes, every operation
        "seconds": ours["seconds"],
        "examples_per_second": ours["requests_per_second"],
        "kit": ours,
        "st_run": theirs,
        "operations": list(operations) or "all",
    }
    if not operations:
        found["default_run"] = default_run()
    return found


def default_run(runs: int = 3) -> dict[str, Any]:
    """``prosper-mock contract`` with no option, ``runs`` times: the median wall and CPU
    seconds (the run's process and its children), each run's, the 1-minute load average
    before each, and the exit statuses."""
    walls, cpus, loads, statuses = [], [], [], []
    for _ in range(runs):
        loads.append(round(os.getloadavg()[0], 2))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "prosper_mock", "contract"], capture_output=True, text=True
        )
        walls.append(round(time.perf_counter() - start, 1))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        cpus.append(round(used, 1))
        statuses.append(done.returncode)
    return {
        "seconds": statistics.median(walls),
        "cpu_seconds": statistics.median(cpus),
        "runs": walls,
        "cpu_runs": cpus,
        "load_average_before": loads,
        "exit_statuses": statuses,
    }


def default_run_line(contract: dict[str, Any]) -> list[str]:
    """The default run's line of the results (none when it was not measured)."""
    d = contract.get("default_run")
    if d is None:
        return []
    measured = f"; measured {d['measured']}" if "measured" in d else ""
    return [
        f"- a default `prosper-mock contract` run: **{d['seconds']} s** (median of "
        f"{len(d['runs'])}: {', '.join(map(str, d['runs']))} s; CPU {d['cpu_seconds']} s; "
        f"load average before each: {', '.join(map(str, d['load_average_before']))}; exit "
        f"status {', '.join(map(str, d['exit_statuses']))}{measured})"
    ]


def assess(contract: dict[str, Any]) -> tuple[str, str]:
    """(measured, met) for the default run's target."""
    d = contract.get("default_run")
    if d is None:
        return "not measured (a run limited to some operations)", "not at the target's size"
    ok = d["seconds"] < DEFAULT_RUN_TARGET_S and set(d["exit_statuses"]) == {0}
    return f"{d['seconds']} s (CPU {d['cpu_seconds']} s)", "yes" if ok else "**no**"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--default-run", action="store_true", help="time only the default run (3 runs)"
    )
    if parser.parse_args().default_run:
        print(json.dumps(default_run(), indent=2))
    else:
        print(run())
