"""Reused answers sent below aiohttp: the bytes kept for a query, written by the connection.

A lookup polled again and again answers the same bytes until the world changes
(``answers.py``). aiohttp would still build a request, route it, run the handler and
serialise a response for each, which costs about five times what sending those bytes
does. ``FastPath`` is the protocol every connection of a mock app starts with
(``FastSite``): it parses each request head with httptools (uvicorn's parser, llhttp)
and, when the request is a plain ``GET`` whose answer is kept, writes that answer, with
the current ``Date``, exactly as aiohttp would have, journals it and logs its access line.

Anything else is aiohttp's, unchanged: the first request that is not such a hit (a
miss, another method or route, a fault asked for or a fault rule set, a wrong API key, a
body, ``Expect``, ``Upgrade``, ``Connection: close``, HTTP/1.0 or 0.9, anything the
parser refuses, a head longer than ``MAX_HEAD``) hands that request's bytes, and every
byte after them, to aiohttp's own protocol for the rest of the connection. The answers
already written came first on the wire, so pipelined answers keep their order. While a
connection is ours it is idle between requests (each is answered when it arrives), so the
idle timeout, shutdown and write back-pressure are those of an idle aiohttp connection.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any, cast

import httptools
from aiohttp import web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import HttpVersion11
from aiohttp.tcp_helpers import tcp_keepalive, tcp_nodelay
from aiohttp.web_log import AccessLogger

from prosper_mock.serving.answers import Answered, Reused
from prosper_mock.serving.faults import HEADER as FAULT_HEADER
from prosper_mock.serving.journal import JournalEntry
from prosper_mock.serving.render import JSON_TYPE
from prosper_mock.serving.state import STATE, MockState
from prosper_mock.world.model import World

# A head longer than this goes to aiohttp: polled lookups are a few hundred bytes, and
# aiohttp's own limits (SERVER_OPTIONS) then judge the long ones.
MAX_HEAD = 4096
MAX_HEADERS = 32
# Headers whose request aiohttp answers: a body to read or time out, a protocol switch,
# an interim answer, a fault.
_HANDED_OVER = frozenset(
    {b"content-length", b"transfer-encoding", b"expect", b"upgrade", FAULT_HEADER.lower().encode()}
)
# Heads remembered with what they ask (a client polls with the same head again and again).
MAX_HEADS = 1024


_ANSWER_HEADERS = (("Content-Type", JSON_TYPE),)  # a kept answer's, as the journal has them


class _Asked:
    """What a head asks: the operation, the raw query, the headers (for the journal); and the
    entry journalled for its last answer, which its next requests answered alike copy."""

    __slots__ = ("answered", "entry", "headers", "query", "reused")

    def __init__(self, reused: Reused, query: bytes, headers: tuple[tuple[str, str], ...]):
        self.reused, self.query, self.headers = reused, query, headers
        self.answered: Answered | None = None  # ``Journal.defer``: entry is its journal entry
        self.entry: JournalEntry | None = None


class FastPath:
    """What the connections of one app need to answer a kept answer themselves."""

    def __init__(
        self,
        state: MockState,
        server: web.Server,
        keepalive_timeout: float,
        access_log: logging.Logger | None,
        access_log_format: str,
    ) -> None:
        self.state = state
        self.faults = state.faults  # the same objects for the app's life (their rules change)
        self.journal = state.journal
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.keepalive_timeout = keepalive_timeout
        self.routes = {r.path.encode(): r for r in state.reused_answers if r.method == "GET"}
        key = state.api_key
        self.key_header = key[0].lower().encode() if key is not None else None
        self.key = key[1].encode() if key is not None else b""
        self.access = AccessLogger(access_log, access_log_format) if access_log else None
        self.connections: set[FastProtocol] = set()
        self.heads: dict[bytes, _Asked] = {}
        self.date = b""  # the Date header's value, until the loop's time is date_until
        self.date_until = 0.0

    def today(self, now: float) -> None:
        """Read the ``Date`` as aiohttp writes it, good for the rest of the clock's second."""
        wall = time.time()  # first: the date read after it is of this second or a later one
        self.date = rfc822_formatted_time().encode()
        self.date_until = now + 1.0 - wall % 1.0

    def remember(self, head: bytes, asked: _Asked) -> None:
        """Remember what ``head`` asks (``FastProtocol._read``), a bounded number of heads."""
        if len(self.heads) >= MAX_HEADS:
            self.heads.clear()
        self.heads[head] = asked

    def protocol(self) -> asyncio.Protocol:
        """A new connection's protocol (the factory ``loop.create_server`` takes)."""
        return FastProtocol(self)

    def close_idle(self) -> None:
        """Close every connection still ours: each is idle (aiohttp closes its idle ones)."""
        for connection in list(self.connections):
            connection.close()


