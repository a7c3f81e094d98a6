"""The server process's runtime: one-line protocol errors, the simulation's tick, workers."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from prosper_mock import World, WorldRecipe, create_app, state_of
from prosper_mock.serving.runtime import (
    Worker,
    free_port,
    one_line_protocol_errors,
    run_workers,
    tick_simulation,
)
from prosper_mock.world.simulation import Simulation


def test_a_protocol_error_becomes_one_warning_line() -> None:
    try:
        raise BadHttpMessage("bad header\nmore detail")
    except BadHttpMessage:
        record = logging.LogRecord(
            "aiohttp.server", logging.ERROR, "", 0, "Error", (), sys.exc_info()
        )
    assert one_line_protocol_errors(record)
    assert record.exc_info is None and record.levelname == "WARNING"
    assert record.getMessage() == "rejected a malformed request: 400 bad header"
    other = logging.LogRecord("aiohttp.server", logging.ERROR, "", 0, "kept %s", ("as is",), None)
    assert one_line_protocol_errors(other) and other.getMessage() == "kept as is"


def test_tick_simulation_advances_the_world_while_served() -> None:
    world = World.generate(WorldRecipe(live_calls=0, call_logs=0))
    app = create_app(world)
    advanced: list[float] = []

    class Recording(Simulation):
        def advance_to(self, now: float) -> int:
            advanced.append(now)
            return 0

    simulation = Recording(world, 1, 6.0, world.clock.now())
    tick_simulation(app, simulation)
    assert state_of(app).simulation is simulation

    async def main() -> None:
        runner = web.AppRunner(app)
        await runner.setup()  # runs on_startup: the tick starts
        await asyncio.sleep(0.05)
        await runner.cleanup()  # runs on_cleanup: the tick stops
        count = len(advanced)
        await asyncio.sleep(0.6)
        assert len(advanced) == count >= 1

    asyncio.run(main())


def test_run_workers_forks_each_worker_and_is_1_when_one_ends_by_itself(tmp_path: Path) -> None:
    def work(worker: Worker) -> None:  # runs in a child, which then ends by itself
        own = worker.parent_pid == os.getppid()
        (tmp_path / str(worker.index)).write_text(f"{worker.count} {own}")
        deadline = time.monotonic() + 10  # both written before either ends: no race with SIGTERM
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)

    handler = signal.getsignal(signal.SIGTERM)
    assert run_workers(2, work) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0", "1"]
    assert {p.read_text() for p in tmp_path.iterdir()} == {"2 True"}
    assert signal.getsignal(signal.SIGTERM) is handler  # the caller's handlers are back


def test_free_port_is_bindable() -> None:
    port = free_port("127.0.0.1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


class _Wall:
    """A clock that is not virtual (the mock treats it as the system clock), moved by the test."""

    def __init__(self, start: float) -> None:
        self.at = start

    def now(self) -> float:
        return self.at


def test_launched_calls_end_on_the_system_clock_without_a_simulation() -> None:
    import time as _time

    import requests

    from prosper_mock import MockServer, World

    world = World.generate()
    clock = _Wall(world.generator.anchor)
    world.clock = clock
    with MockServer(world) as server:
        campaign = world.campaigns()[0].id
        launched = requests.post(
            server.url(f"/api/v1/campaigns/{campaign}/calls"), json={"count": 1}, timeout=5
        ).json()["launched"][0]
        assert launched["call_log_id"] in world.live_calls
        clock.at += 900  # time passes; nobody asks the mock anything
        deadline = _time.monotonic() + 5
        while launched["call_log_id"] in world.live_calls and _time.monotonic() < deadline:
            _time.sleep(0.05)
        assert launched["call_log_id"] not in world.live_calls
        assert launched["call_log_id"] in world.call_logs
