"""A long-running server process: logging, signals, the simulation's tick, worker processes.

What ``prosper-mock serve`` (and the proxy) need around an app once it is built:
``serve_until_signalled`` serves until SIGINT/SIGTERM (or, for a worker, until its
parent is gone); ``run_workers`` forks processes that share one port;
``follow_clock`` keeps the world (its launched calls, a simulation) following the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from prosper_mock.serving.runner import Listening, start_app
from prosper_mock.serving.state import state_of
from prosper_mock.world.errors import StoreUnavailable, WorldError
from prosper_mock.world.simulation import Simulation

ACCESS_LOG = "prosper_mock.access"
SHARED_TICK_SECONDS = 0.1  # how late, at most, a due event shows on a shared store


def one_line_protocol_errors(record: logging.LogRecord) -> bool:
    """A malformed request is the client's problem: one line, not a traceback."""
    if record.exc_info and isinstance(record.exc_info[1], HttpProcessingError):
        exc = record.exc_info[1]
        record.msg = f"rejected a malformed request: {exc.code} {str(exc.message).splitlines()[0]}"
        record.args = ()
        record.exc_info = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
    return True


class Timestamped(logging.Formatter):
    """Each line after the moment it was logged, in ISO 8601 UTC to the millisecond
    (``2026-01-15T15:00:00.123Z``): wall time, whatever clock the world runs on."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class UnloggedReads(logging.Filter):
    """Leaves out the access lines of reads answered under ``prefix`` (the control API's:
    an open dashboard reads it every second), keeping refusals and every write."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        # aiohttp's access log gives each part of its format as an extra of the record.
        method, _, rest = str(getattr(record, "first_request_line", "")).partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        under = path == self.prefix or path.startswith(self.prefix + "/")
        answered = int(getattr(record, "response_status", 500)) < 400
        return not (method in ("GET", "HEAD") and under and answered)


def configure_logging(quiet: bool = False, unlogged_reads: str | None = None) -> None:
    """Log lines to stderr, each with its time, a malformed request as one line.

    ``quiet``: no access lines; ``unlogged_reads``: no access line for a read answered under
    that path prefix (``UnloggedReads``).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Timestamped())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("aiohttp.server").addFilter(one_line_protocol_errors)
    access = logging.getLogger(ACCESS_LOG)
    for old in [f for f in access.filters if isinstance(f, UnloggedReads)]:
        access.removeFilter(old)
    if unlogged_reads is not None:
        access.addFilter(UnloggedReads(unlogged_reads))
    if quiet:  # no line for a client gone away; timeouts and refusals (warnings) still
        access.setLevel(logging.WARNING)


@dataclass(frozen=True)
class Worker:
    """One of ``count`` processes serving a port; it stops when ``parent_pid`` is gone."""

    index: int
    count: int
    parent_pid: int


async def serve_until_signalled(
    app: web.Application,
    host: str,
    port: int,
    *,
    quiet: bool = False,
    on_started: Callable[[Listening], None] | None = None,
    worker: Worker | None = None,
) -> None:
    """Serve ``app`` until SIGINT/SIGTERM, then stop cleanly (in-flight requests finish)."""
    listening = await start_app(
        app,
        host,
        port,
        access_log=None if quiet else logging.getLogger(ACCESS_LOG),
        reuse_port=worker is not None,
    )
    try:
        if on_started is not None:
            on_started(listening)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        watcher = None
        if worker is not None:  # never outlive the parent, even after kill -9
            watcher = loop.create_task(_stop_when_orphaned(worker.parent_pid, stop))
        await stop.wait()
        if watcher is not None:
            watcher.cancel()
        print("prosper-mock: stopping", file=sys.stderr, flush=True)
    finally:
        await listening.close()


async def _stop_when_orphaned(parent: int, stop: asyncio.Event) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(0.5)
    stop.set()


def free_port(host: str) -> int:
    """A port free on ``host`` now (every worker must bind the same one: chosen up front)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def run_workers(count: int, work: Callable[[Worker], None]) -> int:
    """Fork ``count`` processes running ``work``; stop them all on SIGINT/SIGTERM.

    Returns 0 after a signal, 1 if a worker ended by itself (the others are stopped).
    """
    context = multiprocessing.get_context("fork")
    parent = os.getpid()
    children = [
        context.Process(target=_work, args=(work, Worker(i, count, parent)), daemon=True)
        for i in range(count)
    ]
    for child in children:
        child.start()
    stopped: list[int] = []  # the signal received

    def on_signal(sig: int, _frame: object) -> None:
        stopped.append(sig)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopped and all(child.is_alive() for child in children):
            time.sleep(0.2)
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)
        for child in children:
            child.join(35)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopped else 1


def _work(work: Callable[[Worker], None], worker: Worker) -> None:
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the workers too
        work(worker)


_TICK = web.AppKey("prosper_mock_clock_tick", asyncio.Task)


def follow_clock(app: web.Application) -> None:
    """Keep ``app``'s world following its clock twice a second while served: launched calls
    (and the simulation, if one is attached) play what fell due, on the system clock too,
    so a call ends on time even if nobody asks. Each tick is a heap peek when nothing is due."""
    if _start_tick not in app.on_startup:
        app.on_startup.append(_start_tick)
        app.on_cleanup.append(_stop_tick)


def tick_simulation(app: web.Application, simulation: Simulation) -> None:
    """Give ``app`` the ``simulation``, advanced to the clock's time with the world's tick.

    With the real clock the simulation follows time by itself (a virtual clock drives it).
    """
    state_of(app).attach_simulation(simulation)
    follow_clock(app)


async def _start_tick(app: web.Application) -> None:
    async def tick() -> None:
        state = state_of(app)

        async def play() -> int:
            # In the writer thread: what fell due may be thousands of calls' events. Each
            # part (the launched calls, the simulation) is a transaction of its own.
            return await state.writer.run(state.driver.catch_up)

        while True:
            try:
                # One process plays what fell due, as writes (of the log, on a shared store).
                if state.leading:
                    await state.write(play)
            except StoreUnavailable:
                pass  # said once by the sharing, when the store was lost
            except WorldError as exc:  # e.g. a state file that cannot be written: keep going
                logging.getLogger("prosper_mock.world.simulation").error("simulation: %s", exc)
            # On a shared store reads do not play what fell due: the tick is all there is.
            await asyncio.sleep(SHARED_TICK_SECONDS if state.sharing is not None else 0.5)

    app[_TICK] = asyncio.get_running_loop().create_task(tick())


async def _stop_tick(app: web.Application) -> None:
    app[_TICK].cancel()
