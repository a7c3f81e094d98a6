"""Secrets stay secret; the optional API key behaves as upstream's; shutdown drains."""

from __future__ import annotations

import hmac
import signal
import threading
from pathlib import Path

import pytest
import requests

from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.control.client import ControlClient
from prosper_mock.serving.auth import InsecureKeyError, check_key_transport
from tests.clirun import serve

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
    assert '-H "X-Api-Key: $PROSPER_API_KEY"' in "\n".join(s.stderr)  # the banner's curl works
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


def test_sigterm_drains_in_flight_requests_and_keeps_the_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    args = ["--live-calls", "2", "--call-logs", "8", "--quiet", "--state-file", str(state)]
    with serve(args) as s:
        answers: list[int] = []

        def slow() -> None:
            r = requests.get(s.url(Q), headers={"X-Mock-Fault": "latency=1500"}, timeout=10)
            answers.append(r.status_code)

        thread = threading.Thread(target=slow)
        thread.start()
        started = ControlClient(s.base_url).start_call()["call"]["call_log_id"]
        threading.Event().wait(0.3)
        s.process.send_signal(signal.SIGTERM)
        thread.join(10)
        s.process.wait(10)
    assert answers == [200]  # the slow request in flight was answered, not cut
    assert s.process.returncode == 0
    with serve(args) as again:  # the change made just before the stop is still there
        live = {r["call_log_id"] for r in ControlClient(again.base_url).dump()["live_calls"]}
    assert started in live


def test_keys_and_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    world = World.generate(WorldRecipe(live_calls=1, call_logs=4))
    with MockServer(world, api_key=("X-Api-Key", KEY), control_token=TOKEN) as server:
        assert (
            requests.get(server.url(Q), headers={"X-Api-Key": "nope"}, timeout=5).status_code == 403
        )
        assert requests.get(server.url(Q), headers={"X-Api-Key": KEY}, timeout=5).status_code == 200
        health = requests.get(
            server.url("/__mock/health"), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        )
        assert health.status_code == 200
    assert (b"nope", KEY.encode()) in compared and (KEY.encode(), KEY.encode()) in compared
    assert (f"Bearer {TOKEN}".encode(),) * 2 in compared


@pytest.mark.parametrize(
    ("url", "sends_key", "insist", "refused"),
    [
        ("http://192.0.2.1:9", True, False, True),
        ("http://voice.example.com", True, False, True),
        ("http://192.0.2.1:9", True, True, False),  # the user insisted
        ("https://voice.example.com", True, False, False),
        ("http://127.0.0.1:8765", True, False, False),
        ("http://localhost:8765", True, False, False),
        ("http://[::1]:8765", True, False, False),
        ("http://192.0.2.1:9", False, False, False),  # no key, nothing to protect
    ],
)
def test_the_contract_suite_sends_a_key_in_clear_only_to_loopback(
    url: str, sends_key: bool, insist: bool, refused: bool
) -> None:
    if refused:
        with pytest.raises(InsecureKeyError, match="refusing to send the API key"):
            check_key_transport(url, sends_key, insist)
    else:
        check_key_transport(url, sends_key, insist)
