"""1 000 concurrent connections with zero errors, while control-API changes lose nothing."""

from __future__ import annotations

import asyncio
import resource
import threading
from collections import Counter

import aiohttp

from prosper_mock.control.client import ControlClient
from tests.clirun import serve

CONNECTIONS = 1000
ROUNDS = 3


async def hammer(base_url: str) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(i: int) -> None:
            for r in range(ROUNDS):
                params = {"call_log_id": str(1000 + (i + r) % 40)}
                try:
                    async with session.get(f"{base_url}/api/v1/live-calls", params=params) as resp:
                        await resp.read()
                        outcomes[str(resp.status)] += 1
                except (TimeoutError, aiohttp.ClientError) as exc:
                    outcomes[type(exc).__name__] += 1

        await asyncio.gather(*(one(i) for i in range(CONNECTIONS)))
    return outcomes


def enough_file_descriptors(needed: int) -> None:
    """Raise this process's soft fd limit (the served child inherits it) if it is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def test_thousand_connections_and_concurrent_changes() -> None:
    enough_file_descriptors(CONNECTIONS + 1024)
    with serve(["--live-calls", "5", "--call-logs", "40", "--quiet"]) as s:
        control = ControlClient(s.base_url)
        made: list[int] = []
        ended: list[int] = []
        done = threading.Event()

        def change() -> None:
            while not done.is_set() or len(made) < 20:
                cid = control.start_call()["call"]["call_log_id"]
                control.map_variables(cid, step=len(made))
                made.append(cid)
                if len(made) % 2 == 0:
                    control.end_call(cid)
                    ended.append(cid)

        changer = threading.Thread(target=change)
        changer.start()
        outcomes = asyncio.run(hammer(s.base_url))
        done.set()
        changer.join(60)
        world = control.dump()
    assert outcomes == Counter({"200": CONNECTIONS * ROUNDS}), outcomes
    live = {r["call_log_id"]: r for r in world["live_calls"]}
    logs = {r["id"]: r for r in world["call_logs"]}
    for i, cid in enumerate(made):
        row = logs[cid] if cid in ended else live[cid]
        assert row["variables"]["step"] == i  # every change applied, none lost
    assert not set(ended) & set(live)
