"""Fault injection for the vendored API: latency, error answers, dropped, truncated, slow.

A fault is chosen per request by the ``X-Mock-Fault`` header, or by rules set
through ``/__mock/faults``; rules fire with a probability drawn from the seed
and the request's sequence number, so a run is reproducible. Nothing is
injected unless asked, and control endpoints are never faulted.

Header grammar (faults separated by ``,``; options by ``;``)::

    X-Mock-Fault: latency=200              # wait 200 ms, then answer normally
    X-Mock-Fault: latency=100-500          # a seeded wait between 100 and 500 ms
    X-Mock-Fault: status=503;retry_after=2 # answer 503 {"detail": ...} with Retry-After: 2
    X-Mock-Fault: status=429;detail=Slow down
    X-Mock-Fault: drop                     # close the connection without an answer
    X-Mock-Fault: truncate=20              # send 20 bytes of the body, then close
    X-Mock-Fault: slow=50                  # send the body in 16-byte chunks, 50 ms apart

Numbers are written in the digits 0-9 alone; spaces and tabs may surround ``,`` and ``;``
(as in an HTTP list), never ``=``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from http.client import responses
from typing import Any

from aiohttp import web

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.serving.connections import log_dropped
from prosper_mock.serving.render import detail_response
from prosper_mock.world.generate.random import Draw

HEADER = "X-Mock-Fault"
KINDS = ("latency", "status", "drop", "truncate", "slow")
OPTIONS = {"status": {"retry_after", "detail"}}  # the only kind with options
OWS = " \t"  # HTTP's optional whitespace (RFC 9110 5.6.3), allowed around `,` and `;`
MAX_DIGITS = 18


class FaultError(ProsperMockError, ValueError):
    """A fault that cannot be understood; the message says what is wrong."""


@dataclass(frozen=True)
class Fault:
    kind: str
    min_ms: int = 0  # latency (and slow: the pause between chunks)
    max_ms: int = 0
    status: int = 0
    detail: str | None = None
    retry_after: int | None = None
    bytes: int = 0  # truncate


@dataclass(frozen=True)
class FaultRule:
    """Apply ``faults`` with ``probability`` to requests whose parameters include ``match``."""

    faults: tuple[Fault, ...]
    probability: float = 1.0
    match: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "faults": [_fault_text(f) for f in self.faults],
            "probability": self.probability,
            "match": dict(self.match),
        }


def parse_faults(text: str) -> tuple[Fault, ...]:
    """Parse the header grammar above; raises ``FaultError``."""
    faults = []
    for part in (p.strip(OWS) for p in text.split(",")):
        if not part:
            continue
        head, *options = [o.strip(OWS) for o in part.split(";")]
        kind, equals, value = head.partition("=")
        opts = {name: v for name, _, v in (o.partition("=") for o in options if o)}
        try:
            faults.append(_fault(kind.lower(), value, opts, bool(equals)))
        except ValueError as exc:
            raise FaultError(f"bad fault {part!r}: {exc}") from None
    if not faults:
        raise FaultError("no fault given")
    return tuple(faults)


def _number(text: str, name: str) -> int:
    """A number of the grammar: the digits 0-9 alone (raises ``ValueError`` naming ``name``).

    ``int()`` would also take a sign, ``_`` between digits, surrounding whitespace and other
    scripts' digits (``4_99``, `` 499``, full-width ``499``), none of which the grammar has.
    """
    if not text or len(text) > MAX_DIGITS or not all("0" <= c <= "9" for c in text):
        raise ValueError(
            f"{name} must be a whole number written in the digits 0-9 "
            f"(at most {MAX_DIGITS} of them)"
        )
    return int(text)


def _fault(kind: str, value: str, opts: dict[str, str], has_value: bool) -> Fault:
    allowed = OPTIONS.get(kind, set())
    if set(opts) - allowed:
        extra = ", ".join(sorted(set(opts) - allowed))
        raise ValueError(
            f"unknown option {extra} (options: {', '.join(sorted(allowed))})"
            if allowed
            else f"{kind} takes no options (got {extra})"
        )
    if kind == "latency" or kind == "slow":
        low, dash, high = value.partition("-")
        lo = _number(low, "milliseconds")
        hi = _number(high, "milliseconds") if dash else lo
        if not 0 <= lo <= hi <= 60_000:
            raise ValueError("milliseconds must be 0 <= min <= max <= 60000")
        return Fault(kind, min_ms=lo, max_ms=hi)
    if kind == "status":
        status = _number(value, "status")
        if not 400 <= status <= 599:
            raise ValueError("status must be 4xx or 5xx")
        retry = _number(opts["retry_after"], "retry_after") if "retry_after" in opts else None
        detail = opts.get("detail")
        if detail is not None:
            try:
                detail.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("detail must be UTF-8 text") from None
        return Fault(kind, status=status, detail=detail, retry_after=retry)
    if kind == "drop":
        if has_value:
            raise ValueError("drop takes no value")
        return Fault(kind)
    if kind == "truncate":
        # A bare ``truncate`` sends the headers alone.
        return Fault(kind, bytes=_number(value, "bytes") if has_value else 0)
    raise ValueError(f"unknown kind (one of {', '.join(KINDS)})")


def _fault_text(f: Fault) -> str:
    if f.kind in ("latency", "slow"):
        return f"{f.kind}={f.min_ms}" + (f"-{f.max_ms}" if f.max_ms != f.min_ms else "")
    if f.kind == "status":
        extra = (f";retry_after={f.retry_after}" if f.retry_after is not None else "") + (
            f";detail={f.detail}" if f.detail else ""
        )
        return f"status={f.status}{extra}"
    return "truncate=" + str(f.bytes) if f.kind == "truncate" else f.kind


def parse_rules(data: Any) -> list[FaultRule]:
    """Rules from the control API's JSON: ``{"rules": [{"faults", "probability", "match"}]}``."""
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
        raise FaultError('body must be {"rules": [...]}')
    rules = []
    for i, raw in enumerate(data["rules"]):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("faults"), str):
            raise FaultError(f'rules[{i}] must be an object with "faults" (header grammar)')
        unknown = set(raw) - {"faults", "probability", "match"}
        if unknown:
            raise FaultError(f"rules[{i}]: unknown keys {sorted(unknown)}")
        p = raw.get("probability", 1.0)
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise FaultError(f"rules[{i}].probability must be a number in [0, 1]")
        match = raw.get("match", {})
        if not isinstance(match, Mapping) or not all(isinstance(v, str) for v in match.values()):
            raise FaultError(f"rules[{i}].match must map parameter names to strings")
        rules.append(FaultRule(parse_faults(raw["faults"]), float(p), dict(match)))
    return rules


