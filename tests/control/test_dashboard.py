"""The dashboard's files: served by the mock itself, behind the control API's guard."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from unittest import mock as mocking

import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from prosper_mock import MockServer, World, WorldRecipe, create_app
from prosper_mock.control.dashboard import FILES, dashboard_url, static_bytes
from tests.rawhttp import request as raw_request


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(World.generate(WorldRecipe(live_calls=2, call_logs=2))) as server:
        yield server


def test_the_page_and_its_files_are_served_with_their_types(mock: MockServer) -> None:
    for name, (path, content_type) in FILES.items():
        r = requests.get(mock.url(path), timeout=5)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"] == f"{content_type}; charset=utf-8"
        assert r.content == static_bytes(name)
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert dashboard_url(mock.base_url) == mock.url("/__mock/")


def test_the_bare_prefix_redirects_to_the_page(mock: MockServer) -> None:
    r = requests.get(mock.url("/__mock"), allow_redirects=False, timeout=5)
    assert (r.status_code, r.headers["Location"]) == (307, "/__mock/")
    assert requests.get(mock.url("/__mock"), timeout=5).url == mock.url("/__mock/")


def test_the_page_loads_nothing_from_elsewhere() -> None:
    page = static_bytes("index.html").decode()
    every = " ".join(static_bytes(n).decode() for n in FILES)
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == [
        "data:,",
        "static/app.css",
        "static/app.js",
    ]
    assert "http://" not in every.replace("http://host", "") and "https://" not in every
    assert "<script>" not in page and " style=" not in page  # the CSP allows no inline code


@pytest.mark.parametrize(
    "target",
    [
        b"/__mock/static/nope.js",
        b"/__mock/static/../openapi.json",  # sent as is: no client tidies it up
        b"/__mock/static/../../mock/control/routes.py",
        b"/__mock/static/%2e%2e/routes.py",
        b"/__mock/static/..%2Fguard.py",
        b"/__mock/static/..%5cguard.py",
        b"/__mock/static//etc/passwd",
        b"/__mock/static/app.js%00",
        b"/__mock/static/",
        b"/__mock/index.html",
        b"/__mock/static/app.js/x",
    ],
)
def test_unknown_names_are_404_and_no_path_leaves_the_folder(
    mock: MockServer, target: bytes
) -> None:
    # No name is looked up on disk: the routes are the three files, read at start-up.
    r = raw_request("127.0.0.1", mock.port, target)
    assert (r.status, r.body) == (404, b'{"detail":"Not Found"}'), target


def test_only_get_is_allowed(mock: MockServer) -> None:
    r = requests.post(mock.url("/__mock/"), timeout=5)
    assert (r.status_code, r.headers["Allow"]) == (405, "GET, HEAD")


def test_pages_of_other_sites_and_rebound_names_are_refused(mock: MockServer) -> None:
    for path, _ in FILES.values():
        for headers in (
            {"Origin": "http://evil.example"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Host": f"evil.example:{mock.port}"},  # DNS rebinding
        ):
            r = requests.get(mock.url(path), headers=headers, timeout=5)
            assert r.status_code == 403, (path, headers)
    bare = requests.get(mock.url("/__mock"), headers={"Origin": "http://evil.example"}, timeout=5)
    assert bare.status_code == 403
    own = {"Origin": mock.base_url, "Sec-Fetch-Site": "same-origin"}
    assert requests.get(mock.url("/__mock/"), headers=own, timeout=5).ok


def _get_from(app: web.Application, path: str, peer: str) -> web.StreamResponse:
    """``GET path`` as a client at ``peer`` would send it to a mock bound on all addresses."""
    transport = mocking.Mock()
    extra = {"peername": (peer, 40000), "sockname": ("0.0.0.0", 8765)}
    transport.get_extra_info.side_effect = lambda name, default=None: extra.get(name, default)
    request = make_mocked_request(
        "GET", path, headers={"Host": "0.0.0.0:8765"}, app=app, transport=transport
    )

    async def run() -> web.StreamResponse:
        match = await app.router.resolve(request)
        return await match.handler(request)

    return asyncio.run(run())


def test_other_machines_get_the_page_only_when_the_mock_has_a_token() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    open_app = create_app(world)
    assert _get_from(open_app, "/__mock/", "10.0.0.5").status == 403
    assert _get_from(open_app, "/__mock/health", "10.0.0.5").status == 403
    assert _get_from(open_app, "/__mock/", "127.0.0.1").status == 200
    tokened = create_app(world, control_token="s3cret")
    # The page holds no data; everything it shows comes through requests carrying the token.
    assert _get_from(tokened, "/__mock/", "10.0.0.5").status == 200
    assert _get_from(tokened, "/__mock/health", "10.0.0.5").status == 401


def test_with_a_token_the_files_need_none_and_the_page_sends_it() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    with MockServer(world, control_token="s3cret") as server:
        page = requests.get(server.url("/__mock/"), timeout=5)
        assert page.ok and b"s3cret" not in page.content
        assert requests.get(server.url("/__mock/health"), timeout=5).status_code == 401
    script = static_bytes("app.js").decode()
    assert 'params.get("token")' in script and "location.hash" in script
    assert "Authorization = `Bearer ${state.token}`" in script


def test_no_control_api_means_no_dashboard() -> None:
    world = World.generate(WorldRecipe(live_calls=1, call_logs=1))
    with MockServer(world, control=False) as server:
        for path in ("/__mock", "/__mock/", "/__mock/static/app.js"):
            assert requests.get(server.url(path), timeout=5).status_code == 404, path
