"""One request to a spec operation, top to bottom: the ordered steps that answer it.

0. the connection guard (``connections.py``), inline rather than wrapped around the
   handler: HTTP/0.9 refused, a stalled body timed out, a client gone logged in one line;
1. API key: a missing or wrong key is ``403`` (only when the mock requires one);
1b. stubs: a stub that matches the request answers instead of the world (``stubs.py``);
2. faults: ``X-Mock-Fault`` or a rule may wait, answer instead, or drop the connection;
3. validation: parameters and the JSON body as FastAPI checks them, ``422`` in
   its shape (``validation.py``, ``bodies.py``);
4. operation: the implementation answers in the world's terms, ``render_answer``
   makes the response (which a truncate or slow fault then sends as it says); a write
   runs as one of the app's writes (``MockState.write``: its long work in the writer
   thread), a read of the world waits while such a write changes it (``writer.py``);
5. journal: the request (headers, body), its answer (status, headers, body) and what
   produced it (``0``: the connection was dropped).

A mock with several workers (``read_only``) answers a write operation ``409`` at
step 4, after validation, as the control API refuses its changes.

What validation hands the operation (``Exchange.values``): one key per spec
parameter, by name, its validated value, or its schema's ``default`` (else
``None``) when absent: ``str``, ``int``, ``float``, ``bool``, ``datetime`` for a
``date-time``, an enum's value as a plain ``str``. An operation with a
requestBody also gets ``"body"``: ``None`` when no body was sent and none is
required, else the validated body as plain data: dicts keyed by JSON names
(every property present: the schema's ``default``, else ``[]`` for an array,
``{}`` for an object, ``None`` otherwise, e.g. ``TargetInput.id``), lists, the
scalars above (``datetime`` included), enum values as ``str``; a free-form
object is the dict as sent (JSON's own ``NaN`` and lone surrogates included).
Nothing pydantic-specific reaches the operation.

An operation whose answer follows from the query and the world alone answers a
query asked before, at the same world version, with the bytes it answered then
(``answers.py``): between steps 2 and 3, so steps 3 and 4 run once per query.

Steps 1 to 3 answer (and end the request) or return ``None`` to let the next
one run; one that has to wait first (a latency fault) returns an awaitable of
that instead, so a step that decides at once costs a plain call. Step 4 always
answers. The steps are chosen once per operation at start-up: one that can
never answer (no API key required) is left out, so the hot path pays only for
what can act. The query is parsed only when a step reads it. Validation is
awaitable only for an operation with a requestBody (reading it waits); for the
others, live-calls included, it stays a plain call.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from prosper_mock.serving.answers import AnswerCache, Answered
from prosper_mock.serving.auth import api_key_check
from prosper_mock.serving.bodies import BodyValidator, render_errors
from prosper_mock.serving.connections import ConnectionGuard, Handler
from prosper_mock.serving.errors import status_of
from prosper_mock.serving.faults import HEADER as FAULT_HEADER
from prosper_mock.serving.faults import Fault, FaultError
from prosper_mock.serving.journal import Journal
from prosper_mock.serving.operations import CACHEABLE, OPERATIONS, WORLDLESS, Implementation
from prosper_mock.serving.render import JSON_TYPE, detail_response, render_answer, render_json
from prosper_mock.serving.schemas import SchemaCompiler
from prosper_mock.serving.spec import Operation
from prosper_mock.serving.state import READ_ONLY_DETAIL, SAFE_METHODS, MockState
from prosper_mock.serving.stubs import NOT_JSON, Stub
from prosper_mock.serving.validation import ParameterValidator, parse_query
from prosper_mock.world.errors import WorldError


@dataclass(slots=True, eq=False)  # not frozen: a frozen init costs the hot path more
class Exchange:
    """One request on its way through the steps, and what they found out."""

    request: web.Request
    raw: bytes  # the query string as sent
    pairs: list[tuple[str, str]] | None = None  # ``query``, once parsed
    values: dict[str, Any] | None = None  # the validated parameters
    faults: tuple[Fault, ...] = ()
    seq: int = 0  # the journal's length when faults were chosen: seeds their timing
    answers: dict[bytes, Answered] | None = None  # where to keep the answer made (a cache miss)
    producer: str = "world"  # what made the answer: world, stub, fault, validation, api_key
    stub: Stub | None = None

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query's ``(name, value)`` pairs, as Starlette parses them."""
        if self.pairs is None:
            self.pairs = parse_query(self.raw)
        return self.pairs


Step = Callable[[Exchange], web.StreamResponse | Awaitable[web.StreamResponse | None] | None]


