"""HTTP answers: JSON bodies as FastAPI renders them, the flat snapshot of a row, and
``render_answer``, the one place an operation's answer becomes a response."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from prosper_mock.serving.semantics import Semantics
from prosper_mock.world.flatten import snapshot
from prosper_mock.world.lookup import Found, NotFound, NothingToLookUp
from prosper_mock.world.records import CallLog, LiveCall

JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Document:
    """A JSON document an operation answers with ``status`` (a read's page, a write's result)."""

    content: Any
    status: int = 200


@dataclass(frozen=True)
class Unknown:
    """The operation names a campaign, target or call log the world does not have: the kit's
    not-found answer (``Semantics.not_found_status``) with ``detail``."""

    detail: str


@dataclass(frozen=True)
class Incomplete:
    """A request that passed validation but names nothing to act on (a launch with neither
    ``target_ids`` nor ``count``): answered as ``Semantics.missing_lookup`` says."""

    detail: str
    loc: tuple[str, ...]


# What an operation answers: a lookup's outcome, a document, a refusal, or a response it
# rendered itself (the deliberately broken implementations the contract suite is tested
# against do).
Answer = Found | NotFound | NothingToLookUp | Document | Unknown | Incomplete | web.StreamResponse


def render_json(content: Any) -> bytes:
    """Starlette's ``JSONResponse.render``: compact, UTF-8, no NaN."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def render_json_in_slices(content: Any, items: int = 1000) -> bytes:
    """``render_json(content)``, the same bytes, with the long lists of a top-level object
    encoded ``items`` at a time: the encoder holds the GIL for a whole call, and 30 000
    targets take it for a tenth of a second at once (``writer.py`` renders there)."""
    if not isinstance(content, dict) or not all(isinstance(k, str) for k in content):
        return render_json(content)
    parts = []
    for key, value in content.items():
        if isinstance(value, list) and len(value) > items:
            slices = (render_json(value[i : i + items])[1:-1] for i in range(0, len(value), items))
            rendered = b"[" + b",".join(slices) + b"]"
        else:
            rendered = render_json(value)
        parts.append(render_json(key) + b":" + rendered)
    return b"{" + b",".join(parts) + b"}"


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


def render_answer(
    answer: Answer, semantics: Semantics, snapshots: SnapshotCache
) -> web.StreamResponse:
    """The response for an operation's ``answer``, as upstream words it (``semantics``)."""
    if isinstance(answer, Found):  # the hot path first
        body = snapshots.body(answer.source, answer.row)
        return web.Response(body=body, content_type=JSON_TYPE)
    if isinstance(answer, Document):
        return json_response(answer.content, status=answer.status)
    if isinstance(answer, web.StreamResponse):
        return answer
    if isinstance(answer, NotFound):
        return detail_response(semantics.not_found_status, semantics.not_found_detail)
    if isinstance(answer, Unknown):
        return detail_response(semantics.not_found_status, answer.detail)
    loc = ("query", answer.missing) if isinstance(answer, NothingToLookUp) else answer.loc
    if semantics.missing_lookup == 422:
        error = {"type": "missing", "loc": list(loc), "msg": "Field required", "input": None}
        return json_response({"detail": [error]}, status=422)
    return detail_response(400, answer.detail)