class FaultInjector:
    """Chooses and applies faults; owned by one app."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.rules: list[FaultRule] = []
        self._seq = 0
        self._lock = threading.Lock()

    def choose(self, header: str | None, params: Mapping[str, str]) -> tuple[Fault, ...]:
        """The faults for this request (raises ``FaultError`` for a bad header)."""
        if header is not None:
            return parse_faults(header)
        if not self.rules:
            return ()
        with self._lock:
            self._seq += 1
            seq = self._seq
        for i, rule in enumerate(self.rules):
            if all(params.get(k) == v for k, v in rule.match.items()) and (
                rule.probability >= 1 or Draw(self.seed, "fault", seq, i).chance(rule.probability)
            ):
                return rule.faults
        return ()

    async def before(
        self, faults: tuple[Fault, ...], request: web.Request, seq: int
    ) -> web.StreamResponse | None:
        """What ``faults`` do before the request is answered: wait, answer instead, or drop.

        ``None``: the request is to be answered normally (then ``shape`` the answer).
        """
        for i, fault in enumerate(faults):
            if fault.kind == "latency":
                await asyncio.sleep(self._ms(fault, seq, i) / 1000)
        for fault in faults:
            if fault.kind == "status":
                headers = (
                    {"Retry-After": str(fault.retry_after)}
                    if fault.retry_after is not None
                    else None
                )
                # Starlette's HTTPException(status) detail: Python's name for the status,
                # else empty (499, 512); aiohttp's reason phrase is uvicorn's likewise.
                detail = fault.detail or responses.get(fault.status, "")
                return detail_response(fault.status, detail, headers=headers)
            if fault.kind == "drop":
                log_dropped(request, "dropped by a fault")
                if request.transport is not None:
                    request.transport.abort()
                raise asyncio.CancelledError  # nothing more to send: the connection is gone
        return None

    async def shape(
        self,
        faults: tuple[Fault, ...],
        request: web.Request,
        seq: int,
        response: web.StreamResponse,
    ) -> web.StreamResponse:
        """Send the normal ``response`` as ``faults`` say: cut short (truncate) or slowly."""
        body = getattr(response, "body", None)
        shaping = [f for f in faults if f.kind in ("truncate", "slow")]
        if not shaping or not isinstance(body, bytes):
            return response
        stream = web.StreamResponse(status=response.status, headers=response.headers)
        stream.content_length = len(body)
        await stream.prepare(request)
        fault = shaping[0]
        if fault.kind == "truncate":
            await stream.write(body[: fault.bytes])
            if request.transport is not None:
                request.transport.close()
            return stream
        for start in range(0, len(body), 16):
            await stream.write(body[start : start + 16])
            await asyncio.sleep(self._ms(fault, seq, start) / 1000)
        await stream.write_eof()
        return stream

    def _ms(self, fault: Fault, seq: int, i: int) -> int:
        if fault.max_ms == fault.min_ms:
            return fault.min_ms
        return fault.min_ms + Draw(self.seed, "fault-ms", seq, i).below(
            fault.max_ms - fault.min_ms + 1
        )

    def to_dict(self) -> dict[str, Any]:
        return {"rules": [r.to_dict() for r in self.rules]}

    def saved(self) -> dict[str, Any]:
        """The rules as ``PUT /__mock/faults`` takes them (``parse_rules`` reads them back)."""
        return {
            "rules": [
                {**r.to_dict(), "faults": ", ".join(r.to_dict()["faults"])} for r in self.rules
            ]
        }


__all__ = [
    "HEADER",
    "Fault",
    "FaultError",
    "FaultInjector",
    "FaultRule",
    "asdict",
    "parse_faults",
    "parse_rules",
]