class FastProtocol(asyncio.Protocol):
    """One connection: answers kept answers until the first request that is not one."""

    __slots__ = (
        "_buffer",
        "_complete",
        "_fast",
        "_headers",
        "_keep_alive",
        "_next_close",
        "_parser",
        "_reading_paused",
        "_timer",
        "_transport",
        "_url",
        "_writing_paused",
    )

    def __init__(self, fast: FastPath) -> None:
        self._fast = fast
        self._transport: asyncio.Transport | None = None
        self._parser: httptools.HttpRequestParser | None = None  # made on a first unknown head
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._complete = False
        self._keep_alive = False
        self._buffer: list[bytes] = []
        self._next_close = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._writing_paused = False
        self._reading_paused = False

    # -- httptools' callbacks ------------------------------------------------------------

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        # Read here: once the message is complete, llhttp has reset what it knew of it.
        parser = self._parser
        self._keep_alive = parser is not None and parser.should_keep_alive()

    def on_message_complete(self) -> None:
        self._complete = True

    # -- the transport's callbacks -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = tr = cast(asyncio.Transport, transport)
        tcp_nodelay(tr, True)  # as aiohttp's protocol sets them
        tcp_keepalive(tr)
        self._fast.connections.add(self)
        # aiohttp closes a connection that sends no request within its idle timeout too.
        self._idle_from(self._fast.loop.time())

    def data_received(self, data: bytes) -> None:
        world = self._fast.state.world  # the world these bytes' answers are kept for
        if not self._buffer and (asked := self._fast.heads.get(data)) is not None:
            # One whole head read before (a client's next poll): no end to look for.
            answered = self._answer(asked, world)
            if answered is None:
                self._hand_over([data])
            else:
                self._send(data, asked, answered, world)
            return
        pieces = [data]
        if self._buffer:  # the start of a head came before: its pieces, then these bytes
            pieces = [*self._buffer, data]
            data = b"".join(pieces)
            self._buffer = []
        # Every whole head is looked up before any is answered: aiohttp answers nothing of
        # a piece it cannot parse whole (a malformed request's 400 stands for all of it).
        found = []
        start, size = 0, len(data)
        while (end := data.find(b"\r\n\r\n", start)) >= 0:
            end += 4
            head = data[start:end]
            asked = self._asked(head)
            answered = None if asked is None else self._answer(asked, world)
            if asked is None or answered is None:
                self._hand_over(pieces)
                return
            found.append((head, asked, answered))
            start = end
        if start < size and (size - start > MAX_HEAD or not _unfinished(data[start:])):
            self._hand_over(pieces)  # part of a head too long, or that aiohttp answers already
            return
        for head, asked, answered in found:
            self._send(head, asked, answered, world)
        if start < size:  # part of a head: wait for the rest
            self._buffer = _after(pieces, start)

    def eof_received(self) -> bool | None:
        return None  # close, as aiohttp's protocol does

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_timer()
        self._fast.connections.discard(self)
        self._transport = None

    def pause_writing(self) -> None:
        self._writing_paused = True
        if self._transport is not None:  # a client that does not read gets nothing more read
            self._reading_paused = True
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._reading_paused and self._transport is not None:
            self._reading_paused = False
            self._transport.resume_reading()

    def close(self) -> None:
        """Close the connection (shutdown)."""
        if self._transport is not None:
            self._transport.close()

    # -- answering -----------------------------------------------------------------------

    def _asked(self, head: bytes) -> _Asked | None:
        """What ``head`` (a whole head, CRLF CRLF included) asks, if it is a plain ``GET`` of
        a route whose answers are kept (``_read``, remembered); else ``None``."""
        asked = self._fast.heads.get(head)
        if asked is None:
            asked = self._read(head)
            if asked is not None:
                self._fast.remember(head, asked)
        return asked

    def _answer(self, asked: _Asked, world: World) -> Answered | None:
        """The kept answer to what ``asked`` asks, if there is one and no fault may apply."""
        fast = self._fast
        if fast.faults.rules:
            return None
        answered = asked.reused.cache.answers(world).get(asked.query)
        if answered is None or answered.head is None:
            return None
        return answered

    def _send(self, head: bytes, asked: _Asked, answered: Answered, world: World) -> None:
        """Journal the request, write its kept answer with today's ``Date``, log its line."""
        fast = self._fast
        loop = fast.loop
        now = loop.time()
        # The world's clock read where it lives: World.clock's descriptor runs Python code.
        when = world.state.clock.now()
        if asked.answered is answered:
            fast.journal.defer(when, asked.entry)  # type: ignore[arg-type]
        else:  # journalled whole, as the pipeline journals it (pipeline._journal)
            reused = asked.reused
            asked.entry = fast.journal.record(
                when,
                "GET",
                reused.path,
                asked.query,
                reused.operation_id,
                answered.status,
                headers=asked.headers,
                answer_headers=_ANSWER_HEADERS,
                answer_body=answered.body,
                producer="world" if answered.operated else "validation",
            )
            asked.answered = answered
        if now >= fast.date_until:
            fast.today(now)
        wire = b"".join((answered.head, fast.date, answered.tail))  # type: ignore[arg-type]
        transport = self._transport
        assert transport is not None
        transport.write(wire)
        access = fast.access
        if access is not None and access.enabled:
            seen = _Seen(transport, head, answered.status, len(wire))
            access.log(seen, seen, loop.time() - now)  # type: ignore[arg-type]
        self._next_close = now + fast.keepalive_timeout

    def _read(self, head: bytes) -> _Asked | None:
        """What ``head`` asks, parsed: the operation and the raw query of a plain ``GET`` of
        a route whose answers are kept, with the API key when one is required; else ``None``.

        Depends on the head's bytes alone, so ``FastPath.heads`` remembers it.
        """
        if len(head) > MAX_HEAD or not head.isascii():
            return None
        line = head[: head.find(b"\r\n")]
        if not line.startswith(b"GET ") or not line.endswith(b" HTTP/1.1"):
            return None
        if self._parser is None:
            self._parser = httptools.HttpRequestParser(self)
        self._url, self._headers, self._complete, self._keep_alive = b"", [], False, False
        parser = self._parser
        try:
            parser.feed_data(head)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):  # aiohttp answers it
            self._parser = None  # unusable after an error; the connection is aiohttp's now
            return None
        if not self._complete or not self._keep_alive:
            return None
        fast = self._fast
        path, _, query = self._url.partition(b"?")
        reused = fast.routes.get(path)
        if reused is None or len(self._headers) > MAX_HEADERS:
            return None
        key: bytes | None = None
        for name, value in self._headers:
            lower = name.lower()
            if lower in _HANDED_OVER:
                return None
            if lower == fast.key_header and key is None:
                key = value.strip(b" \t")  # the first, as request.headers.get reads it
        if fast.key_header is not None and not hmac.compare_digest(key or b"", fast.key):
            return None  # aiohttp refuses it
        headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in self._headers)
        return _Asked(reused, query, headers)

    def _hand_over(self, pieces: list[bytes]) -> None:
        """aiohttp's protocol takes the connection from ``pieces`` on, for good: the bytes
        not answered here, in the pieces they arrived in (aiohttp's error answers quote the
        piece they failed on)."""
        transport = self._transport
        assert transport is not None
        self._stop_timer()
        self._fast.connections.discard(self)
        handler = cast(asyncio.Protocol, self._fast.server())
        transport.set_protocol(handler)
        handler.connection_made(transport)
        if self._writing_paused:
            handler.pause_writing()
        if self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()
        for piece in pieces:
            handler.data_received(piece)

    # -- the idle timeout ----------------------------------------------------------------

    def _idle_from(self, now: float) -> None:
        self._next_close = now + self._fast.keepalive_timeout
        if self._fast.keepalive_timeout > 0:
            self._timer = self._fast.loop.call_at(self._next_close, self._check_idle)

    def _check_idle(self) -> None:
        # One timer per connection, moved on only when it fires: an answer just sets the
        # time it is due, as aiohttp's own keep-alive timer does.
        self._timer = None
        if self._transport is None:
            return
        loop = self._fast.loop
        if loop.time() < self._next_close:
            self._timer = loop.call_at(self._next_close, self._check_idle)
        else:
            self._transport.close()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _Unfinished:
    """What a parser makes of the start of a head: whether it already ends a message."""

    ended = False

    def on_message_complete(self) -> None:
        self.ended = True


