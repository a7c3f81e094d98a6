"""The server process's runtime: one-line protocol errors, the simulation's tick, workers."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from hypothesis import given
from hypothesis import strategies as st

from prosper_mock import World, WorldRecipe, create_app, state_of
from prosper_mock.serving.runtime import (
    ACCESS_LOG,
    Timestamped,
    UnloggedReads,
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


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_log_lines_carry_their_moment_in_iso_8601_utc(created: float) -> None:
    record = logging.LogRecord("prosper_mock.access", logging.INFO, "", 0, "a line", (), None)
    record.created = created
    line = Timestamped().format(record)
    stamp, _, message = line.partition(" ")
    assert message == "a line"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), stamp
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    # the millisecond it falls in (datetime rounds to the microsecond first)
    assert moment.tzinfo is not None and -1e-6 <= created - moment.timestamp() < 0.001


def test_successful_control_reads_leave_no_access_line_but_the_rest_do(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import aiohttp

    from prosper_mock.serving.runner import start_app

    access = logging.getLogger(ACCESS_LOG)
    unlogged = UnloggedReads("/__mock")
    caplog.set_level(logging.INFO, logger=ACCESS_LOG)
    app = create_app(World.generate(WorldRecipe(live_calls=1, call_logs=1)))

    async def main() -> None:
        listening = await start_app(app, "127.0.0.1", 0, access_log=access)
        try:
            async with aiohttp.ClientSession(listening.base_url) as http:
                for method, path in [
                    ("GET", "/__mock/health"),  # a read: no line
                    ("GET", "/__mock/"),  # the dashboard's page: a read too
                    ("GET", "/__mock/live-calls/1"),  # refused (404): a line
                    ("POST", "/__mock/reset"),  # a write: a line
                    ("GET", "/api/v1/live-calls?call_log_id=1000"),
                    ("GET", "/__mockery"),  # not under the prefix: a line
                ]:
                    async with http.request(method, path) as answer:
                        await answer.read()
        finally:
            await listening.close()

    access.addFilter(unlogged)
    try:
        asyncio.run(main())
    finally:
        access.removeFilter(unlogged)
    lines = [r.getMessage().split('"')[1] for r in caplog.records if r.name == ACCESS_LOG]
    assert lines == [
        "GET /__mock/live-calls/1 HTTP/1.1",
        "POST /__mock/reset HTTP/1.1",
        "GET /api/v1/live-calls?call_log_id=1000 HTTP/1.1",
        "GET /__mockery HTTP/1.1",
    ]
