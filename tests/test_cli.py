"""``prosper-mock`` as a user runs it: subprocesses, real ports, real output."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from prosper_mock import World

from .clirun import main_error, serve
from .rawhttp import request

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = [
    "call_log_id=1250",
    "call_log_id=1003",
    "user_phone_number=%2B14383192241",
    "key=payor_name&value=Aetna",
    "key=x",
    "call_log_id=abc",
    "call_log_id=1",
]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prosper_mock", *args], capture_output=True, text=True, timeout=60
    )


def answers(base_url: str) -> list[tuple[int, bytes]]:
    out = []
    for q in REQUESTS:
        r = requests.get(f"{base_url}/api/v1/live-calls?{q}", timeout=5)
        out.append((r.status_code, r.content))
    return out


def test_same_seed_gives_identical_answers_across_runs() -> None:
    with serve(["--seed", "7", "--quiet"]) as first:
        a = answers(first.base_url)
    with serve(["--seed", "7", "--quiet"]) as second:
        b = answers(second.base_url)
    assert a == b
    assert {status for status, _ in a} >= {200, 400, 422}
    with serve(["--seed", "8", "--quiet"]) as other:
        assert answers(other.base_url) != a


def test_serve_binds_loopback_and_logs_one_line_per_request() -> None:
    with serve(["--live-calls", "3", "--call-logs", "5"]) as s:
        assert s.base_url.startswith("http://127.0.0.1:")
        assert "3 live calls, 5 call logs (seed 0)" in s.stderr[0]
        port = int(s.base_url.rsplit(":", 1)[1])
        requests.get(s.url("/api/v1/live-calls?call_log_id=1004"), timeout=5)
        requests.get(s.url("/api/v1/live-calls?call_log_id=zzz"), timeout=5)
        request("127.0.0.1", port, b"/api/v1/live-calls?key=\xff")  # not valid HTTP
        time.sleep(0.3)
        logged = [line for line in s.stderr if "live-calls" in line and "GET" in line]
        assert len(logged) == 2
        assert " 200 " in logged[0] and " 422 " in logged[1]
        rejected = [line for line in s.stderr if "malformed" in line]
        assert len(rejected) == 1 and "Traceback" not in "\n".join(s.stderr)


def test_serve_a_world_file_and_stop_cleanly_on_sigterm() -> None:
    with serve(["--world", str(ROOT / "fixtures" / "world.json")]) as s:
        r = requests.get(s.url("/api/v1/live-calls?call_log_id=1011"), timeout=5)
        assert r.json()["source"] == "live_calls"
        assert "from " in s.stderr[0]
    assert s.process.returncode == 0
    assert "prosper-mock: stopping" in s.stderr


def test_generate_writes_a_world_file(tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    done = run_cli(
        "generate", "--seed", "3", "--live-calls", "2", "--call-logs", "4", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    world = World.from_file(out)
    assert world.stats()["live_calls"] == 2 and world.stats()["call_logs"] == 4
    stdout = run_cli("generate", "--seed", "3", "--live-calls", "2", "--call-logs", "4")
    assert json.loads(stdout.stdout) == json.loads(out.read_text())


def test_fixture_world_is_what_generate_describes() -> None:
    # The README says so; when the generator changes, regenerate the fixture and its examples.
    committed = json.loads((ROOT / "fixtures" / "world.json").read_text())
    stdout = run_cli("generate", "--seed", "1", "--live-calls", "4", "--call-logs", "12").stdout
    assert committed == json.loads(stdout)


def test_version_and_help() -> None:
    assert run_cli("--version").stdout.startswith("prosper-mock ")
    helped = run_cli("serve", "--help")
    assert "--missing-lookup-status" in helped.stdout and "--world" in helped.stdout


def test_bad_options_are_clear_errors() -> None:
    done = run_cli("serve", "--live-calls", "-1")
    assert done.returncode == 2 and "must be >= 0" in done.stderr
    done = run_cli("serve", "--world", "/no/such/file.json")
    assert done.returncode == 2 and "cannot read world file" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli("serve", "--anchor", "yesterday")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    done = run_cli("serve", "--not-found-status", "200")
    assert done.returncode == 2 and "4xx" in done.stderr
    done = run_cli("nope")
    assert done.returncode == 2
    with serve(["--quiet"]) as running:  # a taken port is a one-line error, not a traceback
        port = running.base_url.rsplit(":", 1)[1]
        done = run_cli("serve", "--port", port)
    assert done.returncode == 2 and "address already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_generate_names_a_path_it_cannot_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x" / "sub" / "a.json"
    line = main_error(["generate", "--live-calls", "1", "--call-logs", "1", "-o", str(out)], capsys)
    assert f"cannot write {out}" in line and str(out.parent) in line
    assert not (tmp_path / "x").exists()  # no folder made


def test_generate_never_replaces_a_file_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from prosper_mock.cli import main

    mine = tmp_path / "notes.txt"
    mine.write_text("the user's")
    args = ["generate", "--live-calls", "1", "--call-logs", "1", "-o", str(mine)]
    line = main_error(args, capsys)
    assert str(mine) in line and "--force" in line
    assert mine.read_text() == "the user's"
    assert main([*args, "--force"]) == 0
    assert World.from_file(mine).stats()["live_calls"] == 1
    assert mine.stat().st_mode & 0o044 == 0o044  # as readable as before, not private
    assert main([*args[:-1], "/dev/null"]) == 0  # a device is written into, not replaced


def test_proxy_record_never_replaces_a_file_that_is_not_a_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "notes.json"
    mine.write_text('{"the": "user\'s"}')
    args = ["proxy", "--upstream", "http://127.0.0.1:9", "--port", "0", "--record", str(mine)]
    line = main_error(args, capsys)
    assert str(mine) in line and "not a world file" in line
    assert mine.read_text() == '{"the": "user\'s"}'


def test_serve_bounds_the_journal_by_the_bytes_given() -> None:
    from prosper_mock.control import ControlClient

    done = run_cli("serve", "--journal-max-bytes", "0")
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "prosper-mock: error: --journal-max-bytes must be >= 1, got 0"
    ]
    with serve(["--quiet", "--journal-max-bytes", "200000"]) as s, requests.Session() as http:
        for _ in range(30):  # 16 KB queries: about 16 KB each in the journal
            http.get(s.url("/api/v1/live-calls?call_log_id=1250" + "&a" * 8000), timeout=5)
        seqs = [e["seq"] for e in ControlClient(s.base_url).journal()]
    assert 5 < len(seqs) < 13 and seqs[-1] == 30


def test_serve_logs_a_request_nobody_answered_as_one_line() -> None:
    import socket

    done = run_cli("serve", "--body-timeout", "0")
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "prosper-mock: error: --body-timeout must be a positive number, got 0.0"
    ]
    part = (  # 10 of the 100 body bytes announced
        b"POST /__mock/live-calls HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"
    )
    with serve(["--body-timeout", "0.3"]) as s:
        port = int(s.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as gives_up:
            gives_up.sendall(part)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as stalls:
            stalls.sendall(part)
            assert stalls.recv(1024) == b""  # closed unanswered
        requests.get(s.url("/api/v1/live-calls?call_log_id=1004"), timeout=5)
        for _ in range(200):  # the server logs as it goes: wait for these lines
            logged = "\n".join(s.stderr)
            if all(says in logged for says in ("went away", "timed out", "call_log_id=1004")):
                break
            time.sleep(0.025)
    logged = "\n".join(s.stderr)
    assert "Traceback" not in logged and " 500 " not in logged
    about = [line for line in s.stderr if "/__mock/live-calls" in line]
    assert sorted(about) == [
        '127.0.0.1 "POST /__mock/live-calls HTTP/1.1" body timed out after 0.3 s '
        "(10 of 100 body bytes received): connection closed",
        '127.0.0.1 "POST /__mock/live-calls HTTP/1.1" client went away mid-request '
        "(10 of 100 body bytes received)",
    ]
