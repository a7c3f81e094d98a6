"""The limit: a bare server on uvloop and httptools (uvicorn's loop and parser) that answers
the same bytes to every request, with keep-alive, and nothing else.

No journal, no routing, no checks: the least a Python server on this loop and parser can do
per request, so what the mock's fast path costs above it is the mock's own. ``python -m
benchmarks.limit --size N [--status S]`` prints its URL; the answer is the ceiling's
(``benchmarks.ceiling``), headers included, with a current ``Date``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import cast

import httptools
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE

from benchmarks.ceiling import body_of
from prosper_mock.serving.eventloop import run


class Limit(asyncio.Protocol):
    """One connection: every complete request is answered ``head + Date + tail``."""

    def __init__(self, head: bytes, tail: bytes) -> None:
        self.head, self.tail = head, tail
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_complete(self) -> None:
        assert self.transport is not None
        date = rfc822_formatted_time().encode()
        self.transport.write(b"".join((self.head, date, self.tail)))


def answer(size: int, status: int) -> tuple[bytes, bytes]:
    """The ceiling's answer around its Date value: the bytes aiohttp writes for it."""
    from http import HTTPStatus

    body = body_of(size)
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nDate: "
    ).encode()
    return head, f"\r\nServer: {SERVER_SOFTWARE}\r\n\r\n".encode() + body


async def serve(size: int, status: int) -> None:
    head, tail = answer(size, status)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Limit(head, tail), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"serving on http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--status", type=int, default=200)
    args = parser.parse_args()
    run(serve(args.size, args.status))


if __name__ == "__main__":
    main()
