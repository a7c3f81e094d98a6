"""What a control request must pass before its operation runs: who sent it, and its body.

Control requests are answered only from loopback clients unless a token is configured;
with a token, every control request must carry it (``Authorization: Bearer <token>``),
compared in constant time. Web pages are kept out whatever the client's address: a
request with a foreign ``Origin`` (or ``Sec-Fetch-Site: cross-site``) is refused, and
without a token so is a ``Host`` that is not the mock's own address (DNS rebinding would
otherwise let any page reach a mock on loopback), unless the user allowed that origin or
host. A mock serving several worker processes refuses every change (each has a copy).
Bodies must be JSON objects, within a size limit, valid against the operation's type.
"""

from __future__ import annotations

import asyncio
import hmac
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from prosper_mock.base import jsontext
from prosper_mock.base.net import is_loopback
from prosper_mock.base.problems import one_line
from prosper_mock.serving.bodies import OFF_LOOP_BYTES, SLICE_ITEMS
from prosper_mock.serving.render import detail_response
from prosper_mock.serving.state import READ_ONLY_DETAIL, STATE
from prosper_mock.serving.writer import quiet_collector

# Where a route keeps the body ``read_body`` read.
BODY: web.RequestKey[dict[str, Any]] = web.RequestKey("prosper_control_body", dict)


def body_of(request: web.Request) -> dict[str, Any]:
    """The body the guard read and validated against the operation's body type."""
    return request[BODY]


@dataclass(frozen=True)
class ControlPolicy:
    """Who may drive the control API, besides loopback clients of the mock's own address."""

    token: str | None = None
    allow_origins: frozenset[str] = frozenset()  # web origins allowed, e.g. http://host:3000
    allow_hosts: frozenset[str] = frozenset()  # Host names (any port) or host:port allowed


@dataclass(frozen=True)
class BodyRule:
    """An operation's body: its type, whether it is required, and its size limit in bytes;
    ``lists``: the body's fields that hold a list (a world's rows, ``list_fields``)."""

    adapter: TypeAdapter[Any]
    required: bool
    limit: int
    lists: Mapping[str, TypeAdapter[list[Any]]] = field(default_factory=dict)


def list_fields(kind: Any) -> dict[str, TypeAdapter[list[Any]]]:
    """A ``TypedDict`` body's fields that hold a list, each with a validator of a slice of it
    (a large body's long lists are validated a slice at a time, ``_checked``)."""
    if not (isinstance(kind, type) and hasattr(kind, "__total__")):  # not a TypedDict
        return {}
    hints = typing.get_type_hints(kind, include_extras=True)
    return {
        name: TypeAdapter(hint) for name, hint in hints.items() if typing.get_origin(hint) is list
    }


class BodyError(Exception):
    """A body refused: the status and detail to answer, and whether to close the connection.

    Raised and answered inside the guard, where HTTP is already the language: it never
    leaves a control route, so it is no part of the kit's error hierarchy.
    """

    def __init__(self, status: int, detail: str, close: bool = False) -> None:
        super().__init__(detail)
        self.status, self.detail, self.close = status, detail, close

    def response(self) -> web.Response:
        refused = detail_response(self.status, self.detail)
        if self.close:  # the unread rest of the body must not be taken for a request
            refused.force_close()
        return refused