def operation_handler(
    operation: Operation,
    state: MockState,
    guard: ConnectionGuard,
    operations: Mapping[str, Implementation] | None = None,
    reroute: Handler | None = None,
) -> Handler:
    """The route for one spec operation, behind ``guard``: its steps, in order, then the
    journal. A request whose path parameter holds a ``/`` (sent as ``%2F``) is handed to
    ``reroute``, which routes its decoded path as Starlette does (``splits_a_segment``);
    without one it is ``404``, unjournalled."""
    op_id = operation.operation_id
    segments = "{" in operation.path
    implementation = {**OPERATIONS, **(operations or {})}.get(op_id)  # overrides by id
    cache = state.reuse_answers(operation) if _cacheable(operation, implementation) else None
    # Steps 1-3 (and a reused answer) may answer instead; step 4, the operation, always answers.
    checks: tuple[Step, ...] = tuple(
        step
        for step in (
            _api_key_step(state),
            _stub_step(state),
            _fault_step(state),
            _cached_answer_step(cache, state),
            _validation_step(operation, cache),
        )
        if step is not None
    )
    operate = _operation_step(operation, implementation, state, cache)
    journal = state.journal

    async def handle(request: web.Request) -> web.StreamResponse:
        timer = guard.open(request)
        if segments and splits_a_segment(request):  # upstream routes it elsewhere
            if timer is not None:
                timer.cancel()
            if reroute is None:
                return detail_response(404, "Not Found")
            return await reroute(request)
        raw = raw_query(request)  # journalled as sent: parsed pairs would cost 30 times more
        status: int | None = 0  # stays 0 if the connection is dropped (CancelledError)
        exchange = Exchange(request, raw)
        response: web.StreamResponse | None = None
        try:
            for check in checks:
                answer = check(exchange)
                if answer is None:
                    continue
                # web.Response first: isinstance of StreamResponse, an ABC, costs more
                if type(answer) is not web.Response and not isinstance(answer, web.StreamResponse):
                    answer = await answer  # it had to wait (a latency fault)
                if answer is not None:
                    response = answer
                    status = answer.status
                    return answer
            response = await operate(exchange)
            status = response.status
            return response
        except ConnectionResetError:  # the client went away, or its body timed out
            status = None
            guard.went_away(request)
        except Exception:  # a bug in an implementation: aiohttp answers 500, unjournalled
            status = None
            raise
        finally:  # step 5
            if timer is not None:
                timer.cancel()
            if status is not None:
                _journal(journal, state, exchange, op_id, status, response)

    return handle


def _journal(
    journal: Journal,
    state: MockState,
    exchange: Exchange,
    op_id: str,
    status: int,
    response: web.StreamResponse | None,
) -> None:
    """Step 5: the request, its answer and what made it, as the journal keeps them."""
    request = exchange.request
    # The body a step read (aiohttp keeps it); one no step read is not waited for here.
    sent: bytes | None = getattr(request, "_read_bytes", None)
    answer_body = None
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        answer_body = response.body
    stub = exchange.stub
    journal.record(
        state.clock.now(),
        request.method,
        # As sent, escapes as written: decoded, `%25E9` and `%E9` would read the same, and a
        # curl line made of it would send another request.
        request.raw_path.partition("?")[0],
        exchange.raw,
        op_id,
        status,
        headers=request.headers.items(),
        body=sent or None,
        answer_headers=() if response is None else response.headers.items(),
        answer_body=answer_body,
        producer=exchange.producer if status else "fault",  # 0: a drop fault
        stub=None if stub is None else stub.id,
        unchecked=stub is not None and stub.unchecked,
    )


# The path parameters of a request routed by its decoded path (``app.py``'s reroute).
DECODED_PARAMS = web.RequestKey[Mapping[str, str]]("prosper_mock_decoded_path_params")


def splits_a_segment(request: web.Request) -> bool:
    """Whether a path parameter holds a ``/`` (sent as ``%2F``) aiohttp's route took for it.

    uvicorn decodes the path before Starlette routes it, so there ``a%2Fb`` is two
    segments, which another template may match (or none, or one with the slash added or
    removed); aiohttp matches first, then decodes. A request already routed by its decoded
    path (``DECODED_PARAMS``) splits none.
    """
    split = any("/" in value for value in request.match_info.values())
    return split and DECODED_PARAMS not in request


def path_params(request: web.Request) -> Mapping[str, str]:
    """The path parameters as FastAPI gets them: from the path as uvicorn decodes it.

    uvicorn decodes the path with ``urllib.parse.unquote``, where an escape that is not
    UTF-8 (``%E9``, ``%C0%AF``, ``%ED%A0%80``) becomes U+FFFD; aiohttp keeps such an
    escape as sent. A parameter still holding a ``%`` (rare) is decoded again from its
    segment of the raw path; the others are aiohttp's own values. A request routed by its
    decoded path has them as decoded there (``DECODED_PARAMS``).
    """
    match_info = request.match_info
    for value in match_info.values():
        if "%" in value or "/" in value:  # a "/": another route's, for a rerouted request
            break
    else:
        return match_info
    if DECODED_PARAMS in request:
        return request[DECODED_PARAMS]
    resource = match_info.route.resource
    template = resource.canonical.split("/") if resource is not None else []
    raw = request.raw_path.partition("?")[0].split("/")
    if len(raw) != len(template):  # not an origin-form target: no segment to decode
        return match_info
    pairs = zip(template, raw, strict=True)
    return {part[1:-1]: unquote(segment) for part, segment in pairs if part[:1] == "{"}


