"""Two source trees of the mock, the same hot path, in one run: is the new one as fast?

``python -m benchmarks.versus OLD_TREE [NEW_TREE]`` serves each tree's ``mock/``
package (as ``prosper_mock``, through a symlink on ``PYTHONPATH``: both use this
interpreter and its dependencies) pinned to CPU 0, and loads it with wrk pinned
to CPU 1, alternating old and new for ``--rounds`` rounds, on a lookup by id and
on a ``422``. Both servers are up at once and each round measures them back to
back (the first alternating), so a busy machine disturbs both alike. It prints
every round's requests per second and each server's CPU time per request (read
from ``/proc``, which other load disturbs far less), and the medians of the
new/old ratios per case. Needs ``wrk`` and ``taskset`` (Linux), and two cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks import loader
from benchmarks.machine import cpu_seconds, pinned, serving

CASES = {"by id": "call_log_id=1250", "422": "call_log_id=abc"}  # 1250: a default-world call
PATH = "/api/v1/live-calls"


@contextmanager
def served(tree: Path, cpu: int) -> Iterator[tuple[str, int]]:
    """The mock of ``tree`` (its ``mock/`` folder) on a free port, pinned to ``cpu``.

    Both packages come from ``tree``: an older command builds its parser with the contracts
    package of its own time.
    """
    with tempfile.TemporaryDirectory() as shim:
        (Path(shim) / "prosper_mock").symlink_to(tree.resolve() / "mock")
        (Path(shim) / "prosper_contracts").symlink_to(tree.resolve() / "contracts")
        env = {**os.environ, "PYTHONPATH": shim}
        check = [sys.executable, "-c", "import prosper_mock.server as m; print(m.__file__)"]
        loaded = subprocess.run(check, env=env, capture_output=True, text=True, check=True)
        if not loaded.stdout.startswith(shim):  # an installed copy would shadow the tree
            raise RuntimeError(f"{tree}: prosper_mock loads from {loaded.stdout.strip()}")
        command = [sys.executable, "-m", "prosper_mock", "serve", "--port", "0", "--quiet"]
        with serving(command, str(cpu), env=env, cwd=shim) as server:
            yield server


@dataclass(frozen=True)
class Sample:
    rps: float
    cpu_us: float  # the server's CPU time per request: what a busy machine disturbs least


def sample(base: str, pid: int, query: str, connections: int, seconds: int) -> Sample:
    before = cpu_seconds(pid)
    got = loader.run(f"{base}{PATH}?{query}", connections, seconds, cpus="1")
    return Sample(got.rps, (cpu_seconds(pid) - before) / max(got.requests, 1) * 1e6)


# Per-request cost of the route handler alone, in-process (no sockets, no wrk): far
# less sensitive to a busy machine than a throughput run, and it isolates the pipeline.
HANDLER_COST = """
import asyncio, sys, time
from aiohttp.test_utils import make_mocked_request
from prosper_mock import World, WorldRecipe, create_app
world = World.generate(WorldRecipe(live_calls=50, call_logs=200))
app = create_app(world)
call = next(iter(world.live_calls)).call_log_id
resource = next(r for r in app.router.resources() if r.canonical == "/api/v1/live-calls")
handler = next(r.handler for r in resource if r.method == "GET")
async def main():
    best = {}
    for case, query in (("by id", f"call_log_id={call}"), ("422", "call_log_id=abc")):
        request = make_mocked_request("GET", "/api/v1/live-calls?" + query, app=app)
        for _ in range(25):
            start = time.process_time()  # CPU time: a busy machine does not count
            for _ in range(2000):
                await handler(request)
            took = (time.process_time() - start) / 2000 * 1e6
            best[case] = min(best.get(case, took), took)
    print(" ".join(f"{case}={us:.2f}" for case, us in best.items()))
asyncio.run(main())
"""


def handler_cost(tree: Path, cpu: int) -> dict[str, float]:
    """Microseconds the route handler takes per request (best of 25 runs of 2 000)."""
    with tempfile.TemporaryDirectory() as shim:
        (Path(shim) / "prosper_mock").symlink_to(tree.resolve() / "mock")
        out = subprocess.run(
            pinned(str(cpu), [sys.executable, "-c", HANDLER_COST]),
            env={**os.environ, "PYTHONPATH": shim},
            cwd=shim,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return dict(_pair(p) for p in out.replace("by id", "by_id").split())


def _pair(text: str) -> tuple[str, float]:
    case, _, us = text.partition("=")
    return case.replace("_", " "), float(us)


def run(
    old: Path, new: Path, rounds: int, connections: int, seconds: int
) -> dict[str, list[tuple[Sample, Sample]]]:
    """Per case, one ``(old, new)`` pair per round, both servers up, taking turns going first.

    Each pair is measured back to back, so what else the machine does disturbs both alike.
    """
    results: dict[str, list[tuple[Sample, Sample]]] = {case: [] for case in CASES}
    with served(old, cpu=0) as old_server, served(new, cpu=0) as new_server:
        for base, pid in (old_server, new_server):
            sample(base, pid, CASES["by id"], connections, 1)  # warm up
        for i in range(rounds):
            for case, query in CASES.items():
                turns = [("old", old_server), ("new", new_server)]
                got = {
                    name: sample(*server, query, connections, seconds)
                    for name, server in (turns if i % 2 == 0 else turns[::-1])
                }
                o, n = got["old"], got["new"]
                results[case].append((o, n))
                print(
                    f"round {i + 1} {case:>6}: old {o.rps:7.0f}/s {o.cpu_us:5.1f} us CPU/req, "
                    f"new {n.rps:7.0f}/s {n.cpu_us:5.1f} us CPU/req; new/old "
                    f"{n.rps / o.rps:.3f} (CPU/req {n.cpu_us / o.cpu_us:.3f})",
                    flush=True,
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the source tree to compare against")
    parser.add_argument("new", type=Path, nargs="?", default=Path(__file__).parents[1])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument(
        "--handler", action="store_true", help="time the route handler in-process instead"
    )
    args = parser.parse_args()
    started = time.monotonic()
    if args.handler:
        best: dict[str, dict[str, float]] = {"old": {}, "new": {}}
        for i in range(args.rounds):
            for name, tree in [("old", args.old), ("new", args.new)][:: 1 if i % 2 == 0 else -1]:
                costs = handler_cost(tree, cpu=0)
                shown = "  ".join(f"{case} {us:6.2f} us" for case, us in costs.items())
                print(f"round {i + 1} handler {name}: {shown}", flush=True)
                for case, us in costs.items():
                    best[name][case] = min(best[name].get(case, us), us)
        for case, old_us in best["old"].items():  # the least disturbed run of each
            new_us = best["new"][case]
            print(
                f"{case:>6}: best old {old_us:.2f} us, new {new_us:.2f} us: {new_us / old_us:.3f}"
            )
        return
    results = run(args.old, args.new, args.rounds, args.connections, args.seconds)
    for case, pairs in results.items():
        rates = [n.rps / o.rps for o, n in pairs]
        cpus = [n.cpu_us / o.cpu_us for o, n in pairs]
        print(
            f"{case:>6}: median new/old requests/s {statistics.median(rates):.3f} "
            f"(rounds: {', '.join(f'{r:.3f}' for r in rates)}); "
            f"CPU per request {statistics.median(cpus):.3f} "
            f"(rounds: {', '.join(f'{r:.3f}' for r in cpus)})"
        )
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
