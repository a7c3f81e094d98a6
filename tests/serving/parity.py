"""The mock and FastAPI (``upstream_api.py``) side by side, over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prosper_mock import MockServer, World, WorldRecipe
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
def serving() -> Iterator[Pair]:
    world = World.generate(WorldRecipe(seed=5, live_calls=3, call_logs=5))
    with serve_upstream(upstream_api()) as upstream, MockServer(world) as mock:
        yield Pair(upstream, mock.port)


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
