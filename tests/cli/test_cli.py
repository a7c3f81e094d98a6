"""``prosper-mock`` as a user runs it: subprocesses, real ports, real output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from prosper_mock import World
from tests.clirun import Served, main_error, serve
from tests.rawhttp import request

ROOT = Path(__file__).resolve().parents[2]
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
        requests.get(s.url("/__mock/health"), timeout=5)  # a control read: no line
        requests.post(s.url("/__mock/reset"), timeout=5)  # a control write: a line
        with pytest.raises(requests.ConnectionError):  # dropped: a line too
            requests.get(s.url("/api/v1/live-calls?a=1"), headers={"X-Mock-Fault": "drop"})
        time.sleep(0.3)
        logged = [line for line in s.stderr if "live-calls" in line and "GET" in line]
        assert len(logged) == 3
        assert " 200 " in logged[0] and " 422 " in logged[1]
        assert logged[2].endswith("dropped by a fault: connection closed unanswered")
        rejected = [line for line in s.stderr if "malformed" in line]
        assert len(rejected) == 1 and "Traceback" not in "\n".join(s.stderr)
        assert not [line for line in s.stderr if "/__mock/health" in line]
        assert len([line for line in s.stderr if "/__mock/reset" in line]) == 1
        banner_end = max(i for i, line in enumerate(s.stderr) if "curl" in line)
        log_lines = s.stderr[banner_end + 1 :]  # each after its time
        assert len(log_lines) == 6
        assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", x) for x in log_lines)


def test_serve_logs_control_reads_with_log_control() -> None:
    with serve(["--live-calls", "1", "--call-logs", "1", "--log-control"]) as s:
        requests.get(s.url("/__mock/health"), timeout=5)
        time.sleep(0.3)
        assert len([line for line in s.stderr if '"GET /__mock/health HTTP/1.1" 200' in line]) == 1


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


def test_version_help_and_usage_errors_do_not_load_the_server() -> None:
    # They answer in a fraction of the time a start takes: aiohttp and openapi-core stay out.
    code = (
        "import sys; from prosper_mock import cli\n"
        "for argv in (['--version'], ['serve', '--help'], ['serve', '--port', 'x']):\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "loaded = {'aiohttp', 'openapi_core', 'prosper_mock.server'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "prosper-mock " in done.stdout and "--missing-lookup-status" in done.stdout
    assert "argument --port: must be a whole number from 0 to 65535, got 'x'" in done.stderr


def test_bad_options_are_clear_errors() -> None:
    done = run_cli("serve", "--live-calls", "-1")
    assert done.returncode == 2 and "must be a whole number >= 0, got -1" in done.stderr
    done = run_cli("serve", "--world", "/no/such/file.json")
    assert done.returncode == 2 and "cannot read world file" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli("serve", "--anchor", "yesterday")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    done = run_cli("serve", "--not-found-status", "200")
    assert done.returncode == 2 and "from 400 to 499" in done.stderr
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
    from prosper_mock.control.client import ControlClient

    done = run_cli("serve", "--journal-max-bytes", "0")
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "prosper-mock serve: error: argument --journal-max-bytes: must be a whole number >= 1, "
        "got 0",
        "see 'prosper-mock serve --help'",
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
        "prosper-mock serve: error: argument --body-timeout: must be a number > 0, got 0",
        "see 'prosper-mock serve --help'",
    ]
    with serve(["--body-timeout", "0.3"]) as s:
        port = int(s.base_url.rsplit(":", 1)[1])
        part = (  # 10 of the 100 body bytes announced, to the mock by its own name
            f"POST /__mock/live-calls HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n0123456789"
        )
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
    about = [line.split(" ", 1)[1] for line in s.stderr if "/__mock/live-calls" in line]
    assert sorted(about) == [  # after each line's time
        '127.0.0.1 "POST /__mock/live-calls HTTP/1.1" body timed out after 0.3 s '
        "(10 of 100 body bytes received): connection closed",
        '127.0.0.1 "POST /__mock/live-calls HTTP/1.1" client went away mid-request '
        "(10 of 100 body bytes received)",
    ]


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``prosper-mock ARGV`` in this process; it must refuse it with a usage error:
    one line naming the command, one pointing to its help, status 2."""
    import asyncio

    from prosper_mock import cli

    def started(*_args: object, **_kwargs: object) -> None:
        raise AssertionError(f"{argv} was not refused: it started serving or checking")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(asyncio, "run", started)
        patch.setattr(pytest, "main", started)
        assert cli.main(list(argv)) == 2
    out, err = capsys.readouterr()
    command = "prosper-mock " + " ".join(a for a in argv[:2] if not a.startswith("-"))
    command = command if argv[0] == "spec" else f"prosper-mock {argv[0]}"
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith(f"{command}: error: "), err
    assert lines[1] == f"see '{command} --help'"
    assert out == "" and "usage:" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "70000"], "--port: must be a whole number from 0 to 65535, got 70000"),
        (["serve", "--port", "-5"], "--port: must be a whole number from 0 to 65535, got -5"),
        (["proxy", "--upstream", "http://127.0.0.1:9", "--port", "65536"], "from 0 to 65535"),
        (["serve", "--workers", "0"], "--workers: must be a whole number >= 1, got 0"),
        (["serve", "--call-logs", "many"], "--call-logs: must be a whole number >= 0, got 'many'"),
        (["serve", "--simulate", "--rate", "0"], "--rate: must be a number > 0, got 0"),
        (["serve", "--simulate", "--rate", "nan"], "--rate: must be a number > 0, got nan"),
        (["serve", "--not-found-status", "200"], "must be a whole number from 400 to 499"),
        (["contract", "--examples", "-1"], "--examples: must be a whole number >= 1, got -1"),
        (["contract", "--examples", "0"], "--examples: must be a whole number >= 1, got 0"),
        (["serve", "--host", "999.1.1.1"], "'999.1.1.1' is not a valid IP address"),
        (["proxy", "--upstream", "http://127.0.0.1:9", "--host", "1::2::3"], "not a valid IP"),
        (["serve", "--anchor", "yesterday"], "--anchor: must be an ISO-8601 time with a UTC"),
        (["generate", "--anchor", "2026-01-15T15:00:00"], "with a UTC offset"),
        (["generate", "--anchor", "9999-12-30T00:00:00+00:00"], "--anchor: must be from 1970"),
        (["serve", "--anchor", "0001-01-02T00:00:00+00:00"], "--anchor: must be from 1970"),
        (["serve", "--anchor", "9999-12-31T23:00:00-12:00"], "before 9000-01-01"),
        (["serve", "--virtual-clock", "--start", "9999-12-30T00:00:00+00:00"], "year 9000"),
        (["serve", "--virtual-clock", "--start", "soon"], "--clock-start/--start: must be an"),
        (["serve", "--bogus"], "unrecognized arguments: --bogus"),
        (["spec", "diff"], "one of the arguments --url --file is required"),
    ],
)
def test_bad_values_are_refused_when_parsed_in_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert message in usage_error(capsys, *argv)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--rate", "3"], "--rate needs --simulate"),
        (["serve", "--clock-start", "2026-01-01T00:00:00+00:00"], "--clock-start needs --virtual"),
        (["serve", "--api-key-env", "KEY"], "--api-key-env needs --require-api-key"),
        (["serve", "--api-key-header", "X-Key"], "--api-key-header needs --require-api-key"),
        (["serve", "--no-control", "--control-token-env", "T"], "not with --no-control"),
        (["serve", "--quiet", "--log-control"], "--log-control adds log lines: not with --quiet"),
        (["serve", "--no-control", "--log-control"], "--log-control needs the control API"),
        (["serve", "--world", "w.json", "--live-calls", "3"], "--live-calls sizes a generated"),
        (
            ["serve", "--world", "w.json", "--anchor", "2026-01-01T00:00Z"],
            "--anchor dates a generated",
        ),
        (["serve", "--world", "w.json", "--seed", "3"], "it seeds only --simulate"),
        (["generate", "--world", "w.json", "--seed", "3"], "--seed seeds a generated world"),
        (["contract", "--negative"], "--negative needs --base-url"),
        (["contract", "--compare-mock"], "--compare-mock needs --base-url"),
        (["contract", "--control-token-env", "T"], "--control-token-env needs --base-url"),
        (
            ["contract", "--base-url", "http://127.0.0.1:9", "--compare-report", "r.md"],
            "--compare-report needs --compare-mock",
        ),
        (["proxy", "--upstream", "http://127.0.0.1:9", "--record-raw"], "--record-raw needs"),
    ],
)
def test_options_that_would_change_nothing_are_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert message in usage_error(capsys, *argv)


