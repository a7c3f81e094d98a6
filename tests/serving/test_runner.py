"""start_app: the one place a server is bound; the bound port, the limits, clean failure."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from prosper_mock.serving.runner import SERVER_OPTIONS, base_url, start_app


async def _hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


def _app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", _hello)
    return app


def test_start_app_binds_a_free_port_with_the_server_options_and_closes() -> None:
    async def main() -> None:
        listening = await start_app(_app(), "127.0.0.1", 0)
        try:
            assert listening.port > 0 and listening.host == "127.0.0.1"
            assert listening.base_url == f"http://127.0.0.1:{listening.port}"
            assert listening.runner.server is not None
            assert listening.runner.server._kwargs["max_line_size"] == 16 * 1024
            reader, writer = await asyncio.open_connection("127.0.0.1", listening.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert (await reader.read()).endswith(b"hello")
            writer.close()
        finally:
            await listening.close()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", listening.port)

    asyncio.run(main())


def test_start_app_without_options_keeps_aiohttps_limits() -> None:
    async def main() -> None:
        listening = await start_app(_app(), "127.0.0.1", 0, options=None)
        try:
            assert listening.runner.server is not None
            assert "max_line_size" not in listening.runner.server._kwargs
            # ... but a body is still handed on as sent, as Starlette hands it on
            assert listening.runner.server._kwargs["auto_decompress"] is False
        finally:
            await listening.close()

    assert SERVER_OPTIONS["shutdown_timeout"] == 30.0
    asyncio.run(main())


def test_a_busy_port_raises_and_runs_the_apps_cleanup() -> None:
    cleaned: list[bool] = []

    async def cleanup(app: web.Application) -> None:
        cleaned.append(True)

    async def main(port: int) -> None:
        app = _app()
        app.on_cleanup.append(cleanup)
        with pytest.raises(OSError):
            await start_app(app, "127.0.0.1", port)

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        asyncio.run(main(taken.getsockname()[1]))
    assert cleaned == [True]


def test_base_url_brackets_ipv6() -> None:
    assert base_url("::1", 80) == "http://[::1]:80"
    assert base_url("localhost", 8) == "http://localhost:8"
