"""A smoke run of every benchmark (tiny sizes, seconds) so they never rot, and the rules that
judge a run and describe its machine (pure functions, no load). No timing asserted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import __main__ as bench
from benchmarks import instructions, loader, peers, stalls
from benchmarks.http import SIDES
from benchmarks.machine import Machine, Pinning, cpu_model, pinned, pinning

ROOT = Path(__file__).resolve().parent.parent
TOOLS = bool(shutil.which("wrk") and shutil.which("taskset") and (os.cpu_count() or 1) >= 2)

WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:8080/api/v1/live-calls?call_log_id=abc
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   470.12us  120.50us   4.10ms   90.00%
    Req/Sec    16.90k   500.00    17.20k    70.00%
  Latency Distribution
     50%  440.00us
     75%  500.00us
     90%  600.00us
     99%    1.25ms
  16990 requests in 1.00s, 4.20MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 16990
Requests/sec:  16983.40
Transfer/sec:      4.20MB
"""


# Off CI a machine without wrk skips it; CI (.ci/run installs wrk) must run it.
@pytest.mark.skipif(not TOOLS and not os.environ.get("CI"), reason="needs wrk, taskset, 2 CPUs")
def test_benchmarks_smoke_run_produces_every_section(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--fuzz-requests", "50", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,  # minutes on a busy 2-core machine: four servers per case
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    for heading in (
        "## HTTP",
        "## Instructions per request (callgrind)",
        "## World scale",
        "## pytest plugin",
        "## Long fuzz run",
        "## What compares across machines",
        "## No stalls",
        "## Targets",
    ):
        assert heading in text
    # the smoke run measures a found answer and an error answer; a full run, every case
    for case in ("by id", "404"):
        assert f"| {case} (" in text
    assert "5xx answers: **0**" in text
    # counted (CI installs valgrind), with a count for each side and their ratios
    section = text.split("## Instructions per request")[1].split("## World scale")[0]
    [row] = [line for line in section.splitlines() if line.startswith("| by id (200, ")]
    mock, on_asyncio, ratio, on_uvloop, uv_ratio, limit, limit_ratio = row.split("|")[2:9]
    assert min(int(c.replace(",", "")) for c in (mock, on_asyncio, on_uvloop, limit)) > 0
    assert float(ratio) > 0 and float(uv_ratio) > 0 and float(limit_ratio) > 0
    # every baseline in the HTTP table, every target judged
    assert (
        "| ceiling, asyncio (ratio) | ceiling, uvloop (ratio) | limit (ratio; per CPU s) |" in text
    )
    targets = text.split("## Targets")[1]
    for target in bench.TARGETS.values():
        assert f"| {target} |" in targets
    for line in ("- CPU: ", "- pinning: server on CPU ", "- load generator: wrk ", "- validity: "):
        assert line in text


@pytest.mark.slow  # st runs as a process
def test_st_run_leaves_no_cache_where_the_benchmarks_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``st run`` keeps its crash cache (``.schemathesis/``) in its working directory: it
    runs in a scratch one, so nothing lands in the work tree the benchmarks run from."""
    from benchmarks.contract_rate import st_timed
    from prosper_mock import MockServer
    from prosper_mock.control.client import ControlClient

    monkeypatch.chdir(tmp_path)
    operation = "GET /api/v1/campaigns/{campaign_id}/variables"  # one st's checks fail
    with MockServer() as mock:
        sent, _ = st_timed(mock.base_url, 2, [operation], ControlClient(mock.base_url))
    assert sent > 0
    assert not (tmp_path / ".schemathesis").exists()


def test_a_callgrind_dump_s_total_is_read_from_its_summary_or_totals_line() -> None:
    dump = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfn=main\n5 10\nsummary: 123456\n"
    assert instructions._total(dump) == 123456
    assert instructions._total(dump.replace("summary:", "totals:")) == 123456
    # a dump made on request: an empty summary, the count in its totals
    assert (
        instructions._total(dump.replace("summary: 123456", "summary: 0\ntotals: 98765")) == 98765
    )
    with pytest.raises(RuntimeError, match="no totals"):
        instructions._total("events: Ir\n")


def test_without_valgrind_the_results_say_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    counts = bench._instructions("full")
    assert "apt-get install -y valgrind" in counts["missing"]
    section = "\n".join(bench._instruction_lines(counts))
    assert "## Instructions per request (callgrind)" in section and "Not measured: " in section


def test_wrk_output_is_parsed_with_socket_errors_apart_from_other_statuses() -> None:
    assert loader.parse(WRK_OUTPUT) == (16983.4, 16990, 0.44, 1.25, 3, 16990)
    # Latencies come rounded to the microsecond, not as binary-float artefacts.
    assert loader.parse(WRK_OUTPUT.replace("440.00us", "103.00us"))[2] == 0.103


def test_wrk_output_without_a_rate_is_refused() -> None:
    with pytest.raises(RuntimeError, match="no rate"):
        loader.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_a_saturated_loader_makes_the_run_invalid_whatever_the_server_did() -> None:
    assert loader.validity(64, 0.95, 0.99) == "loader saturated (wrk 95% of its core)"
    assert loader.validity(1, 0.9, None) is not None
    assert loader.validity(64, 0.89, 0.99) is None


def test_a_starved_server_makes_the_run_invalid_only_at_load() -> None:
    why = loader.validity(64, 0.2, 0.3)
    assert why is not None and why.startswith("server starved")
    assert loader.validity(64, 0.6, 0.3) is None  # wrk was busy: the server had slack
    assert loader.validity(64, 0.2, 0.8) is None  # the server used its core
    assert loader.validity(1, 0.2, 0.3) is None  # one connection waits on round trips
    assert loader.validity(64, 0.2, None) is None  # no server pid: not judged


def _side(rps: float, loader_cpu: float = 0.5, server_cpu: float = 0.99) -> dict[str, float]:
    return {"rps": rps, "p50_ms": 1.0, "p99_ms": 2.0, "errors": 0, "non_2xx": 0,
            "loader_cpu": loader_cpu, "server_cpu": server_cpu,
            "capacity": round(rps / server_cpu)}  # fmt: skip


def test_invalid_rows_carry_no_ratio_and_fail_no_target() -> None:
    from benchmarks.http import _row

    sides = {name: _side(10.0 if name == "mock" else 11.0, 0.97, 0.5) for name in SIDES}
    row = _row("by id", 200, 100, 64, 1, sides)
    assert row["rps_ratio"] is None and row["p99_ratio"] is None and row["uvloop_ratio"] is None
    assert row["invalid"] == "ceiling: loader saturated (wrk 97% of its core)"
    for side in sides.values():
        side["loader_cpu"] = 0.5
    row = _row("by id", 200, 100, 64, 1, sides)
    assert row["rps_ratio"] == row["uvloop_ratio"] == row["limit_ratio"] == 0.909
    assert bench._ratio(_row("by id", 200, 100, 64, 1, {**sides, "limit": _side(9, 0.97)}),
                        "limit").startswith("INVALID: limit: loader saturated")  # fmt: skip
    assert bench._met(False, True, valid=False).startswith("not measured: INVALID")


def _results(mock: float, limit_loader: float, peer_ratio: float | None) -> dict[str, Any]:
    from benchmarks.http import _row

    sides = {"mock": _side(mock, 0.95), "bare": _side(10.0), "uvloop": _side(12.0),
             "limit": _side(100.0, limit_loader, 0.9)}  # fmt: skip
    rows = [_row(case, 200, 100, 64, 3, sides) for case in ("by id", "404")]
    peer = {"server": "WireMock", "status": "measured", "ratio": peer_ratio}
    if peer_ratio is None:
        peer = {"server": "WireMock", "status": peers.NOT_INSTALLED, "ratio": None}
    return {
        "http": {"rows": rows},
        "peers": {"rows": [{"server": "prosper-mock", "ratio": 1.0}, peer]},
    }


def test_targets_say_met_or_not_for_the_ceilings_the_limit_and_the_peers() -> None:
    # wrk saturated on the mock (its rate a floor) and on the limit (read per CPU second)
    met = {t: m for t, _, m in bench.assess_http(_results(60.0, 0.97, 12.0))}
    assert met[bench.TARGETS["throughput"]] == "yes"  # 60 / 12 and 60 / 10: >= 3
    assert met[bench.TARGETS["limit"]] == "yes"  # per CPU s: 60 / 0.99 over 100 / 0.9
    assert met[bench.TARGETS["peers"]] == "yes"
    slow = {t: m for t, _, m in bench.assess_http(_results(30.0, 0.97, 9.0))}
    assert slow[bench.TARGETS["throughput"]] == "**no**"  # 30 / 12 < 3
    assert slow[bench.TARGETS["limit"]] == "**no**"
    assert slow[bench.TARGETS["peers"]] == "**no**"
    missing = {t: m for t, _, m in bench.assess_http(_results(60.0, 0.5, None))}
    assert missing[bench.TARGETS["peers"]].startswith("not all measured")


def test_a_plugin_overhead_below_zero_is_noise_not_a_target_met() -> None:
    def judged(per_test: float, tests: int = 500) -> str:
        return bench.assess_plugin({"per_test_overhead_ms": per_test, "tests": tests})[2]

    assert judged(0.4) == "yes" and judged(2.5) == "**no**"
    assert judged(-0.197) == "not measured: below 0, the machine's noise"
    assert judged(0.4, tests=20).startswith("not at the target's size")


def test_the_loader_gets_the_last_core_and_the_server_the_others() -> None:
    assert pinning(2, taskset=True) == Pinning("0", "1")
    assert pinning(8, taskset=True) == Pinning("0-6", "7")
    assert pinning(1, taskset=True) == Pinning(None, None)
    assert pinning(4, taskset=False) == Pinning(None, None)
    assert pinned("1", ["wrk", "-c8"]) == ["taskset", "-c", "1", "wrk", "-c8"]
    assert pinned(None, ["wrk"]) == ["wrk"]
    assert "CPU 0" in Pinning("0", "1").describe()
    assert Pinning(None, None).describe().startswith("unpinned")


def test_metadata_reads_cpu_model_and_wrk_version() -> None:
    cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
    assert cpu_model(cpuinfo) == "AMD EPYC 7B13"
    assert cpu_model("processor\t: 0\n") == "unknown"
    assert loader.wrk_version("wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012") == (
        "debian/4.1.0-3+b2"
    )
    assert loader.wrk_version("") == "unknown"
    machine = Machine.current(("aiohttp", "no-such-package-here"))
    assert machine.cores >= 1 and machine.python
    assert machine.packages["no-such-package-here"] == "not installed"


def test_the_header_records_machine_loader_pinning_date_and_command() -> None:
    machine = Machine("AMD EPYC 7B13", 2, "Linux 6, x86_64", "3.11.7", {"aiohttp": "3.14.5"})
    lines = bench.header(machine, "wrk 4.1.0 (1 thread)", "server on CPU 0", "today", "make")
    text = "\n".join(lines)
    for part in ("AMD EPYC 7B13, 2 cores", "server on CPU 0", "wrk 4.1.0", "today", "`make`"):
        assert part in text
    assert "Python 3.11.7; aiohttp 3.14.5" in text
    assert ">= 90%" in text


def test_without_wrk_the_benchmarks_stop_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(loader.WrkMissing) as missing:
        loader.ensure_wrk()
    assert loader.INSTALL in str(missing.value) and "\n" not in str(missing.value)
    monkeypatch.setattr(sys, "argv", ["benchmarks", "--smoke"])
    with pytest.raises(SystemExit) as stopped:
        bench.main()
    assert str(stopped.value).startswith("benchmarks: the benchmarks need wrk")


def test_as_root_a_missing_wrk_is_installed_with_apt_get_updating_only_if_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[list[str]] = []

    def which(name: str) -> str | None:
        if name == "apt-get":
            return "/usr/bin/apt-get"
        return "/usr/bin/wrk" if ["apt-get", "update"] in ran else None

    monkeypatch.setattr(shutil, "which", which)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(subprocess, "run", lambda step, **_: ran.append(step))
    assert loader.ensure_wrk() == "/usr/bin/wrk"
    install = ["apt-get", "install", "-y", "wrk"]
    assert ran == [install, ["apt-get", "update"], install]


def test_the_default_contract_run_is_judged_by_its_median_and_every_exit_status() -> None:
    from benchmarks import contract_rate

    run = {
        "seconds": 15.7,
        "cpu_seconds": 15.2,
        "runs": [15.7, 15.3, 31.0],
        "cpu_runs": [15.7, 15.2, 15.9],
        "load_average_before": [0.2, 1.1, 3.5],
        "exit_statuses": [0, 0, 0],
        "measured": "2026-12-07 01:30 UTC",
    }
    [line] = contract_rate.default_run_line({"default_run": run})
    assert line == (
        "- a default `prosper-mock contract` run: **15.7 s** (median of 3: 15.7, 15.3, 31.0 s; "
        "CPU 15.2 s; load average before each: 0.2, 1.1, 3.5; exit status 0, 0, 0; "
        "measured 2026-12-07 01:30 UTC)"
    )
    assert contract_rate.assess({"default_run": run}) == ("15.7 s (CPU 15.2 s)", "yes")
    failed = {**run, "exit_statuses": [0, 1, 0]}
    assert contract_rate.assess({"default_run": failed})[1] == "**no**"
    slow = {**run, "seconds": 30.0}
    assert contract_rate.assess({"default_run": slow})[1] == "**no**"
    assert contract_rate.default_run_line({}) == []
    assert contract_rate.assess({})[1] == "not at the target's size"
    assert "contract" in bench.TARGETS


def full_size() -> dict[str, int]:
    return {"targets": stalls.TARGETS, "body_bytes": 960_013}


def test_stalls_are_judged_on_all_the_writes_by_p99_and_worst_wait() -> None:
    assert stalls.percentile([0.001 * i for i in range(1, 101)], 0.99) == pytest.approx(0.099)
    assert stalls.percentile([], 0.99) == 0.0
    row = {"status": 200, "seconds": 1.0, "checks": 50, "p50_ms": 2.0, "failures": 0}
    fine = [{**row, "write": w, "p99_ms": 90.0, "max_ms": 240.0} for w in ("a", "b", "all three")]
    slow_dump = {**row, "write": "dump", "p99_ms": 900.0, "max_ms": 900.0}  # not judged
    assert stalls.assess({**full_size(), "rows": [*fine, slow_dump]})[2] == "yes"
    late = [*fine[:2], {**row, "write": "c", "p99_ms": 90.0, "max_ms": 251.0}]
    short = {**row, "write": "a", "p99_ms": 120.0, "max_ms": 120.0}  # 50 checks: p99 = max
    assert stalls.assess({**full_size(), "rows": [short, *fine[1:]]})[2] == "yes"
    full = {"targets": stalls.TARGETS, "body_bytes": 960_013}
    assert stalls.assess({**full, "rows": fine})[2] == "yes"
    assert stalls.assess({**full, "rows": late})[2] == "**no**"
    assert "not at the target's size" in stalls.assess({**full, "targets": 10, "rows": fine})[2]
    table = "\n".join(stalls.markdown({**full, "rows": late}))
    assert "| c | 200 | 1.0 | 50 | 2.0 | 90.0 | 251.0 | **no** |" in table


def test_the_probe_counts_the_checks_under_way_during_a_write() -> None:
    probe = stalls.Probe("127.0.0.1", 1)
    probe.checks = [(0.0, 0.5), (0.9, 1.1), (1.2, 1.3), (2.5, 2.6)]
    assert probe.waits_during(1.0, 2.0) == pytest.approx([0.2, 0.1])


def test_the_shared_mock_page_quotes_the_committed_shared_run() -> None:
    figures = json.loads((ROOT / "benchmarks" / "SHARED.json").read_text(encoding="utf-8"))
    page = (ROOT / "docs" / "how-to" / "shared.md").read_text(encoding="utf-8")

    def shown(value: float) -> str:
        return f"{value:,}".replace(",", " ") if isinstance(value, int) else str(value)

    lookup, writes = figures["lookup_cpu"], figures["writes"]
    quoted = [
        lookup["memory_per_cpu_second"], lookup["redis_per_cpu_second"], lookup["cpu_ratio"],
        lookup["redis_commands_per_lookup"], writes["memory"]["per_second"],
        writes["redis"]["per_second"], figures["workers"]["ratio"],
        figures["state_file"]["ratio"],
    ]  # fmt: skip
    assert [v for v in quoted if shown(v) not in page] == []
    assert lookup["met"] and figures["state_file"]["met"]
