"""The ceiling: a bare aiohttp server answering a fixed body of a given size at any path.

``python -m benchmarks.ceiling --size N`` prints its port; the mock is compared with it.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

from prosper_mock.serving.runner import SERVER_OPTIONS


def app(size: int, status: int = 200) -> web.Application:
    body = b"{" + b'"x":"' + b"x" * max(0, size - 8) + b'"}'
    body = body[:size] if size >= 8 else b"{}"

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, status=status, content_type="application/json")

    application = web.Application()
    application.router.add_get("/{tail:.*}", handle)
    return application


async def serve(size: int, status: int) -> None:
    runner = web.AppRunner(app(size, status), access_log=None, **SERVER_OPTIONS)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"serving on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--status", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(serve(args.size, args.status))


if __name__ == "__main__":
    main()
