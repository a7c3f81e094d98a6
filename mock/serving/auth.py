"""``serve --require-api-key``: the vendored API answers only requests carrying the key.

The check wraps an operation's responder (the same ``(request, query) -> response``
shape the fault injector wraps), and is only put in place when a key is set, so a
mock without a key pays nothing for it.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.base.net import is_loopback
from prosper_mock.base.upstream import API_KEY_HEADER
from prosper_mock.serving.render import detail_response

Responder = Callable[[web.Request, list[tuple[str, str]]], Awaitable[web.StreamResponse]]

DEFAULT_HEADER = API_KEY_HEADER
INVALID_KEY = "Invalid API key"  # upstream's answer, with 403 (docs/semantics.md)


def require_api_key(respond: Responder, header: str, key: str) -> Responder:
    """``respond``, behind a check of ``header`` against ``key`` (constant-time).

    A missing or wrong key gets ``403 {"detail": "Invalid API key"}`` before any
    parameter is looked at, as upstream's security dependency answers.
    """
    expected = key.encode()

    async def checked(request: web.Request, query: list[tuple[str, str]]) -> web.StreamResponse:
        given = request.headers.get(header, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            return detail_response(403, INVALID_KEY)
        return await respond(request, query)

    return checked


class InsecureKeyError(ProsperMockError, ValueError):
    """Refusing to send an API key in clear text to a host that is not this machine."""


def check_key_transport(base_url: str, sends_key: bool, allow_insecure: bool) -> None:
    """An API key goes over plain http only to loopback, unless the user insists."""
    parts = urlsplit(base_url)
    if not sends_key or parts.scheme == "https" or allow_insecure:
        return
    host = parts.hostname or ""
    if not is_loopback(host):
        raise InsecureKeyError(
            f"refusing to send the API key over plain http to {host}: use https, "
            "or pass --allow-insecure-key (pytest: --prosper-allow-insecure-key) if you mean it"
        )