def test_every_help_describes_its_own_command_without_pointing_elsewhere(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from prosper_mock.cli import main

    helps = {}
    for argv in (
        [],
        ["serve"],
        ["generate"],
        ["contract"],
        ["proxy"],
        ["spec"],
        ["spec", "diff"],
        ["spec", "update"],
    ):
        assert main([*argv, "--help"]) == 0
        helps[" ".join(argv)] = capsys.readouterr().out
    for name, text in helps.items():
        assert "README" not in text, name  # an installed user has no README to look in
    flat = {name: " ".join(text.split()) for name, text in helps.items()}
    assert "serve this world file" in flat["serve"]
    assert "serve this world" not in flat["generate"]
    assert "write it again" in flat["generate"]
    assert "needs --simulate" in flat["serve"] and "needs --virtual-clock" in flat["serve"]


def test_the_banner_describes_a_loaded_world_restored_from_the_state_file(tmp_path: Path) -> None:
    from prosper_mock.control.client import ControlClient

    state = tmp_path / "state.json"
    fixture = json.loads((ROOT / "fixtures" / "world.json").read_text())
    args = ["--live-calls", "3", "--call-logs", "5", "--quiet", "--state-file", str(state)]
    with serve(args) as first:
        ControlClient(first.base_url).load(fixture)
    with serve(args) as second:
        banner = second.stderr[0]
    assert "(seed 0)" not in banner, banner
    assert "4 live calls, 12 call logs" in banner
    assert f"from a world loaded through the control API, restored from {state}" in banner


def on_a_terminal(*args: str, until: str | None = None) -> str:
    """Run ``prosper-mock ARGS`` with its stderr on a pseudo-terminal; what it showed there.

    ``until``: stop it (SIGTERM) once that text has appeared.
    """
    import fcntl
    import os
    import pty
    import select
    import signal
    import struct
    import termios

    leader, follower = pty.openpty()
    # 24 rows of 100 columns: a terminal of no size shows no bar
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "prosper_mock", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the process closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
                if until is not None and until.encode() in shown:
                    process.send_signal(signal.SIGTERM)
                    until = None
            elif process.poll() is not None:
                break
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(30)
        os.close(leader)
    return shown.decode("utf-8", "replace")


def test_long_work_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    shown = on_a_terminal("generate", "--live-calls", "3", "--call-logs", "40", "-o", str(out))
    assert "indexing the world" in shown and "writing" in shown and "43" in shown
    assert f"wrote {out}" in shown
    out = tmp_path / "piped.json"
    piped = run_cli("generate", "--live-calls", "3", "--call-logs", "40", "-o", str(out))
    assert piped.returncode == 0 and piped.stderr == f"wrote {out}\n"  # nothing else when piped
    shown = on_a_terminal(
        "serve", "--port", "0", "--quiet", "--call-logs", "40", until="serving on"
    )
    assert "indexing the world" in shown and "serving on" in shown
    with serve(["--call-logs", "40", "--quiet"]) as piped_serve:
        assert piped_serve.stderr[0].startswith("prosper-mock ")  # the banner comes first


def test_contract_shows_its_suites_progress_on_a_terminal() -> None:
    shown = on_a_terminal("contract", "--examples", "5", "-k", "lookups or discovery")
    assert "contract suites" in shown and "test_lookups_from_an_answer" in shown
    assert "Warning" not in shown


def test_generate_streams_the_world_file_through_a_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from prosper_mock import WorldRecipe, cli

    for live, logs in ((2, 5), (0, 0), (3, 0), (0, 4)):
        recipe = WorldRecipe(seed=3, live_calls=live, call_logs=logs)
        whole = json.dumps(World.generate(recipe).dump(), ensure_ascii=False, indent=2) + "\n"
        out = tmp_path / f"w-{live}-{logs}.json"
        renamed: list[tuple[str, str]] = []
        link = os.link  # a new file appears by a link (never over one that came meanwhile)

        def watched(src: str, dst: str, *, _seen: list = renamed, _link=link) -> None:
            assert not Path(dst).exists()  # the file appears whole, by the link
            _seen.append((str(Path(src).parent), str(dst)))
            _link(src, dst)

        with monkeypatch.context() as patch:
            patch.setattr(os, "link", watched)
            # never the whole document in memory: rows go to the file as they are made
            patch.setattr(World, "dump", lambda _self: pytest.fail("the world was built whole"))
            sizes = ["--seed", "3", "--live-calls", str(live), "--call-logs", str(logs)]
            assert cli.main(["generate", *sizes, "-o", str(out)]) == 0
        assert out.read_text(encoding="utf-8") == whole  # byte for byte the one-piece output
        assert renamed == [(str(tmp_path), str(out))]
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_help_lists_the_mock_s_commands_and_those_registered_by_the_kit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from prosper_mock.cli import main
    from prosper_mock.cli.program import plugged_commands

    assert [p.name for p in plugged_commands()] == ["contract", "proxy", "spec"]
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    for name in ("serve", "generate", "contract", "proxy", "spec"):
        assert f"    {name} " in listed, listed


def test_a_registered_command_that_cannot_be_imported_is_listed_and_names_its_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import EntryPoint

    from prosper_mock.cli import main

    load = EntryPoint.load

    def without_schemathesis(point: EntryPoint) -> object:
        if point.name == "contract":
            raise ModuleNotFoundError("No module named 'schemathesis'", name="schemathesis")
        return load(point)

    monkeypatch.setattr(EntryPoint, "load", without_schemathesis)
    assert main(["--help"]) == 0
    assert "contract  (not installed here: schemathesis is missing)" in capsys.readouterr().out
    line = main_error(["contract", "--base-url", "http://127.0.0.1:9", "-k", "x"], capsys)
    assert line == (
        "prosper-mock contract needs the contracts extra (schemathesis is missing): "
        "pip install 'prosper-voice-mock[contracts]'"
    )
    assert main(["proxy", "--upstream", "ftp://x"]) == 2  # the others load as before
    assert "--upstream must be an http(s) URL" in capsys.readouterr().err


def test_a_registered_command_never_replaces_one_of_the_mock_s_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import EntryPoint

    from prosper_mock.cli import main, program

    other = EntryPoint("serve", "no_such_package.cli:add_serve", program.COMMAND_GROUP)
    monkeypatch.setattr(program, "plugged_commands", lambda: [other])
    assert main(["serve", "--help"]) == 0
    assert "--missing-lookup-status" in capsys.readouterr().out


def test_contract_without_the_contracts_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "schemathesis", None)  # as if not installed
    line = main_error(["contract"], capsys)
    assert line == (
        "prosper-mock contract needs the contracts extra (schemathesis is missing): "
        "pip install 'prosper-voice-mock[contracts]'"
    )


