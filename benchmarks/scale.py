"""World scale: start-up time, resident memory and lookup latency at 1k to 1M calls.

Each size runs in a fresh process (so RSS is that world's), builds a seeded world (10 % live),
then times 900 lookups (300 distinct ids, and phones and variables) through ``find_call``
twice: cold (each row is derived from the seed on first touch) and warm (an index hit on a
row already derived, what a polling client sees).
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
from typing import Any

SIZES = (1_000, 10_000, 100_000, 1_000_000)


def one(size: int) -> dict[str, Any]:
    from prosper_mock import World, WorldRecipe
    from prosper_mock.lookup import LiveCallQuery, find_call

    start = time.perf_counter()
    world = World.generate(WorldRecipe(seed=0, live_calls=size // 10, call_logs=size - size // 10))
    startup = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rng = random.Random(1)
    ids = rng.sample(list(world.call_logs.base.ids), 300)  # distinct: the first pass is cold
    phones = list(world.call_logs.base.by_phone)
    variables = list(world.call_logs.base.by_variable)
    queries = []
    for call_log_id in ids:
        queries.append(LiveCallQuery(call_log_id=call_log_id))
        queries.append(LiveCallQuery(user_phone_number=rng.choice(phones)))
        key, text = rng.choice(variables)
        queries.append(LiveCallQuery(key=key, value=text))
    timings = []
    for _ in range(2):  # cold: rows derived on first touch; warm: index hits on derived rows
        start = time.perf_counter()
        for q in queries:
            find_call(world, q)
        timings.append((time.perf_counter() - start) / len(queries) * 1e6)
    return {
        "calls": size,
        "startup_s": round(startup, 2),
        "rss_mb": round(rss_mb),
        "cold_lookup_us": round(timings[0], 1),
        "warm_lookup_us": round(timings[1], 2),
    }


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
    for kind in ("cold", "warm"):
        base = rows[0][f"{kind}_lookup_us"]
        for row in rows:
            row[f"{kind}_ratio_vs_smallest"] = round(row[f"{kind}_lookup_us"] / base, 2)
    return {"rows": rows}


if __name__ == "__main__":
    print(json.dumps(one(int(sys.argv[1]))))
