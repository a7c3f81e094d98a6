"""A webhook receiver for tests: a real loopback server that keeps what the mock POSTs to it.

``WebhookReceiver`` runs on its own thread and loop (as ``MockServer`` does) on a free port,
answers every POST with the status its test chose (``answer``: 200 by default, or a status a
given number of times, or after a delay: a receiver that is down, erring or slow), and keeps
each request it got. ``wait_for`` waits until the webhooks a test expects have come:

>>> with WebhookReceiver() as receiver:
...     prosper.set_webhook(campaign_id, receiver.url)
...     ...  # add and launch a target, advance the clock
...     [payload] = receiver.wait_for(target_id)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from prosper_mock.serving.runner import InThread, base_url


@dataclass(frozen=True)
class Received:
    """One request the receiver got: its path, headers, body (``json``: parsed, ``None`` if it
    is not JSON), and the status it was answered with."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    status: int


class WebhookReceiver:
    """A loopback HTTP server keeping the webhooks POSTed to it (see the module)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: str = "/webhook") -> None:
        self.host, self.path = host, path
        self._received: list[Received] = []
        self._answers: deque[tuple[int, float]] = deque()  # (status, delay) to answer next
        self._default = (200, 0.0)
        self._changed = threading.Condition()
        self._closing = asyncio.Event()  # set by ``stop``: a delayed answer is cut short
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._served = InThread(app, host, port, "webhook-receiver", fast_path=False, options=None)

    @property
    def url(self) -> str:
        """The URL to give the mock: where this receiver takes webhooks."""
        return base_url(self.host, self.port) + self.path

    # --- what it answers ----------------------------------------------------------

    def answer(self, status: int = 200, *, times: int | None = None, delay: float = 0.0) -> None:
        """Answer ``status`` (after ``delay`` seconds) to the next ``times`` requests, or to
        every one from now on when ``times`` is ``None``."""
        with self._changed:
            if times is None:
                self._answers.clear()
                self._default = (status, delay)
            else:
                self._answers.extend([(status, delay)] * times)

    # --- what it got --------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        """Every request so far, in the order they came."""
        with self._changed:
            return list(self._received)

    @property
    def payloads(self) -> list[Any]:
        """The JSON bodies of the POSTs so far, in order."""
        return [r.json for r in self.received if r.method == "POST"]

    def clear(self) -> None:
        with self._changed:
            self._received.clear()

    def wait_for(
        self,
        target_id: str | None = None,
        *,
        attempt: int | None = None,
        count: int = 1,
        timeout: float = 10.0,
        delivered: bool = True,
    ) -> list[dict[str, Any]]:
        """The payloads of ``target_id`` (any target when ``None``; of ``attempt`` when
        given), once at least ``count`` have come; ``AssertionError`` naming what came
        when they do not within ``timeout`` seconds. ``delivered``: count only those
        answered 2xx (the ones the mock records as delivered)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    r.json
                    for r in self._received
                    if isinstance(r.json, dict)
                    and (target_id is None or r.json.get("target_id") == target_id)
                    and (attempt is None or r.json.get("attempt") == attempt)
                    and (not delivered or 200 <= r.status < 300)
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [r.json for r in self._received]
                    raise AssertionError(
                        f"expected {count} webhook(s) for target {target_id or 'any'}"
                        f"{'' if attempt is None else f' attempt {attempt}'} within "
                        f"{timeout:g} s; got {len(found)} of them, and in all: {got}"
                    )
                self._changed.wait(left)

    # --- serving ------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self._changed:
            status, delay = self._answers.popleft() if self._answers else self._default
        if delay:  # a slow receiver, cut short by ``stop``
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
        with self._changed:
            received = Received(
                request.method, request.path, dict(request.headers), body, parsed, status
            )
            self._received.append(received)
            self._changed.notify_all()
        return web.Response(status=status, text="" if status >= 300 else "ok")

    @property
    def port(self) -> int:
        """The port served (the one bound once started, when 0 was asked for)."""
        return self._served.port

    def start(self) -> WebhookReceiver:
        self._closing = asyncio.Event()  # bound to the loop of this start's thread
        self._served.start()
        return self

    def stop(self) -> None:
        loop = self._served.loop
        if loop is not None and not loop.is_closed():  # before the loop stops: it runs first
            loop.call_soon_threadsafe(self._closing.set)
        self._served.stop()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
