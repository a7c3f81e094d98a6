"""``python -m benchmarks`` (``make bench``): run every benchmark, write benchmarks/RESULTS.md.

``--quick`` uses short runs and small worlds (about a minute); ``--smoke`` is the seconds-long
run the test suite makes so the benchmarks never rot (it writes nothing unless ``--out``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import (
    contract_rate,
    fuzz,
    http,
    instructions,
    loader,
    peers,
    plugin_overhead,
    scale,
    stalls,
)
from benchmarks.machine import Machine

HERE = Path(__file__).resolve().parent
TARGETS = {
    "throughput": "every lookup kind at 64 connections >= 3 x the plain-route aiohttp ceiling "
    "on uvloop, the mock's loop (and on asyncio's)",
    "limit": "every lookup kind at 64 connections >= 0.5 x the bare uvloop + httptools limit",
    "p99": "every lookup kind's p99 at 64 connections <= the uvloop ceiling's p99",
    "page": "a call-logs page of 200 at 64 connections >= 0.5 x the ceiling (same body)",
    "peers": "the lookup by id >= 10 x each peer: FastAPI + uvicorn, Prism static, WireMock warm",
    "scale_page": "a call-logs page of 200 at 1M calls within 1.5 x of that at 1k",
    "scale_status_page": "a status-filtered targets page of 50 at 1M calls within 1.5 x of "
    "that at 1k",
    "scale_lookup": "lookup latency at 1M calls within 1.2 x of that at 1k",
    "startup": "100k calls ready <= 2 s; 1M <= 20 s within 2 GB RSS",
    "plugin": "plugin overhead per test <= 2 ms with reset",
    "contract": "a default prosper-mock contract run < 30 s on 2 cores, exit status 0",
    "stalls": stalls.TARGET,
}
PACKAGES = ("aiohttp", "uvloop", "pydantic", "faker", "schemathesis", "hypothesis")


def _operations(contract: dict[str, Any]) -> str:
    """The operations a contract-rate figure covers (older results name none: all)."""
    chosen = contract.get("operations", "all")
    return chosen if isinstance(chosen, str) else ", ".join(chosen)


def collect(mode: str, fuzz_requests: int) -> dict[str, Any]:
    quick = mode != "full"
    results: dict[str, Any] = {}
    results["http"] = http.run(
        seconds=1 if quick else 3,
        connections=(8,) if mode == "smoke" else (1, 64),
        rounds=1 if mode == "smoke" else 3,
        # a smoke run proves the table is made: a found answer and an error answer suffice
        only=("by id", "404") if mode == "smoke" else None,
    )
    results["instructions"] = _instructions(mode)
    results["scale"] = scale.run(
        (1_000, 5_000) if mode == "smoke" else ((1_000, 10_000, 100_000) if quick else scale.SIZES)
    )
    results["plugin"] = plugin_overhead.run(
        tests=20 if mode == "smoke" else 500, repeats=1 if mode == "smoke" else 3
    )
    # A smoke run checks that the figure is produced: over one operation, in seconds.
    results["contract"] = (
        contract_rate.run(examples=3, operations=("GET /api/v1/live-calls",))
        if mode == "smoke"
        else contract_rate.run(examples=300)
    )
    # A smoke run proves the probe and the table: on a write of a few targets.
    results["stalls"] = stalls.run(1_000 if mode == "smoke" else stalls.TARGETS)
    if fuzz_requests:
        results["fuzz"] = fuzz.run(fuzz_requests)
    if mode != "smoke":  # FastAPI always; Prism and WireMock when make bench-peers installed them
        rows = peers.run(
            rounds=3,
            seconds=5 if mode == "full" else 2,
            connections=64,
            jit_warmup_s=30 if mode == "full" else 10,
        )
        results["peers"] = {"rows": [asdict(r) for r in rows]}
    return results


def _instructions(mode: str) -> dict[str, Any]:
    """The callgrind counts (a smoke run: the lookup by id over a few requests), or why they
    could not be made: a machine without valgrind still gets its wrk figures."""
    try:
        if mode == "smoke":
            return instructions.run({"by id": f"{http.LIVE_CALLS}?{http.BY_ID}"}, requests=50)
        return instructions.run()
    except instructions.CallgrindMissing as missing:
        return {"missing": str(missing)}


def _instruction_lines(counts: dict[str, Any]) -> list[str]:
    lines = ["", "## Instructions per request (callgrind)", ""]
    if "missing" in counts:
        return [*lines, f"Not measured: {counts['missing']}."]
    lines += [
        f"Counted by {counts['valgrind']} over {counts['requests']:,} requests after "
        f"{counts['warmup']} uncounted ones, one keep-alive connection; the same cases and "
        "body sizes as the HTTP table. Ratio: the baseline's count over the mock's (above 1: "
        "the mock does less work per request than that baseline; the kernel's share is not "
        "counted). Deterministic to about "
        "0.2 %, however busy the machine; instructions are not cycles, so this backs the wrk "
        "figures rather than replacing them.",
        "",
        "| case | mock | ceiling, asyncio | ratio | ceiling, uvloop | ratio | limit | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['case']} ({r['status']}, {r['bytes']} B) | {r['mock']:,} "
        f"| {r['ceiling_asyncio']:,} | {r['ratio_asyncio']} "
        f"| {r['ceiling_uvloop']:,} | {r['ratio_uvloop']} "
        f"| {r.get('limit', 0):,} | {r.get('ratio_limit', '-')} |"
        for r in counts["rows"]
    ]
    return lines


def header(machine: Machine, loader_name: str, pinning: str, when: str, command: str) -> list[str]:
    """RESULTS.md's opening lines: what ran where, with what, when, and how it was judged."""
    versions = ", ".join(f"{p} {v}" for p, v in machine.packages.items())
    return [
        "# Benchmark results",
        "",
        f"- date: {when}",
        f"- command: `{command}`",
        f"- CPU: {machine.cpu}, {machine.cores} cores ({machine.system})",
        f"- pinning: {pinning}",
        f"- load generator: {loader_name}",
        f"- Python {machine.python}; {versions}",
        f"- validity: a row is INVALID, with no ratio, when wrk used >= "
        f"{loader.SATURATED:.0%} of its core in any run of either side (the rate is the "
        f"loader's), or when at >= {loader.BUSY_CONNECTIONS} connections neither the server "
        f"nor wrk used {loader.IDLE:.0%} of its core (the server was starved: the rate is far "
        "below what wrk alone reaches, and the machine's other load set it)",
    ]


