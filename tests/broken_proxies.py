"""Deliberately broken endpoints made of the clean mock and a proxy in front of it that
corrupts one thing in the answers it passes on.

Each corruption breaks exactly one rule that needs several answers to see (a wrong JSON type,
a target whose status disagrees with its calls, ids that resolve to nothing, a call log that
disagrees with its listing or its live-calls snapshot, a target that disagrees with its
listing, pages that overlap or skip); the
contract suites must catch each, and the same proxy corrupting nothing must pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import aiohttp
from aiohttp import web

from prosper_mock import MockServer

# (method, path, query) -> the answer's JSON body -> the body passed on
Corrupt = Callable[[str, str, Mapping[str, str], Any], Any]
UNKNOWN_CALL = 2_147_480_001
TARGET = re.compile(r"/api/v1/targets/[^/]+")
CALL_LOG = re.compile(r"/api/v1/call-logs/\d+")
TARGET_LIST = re.compile(r"/api/v1/campaigns/[^/]+/targets")


def proxy_app(upstream: str, corrupt: Corrupt) -> web.Application:
    """An app passing every request on to ``upstream``; 200 JSON answers through ``corrupt``."""
    app = web.Application()
    sessions: list[aiohttp.ClientSession] = []

    async def start(app: web.Application) -> None:
        sessions.append(aiohttp.ClientSession(auto_decompress=False))

    async def stop(app: web.Application) -> None:
        await sessions[0].close()

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        async with sessions[0].request(
            request.method, upstream + request.path_qs, data=body or None, headers=headers
        ) as answer:
            raw = await answer.read()
            kind = answer.headers.get("Content-Type", "")
            status = answer.status
        if status == 200 and kind.startswith("application/json") and request.method == "GET":
            changed = corrupt(request.method, request.path, dict(request.query), json.loads(raw))
            raw = json.dumps(changed).encode()
        return web.Response(body=raw, status=status, content_type="application/json")

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


@contextmanager
def proxied(server: MockServer, corrupt: Corrupt) -> Iterator[str]:
    """The base URL of a proxy in front of ``server`` that corrupts with ``corrupt``."""
    app = proxy_app(server.base_url, corrupt)
    with MockServer(app_factory=lambda _world, **_: app) as proxy:
        yield proxy.base_url


def nothing(method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
    return body


def call_length_a_number(method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
    """GET /call-logs/{id}: ``call_length`` a JSON number where the schema says string."""
    if CALL_LOG.fullmatch(path):
        return {**body, "call_length": 61.5}
    return body


def ended_target_in_progress(method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
    """GET /targets/{id} only (the list stays right): a target whose calls ended is
    'In Progress'."""
    if TARGET.fullmatch(path) and body.get("call_log_ids") and body.get("status") != "In Progress":
        return {**body, "status": "In Progress"}
    return body


def unknown_call_ids(method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
    """GET /targets/{id} only: one more ``call_log_ids`` entry, naming no call at all."""
    if TARGET.fullmatch(path) and body.get("call_log_ids"):
        return {**body, "call_log_ids": [*body["call_log_ids"], UNKNOWN_CALL]}
    return body


def listing_other_number(method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
    """GET /call-logs (the list only): every entry's ``to`` is another number."""
    if path == "/api/v1/call-logs":
        return {**body, "call_logs": [{**log, "to": "+10000000000"} for log in body["call_logs"]]}
    return body


def listing_other_phone(method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
    """GET /campaigns/{id}/targets (the list only): every entry's ``phone_number`` is another
    number than its ``GET /targets/{id}`` says."""
    if TARGET_LIST.fullmatch(path) and isinstance(body.get("targets"), list):
        entries = [{**t, "phone_number": "+10000000000"} for t in body["targets"]]
        return {**body, "targets": entries}
    return body


def snapshot_other_length(method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
    """GET /live-calls of a finished call: ``call_length`` other than its call log's."""
    if path == "/api/v1/live-calls" and body.get("source") == "call_logs":
        return {**body, "call_length": "999.0"}
    return body


def _overlapping_pages(key: str) -> Corrupt:
    """Each page after the first starts with the previous page's last item instead of its
    own first: that item is on two pages, the one it replaced on none."""
    last: dict[str, Any] = {}

    def corrupt(method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
        listed = path == "/api/v1/call-logs" or TARGET_LIST.fullmatch(path)
        if not listed or "page" not in query or not body.get(key):
            return body
        where = f"{path}?limit={query.get('limit')}"
        page, items = query["page"], body[key]
        before = last.get(f"{where}&page={int(page) - 1}")
        last[f"{where}&page={page}"] = items[-1]
        return {**body, key: [before, *items[1:]]} if before is not None else body

    return corrupt


def _skipping_pages(key: str) -> Corrupt:
    """Each page after the first leaves out its first item."""

    def corrupt(method: str, path: str, query: Mapping[str, str], body: Any) -> Any:
        listed = path == "/api/v1/call-logs" or TARGET_LIST.fullmatch(path)
        if listed and key in body and query.get("page", "0") != "0":
            return {**body, key: body[key][1:]}
        return body

    return corrupt


# (name, corruption, the rule the suites must name)
CORRUPTIONS: list[tuple[str, Corrupt, str]] = [
    ("a field of the wrong JSON type", call_length_a_number, "response-schema"),
    ("a target whose status disagrees", ended_target_in_progress, "target-status-agrees"),
    ("ids that resolve to nothing", unknown_call_ids, "call-log-ids-resolve"),
    ("a call log disagreeing with its listing", listing_other_number, "call-log-matches-listing"),
    ("a target disagreeing with its listing", listing_other_phone, "target-matches-listing"),
    (
        "a call log disagreeing with its snapshot",
        snapshot_other_length,
        "call-log-matches-snapshot",
    ),
    ("overlapping call-log pages", _overlapping_pages("call_logs"), "call-log-pages"),
    ("skipping target pages", _skipping_pages("targets"), "target-pages"),
]
