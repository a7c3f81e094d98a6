"""``serve --require-api-key``: the vendored API answers only requests carrying the key.

The check wraps an operation's responder (the same ``(request, query) -> response``
shape the fault injector wraps), and is only put in place when a key is set, so a
mock without a key pays nothing for it.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from .render import detail_response

Responder = Callable[[web.Request, list[tuple[str, str]]], Awaitable[web.StreamResponse]]

DEFAULT_HEADER = "X-Api-Key"
INVALID_KEY = "Invalid API key"  # upstream's answer, with 403 (DOMAIN.md)


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
