"""Sending the world's webhook events: a background task per app, beside the serving.

The events are world state (``world.webhooks``): this task only POSTs the pending ones and
records each outcome as a write of the world (``World.record_send``), so the outcome is
shared with every process and stored with the world. It sends only while the process leads
(``MockState.leading``: always with the in-memory store, in exactly one process on a shared
store), so each event is sent once however many processes serve.

Each receiver URL has its own lane: its events are sent one at a time, oldest first, each
bounded by ``timeout`` seconds (connecting included), and a slow or dead receiver holds up
only its own lane, never the serving nor another receiver. A redirect is not followed: a
``3xx`` is a failed delivery, like any answer that is not ``2xx``, a refused connection or a
timeout. Upstream's payload is sent as JSON with ``Content-Type: application/json``, the
campaign's extra headers, and ``User-Agent: prosper-voice-mock/VERSION``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from prosper_mock.base.timefmt import iso_milliseconds
from prosper_mock.base.version import __version__
from prosper_mock.serving.state import state_of
from prosper_mock.world.errors import WorldError
from prosper_mock.world.hookfaults import DeliveryFaults
from prosper_mock.world.webhooks import Send, WebhookEvent

DEFAULT_TIMEOUT = 5.0  # seconds a delivery may take, connecting included
POLL = 0.05  # seconds between looks for pending events (a look is a version compare)
NO_URL = "no webhook URL is configured for the campaign"
DROPPED = "dropped by a fault (drop): not sent"
NO_FAULTS = DeliveryFaults()
LOG = logging.getLogger("prosper_mock.webhooks")


@dataclass(frozen=True)
class Outbound:
    """An event to send now: where, with which headers and faults."""

    event: WebhookEvent
    url: str | None
    headers: dict[str, str]
    faults: DeliveryFaults = NO_FAULTS

    @property
    def body(self) -> bytes:
        return json.dumps(self.event.payload()).encode()


async def post(
    session: aiohttp.ClientSession, outbound: Outbound, timeout: float
) -> tuple[bool, int | None, str | None]:
    """POST one event: ``(ok, status, error)``; never raises for the receiver's failures."""
    if outbound.url is None:
        return False, None, NO_URL
    headers = {
        "User-Agent": f"prosper-voice-mock/{__version__}",
        **outbound.headers,
        "Content-Type": "application/json",
    }
    try:
        async with session.post(
            outbound.url,
            data=outbound.body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as answer:
            status = answer.status  # its body is not read: a receiver's answer is its status
    except TimeoutError:
        return False, None, f"no answer within {timeout:g} s"
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return False, None, f"could not connect: {reason}"
    if 200 <= status < 300:
        return True, status, None
    if 300 <= status < 400:
        return False, status, f"answered {status}: a redirect is not followed"
    return False, status, f"answered {status}"


class Deliveries:
    """The sending task of one app (``deliver_webhooks``)."""

    def __init__(self, app: web.Application, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self.lanes: dict[str | None, asyncio.Task[None]] = {}
        self.sending: set[int] = set()  # events a lane holds: never handed to another
        self.session: aiohttp.ClientSession | None = None
        self._seen = -1  # the world version the last look was at

    async def run(self) -> None:
        state = state_of(self.app)
        while True:
            try:
                world = state.world
                if state.writer.busy:  # a write is changing the world: look after it
                    pass
                elif state.leading and (world.version != self._seen or self._idle_lane()):
                    self._seen = world.version
                    self.dispatch()
            except Exception:  # never let one bad look end the deliveries
                LOG.exception("webhooks: could not look for events to send")
            await asyncio.sleep(POLL)

    def _idle_lane(self) -> bool:
        return any(task.done() for task in self.lanes.values())

    def dispatch(self) -> None:
        """Hand the pending events to their URL's lane (a new lane if it has none)."""
        world = state_of(self.app).world
        with world.lock:
            table = world.webhooks
            ready = [
                Outbound(
                    e,
                    table.url_of(e.campaign_id),
                    table.headers_of(e.campaign_id),
                    table.faults_of(e.campaign_id),
                )
                for e in table.pending()
                if e.id not in self.sending
            ]
        by_url: dict[str | None, list[Outbound]] = {}
        for outbound in ready:
            by_url.setdefault(outbound.url, []).append(outbound)
        for url, queue in by_url.items():
            lane = self.lanes.get(url)
            if lane is not None and not lane.done():
                continue  # it takes the rest on its next round
            self.sending.update(o.event.id for o in queue)
            self.lanes[url] = asyncio.get_running_loop().create_task(self._lane(queue))

    async def _lane(self, queue: list[Outbound]) -> None:
        if any(o.faults.reorder for o in queue):  # a fault: the newest first
            queue = queue[::-1]
        try:
            for outbound in queue:
                await self._send(outbound)
        finally:
            self.sending.difference_update(o.event.id for o in queue)
            self._seen = -1  # look again: events may have come for this URL meanwhile

    async def _send(self, outbound: Outbound) -> None:
        state = state_of(self.app)
        if not state.leading:
            return
        if self.session is None:
            self.session = aiohttp.ClientSession(trust_env=False)
        event, faults = outbound.event, outbound.faults
        if faults.latency is not None:
            await asyncio.sleep(faults.delay(event.id))
        done: list[Send] = []
        for _ in range(1 + faults.duplicates):
            ok: bool
            status: int | None
            error: str | None
            ok, status, error = False, None, DROPPED
            if not faults.drop:
                ok, status, error = await post(self.session, outbound, self.timeout)
            now = iso_milliseconds(state.world.clock.now())
            done.append(Send(now, outbound.url, ok, status, error))
            if not ok:
                LOG.warning("webhooks: event %s to %s failed: %s", event.id, outbound.url, error)
        await self._record(event, done)

    async def _record(self, event: WebhookEvent, done: list[Send]) -> None:
        """Record the sends as one write of the world (of the shared log, on a shared store)."""
        state = state_of(self.app)

        async def record() -> bool:
            return state.world.record_send(event.id, len(event.sends), *done)

        try:
            await state.write(record)
        except WorldError as exc:  # e.g. the state file cannot be written: sent again later
            LOG.error("webhooks: the outcome of event %s was not recorded: %s", event.id, exc)

    async def close(self) -> None:
        for lane in self.lanes.values():
            lane.cancel()
        for lane in self.lanes.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await lane
        if self.session is not None:
            await self.session.close()


DELIVERIES = web.AppKey("prosper_mock_webhook_deliveries", Deliveries)
_TASK = web.AppKey("prosper_mock_webhook_task", asyncio.Task)


def deliver_webhooks(app: web.Application, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Send ``app``'s webhook events while it is served (each bounded by ``timeout`` s)."""
    if not 0 < timeout <= 600:
        raise ValueError(f"the webhook timeout must be over 0 and at most 600 s, got {timeout}")
    app[DELIVERIES] = Deliveries(app, timeout)
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)


async def _start(app: web.Application) -> None:
    app[_TASK] = asyncio.get_running_loop().create_task(app[DELIVERIES].run())


async def _stop(app: web.Application) -> None:
    app[_TASK].cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app[_TASK]
    await app[DELIVERIES].close()