def _api_key_step(state: MockState) -> Step | None:
    if state.api_key is None:  # nothing to check: no step
        return None
    refusal = api_key_check(*state.api_key)

    def step(exchange: Exchange) -> web.StreamResponse | None:
        refused = refusal(exchange.request)
        if refused is not None:
            exchange.producer = "api_key"
        return refused

    return step


def _stub_step(state: MockState) -> Step:
    # Always present: stubs can be added at any time; none in force costs one truth test.
    stubs = state.stubs

    def answer(exchange: Exchange, stub: Stub | None) -> web.StreamResponse | None:
        if stub is None:
            return None
        exchange.producer, exchange.stub = "stub", stub
        body = stub.answer_bytes()
        response = web.Response(status=stub.status, body=body, headers=stub.headers)
        if body is not None and "Content-Type" not in response.headers:
            response.content_type = JSON_TYPE
        return response

    async def take(exchange: Exchange, body: Any) -> Stub | None:
        request, query = exchange.request, dict(exchange.query)
        if state.sharing is None:
            return stubs.take(request.method, request.path, query, body)

        async def counted() -> Stub | None:  # the counts are the stubs': shared, all or none
            with state.storing():
                return stubs.take(request.method, request.path, query, body)

        return await state.write(counted)

    async def with_body(exchange: Exchange) -> web.StreamResponse | None:
        request = exchange.request
        body: Any = NOT_JSON
        if request.body_exists:  # read, for a stub to match and the journal to keep
            try:
                raw = await request.read()  # kept by aiohttp: validation reads it again
            except web.HTTPRequestEntityTooLarge:  # validation answers it
                return None
            try:
                body = json.loads(raw) if raw else None
            except ValueError:  # not JSON: no stub's request_body matches it
                body = NOT_JSON
        found = await take(exchange, body)
        return await _delayed(answer(exchange, found), found)

    def step(
        exchange: Exchange,
    ) -> web.StreamResponse | Awaitable[web.StreamResponse | None] | None:
        if not stubs:  # the hot path: no stub
            return None
        request = exchange.request
        if request.body_exists or state.sharing is not None:
            return with_body(exchange)
        found = stubs.take(request.method, request.path, dict(exchange.query), NOT_JSON)
        if found is not None and found.delay:
            return _delayed(answer(exchange, found), found)
        return answer(exchange, found)

    return step


async def _delayed(
    response: web.StreamResponse | None, stub: Stub | None
) -> web.StreamResponse | None:
    if stub is not None and stub.delay:
        await asyncio.sleep(stub.delay)
    return response


def _fault_step(state: MockState) -> Step:
    # Always present: a fault can be asked for by header, or by rules set at any time.
    faults = state.faults
    journal = state.journal

    def step(
        exchange: Exchange,
    ) -> web.StreamResponse | Awaitable[web.StreamResponse | None] | None:
        request = exchange.request
        header = request.headers.get(FAULT_HEADER)
        if header is None and not faults.rules:  # the hot path: no fault asked for
            return None
        try:
            chosen = faults.choose(header, dict(exchange.query))
        except FaultError as exc:
            return detail_response(400, f"{FAULT_HEADER}: {exc}")
        if not chosen:
            return None
        exchange.faults, exchange.seq, exchange.producer = chosen, len(journal), "fault"
        return faults.before(chosen, request, exchange.seq)

    return step


def _cacheable(operation: Operation, implementation: Implementation | None) -> bool:
    # Only the query may vary its answer: no path, header or cookie parameter.
    return implementation in CACHEABLE and all(p.location == "query" for p in operation.parameters)


def _cached_answer_step(cache: AnswerCache | None, state: MockState) -> Step | None:
    if cache is None:
        return None
    faults = state.faults

    def step(
        exchange: Exchange,
    ) -> web.StreamResponse | Awaitable[web.StreamResponse] | None:
        answers = cache.answers(state.world)
        hit = answers.get(exchange.raw)
        if hit is None:  # made by the next steps, then kept
            exchange.answers = answers
            return None
        response = web.Response(body=hit.body, status=hit.status, content_type=JSON_TYPE)
        if not hit.operated:
            exchange.producer = "validation"
        if hit.operated and exchange.faults:  # as the operation step shapes a fresh answer
            return faults.shape(exchange.faults, exchange.request, exchange.seq, response)
        return response

    return step


