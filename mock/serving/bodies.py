"""JSON request bodies read and validated as FastAPI does, compiled from the spec.

Reading (FastAPI's request handler, ``strict_content_type`` on, its default):

- an empty body is no body: ``missing`` at ``["body"]`` when the spec requires
  one, the default (``None``) otherwise;
- a body is parsed as JSON (Python's ``json.loads`` of the bytes, as Starlette's
  ``request.json()``) only when ``Content-Type`` is ``application/json`` or
  ``application/*+json``; with any other type, or none, the raw bytes are
  validated (and fail as "not an object");
- JSON that does not parse is ``422 json_invalid`` at ``["body", <offset>]``,
  alone (no parameter is checked then); bytes ``json.loads`` cannot decode are
  ``400 {"detail":"There was an error parsing the body"}``;
- a body over the server's size limit is ``413 {"detail":"Content Too Large"}``,
  Starlette's body-limit answer through FastAPI.

Validating: a requestBody schema named ``Body_<operationId>`` is FastAPI's
model for several ``Body()`` parameters: each property is validated on its
own at ``["body", name]`` (a body that is not an object misses every one of
them). Any other schema is one parameter validated whole at ``["body", ...]``.
"""

from __future__ import annotations

import asyncio
import email.message
import json
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from prosper_mock.serving.render import JSON_TYPE, detail_response, render_json
from prosper_mock.serving.schemas import SchemaCompiler, plain
from prosper_mock.serving.spec import Operation
from prosper_mock.serving.writer import quiet_collector

# No body was sent (FastAPI's ``Undefined``): not the same as a JSON ``null``.
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()

Errors = list[dict[str, Any]]
T = TypeVar("T")
# A body this large is parsed and validated in a thread (30 000 targets, the most 1 MiB holds,
# take a quarter of a second): the event loop goes on serving the other requests meanwhile.
OFF_LOOP_BYTES = 64 * 1024
# pydantic holds the GIL for a whole validation: a long list in such a body is validated this
# many items at a time (a few milliseconds each), so the loop gets its turns in between.
SLICE_ITEMS = 1000


@dataclass(frozen=True)
class _Field:
    name: str
    adapter: TypeAdapter[Any]
    required: bool
    default: Any


class BodyValidator:
    """One operation's request body: read, parse and validate; built once at start-up."""

    def __init__(self, operation: Operation, compiler: SchemaCompiler | None = None) -> None:
        compiler = compiler or SchemaCompiler(operation.document)
        body = operation.request_body or {}
        if "$ref" in body:
            body = compiler.follow(body["$ref"])
        self.required = bool(body.get("required", False))
        # FastAPI publishes a JSON body under "application/json" alone.
        content: dict[str, Any] = body.get("content") or {}
        media: dict[str, Any] = next(iter(content.values()), {})
        schema: dict[str, Any] = media.get("schema") or {}
        written = compiler.follow(schema["$ref"]) if "$ref" in schema else schema
        self.embedded = str(written.get("title", "")).startswith("Body_") and bool(
            written.get("properties")
        )
        if self.embedded:
            required = set(written.get("required", ()))
            self.fields = tuple(
                _Field(
                    name,
                    TypeAdapter(compiler.annotation(sub)),
                    name in required,
                    compiler.field(name, sub, False).get_default(call_default_factory=True),
                )
                for name, sub in written["properties"].items()
            )
        else:
            annotation = compiler.annotation(schema)
            self.whole = TypeAdapter(annotation)
            self.lists = _list_fields(annotation)

    async def read(self, request: web.Request) -> Any:
        """The body as FastAPI hands it on (``ABSENT``, JSON data or bytes), or a response."""
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return detail_response(413, "Content Too Large")
        if not raw:
            return ABSENT
        content_type = request.headers.get("Content-Type")
        if not content_type:
            return raw
        message = email.message.Message()
        message["content-type"] = content_type
        subtype = message.get_content_subtype()
        if message.get_content_maintype() != "application" or not (
            subtype == "json" or subtype.endswith("+json")
        ):
            return raw
        try:
            if len(raw) > OFF_LOOP_BYTES:
                return await asyncio.to_thread(_quietly, json.loads, raw)
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            error = {
                "type": "json_invalid",
                "loc": ["body", exc.pos],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": exc.msg},
            }
            return web.Response(
                body=render_json({"detail": [error]}), status=422, content_type=JSON_TYPE
            )
        except Exception:  # undecodable bytes, nesting too deep: FastAPI's catch-all
            return detail_response(400, "There was an error parsing the body")

    async def validated(self, body: Any, size: int) -> tuple[Any, Errors]:
        """``validate(body)``; in a thread when the body was larger than ``OFF_LOOP_BYTES``,
        its long lists a slice at a time."""
        if size > OFF_LOOP_BYTES:
            return await asyncio.to_thread(_quietly, self._in_slices, body)
        return self.validate(body)

    def _in_slices(self, body: Any) -> tuple[Any, Errors]:
        """``validate(body)``, a model's long lists validated and turned into plain data
        ``SLICE_ITEMS`` items at a time (the model takes the validated items as they are).
        Any error, and the whole body is validated at once: FastAPI's errors in its order."""
        lists = getattr(self, "lists", {})
        if self.embedded or not lists or not isinstance(body, dict):
            return self.validate(body)
        sliced, dumped = dict(body), {}
        for alias, (name, items) in lists.items():
            value = body.get(alias)
            if not isinstance(value, list) or len(value) <= SLICE_ITEMS:
                continue
            done: list[Any] = []
            plain_items: list[Any] = []
            for start in range(0, len(value), SLICE_ITEMS):
                try:
                    chunk = items.validate_python(value[start : start + SLICE_ITEMS])
                except ValidationError:
                    return self.validate(body)
                done.extend(chunk)
                plain_items.extend(items.dump_python(chunk, by_alias=True))
            sliced[alias], dumped[name] = done, plain_items
        try:
            model = self.whole.validate_python(sliced, from_attributes=True)
        except ValidationError:
            return self.validate(body)
        rest = model.model_dump(by_alias=True, exclude=set(dumped))
        fields = type(model).model_fields
        return {
            (f.alias or n): dumped[n] if n in dumped else rest[f.alias or n]
            for n, f in fields.items()
        }, []

    def validate(self, body: Any) -> tuple[Any, Errors]:
        """``(value, errors)`` for what ``read`` returned; the value is plain data."""
        if not self.embedded:
            return _validate(self.whole, body, self.required, None, ["body"])
        values: dict[str, Any] = {}
        errors: Errors = []
        for f in self.fields:
            loc: list[Any] = ["body", f.name]
            if body is ABSENT or isinstance(body, bytes):
                value = ABSENT
            elif isinstance(body, dict):
                value = body.get(f.name, ABSENT)
            else:  # FastAPI's ``.get`` fails on a list, a scalar or null
                errors.append(_missing(loc))
                continue
            v, errs = _validate(f.adapter, value, f.required, f.default, loc)
            errors.extend(errs)
            values[f.name] = v
        return values, errors


