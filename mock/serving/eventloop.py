"""The event loop a server runs on: uvloop when it is installed, asyncio's own otherwise.

uvicorn (upstream's server) picks uvloop the same way (``--loop auto``). aiohttp's
request parsing and response writing run on top of the loop's transports, and
uvloop's are written in C: the same app answers more requests per CPU second. A
platform without uvloop wheels (Windows, PyPy) falls back to asyncio's loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """What makes a new event loop: ``uvloop.new_event_loop`` if importable, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_name() -> str:
    """``"uvloop"`` or ``"asyncio"``: which loop ``new_event_loop`` and ``run`` use."""
    return "asyncio" if loop_factory() is asyncio.new_event_loop else "uvloop"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new event loop of the fastest kind installed (not set as the thread's current)."""
    return loop_factory()()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop ``new_event_loop`` makes."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