def refusal(
    request: web.Request, policy: ControlPolicy, *, token_needed: bool = True
) -> web.Response | None:
    """The answer that refuses ``request`` (a foreign page, a bad token, a change to a
    read-only world...), or ``None`` when it may go on.

    ``token_needed=False`` is for the dashboard's own files (``dashboard``): they hold no
    data, and a browser cannot send a token when it opens a page, so with a token set they
    are served without it; every request the page then makes carries it. Without a token
    they are refused exactly as control requests are.
    """
    foreign = _foreign_page(request, policy)
    if foreign is not None:
        return detail_response(403, foreign)
    if policy.token is not None and not token_needed:
        return None
    if policy.token is not None:
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {policy.token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return detail_response(
                401, "control token missing or wrong", headers={"WWW-Authenticate": "Bearer"}
            )
    elif not is_loopback(request.remote):
        return detail_response(
            403,
            "control endpoints answer loopback clients only "
            "(start the mock with a control token to allow others)",
        )
    if request.app[STATE].read_only and request.method != "GET":
        return detail_response(409, READ_ONLY_DETAIL)
    return None


async def read_body(request: web.Request, rule: BodyRule) -> dict[str, Any]:
    """The request's JSON object body, read in chunks up to the rule's limit, and validated."""
    if request.body_exists and request.content_length != 0 and not _is_json(request.content_type):
        # Also what keeps out a page's "simple" cross-origin POST (text/plain, form data).
        raise BodyError(
            415,
            "control request bodies must be JSON (Content-Type: application/json), "
            f"not {request.headers.get('Content-Type', 'none')!r}",
        )
    too_large = BodyError(
        413, f"the body is over this endpoint's limit of {size_text(rule.limit)}", close=True
    )
    if request.content_length is not None and request.content_length > rule.limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > rule.limit:  # stop reading: the rest is never buffered
            raise too_large
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if rule.required:
            raise BodyError(422, "a JSON object body is required")
        raw = b"{}"
    if len(raw) > OFF_LOOP_BYTES:  # a world file: seconds of parsing, beside the serving
        return await asyncio.to_thread(_checked_quietly, raw, rule)
    return _checked(raw, rule)


def _checked(raw: bytes, rule: BodyRule, in_slices: bool = False) -> dict[str, Any]:
    data = _parse_json(raw)
    if not isinstance(data, dict):
        raise BodyError(422, "body must be a JSON object")
    try:
        if not (in_slices and _valid_in_slices(data, rule)):
            rule.adapter.validate_python(data, strict=True)
    except ValidationError as exc:
        raise BodyError(422, _problems(exc)) from None
    return data


def _valid_in_slices(data: dict[str, Any], rule: BodyRule) -> bool:
    """Whether ``data`` is valid, its long lists checked ``SLICE_ITEMS`` rows at a time:
    pydantic holds the GIL for a whole call, seconds for a world of a million rows. ``False``
    when it is not (the whole is then checked at once, for the refusal's exact words)."""
    long = {
        name: items
        for name, items in rule.lists.items()
        if isinstance(data.get(name), list) and len(data[name]) > SLICE_ITEMS
    }
    try:
        rule.adapter.validate_python(
            {k: [] if k in long else v for k, v in data.items()}, strict=True
        )
        for name, items in long.items():
            rows = data[name]
            for start in range(0, len(rows), SLICE_ITEMS):
                items.validate_python(rows[start : start + SLICE_ITEMS], strict=True)
    except ValidationError:
        return False
    return True


def _checked_quietly(raw: bytes, rule: BodyRule) -> dict[str, Any]:
    with quiet_collector():  # a whole-heap collection would stop the loop too
        return _checked(raw, rule, in_slices=True)


def _parse_json(raw: bytes) -> Any:
    """Strict JSON (RFC 8259, ``jsontext``), or a 422 saying why not."""
    try:
        return jsontext.loads(raw)
    except ValueError as exc:  # not JSON, not UTF-8, or JSON the standard refuses
        raise BodyError(422, f"body is not valid JSON: {exc}") from None


def _problems(exc: ValidationError) -> str:
    """pydantic's errors as ``body.field: message``, the first few."""
    return one_line(
        exc.errors(include_url=False),
        "body",
        limit=3,
        count_rest=True,
        messages={"extra_forbidden": "unknown key"},
    )


def size_text(limit: int) -> str:
    """A byte count as people write it: ``1 MiB``, ``256 KiB``, ``1000 bytes``."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= factor and limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} bytes"


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _foreign_page(request: web.Request, policy: ControlPolicy) -> str | None:
    """Why a request seems to come from a web page the user did not allow, or ``None``."""
    host = request.headers.get("Host", "").lower()
    if policy.token is None and not _own_host(request, host, policy):
        return (
            f"control requests must name this mock in Host (such as 127.0.0.1 or localhost "
            f"with its port), not {host!r}: a web page may have pointed that name here; "
            "allow it with --control-allow-host, or set a control token"
        )
    origin = request.headers.get("Origin")
    allowed = origin is not None and (
        origin.lower() == f"{request.scheme}://{host}" or origin.lower() in policy.allow_origins
    )
    if origin is not None and not allowed:
        return (
            f"control requests from a web page (Origin {origin}) are refused: "
            f"start the mock with --control-allow-origin {origin} to allow that page"
        )
    site = request.headers.get("Sec-Fetch-Site", "").lower()
    if site in ("cross-site", "same-site") and not allowed:
        return (
            f"control requests from a web page (Sec-Fetch-Site: {site}) are refused: "
            "start the mock with --control-allow-origin ORIGIN to allow a page"
        )
    return None


def _own_host(request: web.Request, host: str, policy: ControlPolicy) -> bool:
    """Whether ``host`` (a Host header) names the address this connection reached."""
    name, port = split_host(host)
    if host in policy.allow_hosts or name in policy.allow_hosts:
        return True
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return False
    bound, bound_port = str(sockname[0]).split("%")[0], int(sockname[1])
    names = {"127.0.0.1", "localhost", "[::1]", f"[{bound}]" if ":" in bound else bound}
    return name in names and (port == bound_port or (port is None and bound_port == 80))


def split_host(host: str) -> tuple[str, int | None]:
    """A ``Host`` header's name and port (``None`` without one; a bare IPv6 has none)."""
    name, sep, port = host.rpartition(":")
    if not sep or name.endswith(":") or not port.isdigit():  # no port (or a bare IPv6)
        return host, None
    return name, int(port)
