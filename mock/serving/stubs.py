"""Stubs: exact answers layered over the world, each checked against the vendored spec.

A stub names a request (method, a path or the spec's path template, query parameters, a
body that is a JSON subset of the request's, or exactly it) and the answer to give it
(status, body, headers, a delay), ``times`` times (``None``: until removed), after
letting ``after`` matching requests through to the world. A request no stub matches gets
the world's answer. A stub's answer for a status its operation documents must conform
to that response's schema, else it is refused naming the JSON path and the schema rule
(``StubError``), unless it says ``"unchecked": true``. Requests are matched as journal
verification matches them (``matching.RequestPattern``).

The stubs are part of the mock's state (``MockState.stubs``): reset removes them, a
snapshot keeps them, and a state file stores them (``to_list``, read back by ``load``).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from prosper_mock.serving.matching import ANY, RequestPattern
from prosper_mock.serving.spec import Operation, Spec, path_pattern
from prosper_mock.world.errors import WorldError

MAX_DELAY = 60.0  # seconds a stub may wait before answering
MAX_STUBS = 1000


class StubError(WorldError):
    """A stub the mock refuses: not a request any operation answers, or an answer the spec
    does not allow; the message says which part and why."""


class UnknownStub(StubError):
    """No stub has this id (removed, or it answered its ``times``)."""


class StubConflict(StubError):
    """A stub with this id exists already, or there are ``MAX_STUBS`` of them."""


NOT_JSON: Any = object()  # a request body that is not JSON (or was not read): no subset of it


@dataclass(frozen=True)
class Stub:
    """One stub: the requests it matches, what it answers, and how often."""

    id: str
    request: RequestPattern  # its path as given: a path, or the operation's template
    operation_id: str
    status: int
    body: Any = ANY  # ANY: no body
    headers: Mapping[str, str] = field(default_factory=dict)
    times: int | None = None
    after: int = 0
    delay: float = 0.0
    unchecked: bool = False

    def answer_bytes(self) -> bytes | None:
        if self.body is ANY:
            return None
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()

    def to_dict(self) -> dict[str, Any]:
        request = self.request
        data: dict[str, Any] = {
            "id": self.id,
            "method": request.method,
            "path": request.path,
            "operation_id": self.operation_id,
            "status": self.status,
            "headers": dict(self.headers),
            "query": dict(request.query),
            "times": self.times,
            "after": self.after,
            "delay": self.delay,
            "unchecked": self.unchecked,
        }
        if self.body is not ANY:
            data["body"] = self.body
        if request.reads_body:
            data["request_body"] = request.body
            data["request_body_exact"] = request.body_exact
        return data


_FIELDS = {
    "method", "path", "query", "request_body", "request_body_exact", "status", "body",
    "headers", "times", "after", "delay", "unchecked", "id",
}  # fmt: skip
_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def parse_stub(data: Any, spec: Spec) -> Stub:
    """The stub ``data`` (a JSON object) declares, checked against ``spec``; ``StubError``
    says what is wrong. Without an ``id``, one is made up."""
    if not isinstance(data, dict):
        raise StubError("a stub is a JSON object")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise StubError(f"unknown stub fields {unknown}")
    stub_id = data.get("id", uuid.uuid4().hex[:12])
    if not isinstance(stub_id, str) or not _ID.fullmatch(stub_id):
        raise StubError("id must be 1 to 64 letters, digits, '_', '.' or '-'")
    method, path = data.get("method"), data.get("path")
    if not isinstance(method, str) or not isinstance(path, str) or not path.startswith("/"):
        raise StubError("method and path are required: a method and a path from /")
    method = method.upper()
    operation = _operation(spec, method, path)
    status = data.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise StubError(f"status must be an integer from 200 to 599, got {status!r}")
    headers = _strings(data.get("headers", {}), "headers")
    query = _strings(data.get("query", {}), "query")
    times = data.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise StubError(f"times must be a positive integer (or null: until removed), got {times!r}")
    after = data.get("after", 0)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise StubError(f"after must be an integer from 0, got {after!r}")
    delay = data.get("delay", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY:
        raise StubError(f"delay must be a number of seconds from 0 to {MAX_DELAY:g}, got {delay!r}")
    unchecked, exact = data.get("unchecked", False), data.get("request_body_exact", False)
    if not isinstance(unchecked, bool) or not isinstance(exact, bool):
        raise StubError("unchecked and request_body_exact must be true or false")
    body = data.get("body", ANY)
    if not unchecked:
        check_answer(operation, status, body)
    return Stub(
        id=stub_id,
        request=RequestPattern(
            method, path, query, body=data.get("request_body", ANY), body_exact=exact
        ),
        operation_id=operation.operation_id,
        status=status,
        body=body,
        headers=headers,
        times=times,
        after=after,
        delay=float(delay),
        unchecked=unchecked,
    )


def _strings(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise StubError(f"{name} must be an object of strings")
    return dict(value)


def _operation(spec: Spec, method: str, path: str) -> Operation:
    """The operation of ``spec`` whose template is ``path`` or matches it."""
    found = [o for o in spec.operations() if o.path == path or path_pattern(o.path).fullmatch(path)]
    if not found:
        raise StubError(f"no operation of the API has the path {path}")
    for operation in found:
        if operation.method == method:
            return operation
    methods = sorted({o.method for o in found})
    raise StubError(f"{path} has no {method} operation (it has {', '.join(methods)})")


def check_answer(operation: Operation, status: int, body: Any) -> None:
    """Refuse (``StubError``) a body that breaks the schema of ``operation``'s documented
    ``status`` response, naming the JSON path and the schema rule; an undocumented status
    is not checked."""
    response = operation.responses.get(str(status))
    if response is None:
        return
    schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
    if schema is None:
        return
    if body is ANY:
        raise StubError(
            f"the spec documents a JSON body for {status} of {operation.operation_id}: give "
            'the stub a body (or "unchecked": true)'
        )
    from openapi_schema_validator import OAS31Validator

    root = {**schema, "components": operation.document.get("components", {})}
    errors = sorted(OAS31Validator(root).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        named = "; ".join(
            f"at {_where(e.absolute_path)}: {e.message} (schema rule: {e.validator})"
            for e in errors[:3]
        )
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise StubError(
            f"the body does not conform to the spec's {status} response of "
            f'{operation.operation_id}: {named}{more}; "unchecked": true accepts it anyway'
        )


def _where(path: Iterable[Any]) -> str:
    """A JSON path as ``$.targets[0].id``."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


