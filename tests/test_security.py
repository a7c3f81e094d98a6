"""Secrets stay secret; the optional API key behaves as upstream's; shutdown drains."""

from __future__ import annotations

import signal
import threading

import requests

from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.control import ControlClient

from .clirun import serve

KEY = "pk_live_5up3r-s3cret-KEY"
TOKEN = "tok_control_0nly-me"
Q = "/api/v1/live-calls?call_log_id=1003"


def test_required_api_key_answers_403_like_upstream_and_never_leaks() -> None:
    env = {"PROSPER_API_KEY": KEY, "PROSPER_MOCK_CONTROL_TOKEN": TOKEN}
    with serve(["--require-api-key", "--live-calls", "2", "--call-logs", "8"], env=env) as s:
        missing = requests.get(s.url(Q), timeout=5)
        wrong = requests.get(s.url(Q), headers={"X-Api-Key": KEY[:-1]}, timeout=5)
        invalid = requests.get(s.url("/api/v1/live-calls?call_log_id=x"), timeout=5)
        good = requests.get(s.url(Q), headers={"X-Api-Key": KEY}, timeout=5)
        control = ControlClient(s.base_url, token=TOKEN)
        journal = control.journal()
        unauthorised = requests.get(s.url("/__mock/journal"), timeout=5)
    for r in (missing, wrong, invalid):  # the key is checked before the parameters
        assert (r.status_code, r.json()) == (403, {"detail": "Invalid API key"})
        assert r.headers["content-type"] == "application/json"
    assert good.status_code == 200
    assert unauthorised.status_code == 401
    everything = "\n".join(s.stderr) + str(journal) + unauthorised.text
    everything += "".join(r.text for r in (missing, wrong, invalid, good))
    assert KEY not in everything and TOKEN not in everything
    assert KEY[:-1] not in everything  # not even the wrong key a client sent


def test_require_api_key_without_a_key_is_a_clear_error() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "prosper_mock", "serve", "--require-api-key"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2 and "PROSPER_API_KEY" in done.stderr


def test_api_key_header_is_configurable() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=4))
    with MockServer(world, api_key=("Authorization", "Bearer abc")) as server:
        assert requests.get(server.url(Q), timeout=5).status_code == 403
        ok = requests.get(server.url(Q), headers={"Authorization": "Bearer abc"}, timeout=5)
        assert ok.status_code == 200


def test_sigterm_drains_in_flight_requests() -> None:
    with serve(["--live-calls", "2", "--call-logs", "8", "--quiet"]) as s:
        answers: list[int] = []

        def slow() -> None:
            r = requests.get(s.url(Q), headers={"X-Mock-Fault": "latency=1500"}, timeout=10)
            answers.append(r.status_code)

        thread = threading.Thread(target=slow)
        thread.start()
        threading.Event().wait(0.5)
        s.process.send_signal(signal.SIGTERM)
        thread.join(10)
        s.process.wait(10)
    assert answers == [200]
    assert s.process.returncode == 0
