"""Long writes off the event loop: one writer thread per app, and the readers that wait for it.

A write of the world can be long: 30 000 targets added in one request, launched in one, then
ended by one clock move that plays 150 000 events. On the event loop such a write would hold
every other client (a health check, a kept answer, the control API) for seconds. So the work
of a long write (``Writer.run``) runs in one thread of its own, under the world's lock as any
write does, all or nothing (``World.batch``), while the loop goes on serving:

- what needs no world goes on at once: ``/api/v1/health``, kept answers (``answers.py``, the
  fast path: they are the world as it was before the write, which has not answered yet), the
  journal, the fault rules and stubs of the control API;
- what reads the world waits (``readable``) until the write is done, and then reads it whole:
  no read ever sees half a write;
- writes run one at a time in a process (``exclusive``), in the order they came; on a shared
  store inside the sharing's own write (``Sharing.write``), whose listener appends the
  transaction to the log from the writer thread.

The thread takes turns with the loop for the GIL (``sys.getswitchinterval``, 5 ms by default):
a request waits a few of those turns at most, whatever the write's size. What the GIL does
not share is a whole-heap collection of the garbage collector: it scans every object
tracked, a second and more once a long write has made a million of them, and nothing else
runs meanwhile. So while such a write runs, only the young generations are collected, and
what a long write made and kept is then frozen (``gc.freeze``): long-lived rows the collector
need not scan again (they are freed as usual when nothing refers to them: the world's rows
hold no cycles).
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import TypeVar

T = TypeVar("T")
# How long the writer thread may keep the GIL when the loop asks for it, while it writes: the
# loop answers a request in a few of these turns.
SWITCH_SECONDS = 0.001
# A write that took this long made enough rows for a whole-heap collection to be felt: what
# it kept is frozen. The garbage frozen with it (cycles that had reached the oldest
# generation) is never freed: a few per long write, where freezing after every write would
# keep the serving's own cycles for ever.
LONG_SECONDS = 0.05


class Writer:
    """The writes of one app's world: one at a time, their long work in one thread."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._running: asyncio.Future[None] | None = None  # set while the thread writes
        self._thread: threading.Thread | None = None
        self._holder: asyncio.Task[object] | None = None  # the task holding the writes

    @property
    def busy(self) -> bool:
        """The writer thread is changing the world now: a read of it must wait."""
        return self._running is not None

    def in_writer_thread(self) -> bool:
        """The caller runs in the writer thread (inside a ``run``)."""
        return self._thread is not None and threading.current_thread() is self._thread

    async def readable(self) -> None:
        """Return once no write is under way in the thread (at once when none is)."""
        while self._running is not None:
            await asyncio.shield(self._running)

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold the app's writes for this block: one write at a time, in order. A write
        inside a write (a control call's) is part of it and does not wait for itself."""
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            yield
            return
        async with self._lock_for_loop():
            self._holder = task
            try:
                yield
            finally:
                self._holder = None

    async def run(self, work: Callable[[], T]) -> T:
        """Do ``work`` (a change of the world, and anything made of it) in the writer thread;
        the world's readers wait meanwhile. Call it inside a write (``MockState.write``)."""
        if self.in_writer_thread():  # already there: a write's work calling another's
            return work()
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, "prosper-mock-writer", self._named)
        await self.readable()  # one thread write at a time, whoever started it
        running: asyncio.Future[None] = loop.create_future()
        self._running = running
        done = loop.run_in_executor(self._executor, contextvars.copy_context().run, _kept, work)
        # Readers wait until the thread is done, even if the request that started the write
        # is cancelled meanwhile (its client went away): the work goes on to its end.
        done.add_done_callback(lambda _: self._release(running))
        return await asyncio.shield(done)

    def _release(self, running: asyncio.Future[None]) -> None:
        if self._running is running:
            self._running = None
        running.set_result(None)

    def close(self) -> None:
        """Let the thread go (after the last write: the app is shutting down)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _named(self) -> None:
        self._thread = threading.current_thread()

    def _lock_for_loop(self) -> asyncio.Lock:
        # An app may be served by one loop, stopped, and served again by another (a test's
        # server restarted): the lock belongs to the loop that runs now.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved = 0


@contextmanager
def quiet_collector() -> Iterator[None]:
    """No whole-heap collection in this block, in any thread (the young generations are
    collected as usual): for long work that makes many objects, off the event loop."""
    global _quiet_depth, _quiet_saved
    with _quiet_lock:
        young, middle, old = gc.get_threshold()
        if _quiet_depth == 0:
            _quiet_saved = old
            gc.set_threshold(young, middle, 1 << 30)  # counted in collections of the middle one
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                young, middle, _ = gc.get_threshold()
                gc.set_threshold(young, middle, _quiet_saved)


def _kept(work: Callable[[], T]) -> T:
    """``work()`` with no whole-heap collection while it runs; what a long one kept, frozen
    after (a short one made too little to matter: the collector scans it as usual)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_SECONDS))
    started = time.perf_counter()
    try:
        with quiet_collector():
            result = work()
    finally:
        sys.setswitchinterval(interval)
    # Undone, its rows are garbage: collected as usual, never frozen.
    if time.perf_counter() - started >= LONG_SECONDS:
        gc.collect(1)  # the young garbage (the serving's own cycles too) goes, not frozen
        gc.freeze()
    return result
