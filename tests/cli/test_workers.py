"""serve --workers N: several processes on one port, identical worlds, no divergence."""

from __future__ import annotations

import subprocess
import sys

import requests

from tests.clirun import serve


def test_workers_share_a_port_and_answer_identically() -> None:
    with serve(["--workers", "2", "--seed", "7", "--quiet"]) as s:
        assert "with 2 workers" in s.stderr[1]
        bodies = {
            requests.get(s.url("/api/v1/live-calls?call_log_id=1003"), timeout=5).content
            for _ in range(20)
        }
        assert len(bodies) == 1
        refused = requests.post(s.url("/__mock/live-calls"), json={}, timeout=5)
        assert refused.status_code == 409 and "--workers" in refused.json()["detail"]
        assert requests.get(s.url("/__mock/health"), timeout=5).ok
    assert s.process.returncode == 0


def test_workers_refuse_what_would_diverge() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prosper_mock", "serve", "--workers", "2", "--simulate"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "diverge" in done.stderr


def test_workers_do_not_outlive_a_killed_parent() -> None:
    import os
    import time

    with serve(["--workers", "2", "--quiet"]) as s:
        children = [
            int(p)
            for p in subprocess.run(
                ["pgrep", "-P", str(s.process.pid)], capture_output=True, text=True
            ).stdout.split()
        ]
        assert len(children) == 2
        s.process.kill()
        s.process.wait(5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{c}") for c in children):
        time.sleep(0.2)
    assert not any(os.path.exists(f"/proc/{c}") for c in children)
