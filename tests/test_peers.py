"""benchmarks.peers: the pure parts (wrk's output, the ratio, the table), and a seconds-long
smoke run of the mock against the FastAPI peer so the benchmark never rots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import peers
from benchmarks.loader import Run
from benchmarks.peers import NOT_INSTALLED, build_rows, markdown, median_ratio, wiremock_mapping

ROOT = Path(__file__).resolve().parent.parent


def run_of(rps: float, requests: int, p99_ms: float, non_2xx: int = 0) -> Run:
    return Run(rps, requests, 0.0, p99_ms, 0, non_2xx, loader_cpu=0.2, server_cpu=None)


def test_median_ratio_is_the_median_of_per_round_ratios() -> None:
    # per round 1, 3, 9 -> 3; the ratio of the medians would be 100 / 100 = 1
    assert median_ratio([100, 300, 90], [100, 100, 10]) == 3.0


def test_build_rows_mock_first_missing_peers_listed() -> None:
    runs = {
        "mock": [run_of(1000, 5000, 2.0), run_of(1200, 6000, 3.0)],
        "peer": [run_of(500, 2500, 4.0, 1), run_of(400, 2000, 6.0)],
        "absent": [],
    }
    bodies = {"mock": (200, 1274), "peer": (200, 1274)}
    rows = build_rows(["mock", "peer", "absent"], runs, bodies, ["absent"])
    assert [r.server for r in rows] == ["mock", "peer", "absent"]
    mock, peer, absent = rows
    assert (mock.rps, mock.p99_ms, mock.ratio) == (1100, 2.5, 1.0)
    assert (peer.rps, peer.p99_ms, peer.ratio, peer.non_2xx) == (450, 5.0, 2.5, 1)
    assert absent.status == NOT_INSTALLED and absent.rps is None
    table = markdown(rows)
    assert "| peer | 450 | 5.00 ms | 2.50 | 200, 1274 B |" in table
    assert f"| absent | {NOT_INSTALLED} |" in table


def test_wiremock_mapping_answers_the_body_for_the_id_only() -> None:
    mapping = wiremock_mapping(b'{"call_log_id": 1250}')
    assert mapping["request"]["queryParameters"] == {"call_log_id": {"equalTo": "1250"}}
    assert json.loads(mapping["response"]["body"]) == {"call_log_id": 1250}


TOOLS = bool(shutil.which("wrk") and shutil.which("taskset") and (os.cpu_count() or 1) >= 2)


@pytest.mark.slow
@pytest.mark.skipif(not TOOLS and not os.environ.get("CI"), reason="needs wrk, taskset, 2 CPUs")
def test_peers_smoke_run_has_the_mock_and_fastapi_with_a_ratio(tmp_path: Path) -> None:
    out = tmp_path / "PEERS.json"
    command = ["--rounds", "1", "--seconds", "1", "--only", "fastapi", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.peers", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["server"]: row for row in json.loads(out.read_text())["rows"]}
    assert set(rows) == {"prosper-mock", "FastAPI + uvicorn"}
    assert rows["prosper-mock"]["ratio"] == 1.0
    fastapi = rows["FastAPI + uvicorn"]
    assert fastapi["ratio"] > 0 and fastapi["rps"] > 0
    assert (
        fastapi["http_status"] == 200
        and fastapi["body_bytes"] == rows["prosper-mock"]["body_bytes"]
    )
    assert "| FastAPI + uvicorn | " in done.stdout


def test_peers_not_installed_are_not_started(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(peers, "PEERS_DIR", tmp_path / "none")
    assert peers.wiremock_jar() is None
    assert [p.command(1, tmp_path) for p in peers.peers(0) if p.key in {"prism", "wiremock"}] == [
        None,
        None,
    ]


def _state(pid: int) -> str:
    """The process's state letter in ``/proc`` (``T``: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _states_become(pids: list[int], stopped: list[bool]) -> bool:
    for _ in range(200):
        if [_state(pid) == "T" for pid in pids] == stopped:
            return True
        time.sleep(0.01)
    return False


def test_turns_pause_every_server_but_the_measured_one_and_resume_them_all() -> None:
    idle = [sys.executable, "-c", "import time\nwhile True: time.sleep(0.01)"]
    procs = [subprocess.Popen(idle, start_new_session=True) for _ in range(3)]
    pids = [proc.pid for proc in procs]
    turns = peers.Turns()
    try:
        for name, pid in zip("abc", pids, strict=True):
            turns.add(name, peers.Server(f"http://127.0.0.1:{pid}", pid))
        turns.only("a")
        assert _states_become(pids, [False, True, True])
        turns.only("c")
        assert _states_become(pids, [True, True, False])
        turns.resume_all()
        assert _states_become(pids, [False, False, False])
    finally:
        turns.resume_all()
        for proc in procs:
            proc.kill()
            proc.wait()
