"""``python -m benchmarks`` (``make bench``): run every benchmark, write benchmarks/RESULTS.md.

``--quick`` uses short runs and small worlds (about a minute); ``--smoke`` is the seconds-long
run the test suite makes so the benchmarks never rot (it writes nothing unless ``--out``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import contract_rate, fuzz, http, instructions, loader, plugin_overhead, scale
from benchmarks.machine import Machine

HERE = Path(__file__).resolve().parent
TARGETS = {
    "throughput": "every lookup kind at 64 connections >= 1.0 x the bare-aiohttp ceiling",
    "p99": "p99 <= 1.5 x the ceiling's p99",
    "page": "a call-logs page of 200 at 64 connections >= 0.5 x the ceiling (same body)",
    "scale_page": "a call-logs page of 200 at 1M calls within 1.5 x of that at 1k",
    "scale_status_page": "a status-filtered targets page of 50 at 1M calls within 1.5 x of "
    "that at 1k",
    "scale_lookup": "lookup latency at 1M calls within 1.2 x of that at 1k",
    "startup": "100k calls ready <= 2 s; 1M <= 20 s within 2 GB RSS",
    "plugin": "plugin overhead per test <= 2 ms with reset",
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
    if fuzz_requests:
        results["fuzz"] = fuzz.run(fuzz_requests)
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
        "body sizes as the HTTP table. Ratio: the ceiling's count over the mock's (above 1: "
        "the mock does less work per request than that ceiling). Deterministic to about "
        "0.2 %, however busy the machine; instructions are not cycles, so this backs the wrk "
        "figures rather than replacing them.",
        "",
        "| case | mock | ceiling, asyncio | ratio | ceiling, uvloop | ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['case']} ({r['status']}, {r['bytes']} B) | {r['mock']:,} "
        f"| {r['ceiling_asyncio']:,} | {r['ratio_asyncio']} "
        f"| {r['ceiling_uvloop']:,} | {r['ratio_uvloop']} |"
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


def _ratio(r: dict[str, Any], key: str) -> str:
    return f"INVALID: {r['invalid']}" if r.get("invalid") else str(r[key])


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
        "## HTTP: the mock against a bare aiohttp server with a body of the same size",
        "",
        f"Each figure is the median of {h['rows'][0].get('rounds', 1)} runs per "
        "side, mock and ceiling alternating which goes first. CPU: the share of its core wrk "
        "(loader) and the server used, mock / ceiling.",
        "",
        "| case | conns | mock req/s | ceiling req/s | ratio | mock p50 / p99 ms "
        "| ceiling p50 / p99 ms | p99 ratio | errors | loader CPU | server CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in h["rows"]:
        lines.append(
            f"| {r['case']} ({r['status']}, {r['bytes']} B) | {r['connections']} | {r['mock_rps']} "
            f"| {r['ceiling_rps']} | {_ratio(r, 'rps_ratio')} "
            f"| {r['mock_p50_ms']} / {r['mock_p99_ms']} "
            f"| {r['ceiling_p50_ms']} / {r['ceiling_p99_ms']} | {_ratio(r, 'p99_ratio')} "
            f"| {r['errors']} | {r['mock_loader_cpu']:.0%} / {r['ceiling_loader_cpu']:.0%} "
            f"| {r['mock_server_cpu']:.0%} / {r['ceiling_server_cpu']:.0%} |"
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
        f"- contract suite against the in-process mock: **{c['examples_per_second']} generated "
        f"examples/s** ({c['examples']} examples in {c['seconds']} s; operations: "
        f"{_operations(c)})",
    ]
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
    lines += ["", "## Targets", "", "| target | measured | met |", "| --- | --- | --- |"]
    lines += [f"| {target} | {measured} | {met} |" for target, measured, met in assess(results)]
    return "\n".join(lines) + "\n"


def assess(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Each throughput, latency and scale target against this run: (target, measured, met)."""
    out = []
    top = max(r["connections"] for r in results["http"]["rows"])
    at_top = [r for r in results["http"]["rows"] if r["connections"] == top]
    rows = [r for r in at_top if r["case"] != "call-logs page"]
    pages = [r for r in at_top if r["case"] == "call-logs page"]
    valid = not any(r.get("invalid") for r in rows)
    ratios = ", ".join(f"{r['case']} {r['rps_ratio'] or 'INVALID'}" for r in rows)
    out.append(
        (
            TARGETS["throughput"],
            f"at {top} connections: {ratios}",
            _met(valid and all(r["rps_ratio"] >= 1.0 for r in rows), top == 64, valid),
        )
    )
    for page in pages:
        page_valid = not page.get("invalid")
        out.append(
            (
                TARGETS["page"],
                f"{page['rps_ratio'] or 'INVALID'} ({page['bytes']} B)",
                _met(page_valid and page["rps_ratio"] >= 0.5, top == 64, page_valid),
            )
        )
    p99s = ", ".join(f"{r['case']} {r['p99_ratio'] or 'INVALID'}" for r in rows)
    out.append(
        (
            TARGETS["p99"],
            p99s,
            _met(valid and all(r["p99_ratio"] <= 1.5 for r in rows), top == 64, valid),
        )
    )
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
    per_test = results["plugin"]["per_test_overhead_ms"]
    tests = results["plugin"]["tests"]
    # A few tests measure noise (the difference of two process runs), not the overhead.
    out.append((TARGETS["plugin"], f"{per_test} ms", _met(per_test <= 2, tests >= 500)))
    return out


def _kinds(row: dict[str, Any], warm: str) -> str:
    us = " / ".join(str(row[f"{warm}_{kind}_us"]) for kind in ("id", "phone", "variable"))
    ratios = " / ".join(str(row[f"{warm}_{kind}_ratio"]) for kind in ("id", "phone", "variable"))
    return f"{us} ({ratios})"


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
