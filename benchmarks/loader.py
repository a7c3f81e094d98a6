"""A small HTTP load generator, run as its own process: ``python -m benchmarks.loader URL``.

Keeps ``--connections`` requests in flight for ``--duration`` seconds and prints JSON:
requests, requests per second, latency p50/p99 (ms) and errors. Used when wrk is not installed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp


async def load(url: str, connections: int, duration: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        end = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while (start := time.perf_counter()) < end:
                try:
                    async with session.get(url) as response:
                        await response.read()
                    latencies.append(time.perf_counter() - start)
                except aiohttp.ClientError:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 3)

    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50) if latencies else 0.0,
        "p99_ms": pct(0.99) if latencies else 0.0,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=3.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(load(args.url, args.connections, args.duration))))


if __name__ == "__main__":
    main()