def test_an_unavailable_command_without_an_extra_names_its_package() -> None:
    from prosper_mock.cli.program import Unavailable

    assert Unavailable("x", "yaml", "some-kit", ()).message() == (
        "prosper-mock x needs yaml: pip install 'some-kit'"
    )
    assert Unavailable("x", "yaml", "kit", ("a", "b")).message() == (
        "prosper-mock x needs the a,b extras (yaml is missing): pip install 'kit[a,b]'"
    )


WITHOUT_THE_CONTRACTS_EXTRA = """
import sys
for name in ("pytest", "schemathesis", "hypothesis", "requests"):
    sys.modules[name] = None  # as if not installed
from prosper_mock.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_the_contracts_extra_the_kit_s_commands_are_listed_and_say_what_to_install() -> (
    None
):
    def run_without(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", WITHOUT_THE_CONTRACTS_EXTRA, *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = run_without("--help")
    assert listed.returncode == 0, listed.stderr
    assert all(f"    {name} " in listed.stdout for name in ("contract", "proxy", "spec"))
    done = run_without("contract")
    assert (done.returncode, done.stderr) == (
        2,
        "prosper-mock contract needs the contracts extra (hypothesis is missing): "
        "pip install 'prosper-voice-mock[contracts]'\n",
    )
    spec = str(ROOT / "openapi.json")
    done = run_without("spec", "diff", "--file", spec, "--vendored", spec)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


def _banner_line(s: Served, start: str) -> str:
    """The banner's line starting with ``start`` (the banner is printed at once, whole)."""
    for _ in range(200):
        found = [line for line in s.stderr if line.startswith(start)]
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no {start!r} line in {s.stderr}")


def test_the_banner_names_the_dashboard_and_never_the_token() -> None:
    with serve(["--live-calls", "1", "--call-logs", "1"]) as s:
        assert _banner_line(s, "dashboard: ") == f"dashboard: {s.base_url}/__mock/"
    secret = "tok-of-the-dashboard"
    with serve(["--live-calls", "1", "--call-logs", "1", "--control-token", secret]) as s:
        line = _banner_line(s, "dashboard: ")
        assert line.startswith(f"dashboard: {s.base_url}/__mock/  (append #token=")
    assert secret not in "\n".join(s.stderr)
    with serve(["--live-calls", "1", "--call-logs", "1", "--no-control"]) as s:
        _banner_line(s, "serving on")
        assert not [line for line in s.stderr if "dashboard" in line]
        assert requests.get(s.url("/__mock/"), timeout=5).status_code == 404
