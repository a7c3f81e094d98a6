"""The control API's client (``mock/control/client.py``): it never follows a redirect."""

from __future__ import annotations

import pytest
from aiohttp import web

from prosper_mock import MockServer
from prosper_mock.control.bodies import SERVICE
from prosper_mock.control.client import ControlClient, ControlError


def serving(handler: web.RequestHandler) -> MockServer:
    """``handler`` answering every request, on a free loopback port."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return MockServer(app_factory=lambda _world, **_: app)


def test_a_redirecting_control_api_is_no_mock_and_its_target_gets_nothing() -> None:
    """An endpoint whose ``/__mock/...`` answers 302 to a mock is not that mock: the client
    says so, and the mock never hears of it (nor of a write sent after it)."""
    seen: list[str] = []

    async def mock(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        return web.json_response({"service": SERVICE, "snapshot": "s1"})

    with serving(mock) as real:

        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound(real.base_url + request.path_qs)

        assert ControlClient(real.base_url).is_mock()
        seen.clear()
        with serving(redirect) as redirecting:
            control = ControlClient(redirecting.base_url)
            assert not control.is_mock()
            for call in (control.health, control.snapshot, control.reset):
                with pytest.raises(ControlError, match=r"redirect .* is not followed") as refused:
                    call()
                assert refused.value.status == 302
    assert seen == []
