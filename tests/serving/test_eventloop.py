"""The event loop: uvloop when installed (serve, its workers, MockServer), asyncio otherwise."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from typing import Any

import pytest

from prosper_mock import server as server_module
from prosper_mock.server import MockServer, ServeOptions
from prosper_mock.serving import eventloop
from prosper_mock.world.model import World

uvloop = pytest.importorskip("uvloop")


def test_uvloop_is_chosen_when_installed() -> None:
    async def running() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    assert eventloop.loop_name() == "uvloop"
    assert eventloop.run(running()) is uvloop.Loop
    loop = eventloop.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_mock_server_runs_on_uvloop_and_answers() -> None:
    with MockServer() as server:
        assert isinstance(server._served.loop, uvloop.Loop)
        url = server.url("/api/v1/live-calls?call_log_id=abc")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        assert refused.value.code == 422


def test_serve_runs_on_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    loops: list[type[asyncio.AbstractEventLoop]] = []

    async def record(*args: Any, **kwargs: Any) -> None:  # instead of serving until a signal
        loops.append(type(asyncio.get_running_loop()))

    monkeypatch.setattr(server_module, "serve_until_signalled", record)
    monkeypatch.setattr(server_module, "configure_logging", lambda *_: None)  # leave logs be
    assert server_module.serve(World.generate(), ServeOptions(quiet=True)) == 0
    assert loops == [uvloop.Loop]


# uvloop made unimportable (``sys.modules[name] = None`` makes ``import`` raise ImportError),
# as on a platform without its wheels: the same server runs on asyncio's loop.
WITHOUT_UVLOOP = textwrap.dedent(
    """
    import sys
    sys.modules["uvloop"] = None
    import asyncio, json, urllib.request
    from prosper_mock.serving import eventloop
    from prosper_mock.server import MockServer

    async def running():
        return type(asyncio.get_running_loop()).__module__

    with MockServer() as server:
        body = urllib.request.urlopen(server.url("/api/v1/live-calls?call_log_id=1250")).read()
        print(eventloop.loop_name(), eventloop.run(running()), type(server._served.loop).__module__,
              json.loads(body)["call_log_id"])
    """
)


def test_asyncio_is_the_fallback_when_uvloop_cannot_be_imported() -> None:
    out = subprocess.run(
        [sys.executable, "-c", WITHOUT_UVLOOP], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    name, running, served, call = out.stdout.split()
    assert name == "asyncio" and call == "1250"
    assert running.startswith("asyncio") and served.startswith("asyncio")
