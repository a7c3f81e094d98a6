"""JSON bodies as FastAPI renders them, and the flat snapshot of a row."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

# snapshot: the flat answer for a row, made in the world layer (the local driver gives it too).
from prosper_mock.world.flatten import snapshot as snapshot
from prosper_mock.world.records import CallLog, LiveCall

JSON_TYPE = "application/json"


def render_json(content: Any) -> bytes:
    """Starlette's ``JSONResponse.render``: compact, UTF-8, no NaN."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def json_response(
    content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=render_json(content), status=status, headers=headers, content_type=JSON_TYPE
    )


def detail_response(
    status: int, detail: Any, headers: dict[str, str] | None = None
) -> web.Response:
    """FastAPI's ``HTTPException`` answer: ``{"detail": ...}``."""
    return json_response({"detail": detail}, status=status, headers=headers)


class SnapshotCache:
    """Rendered snapshot bodies, reused while a row is unchanged.

    Rows are never mutated in place (the world replaces them), so a cached
    body is valid exactly while it was rendered from the same row object.
    """

    def __init__(self, size: int = 100_000) -> None:
        self._bodies: dict[tuple[str, int], tuple[LiveCall | CallLog, bytes]] = {}
        self._size = size

    def body(self, source: str, row: LiveCall | CallLog) -> bytes:
        key = (source, row.call_log_id)
        hit = self._bodies.get(key)
        if hit is not None and hit[0] is row:
            return hit[1]
        if len(self._bodies) >= self._size:
            self._bodies.clear()
        body = render_json(snapshot(source, row))
        self._bodies[key] = (row, body)
        return body
