"""The ceiling: a bare aiohttp server answering a fixed body of a given size at any path.

``python -m benchmarks.ceiling --size N`` prints its URL; the mock is compared with it. The
body is answered from a plain route (``GET /{path}``, the route a bare server would use: a
catch-all regex route costs aiohttp a fifth of its rate), for the path the benchmark asks
(``--path``), on asyncio's loop, or on uvloop, the mock's, with ``--loop uvloop``.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

from prosper_mock.serving.eventloop import loop_factory, loop_name
from prosper_mock.serving.runner import SERVER_OPTIONS


def body_of(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (``{}`` below 8)."""
    body = b"{" + b'"x":"' + b"x" * max(0, size - 8) + b'"}'
    return body[:size] if size >= 8 else b"{}"


def app(size: int, status: int = 200, path: str = "/") -> web.Application:
    body = body_of(size)

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, status=status, content_type="application/json")

    application = web.Application()
    application.router.add_get(path, handle)
    return application


async def serve(size: int, status: int, path: str) -> None:
    runner = web.AppRunner(app(size, status, path), access_log=None, **SERVER_OPTIONS)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"serving on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--path", default="/", help="the route's path (no query)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop" and loop_name() != "uvloop":
        parser.error("uvloop is not installed")
    factory = loop_factory() if args.loop == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(args.size, args.status, args.path))


if __name__ == "__main__":
    main()
