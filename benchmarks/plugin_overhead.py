"""The pytest plugin's per-test overhead, with the per-test world reset.

Two generated test files run in fresh pytest processes: N trivial tests that
use the ``prosper`` fixture (reset + journal clear before each), and N that do
not (the baseline, measured in the same run). The difference per test is the
plugin's overhead; the session's one-off server start is measured separately.

Every run loads the kit's plugin alone (``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` and
``-p prosper_mock.plugin``): the other installed plugins (hypothesis, schemathesis,
faker, xdist) would add seconds of start-up to both sides, and their noise to the
difference, without being any of the kit's overhead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WITH_PLUGIN = """
def test_{i}(prosper):
    assert prosper.base_url
"""
BASELINE = """
def test_{i}():
    assert True
"""
SESSION_ONLY = """
def test_0(prosper):
    assert prosper.base_url
"""


def _run(directory: Path, body: str, n: int) -> float:
    path = directory / "test_generated.py"
    path.write_text("".join(body.format(i=i) for i in range(n)))
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            *("-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-p", "prosper_mock.plugin", str(path)),
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    return elapsed


def reset_and_lookup(rounds: int) -> dict[str, float]:
    """What the fixture does per test, without pytest: ``World.reset()`` alone, and with one
    lookup through a running ``MockServer`` (a keep-alive HTTP connection), in ms."""
    import requests

    from prosper_mock import MockServer, World

    with MockServer(World.generate()) as server, requests.Session() as http:
        url = server.url("/api/v1/live-calls?call_log_id=1250")
        http.get(url, timeout=5)
        start = time.perf_counter()
        for _ in range(rounds):
            server.world.reset()
        reset = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(rounds):
            server.world.reset()
            http.get(url, timeout=5)
        both = time.perf_counter() - start
    return {
        "reset_ms": round(reset / rounds * 1000, 4),
        "reset_and_lookup_ms": round(both / rounds * 1000, 3),
    }


def run(tests: int = 500, repeats: int = 3) -> dict[str, Any]:
    """Per-test overhead of ``prosper`` in ms (best of ``repeats``), and the session start cost."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "pytest.ini").write_text("[pytest]\n")
        base = min(_run(directory, BASELINE, tests) for _ in range(repeats))
        plugin = min(_run(directory, WITH_PLUGIN, tests) for _ in range(repeats))
        base_one = min(_run(directory, BASELINE, 1) for _ in range(repeats))
        session = min(_run(directory, SESSION_ONLY, 1) for _ in range(repeats))
    per_test = (plugin - base - (session - base_one)) / tests * 1000
    return {
        "tests": tests,
        "baseline_s": round(base, 3),
        "with_plugin_s": round(plugin, 3),
        "session_start_ms": round((session - base_one) * 1000, 1),
        "per_test_overhead_ms": round(per_test, 3),
        "target_ms": 2.0,
        **reset_and_lookup(rounds=max(20, tests)),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