SIDES = ("mock", "ceiling", "uvloop", "limit")


def _ratio(r: dict[str, Any], side: str) -> str:
    """The mock's rate over ``side``'s, or why it cannot be read."""
    why = r.get(f"{side}_invalid")
    return f"INVALID: {why}" if why else str(r[f"{side}_ratio"])


def _p99(r: dict[str, Any]) -> str:
    why = r.get("uvloop_invalid")
    return f"INVALID: {why}" if why else str(r["uvloop_p99_ratio"])


def _shares(r: dict[str, Any], key: str) -> str:
    return " / ".join(f"{r[f'{side}_{key}']:.0%}" for side in SIDES)


def markdown(results: dict[str, Any], command: str, machine: Machine | None = None) -> str:
    h = results["http"]
    lines = header(
        machine or Machine.current(PACKAGES),
        h["loader"],
        h["pinning"],
        datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        command,
    )
    lines += [
        "",
        "## HTTP: the mock against bare servers answering a body of the same size",
        "",
        f"Each figure is the median of {h['rows'][0].get('rounds', 1)} runs per side, the "
        "first side rotating each round. Baselines: the aiohttp ceiling (`benchmarks.ceiling`, "
        "a plain route) on asyncio's loop and on uvloop, and the limit (`benchmarks.limit`: "
        "uvloop and httptools answering the same bytes to every request, nothing else). Each "
        "ratio is the mock's rate over that baseline's. Per CPU s: requests per second of the "
        "server's own CPU, mock over limit: what a request costs each, read even where wrk "
        "saturates its core (the limit's rate is then wrk's, a floor). CPU: the share of its "
        "core wrk (loader) and the server used, mock / asyncio / uvloop / limit.",
        "",
        "| case | conns | mock req/s | ceiling, asyncio (ratio) | ceiling, uvloop (ratio) "
        "| limit (ratio; per CPU s) | mock p50 / p99 ms | uvloop ceiling p50 / p99 ms "
        "| p99 ratio | errors | loader CPU | server CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in h["rows"]:
        lines.append(
            f"| {r['case']} ({r['status']}, {r['bytes']} B) | {r['connections']} "
            f"| {r['mock_rps']} | {r['ceiling_rps']} ({_ratio(r, 'ceiling')}) "
            f"| {r['uvloop_rps']} ({_ratio(r, 'uvloop')}) "
            f"| {r['limit_rps']} ({_ratio(r, 'limit')}; {r['limit_cpu_ratio']}) "
            f"| {r['mock_p50_ms']} / {r['mock_p99_ms']} "
            f"| {r['uvloop_p50_ms']} / {r['uvloop_p99_ms']} | {_p99(r)} | {r['errors']} "
            f"| {_shares(r, 'loader_cpu')} | {_shares(r, 'server_cpu')} |"
        )
    w = results["http"]["workers"]
    lines += [
        "",
        f"`serve --workers`: by id at {max(r['connections'] for r in results['http']['rows'])} "
        "connections: "
        + ", ".join(
            f"{r['workers']} worker(s) {r['rps']} req/s (p99 {r['p99_ms']} ms"
            + (f"; INVALID: {r['invalid']})" if r.get("invalid") else ")")
            for r in w
        )
        + f"; scaling {round(w[-1]['rps'] / w[0]['rps'], 2) if w[0]['rps'] else '-'}x "
        f"(workers share the server's cores: {h['pinning']}).",
        "",
        *_instruction_lines(results["instructions"]),
        "",
        "## World scale (10 % live calls)",
        "",
        "| calls | start-up s (CPU s) | max RSS MB | cold µs | warm, spread: id / phone / "
        "variable µs (ratio) | bare dict µs (ratio) | warm, polled: id / phone / variable "
        "µs (ratio) | HTTP µs (ratio) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results["scale"]["rows"]:
        lines.append(
            f"| {r['calls']:,} | {r['startup_s']} ({r['startup_cpu_s']}) | {r['rss_mb']} "
            f"| {r['cold_us']} | {_kinds(r, 'spread')} | {r['dict_us']} ({r['dict_ratio']}) "
            f"| {_kinds(r, 'polled')} "
            f"| {r['http_us']} ({r['http_ratio']}) |"
        )
    p, c = results["plugin"], results["contract"]
    lines += [
        "",
        "Lookups through `find_call` (both stores, then the row), keys drawn at random from "
        "the world's indexes; ratios against the smallest world. Cold: 1 000 lookups of each "
        "kind, each row derived from the seed on first touch. Warm, spread: the same lookups "
        "again (median of 5 passes), every one an index hit, over keys spread across the world. "
        "Bare dict: the baseline for the spread figures, two chained plain-dict lookups over "
        "keys spread across as many entries (what the memory hierarchy alone costs a bigger "
        "world; no lookup in Python touches less). "
        "Warm, polled: 100 keys of each kind again and again (median of 20 passes), what a "
        "client polling its calls sees. HTTP: the polled keys as GETs through a `MockServer` "
        "on that world (one keep-alive connection, client in the same process).",
        "",
        "## pytest plugin and contract suite",
        "",
        f"- plugin overhead per test, with reset: **{p['per_test_overhead_ms']} ms** "
        f"({p['tests']} tests: {p['with_plugin_s']} s with the `prosper` fixture, "
        f"{p['baseline_s']} s without; session start {p['session_start_ms']} ms); without "
        f"pytest, `World.reset()` takes {p['reset_ms']} ms and a reset plus one lookup through "
        f"a running `MockServer` {p['reset_and_lookup_ms']} ms",
        f"- contract suite against a running mock: **{c['examples_per_second']} generated "
        f"examples/s** ({c['examples']} examples in {c['seconds']} s; operations: "
        f"{_operations(c)})",
    ]
    if "st_run" in c:  # results before the comparison have neither
        lines += [
            f"  (every answer judged by the run's session; `st run` on the same mock, in the "
            f"same run: {c['st_run']['requests_per_second']} requests/s)"
        ]
    lines += contract_rate.default_run_line(c)
    if "fuzz" in results:
        f = results["fuzz"]
        lines += [
            "",
            "## Long fuzz run (schemathesis, valid and invalid requests)",
            "",
            *([f"- measured: {f['measured']}"] if "measured" in f else []),
            f"- requests sent: **{f['requests']:,}** in {f['seconds']} s "
            f"({f['requests_per_second']}/s)",
            f"- answers by status: {', '.join(f'{k}: {v:,}' for k, v in f['by_status'].items())}",
            f"- request lines over 16 KiB refused by the HTTP parser (`400 text/plain`, as "
            f"uvicorn refuses them): {f.get('refused_by_http_parser', 0)}",
            f"- 5xx answers: **{f['server_errors_5xx']}**; broken rules: "
            f"**{sum(f['broken_rules'].values())}** {f['broken_rules'] or ''}",
        ]
    if "peers" in results:
        lines += [
            "",
            "## Peers: the stubs users would otherwise write (`benchmarks.peers`)",
            "",
            "The lookup by id at 64 connections, each server in turn while the others are "
            "paused, 3 rounds; mock/peer is the median of the per-round ratios. Prism and "
            "WireMock are measured when `make bench-peers` installed them.",
            "",
            peers.markdown([peers.Row(**row) for row in results["peers"]["rows"]]),
        ]
    if "stalls" in results:
        lines += stalls.markdown(results["stalls"])
    lines += [
        "",
        "## What compares across machines",
        "",
        "- Ratios measured in one run (mock over ceiling, limit or peer, p99 over p99) "
        "compare across machines of the same kind; every absolute figure does not: "
        "req/s, latencies, start-up seconds, RSS, the plugin's milliseconds and examples/s "
        "depend on the CPU, its other load and the kernel.",
        "- Instruction counts depend on the Python, library and valgrind versions, not on "
        "the machine's load: compare them between runs with the same versions.",
        "- A rate marked INVALID, or a floor, was set by wrk or by the machine's other load, "
        "not by the server measured.",
    ]
    lines += ["", "## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]
    lines += [f"| {target} | {measured} | {met} |" for target, measured, met in assess(results)]
    return "\n".join(lines) + "\n"


def assess(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Each throughput, latency and scale target against this run: (target, measured, met)."""
    out = assess_http(results)
    out += _assess_scale(results)
    if "stalls" in results:
        out.append(stalls.assess(results["stalls"]))
    return out


def assess_http(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The HTTP and peer targets against this run: (target, measured, met)."""
    out = []
    top = max(r["connections"] for r in results["http"]["rows"])
    at_top = [r for r in results["http"]["rows"] if r["connections"] == top]
    rows = [r for r in at_top if r["case"] != "call-logs page"]
    pages = [r for r in at_top if r["case"] == "call-logs page"]
    full = top == 64
    # The mock's rate is a floor when wrk saturated on it: a ratio over a baseline that wrk
    # did not saturate is then a floor too, so it still shows a ratio target met.
    ceilings = [(r, side) for r in rows for side in ("uvloop", "ceiling")]
    readable = all(_floor_or_valid(r, side) for r, side in ceilings)
    out.append(
        (
            TARGETS["throughput"],
            f"at {top} connections, uvloop / asyncio: "
            + ", ".join(
                f"{r['case']} {_bounded(r, 'uvloop')} / {_bounded(r, 'ceiling')}" for r in rows
            ),
            _met(
                readable and all(r[f"{side}_raw_ratio"] >= 3 for r, side in ceilings),
                full,
                readable,
            ),
        )
    )
    by_limit = [_versus_limit(r) for r in rows]
    out.append(
        (
            TARGETS["limit"],
            ", ".join(f"{r['case']} {shown}" for r, (_, shown) in zip(rows, by_limit, strict=True))
            + "; per CPU s: requests per second of the server's CPU, where wrk saturated "
            "(the limit's rate is then wrk's, a floor)",
            _met(all(v is not None and v >= 0.5 for v, _ in by_limit), full),
        )
    )
    p99_valid = not any(r["uvloop_own_invalid"] for r in rows)
    out.append(
        (
            TARGETS["p99"],
            ", ".join(f"{r['case']} {r['mock_p99_ms']} / {r['uvloop_p99_ms']} ms" for r in rows),
            _met(
                p99_valid and all(r["mock_p99_ms"] <= r["uvloop_p99_ms"] for r in rows),
                full,
                p99_valid,
            ),
        )
    )
    for page in pages:
        page_valid = _floor_or_valid(page, "ceiling")
        out.append(
            (
                TARGETS["page"],
                f"{_bounded(page, 'ceiling')} ({page['bytes']} B)",
                _met(page_valid and page["ceiling_raw_ratio"] >= 0.5, full, page_valid),
            )
        )
    if not pages:  # a smoke run measures no page
        out.append((TARGETS["page"], "not measured (a --smoke run)", "not at the target's size"))
    out.append(_peers(results.get("peers")))
    return out


def _assess_scale(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = []
    scale_rows = results["scale"]["rows"]
    small, large = scale_rows[0], scale_rows[-1]
    worst_spread = max(large[f"spread_{k}_ratio"] for k in ("id", "phone", "variable"))
    worst_polled = max(large[f"polled_{k}_ratio"] for k in ("id", "phone", "variable"))
    out.append(
        (
            TARGETS["scale_lookup"],
            f"{large['calls']:,} vs {small['calls']:,}, worst kind: warm spread "
            f"{worst_spread}x (bare dict, same keys spread: {large['dict_ratio']}x; growth per "
            f"lookup: mock +{round(large['spread_us'] - small['spread_us'], 2)} µs, bare dict "
            f"+{round(large['dict_us'] - small['dict_us'], 2)} µs), warm polled "
            f"{worst_polled}x; over HTTP {large['http_ratio']}x",
            _met(worst_spread <= 1.2, large["calls"] >= 1_000_000)
            + ("" if worst_spread <= 1.2 else f" (polled: {_met(worst_polled <= 1.2, True)})"),
        )
    )
    if "page_us" in large:
        out.append(
            (
                TARGETS["scale_page"],
                f"{large['calls']:,}: {large['page_us']} µs, {small['calls']:,}: "
                f"{small['page_us']} µs ({large['page_ratio']}x)",
                _met(large["page_ratio"] <= 1.5, large["calls"] >= 1_000_000),
            )
        )
    if "status_page_us" in large:
        out.append(
            (
                TARGETS["scale_status_page"],
                f"{large['calls']:,}: {large['status_page_us']} µs, {small['calls']:,}: "
                f"{small['status_page_us']} µs ({large['status_page_ratio']}x); the first "
                f"page, which indexes the campaign: {large['status_index_ms']} ms at "
                f"{large['calls']:,}",
                _met(large["status_page_ratio"] <= 1.5, large["calls"] >= 1_000_000),
            )
        )
    sizes = {r["calls"]: r for r in scale_rows}
    hundred_k, million = sizes.get(100_000), sizes.get(1_000_000)
    measured = []
    if hundred_k:
        measured.append(f"100k: {hundred_k['startup_s']} s")
    if million:
        measured.append(f"1M: {million['startup_s']} s, {million['rss_mb']} MB")
    out.append(
        (
            TARGETS["startup"],
            "; ".join(measured) or "not measured at these sizes",
            _met(
                bool(hundred_k and million)
                and hundred_k["startup_s"] <= 2
                and million["startup_s"] <= 20
                and million["rss_mb"] <= 2048,
                bool(hundred_k and million),
            ),
        )
    )
    out.append(assess_plugin(results["plugin"]))
    out.append((TARGETS["contract"], *contract_rate.assess(results["contract"])))
    return out


def _floor_or_valid(r: dict[str, Any], side: str) -> bool:
    """Whether the mock's ratio over ``side`` is read: both rates the servers', or the
    mock's a floor (wrk saturated on it) over a baseline's that is the server's."""
    mock = r.get("mock_invalid") or ""
    return not r.get(f"{side}_own_invalid") and (not mock or mock.startswith("loader saturated"))


def _bounded(r: dict[str, Any], side: str) -> str:
    if not _floor_or_valid(r, side):
        return f"INVALID ({r.get(f'{side}_own_invalid') or r.get('mock_invalid')})"
    floor = " (a floor: wrk saturated on the mock)" if r.get("mock_invalid") else ""
    return f"{r[f'{side}_raw_ratio']}{floor}"


def _versus_limit(r: dict[str, Any]) -> tuple[float | None, str]:
    """The mock against the limit: by rate when both rates are the servers', else by what a
    request costs each in CPU (wrk saturates on the limit well before the limit does)."""
    if r.get("limit_ratio") is not None:
        return r["limit_ratio"], f"{r['limit_ratio']}"
    cpu = r.get("limit_cpu_ratio")
    return cpu, f"{cpu} per CPU s (rate {r.get('limit_raw_ratio')}: {r.get('limit_invalid')})"


def _peers(measured: dict[str, Any] | None) -> tuple[str, str, str]:
    """The peers target: the mock's rate over each peer's, in the same run."""
    if measured is None:
        return TARGETS["peers"], "not measured (a --smoke run)", "not at the target's size"
    rows = measured["rows"][1:]  # the first row is the mock
    shown = ", ".join(
        f"{r['server']} {round(r['ratio'], 2)}x"
        if r["ratio"] is not None
        else f"{r['server']} {r['status']}"
        for r in rows
    )
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    if any(x < 10 for x in ratios):
        met = "**no**"
    elif len(ratios) < len(rows):
        met = "not all measured: install them with make bench-peers"
    else:
        met = "yes"
    return TARGETS["peers"], shown, met


def _kinds(row: dict[str, Any], warm: str) -> str:
    us = " / ".join(str(row[f"{warm}_{kind}_us"]) for kind in ("id", "phone", "variable"))
    ratios = " / ".join(str(row[f"{warm}_{kind}_ratio"]) for kind in ("id", "phone", "variable"))
    return f"{us} ({ratios})"


def assess_plugin(plugin: dict[str, Any]) -> tuple[str, str, str]:
    """The plugin's target: its overhead per test is the difference of two pytest runs, so a
    few tests measure noise, and so does a difference below 0 (the run without the fixture
    was the slower: the machine's other load set both)."""
    per_test, tests = plugin["per_test_overhead_ms"], plugin["tests"]
    if per_test < 0:
        return (TARGETS["plugin"], f"{per_test} ms", "not measured: below 0, the machine's noise")
    return (TARGETS["plugin"], f"{per_test} ms", _met(per_test <= 2, tests >= 500))


def _met(ok: bool, measured_at_target_size: bool, valid: bool = True) -> str:
    if not valid:
        return "not measured: INVALID rows (see the HTTP table)"
    if not measured_at_target_size:
        return "not at the target's size (a --quick or --smoke run)"
    return "yes" if ok else "**no**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--smoke", action="store_true")
    parser.add_argument(
        "--fuzz-requests",
        type=int,
        default=None,
        help="long fuzz run size (default: 100000; 0 with --quick/--smoke)",
    )
    parser.add_argument("--fuzz-json", type=Path, help="use figures of an earlier fuzz run")
    parser.add_argument("--out", type=Path, help="where to write (default: benchmarks/RESULTS.md)")
    args = parser.parse_args()
    chosen = "smoke" if args.smoke else ("quick" if args.quick else "full")
    fuzz_requests = args.fuzz_requests
    if fuzz_requests is None:
        fuzz_requests = 0 if chosen != "full" or args.fuzz_json else 100_000
    try:
        loader.ensure_wrk()
    except loader.WrkMissing as missing:
        sys.exit(f"benchmarks: {missing}")
    started = time.perf_counter()
    results = collect(chosen, fuzz_requests)
    if args.fuzz_json:
        results["fuzz"] = json.loads(args.fuzz_json.read_text())
    command = "python -m benchmarks " + " ".join(sys.argv[1:])
    text = markdown(results, command.strip())
    out = args.out or (None if chosen == "smoke" else HERE / "RESULTS.md")
    if out is not None:
        out.write_text(text, encoding="utf-8")
        (out.with_suffix(".json")).write_text(json.dumps(results, indent=2) + "\n")
    print(text)
    print(f"benchmarks took {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