@functools.lru_cache(maxsize=256)
def _validators(operation: Operation) -> tuple[ParameterValidator, BodyValidator | None]:
    """An operation's validators, compiled once: every app made on a loaded spec (a test's
    server, a worker) shares its ``Operation`` objects, and compiling costs milliseconds."""
    compiler = SchemaCompiler(operation.document)
    bodies = BodyValidator(operation, compiler) if operation.request_body is not None else None
    return ParameterValidator(operation, compiler), bodies


def _validation_step(operation: Operation, cache: AnswerCache | None) -> Step:
    validator, bodies = _validators(operation)
    if bodies is not None:
        return _body_validation_step(validator, bodies)

    def step(exchange: Exchange) -> web.StreamResponse | None:
        request = exchange.request
        values, errors = validator.validate(exchange.query, path_params(request), request.headers)
        if errors:
            exchange.producer = "validation"
            body = render_json({"detail": errors})
            if cache is not None and exchange.answers is not None:
                cache.keep(exchange.answers, exchange.raw, Answered(422, body, operated=False))
            return web.Response(body=body, status=422, content_type=JSON_TYPE)
        exchange.values = values
        return None

    return step


def _body_validation_step(validator: ParameterValidator, bodies: BodyValidator) -> Step:
    # Awaitable only here: reading a body waits for it; an operation without one stays a call.
    async def step(exchange: Exchange) -> web.StreamResponse | None:
        request = exchange.request
        body = await bodies.read(request)
        if isinstance(body, web.StreamResponse):  # unreadable: too large, or not JSON
            exchange.producer = "validation"
            return body
        values, errors = validator.validate(exchange.query, path_params(request), request.headers)
        size = len(getattr(request, "_read_bytes", None) or b"")  # as read: chunked too
        value, body_errors = await bodies.validated(body, size)
        errors.extend(body_errors)  # FastAPI checks the parameters first, then the body
        if errors:
            exchange.producer = "validation"
            return web.Response(body=render_errors(errors), status=422, content_type=JSON_TYPE)
        values["body"] = value
        exchange.values = values
        return None

    return step


def _operation_step(
    operation: Operation,
    implementation: Implementation | None,
    state: MockState,
    cache: AnswerCache | None,
) -> Callable[[Exchange], Awaitable[web.StreamResponse]]:
    op_id = operation.operation_id
    if implementation is None:
        unimplemented = (
            f"Operation {op_id} is in the spec but prosper-voice-mock does not implement it"
        )

        async def missing(exchange: Exchange) -> web.StreamResponse:
            return detail_response(501, unimplemented)

        return missing
    faults = state.faults
    writes = operation.method not in SAFE_METHODS
    refuse_writes = state.read_only and writes
    writer = state.writer
    reads_world = implementation not in WORLDLESS

    async def step(exchange: Exchange) -> web.StreamResponse:
        request = exchange.request
        if refuse_writes:  # several workers, a copy of the world each: a change would diverge
            return detail_response(409, READ_ONLY_DETAIL)
        values = exchange.values or {}
        try:
            if writes:  # one write of the world (of the shared log, on a shared store)
                answer = await state.write(lambda: implementation(request, values, state))
            else:
                if reads_world and writer.busy:  # a write is changing it: read it whole after
                    await writer.readable()
                answer = await implementation(request, values, state)
        except WorldError as exc:  # a refusal the operation did not word itself
            answer = _refusal(exc, state)
        response = render_answer(answer, state.semantics, state.snapshots)
        if (
            cache is not None
            and exchange.answers is not None
            and not isinstance(answer, web.StreamResponse)  # rendered here: JSON, no headers
            and isinstance(response, web.Response)
            and isinstance(response.body, bytes)
        ):
            answered = Answered(response.status, response.body, operated=True)
            cache.keep(exchange.answers, exchange.raw, answered)
        if exchange.faults:  # truncate or slow: how the answer is sent
            return await faults.shape(exchange.faults, request, exchange.seq, response)
        return response

    return step


def _refusal(exc: WorldError, state: MockState) -> web.StreamResponse:
    """A world's refusal as a FastAPI handler's ``HTTPException``: not found as the
    semantics say, a conflict ``409``, anything else a bad request (``400``)."""
    status = status_of(exc)
    if status == 404:
        status = state.semantics.not_found_status
    elif status == 422:
        status = 400
    return detail_response(status, str(exc))


def raw_query(request: web.Request) -> bytes:
    """The query string exactly as the client sent it (uvicorn hands FastAPI these bytes)."""
    _, _, query = request.raw_path.partition("?")
    return query.encode("utf-8", "surrogateescape")