def _list_fields(annotation: Any) -> dict[str, tuple[str, TypeAdapter[list[Any]]]]:
    """A body model's fields that hold a list of models (``targets``), by their JSON name:
    the field's name and an adapter for a slice of such a list."""
    if not _is_model(annotation):
        return {}
    found: dict[str, tuple[str, TypeAdapter[list[Any]]]] = {}
    for name, field in annotation.model_fields.items():
        for member in (field.annotation, *typing.get_args(field.annotation)):
            item = (typing.get_args(member) or (None,))[0]
            if typing.get_origin(member) is list and _is_model(item):
                found[field.alias or name] = (name, TypeAdapter(member))
    return found


def _quietly(work: Callable[[Any], T], value: Any) -> T:
    # A whole-heap collection would stop the loop too, for as long as the heap is large.
    with quiet_collector():
        return work(value)


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _validate(
    adapter: TypeAdapter[Any], value: Any, required: bool, default: Any, loc: list[Any]
) -> tuple[Any, Errors]:
    if value is ABSENT:
        return (None, [_missing(loc)]) if required else (default, [])
    try:
        return plain(adapter.validate_python(value, from_attributes=True)), []
    except ValidationError as exc:
        return None, [
            {**err, "loc": [*loc, *err.get("loc", ())]} for err in exc.errors(include_url=False)
        ]


def _missing(loc: list[Any]) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


def render_errors(errors: Errors) -> bytes:
    """FastAPI's ``422`` body for ``errors``; what FastAPI cannot render, made renderable.

    An input echoed back is rendered as FastAPI's ``jsonable_encoder`` would:
    bytes (a body that was not JSON) become text. Where FastAPI itself fails
    (a ``500``: NaN or Infinity parsed from the body, undecodable bytes, a lone
    surrogate such as ``"\\ud800"`` in a key or a value, nesting deeper than the stack
    allows), those inputs become text (``"nan"``, ``"?"``), or ``null`` below 200 levels
    of nesting, so the mock still answers ``422`` (kit decision 10).
    """
    return rendered_errors(errors)[0]


def rendered_errors(errors: Errors) -> tuple[bytes, bool]:
    """``render_errors(errors)``, and whether FastAPI renders that body itself (``False``:
    FastAPI answers ``500 Internal Server Error`` instead, failing to encode an input)."""
    content = {"detail": errors}
    try:
        body = json.dumps(
            content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_decoded
        ).encode("utf-8")
    except (ValueError, RecursionError):  # Unicode{En,De}codeError (a lone surrogate) are
        return render_json({"detail": jsonable(errors)}), False
    return body, True


def _decoded(value: Any) -> str:
    """What ``jsonable_encoder`` makes of a value JSON lacks: bytes decoded strictly, as there."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def jsonable(value: Any, depth: int = 0) -> Any:
    """``value`` with only what JSON can carry: text for the rest, ``None`` when too deep."""
    if depth > 200:
        return None
    if isinstance(value, dict):
        return {_utf8(str(k)): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return _utf8(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    return _text(value)


def _utf8(text: str) -> str:
    """``text`` as UTF-8 can hold it: a lone surrogate (``"\\ud800"``, key or value) is ``?``."""
    return text.encode("utf-8", "replace").decode("utf-8")