@dataclass
class _Held:
    stub: Stub
    seen: int = 0  # matching requests so far (``after`` of them went to the world)
    answered: int = 0


class Stubs:
    """The stubs in force, oldest first (the first that matches answers); thread-safe."""

    def __init__(self) -> None:
        self._held: list[_Held] = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._held)

    def __len__(self) -> int:
        return len(self._held)

    def add(self, stub: Stub) -> Stub:
        with self._lock:
            if len(self._held) >= MAX_STUBS:
                raise StubConflict(f"at most {MAX_STUBS} stubs: remove some first")
            if any(h.stub.id == stub.id for h in self._held):
                raise StubConflict(f"a stub with id {stub.id!r} exists already")
            self._held.append(_Held(stub))
        return stub

    def get(self, stub_id: str) -> dict[str, Any] | None:
        with self._lock:
            for h in self._held:
                if h.stub.id == stub_id:
                    return self._listed(h)
        return None

    def remove(self, stub_id: str) -> bool:
        with self._lock:
            kept = [h for h in self._held if h.stub.id != stub_id]
            removed, self._held = len(kept) != len(self._held), kept
        return removed

    def clear(self) -> None:
        with self._lock:
            self._held = []

    def take(self, method: str, path: str, params: Mapping[str, str], body: Any) -> Stub | None:
        """The stub that answers this request now, if any (counting it as answered; a stub
        answered ``times`` times is then gone)."""
        with self._lock:
            for h in self._held:
                if not h.stub.request.matches(method, path, params, body):
                    continue
                h.seen += 1
                if h.seen <= h.stub.after:
                    return None  # the world answers this one
                h.answered += 1
                if h.stub.times is not None and h.answered >= h.stub.times:
                    self._held.remove(h)
                return h.stub
        return None

    @staticmethod
    def _listed(h: _Held) -> dict[str, Any]:
        return {**h.stub.to_dict(), "seen": h.seen, "answered": h.answered}

    def to_list(self) -> list[dict[str, Any]]:
        """Every stub as the control API lists it (with ``seen`` and ``answered``)."""
        with self._lock:
            return [self._listed(h) for h in self._held]

    def saved(self) -> list[tuple[Stub, int, int]]:
        """The stubs and their counts, for ``restore``."""
        with self._lock:
            return [(h.stub, h.seen, h.answered) for h in self._held]

    def restore(self, saved: list[tuple[Stub, int, int]]) -> None:
        with self._lock:
            self._held = [_Held(replace(s), seen, answered) for s, seen, answered in saved]

    def load(self, data: Any, spec: Spec) -> None:
        """Replace the stubs by those ``to_list`` wrote (checked again against ``spec``);
        ``StubError`` says which one is wrong, and then none is replaced."""
        if not isinstance(data, list) or len(data) > MAX_STUBS:
            raise StubError(f"the stubs must be a list of at most {MAX_STUBS}")
        held: list[_Held] = []
        for number, item in enumerate(data):
            if not isinstance(item, dict):
                raise StubError(f"stub {number}: a stub is a JSON object")
            item = dict(item)  # the counts are taken out of a copy
            counts = [item.pop(k, 0) for k in ("seen", "answered")]
            if not all(type(c) is int and c >= 0 for c in counts):
                raise StubError(f"stub {number}: seen and answered must be integers from 0")
            item.pop("operation_id", None)
            try:
                stub = parse_stub(item, spec)
            except StubError as exc:
                raise StubError(f"stub {number}: {exc}") from None
            if any(h.stub.id == stub.id for h in held):
                raise StubError(f"stub {number}: a stub with id {stub.id!r} exists already")
            held.append(_Held(stub, *counts))
        with self._lock:
            self._held = held
