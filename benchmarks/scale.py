"""World scale: start-up time, resident memory and lookup latency at 1k to 1M calls.

Each size runs in a fresh process (so RSS is that world's) and builds a seeded world (10 %
live). Lookups go through ``find_call`` (what the handler does: both stores, then the row),
by id, by phone and by variable, with keys drawn at random from the world's indexes:

- cold: 1 000 distinct lookups of each kind, once: each row is derived from the seed on first
  touch;
- warm, spread: the same lookups again (median of five passes, after one full garbage
  collection of the rows the cold pass made): every lookup an index hit on a derived row, over
  keys spread across the whole world, so at 1M calls most of them miss the CPU caches;
- warm, polled: 100 keys of each kind looked up over and over (median of 20 passes): what a
  client polling the same calls sees;
- call-logs page: ``GET /api/v1/call-logs``'s work for a page of 200 (the page, then its
  documents rendered), warm, over the first pages and the last full one;
- status page: ``GET /api/v1/campaigns/{id}/targets?status=Finished``'s work for a page of
  50, warm, over the first pages and the last full one of the first campaign;
  ``status_index_ms`` is the first such page's time, which indexes the campaign's seeded
  statuses (once per campaign);
- HTTP: the polled keys as ``GET /api/v1/live-calls`` through a ``MockServer`` on that world
  (keep-alive, one connection; client and server share the process), median per request.

- bare dict: the same-run baseline for the spread figures: two chained lookups in plain dicts
  of ``size`` keys (a phone-like text to an int, the int to an object), over 1 000 keys drawn
  at random. No lookup can touch fewer bytes; its ratio between sizes is what the memory
  hierarchy alone costs when keys are spread over a bigger world.

Start-up is reported as wall-clock and CPU seconds: on a shared machine the CPU figure shows
how much of the wall time was the world's own work.
"""

from __future__ import annotations

import gc
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

SIZES = (1_000, 10_000, 100_000, 1_000_000)
KINDS = ("id", "phone", "variable")
SPREAD = 1_000  # keys of each kind in the spread set
POLLED = 100  # keys of each kind in the polled set


def _median_us(action: Callable[[], None], count: int, passes: int) -> float:
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) / count * 1e6)
    return statistics.median(times)


def bare_dict_us(size: int) -> float:
    """Median µs of two chained plain-dict lookups over keys spread across ``size`` entries."""
    rng = random.Random(2)
    keys = [f"+1{rng.randrange(10**10):010d}" for _ in range(size)]
    ids = {key: i for i, key in enumerate(keys)}
    rows = {i: object() for i in range(size)}
    sample = rng.sample(keys, min(SPREAD, size))

    def action() -> None:
        for key in sample:
            rows.get(ids.get(key))

    return _median_us(action, len(sample), 5)


def page_us(world: Any) -> float:
    """Median µs of one call-logs page of 200 (the list's default), made and rendered as the
    operation does, over the first pages and the last full one (rows warm: derived once
    before). A short last page would flatter a small world."""
    from prosper_mock.serving.render import render_json
    from prosper_mock.world.documents import call_log_document

    count = world.call_logs_page(0, 200).page_count
    pages = sorted({0, 1, 2, max(0, count - 2)})  # full pages only: the last may be short

    def action() -> None:
        for number in pages:
            page = world.call_logs_page(number, 200)
            render_json([call_log_document(log) for log in page.items])

    action()
    return _median_us(action, len(pages), 5)


def status_page_us(world: Any) -> tuple[float, float]:
    """(ms of the first status-filtered targets page, median µs of a warm one): full pages of
    50 ``Finished`` targets of the first campaign, made and rendered as the operation does."""
    from prosper_mock.serving.render import render_json
    from prosper_mock.world.documents import target_document

    campaign = world.campaigns()[0].id
    started = time.perf_counter()
    count = world.targets_page(campaign, 0, 50, status="Finished").page_count
    first_ms = (time.perf_counter() - started) * 1000
    pages = sorted({0, 1, 2, max(0, count - 2)})  # the last page may be short

    def action() -> None:
        for number in pages:
            page = world.targets_page(campaign, number, 50, status="Finished")
            render_json([target_document(t) for t in page.items])

    action()
    return first_ms, _median_us(action, len(pages), 5)


def one(size: int) -> dict[str, Any]:
    import requests

    from prosper_mock import MockServer, World, WorldRecipe
    from prosper_mock.world.lookup import LiveCallQuery, find_call

    wall, cpu = time.perf_counter(), time.process_time()
    world = World.generate(WorldRecipe(seed=0, live_calls=size // 10, call_logs=size - size // 10))
    startup_s, startup_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rng = random.Random(1)
    base = world.call_logs.base
    phones, variables = list(base.by_phone), list(base.by_variable)
    n = min(SPREAD, base.count, len(phones), len(variables))  # a small world has fewer keys
    params = {
        "id": [{"call_log_id": i} for i in rng.sample(list(base.ids), n)],
        "phone": [{"user_phone_number": p} for p in rng.sample(phones, n)],
        "variable": [{"key": k, "value": v} for k, v in rng.sample(variables, n)],
    }
    queries = {kind: [LiveCallQuery(**p) for p in ps] for kind, ps in params.items()}
    spread = [q for group in zip(*queries.values(), strict=True) for q in group]
    polled = {kind: qs[:POLLED] for kind, qs in queries.items()}

    def look_up(batch: list[LiveCallQuery]) -> Callable[[], None]:
        def action() -> None:
            for q in batch:
                find_call(world, q)

        return action

    cold = _median_us(look_up(spread), len(spread), 1)
    gc.collect()
    row: dict[str, Any] = {
        "calls": size,
        "startup_s": round(startup_s, 2),
        "startup_cpu_s": round(startup_cpu_s, 2),
        "rss_mb": round(rss_mb),
        "cold_us": round(cold, 1),
    }
    for kind in KINDS:
        row[f"spread_{kind}_us"] = round(_median_us(look_up(queries[kind]), n, 5), 2)
        row[f"polled_{kind}_us"] = round(_median_us(look_up(polled[kind]), POLLED, 20), 2)
    row["spread_us"] = round(statistics.mean(row[f"spread_{k}_us"] for k in KINDS), 2)
    row["polled_us"] = round(statistics.mean(row[f"polled_{k}_us"] for k in KINDS), 2)
    row["dict_us"] = round(bare_dict_us(size), 3)
    row["page_us"] = round(page_us(world), 1)
    index_ms, status_us = status_page_us(world)
    row["status_index_ms"] = round(index_ms, 1)
    row["status_page_us"] = round(status_us, 1)
    with MockServer(world) as server, requests.Session() as http:
        url = server.url("/api/v1/live-calls")
        batch = [p for kind in KINDS for p in params[kind][:POLLED]]

        def get_all() -> None:
            for p in batch:
                http.get(url, params=p, timeout=10)

        get_all()  # rows and rendered answers cached, connection open
        row["http_us"] = round(_median_us(get_all, len(batch), 3), 1)
    return row


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    rows = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.scale", str(size)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rows.append(json.loads(out))
    smallest = rows[0]
    for row in rows:
        for key in [k for k in row if k.endswith("_us")]:
            ratio = row[key] / smallest[key] if smallest[key] else None
            row[key.replace("_us", "_ratio")] = None if ratio is None else round(ratio, 2)
    return {"rows": rows}


if __name__ == "__main__":
    print(json.dumps(one(int(sys.argv[1]))))