def _unfinished(part: bytes) -> bool:
    """Whether ``part`` is the start of a head a parser still waits the rest of: not refused
    (a bare LF, a bad character) and no message yet (an HTTP/0.9 line ends at its CRLF)."""
    seen = _Unfinished()
    try:
        httptools.HttpRequestParser(seen).feed_data(part)
    except (httptools.HttpParserError, httptools.HttpParserUpgrade):
        return False
    return not seen.ended


def _after(pieces: list[bytes], start: int) -> list[bytes]:
    """The bytes of ``pieces`` from offset ``start`` of their concatenation, still in pieces."""
    out = []
    for piece in pieces:
        if start < len(piece):
            out.append(piece[start:] if start else piece)
        start = max(0, start - len(piece))
    return out


class _Seen:
    """A request answered here as aiohttp's access logger reads a request and its response."""

    __slots__ = ("body_length", "path_qs", "remote", "status")
    method = "GET"
    version = HttpVersion11

    def __init__(self, transport: asyncio.Transport, head: bytes, status: int, size: int) -> None:
        peer = transport.get_extra_info("peername")
        self.remote = peer[0] if isinstance(peer, (list, tuple)) and peer else None
        self.path_qs = head[4 : head.find(b" HTTP/1.1\r\n")].decode("ascii")
        self.status = status
        self.body_length = size


