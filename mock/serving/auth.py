"""``serve --require-api-key``: the vendored API answers only requests carrying the key.

The check is the request pipeline's first step (``pipeline.py``), and is only put
in place when a key is set, so a mock without a key pays nothing for it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.base.net import is_loopback
from prosper_mock.base.upstream import API_KEY_HEADER
from prosper_mock.serving.render import detail_response

DEFAULT_HEADER = API_KEY_HEADER
INVALID_KEY = "Invalid API key"  # upstream's answer, with 403 (docs/semantics.md)


def api_key_check(header: str, key: str) -> Callable[[web.Request], web.Response | None]:
    """A check of ``header`` against ``key`` (constant-time): ``None`` if it matches.

    A missing or wrong key gets ``403 {"detail": "Invalid API key"}`` before any
    parameter is looked at, as upstream's security dependency answers.
    """
    expected = key.encode()

    def refusal(request: web.Request) -> web.Response | None:
        given = request.headers.get(header, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            return detail_response(403, INVALID_KEY)
        return None

    return refusal


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
