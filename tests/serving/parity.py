"""The mock and FastAPI (``upstream_api.py``) side by side, over real sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from prosper_mock import MockServer, World, WorldRecipe
from prosper_mock.serving.pipeline import path_params
from prosper_mock.serving.render import Answer, Document
from prosper_mock.serving.spec import load_spec
from prosper_mock.serving.state import MockState
from tests.rawhttp import RawResponse, request
from tests.serving.upstream_api import upstream_api
from tests.upstream import serve_upstream

JSON = b"Content-Type: application/json\r\n"


@dataclass(frozen=True)
class Pair:
    upstream: int  # FastAPI's port
    mock: int

    def both(
        self, method: bytes, target: bytes, headers: bytes = b"", body: bytes | None = None
    ) -> tuple[RawResponse, RawResponse]:
        return (
            request("127.0.0.1", self.upstream, target, method, headers, body=body),
            request("127.0.0.1", self.mock, target, method, headers, body=body),
        )


@contextmanager
def serving(upstream_app: FastAPI | None = None, **mock_options: Any) -> Iterator[Pair]:
    """FastAPI (``upstream_api()`` unless given) and a mock (``MockServer`` options), both up."""
    world = World.generate(WorldRecipe(seed=5, live_calls=3, call_logs=5))
    with (
        serve_upstream(upstream_app or upstream_api()) as upstream,
        MockServer(world, **mock_options) as mock,
    ):
        yield Pair(upstream, mock.port)


@contextmanager
def echoing() -> Iterator[Pair]:
    """Both sides answer a request they accept with ``{"path": <its path parameters>}``.

    So a ``200`` shows, byte for byte, the path parameters each framework decoded:
    Starlette's ``path_params`` (the path as uvicorn decoded it) and the mock's
    (``pipeline.path_params``, what its validation reads).
    """
    app = upstream_api()

    @app.middleware("http")
    async def echo(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Any:
        response = await call_next(request)
        if response.status_code != 200:
            return response
        return JSONResponse({"path": request.scope.get("path_params", {})})

    async def echo_path(request: web.Request, values: dict[str, Any], state: MockState) -> Answer:
        return Document({"path": dict(path_params(request))})

    echoes = {op.operation_id: echo_path for op in load_spec().operations()}
    with serving(app, operations=echoes) as pair:
        yield pair


def assert_same_validation(fastapi: RawResponse, mock: RawResponse) -> None:
    """FastAPI's refusals (400, 404, 405, 422) are the mock's, byte for byte.

    What FastAPI accepts the mock accepts too: its operation's answer or ``501``, never ``422``.
    Where FastAPI itself fails (a ``500`` rendering a NaN it parsed), the mock must not.
    """
    if fastapi.status in (400, 404, 405, 422):
        assert (mock.status, mock.body) == (fastapi.status, fastapi.body)
        assert mock.headers.get("content-type") == fastapi.headers.get("content-type")
    elif fastapi.status == 200:
        assert mock.status != 422, mock.body  # the operation's own answer may be anything else
        assert mock.body != b'{"detail":"There was an error parsing the body"}'
        assert mock.status < 500 or mock.status == 501, mock.body
    else:
        assert fastapi.status == 500, fastapi
        assert mock.status < 500, mock.body


def assert_same_answer(fastapi: RawResponse, mock: RawResponse) -> None:
    """Status, body and ``Content-Type`` are FastAPI's, byte for byte (on ``echoing()``).

    Where FastAPI itself fails (``500``: a refusal echoing bytes that are not UTF-8), the
    mock answers the ``422`` FastAPI meant (kit decision 10).
    """
    if fastapi.status == 500:
        assert mock.status == 422, mock.body
        assert mock.headers.get("content-type") == "application/json"
        return
    assert (mock.status, mock.body) == (fastapi.status, fastapi.body)
    assert mock.headers.get("content-type") == fastapi.headers.get("content-type")