class FastSite(web.BaseSite):
    """A TCP site whose connections start on ``FastPath``; made by ``fast_site``."""

    __slots__ = ("_fast", "_host", "_options", "_port", "_reuse_address", "_reuse_port", "_state")

    def __init__(
        self,
        runner: web.AppRunner,
        state: MockState,
        host: str,
        port: int,
        *,
        keepalive_timeout: float,
        access_log: logging.Logger | None,
        access_log_format: str,
        reuse_address: bool | None,
        reuse_port: bool,
    ) -> None:
        super().__init__(runner)
        self._host, self._port = host, port
        self._reuse_address, self._reuse_port = reuse_address, reuse_port
        self._state = state
        self._options = (keepalive_timeout, access_log, access_log_format)
        self._fast: FastPath | None = None

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._fast = fast = FastPath(self._state, server, *self._options)
        self._server = await fast.loop.create_server(
            fast.protocol,
            self._host,
            self._port,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )

    async def stop(self) -> None:
        await super().stop()
        if self._fast is not None:
            self._fast.close_idle()


def fast_site(
    runner: web.AppRunner,
    host: str,
    port: int,
    *,
    keepalive_timeout: float,
    access_log: logging.Logger | None,
    access_log_format: str,
    reuse_address: bool | None = None,
    reuse_port: bool = False,
) -> FastSite | None:
    """A site serving ``runner``'s app with the fast path, or ``None`` when the app keeps no
    answers to reuse (not a mock app, or none of its operations' answers are kept)."""
    state: Any = runner.app.get(STATE)
    if not isinstance(state, MockState) or not state.reused_answers:
        return None
    return FastSite(
        runner,
        state,
        host,
        port,
        keepalive_timeout=keepalive_timeout,
        access_log=access_log,
        access_log_format=access_log_format,
        reuse_address=reuse_address,
        reuse_port=reuse_port,
    )
