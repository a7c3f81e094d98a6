"""The validating proxy: forward to the real API, judge every request and answer.

``prosper-mock proxy --upstream URL`` sits between a client and the real Prosper
Voice API. Each request is forwarded unchanged (plus the API key from the
environment); upstream's answer goes back unchanged (status, body, the headers
that describe the body). On the way, the proxy checks:

* the **request** against the vendored spec, with the same pydantic validators
  the mock answers with (``ParameterValidator``, and ``BodyValidator`` for an
  operation with a request body: unparsable JSON is FastAPI's ``422 json_invalid``
  alone, undecodable bytes its ``400``): a request the spec rejects is
  the client's doing (a suite testing its 422 handling sends them on purpose),
  so it is a note (``request-invalid``), not a violation; upstream must then
  answer FastAPI's refusal for it, body and all, and an upstream ``422`` for a
  request the spec accepts is a violation too (``fastapi-validation``);
* the **answer** against the spec with openapi-core (documented status, media
  type, schema), using the contract suite's document: the vendored spec plus the
  kit's documented ``400``/``404`` (``prosper_contracts.kit``);
* the **answer** against the semantic rules (``prosper_contracts.rules.check_answer``).

Each violation is logged with a curl line that reproduces the request against
upstream (the key shown as ``$PROSPER_API_KEY``, never its value) and counted for
the summary printed at exit; notes are logged and summarised too, but only
violations (what upstream got wrong) make the exit status 1. Upstream timeouts
become ``504`` and connection errors ``502``, both ``{"detail": ...}``, after at
most ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from openapi_core.testing import MockRequest, MockResponse
from yarl import URL

from prosper_contracts.endpoint.recording import Recorder
from prosper_contracts.endpoint.refusals import Refusal, fastapis_refusal, not_fastapis
from prosper_contracts.findings import Finding, curl_command
from prosper_contracts.kit import contract_document
from prosper_contracts.rules import check_answer, query_params
from prosper_mock import (
    BodyValidator,
    Operation,
    ParameterValidator,
    Spec,
    detail_response,
    parse_query,
    path_pattern,
    start_app,
)
from prosper_mock.base.upstream import API_KEY_ENV, LIVE_CALLS_PATH
from prosper_mock.base.upstream import API_KEY_HEADER as DEFAULT_HEADER

log = logging.getLogger("prosper_contracts.endpoint.proxy")

# Headers that describe one hop, not the message (RFC 9110 7.6.1), plus the one aiohttp
# recomputes: a body is passed on with its own length.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
# Not passed back to the client: upstream's answer is read decoded (the client session
# decompresses it), so it goes back without the coding it came in.
NOT_PASSED_BACK = HOP_BY_HOP | {"content-encoding"}
# Not forwarded upstream: aiohttp sets Host for upstream, and asks only for encodings it
# decodes. A request body goes on as the client sent it, Content-Encoding and all: neither
# the proxy's server nor Starlette decompresses one (runner.SERVER_OPTIONS).
NOT_FORWARDED = HOP_BY_HOP | {"host", "accept-encoding"}

# What upstream can get wrong: each one is a violation (exit status 1).
PROXY_RULES: dict[str, str] = {
    "fastapi-validation": "upstream answers FastAPI's 422 exactly when the spec rejects the "
    "request (for an invalid request, the 422 FastAPI renders for it)",
    "undocumented-operation": "the request's method and path are not in the spec",
    "response-status": "the answer's status is documented (spec plus the kit's 400/404)",
    "response-content-type": "the answer's media type is the documented one",
    "response-schema": "the answer's body matches the documented schema",
    "upstream-unreachable": "upstream refused or dropped the connection (answered 502)",
    "upstream-bad-answer": "upstream's answer was not valid HTTP, or its body was cut short or "
    "undecodable (answered 502)",
    "upstream-timeout": "upstream did not answer in time (answered 504)",
}
# What the client did: reported, never a violation (it judges the request, not upstream).
PROXY_NOTES: dict[str, str] = {
    "request-invalid": "the client sent a request the spec rejects (upstream must answer "
    "FastAPI's 422 for it)",
}


@dataclass(frozen=True)
class ProxyOptions:
    """Where to forward and how; ``api_key`` is the value, never shown (``repr`` hides it)."""

    upstream: str
    timeout: float = 30.0
    api_key_header: str = DEFAULT_HEADER
    api_key_env: str = API_KEY_ENV
    api_key: str | None = field(default=None, repr=False)


class ViolationLog:
    """Every violation and note the proxy saw (thread-safe), and the summary printed at exit.

    ``items`` are violations, what upstream got wrong (``PROXY_RULES`` and the semantic
    rules); ``notes`` are about the client's own requests (``PROXY_NOTES``).
    """

    def __init__(self) -> None:
        self.items: list[Finding] = []
        self.notes: list[Finding] = []
        self.requests = 0
        self._lock = threading.Lock()

    def add(self, violation: Finding) -> None:
        """Record a violation and log it at once."""
        with self._lock:
            self.items.append(violation)
        log.warning("%s", violation)

    def note(self, note: Finding) -> None:
        """Record a note about the client's request and log it (one line)."""
        with self._lock:
            self.notes.append(note)
        log.info("note: [%s] %s", note.rule, note.message)

    def rules(self) -> Counter[str]:
        """How many violations of each rule."""
        return Counter(v.rule for v in self.items)

    def summary(self) -> str:
        """Requests seen, then violations and notes per rule, each with one example."""
        head = f"prosper-mock proxy: {self.requests} request(s), {len(self.items)} violation(s)"
        if self.notes:
            head += f", {len(self.notes)} note(s)"
        if not self.items and not self.notes:
            return head + "\n"
        lines = [head + ":", *_per_rule(self.items)]
        if self.notes:
            lines.append("  notes (the client's own requests, not violations):")
            lines += _per_rule(self.notes)
        return "\n".join(lines) + "\n"


def _per_rule(findings: list[Finding]) -> list[str]:
    lines = []
    counts = Counter(f.rule for f in findings)
    for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        first = next(f for f in findings if f.rule == rule)
        lines.append(f"  {n:>5}  [{rule}] e.g. {first.message}")
        lines.append(f"         {first.curl}")
    return lines


@dataclass
class _Route:
    operation: Operation
    pattern: re.Pattern[str]
    validator: ParameterValidator
    bodies: BodyValidator | None = None


@dataclass
class ProxyState:
    options: ProxyOptions
    spec: Spec
    routes: list[_Route]
    violations: ViolationLog
    recorder: Recorder | None
    session: aiohttp.ClientSession | None = None


PROXY = web.AppKey("prosper_mock_proxy", ProxyState)


def _route(op: Operation) -> _Route:
    bodies = BodyValidator(op) if op.request_body is not None else None
    return _Route(op, path_pattern(op.path), ParameterValidator(op), bodies)


def create_proxy_app(
    options: ProxyOptions,
    *,
    recorder: Recorder | None = None,
    violations: ViolationLog | None = None,
) -> web.Application:
    """The proxy as an aiohttp app; its ``ProxyState`` is ``app[PROXY]``."""
    from prosper_contracts.endpoint.specdiff import spec_from_document

    spec = spec_from_document(contract_document())
    state = ProxyState(
        options=options,
        spec=spec,
        routes=[_route(op) for op in spec.operations()],
        violations=violations or ViolationLog(),
        recorder=recorder,
    )
    app = web.Application()
    app[PROXY] = state
    app.router.add_route("*", "/{tail:.*}", _forward)
    app.cleanup_ctx.append(_client_session)
    return app


async def _client_session(app: web.Application) -> Any:
    state = app[PROXY]
    state.session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=state.options.timeout),
        auto_decompress=True,
        # The proxy forwards the client's cookies itself; it keeps none of upstream's.
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    yield
    await state.session.close()


async def _forward(request: web.Request) -> web.StreamResponse:
    state = request.app[PROXY]
    state.violations.requests += 1
    options = state.options
    if not request.raw_path.startswith("/"):
        return _refuse_target(request)
    path, _, raw_query = request.raw_path.partition("?")
    upstream_url = options.upstream.rstrip("/") + path
    curl = curl_command(
        upstream_url,
        raw_query or None,
        options.api_key_header if options.api_key else None,
        options.api_key_env,
        request.method,
    )

    def flag(rule: str, message: str) -> None:
        state.violations.add(Finding(rule, message, curl))

    route, path_params = _match(state.routes, request.method, request.path)
    query = parse_query(raw_query.encode("utf-8", "surrogateescape"))
    # FastAPI's answer when the spec rejects the request; None when it accepts.
    expected: Refusal | None = None
    if route is None:
        flag("undocumented-operation", f"{request.method} {request.path} is not in the spec")
    else:
        expected, why = await fastapis_refusal(
            route.validator, route.bodies, request, query, path_params
        )
        if expected is not None:
            state.violations.note(Finding("request-invalid", why, curl))

    headers = {k: v for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED}
    if options.api_key:
        headers = {k: v for k, v in headers.items() if k.lower() != options.api_key_header.lower()}
        headers[options.api_key_header] = options.api_key
    body = await request.read()
    assert state.session is not None
    try:
        async with state.session.request(
            request.method,
            URL(options.upstream.rstrip("/") + request.raw_path, encoded=True),
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as upstream:
            status, answer = upstream.status, await upstream.read()
            answer_headers = [
                (k, v) for k, v in upstream.headers.items() if k.lower() not in NOT_PASSED_BACK
            ]
            content_type = upstream.headers.get("Content-Type")
    except TimeoutError:
        detail = f"upstream did not answer within {options.timeout:g} s"
        flag("upstream-timeout", detail)
        return detail_response(504, detail)
    except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
        # Upstream was reached and answered, but not with HTTP the proxy can pass on.
        detail = f"upstream sent an invalid answer: {_describe(exc)}"
        flag("upstream-bad-answer", detail)
        return detail_response(502, detail)
    except aiohttp.ClientError as exc:
        detail = f"upstream unreachable: {_describe(exc)}"
        flag("upstream-unreachable", detail)
        return detail_response(502, detail)

    if route is not None:
        if expected is not None and not expected.renders and status == 500:
            pass  # FastAPI's own answer: it fails to render this refusal (see Refusal)
        elif expected is not None and status != expected.status:
            flag(
                "fastapi-validation",
                f"the spec rejects this request (FastAPI answers {expected.status}), "
                f"upstream answered {status}",
            )
        elif expected is not None and (wrong := not_fastapis(expected, answer)):
            flag("fastapi-validation", wrong)
        elif expected is None and status == 422:
            flag("fastapi-validation", "upstream answered 422 to a request the spec accepts")
        if expected is None or expected.renders or status != 500:
            for rule, message in _spec_problems(
                state.spec, request, query, status, content_type, answer
            ):
                flag(rule, message)
        if route.operation.path == LIVE_CALLS_PATH and route.operation.method == "GET":
            for v in check_answer(query_params(raw_query), status, content_type, answer):
                flag(v.rule, v.message)
            if state.recorder is not None:
                state.recorder.observe(status, answer)
        if state.recorder is not None and route.operation.method == "GET":
            state.recorder.observe_get(route.operation.path, query, status, answer)

    return web.Response(status=status, body=answer, headers=CIMultiDict(answer_headers))


def _refuse_target(request: web.Request) -> web.StreamResponse:
    """A target not in origin-form (``GET http://host/...``, ``CONNECT host:port``, ``*``).

    Upstream's answer to it depends on its HTTP parser (uvicorn on h11 takes the whole target
    as the path, FastAPI answers 404; on httptools it routes by the path part), so the proxy
    cannot pass on what upstream would say; and it never connects to a host a client names.
    """
    target = request.raw_path
    log.warning(
        "rejected a request target not in origin-form (absolute-form, authority-form or *), "
        "not forwarded: %s %s",
        request.method,
        target[:200],
    )
    return detail_response(
        400,
        "the proxy forwards origin-form request targets only (/path?query): an absolute-form "
        "(http://host/...), authority-form or * target is not forwarded",
    )


def _match(routes: list[_Route], method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
    for route in routes:
        found = route.pattern.fullmatch(path)
        if found and route.operation.method == method.upper():
            return route, found.groupdict()
    return None, {}


def _spec_problems(
    spec: Spec,
    request: web.Request,
    query: list[tuple[str, str]],
    status: int,
    content_type: str | None,
    body: bytes,
) -> list[tuple[str, str]]:
    """openapi-core's judgement of the answer, as (rule, message) pairs."""
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
    from openapi_core.templating.responses.exceptions import ResponseNotFound

    media = (content_type or "").split(";")[0].strip() or "application/octet-stream"
    # openapi-core annotates ``args`` as a dict, but hands it to werkzeug's ImmutableMultiDict,
    # which takes (name, value) pairs as well: a repeated parameter stays repeated.
    mock_request = MockRequest(
        "http://upstream",
        request.method,
        request.path,
        args=query,  # type: ignore[arg-type]
    )
    try:
        spec.openapi.validate_response(mock_request, MockResponse(body, status, content_type=media))
    except Exception as exc:  # openapi-core's errors share no base class worth naming
        cause = exc.__cause__ or exc
        if isinstance(cause, ResponseNotFound) or isinstance(exc, ResponseNotFound):
            return [("response-status", f"status {status} is not documented")]
        if isinstance(cause, MediaTypeNotFound):
            return [("response-content-type", f"{status} answer is {media}, not documented")]
        errors = getattr(cause, "schema_errors", None)
        if errors:
            text = "; ".join(getattr(e, "message", str(e)) for e in list(errors)[:3])
            return [("response-schema", f"{status} body: {text}")]
        return [("response-schema", f"{status} answer: {_first_line(exc)}")]
    return []


def _describe(exc: BaseException) -> str:
    """The root cause in one line: aiohttp wraps its parser's errors (``ContentLengthError``,
    ``ContentEncodingError``), whose text starts with "400, message=": that 400 is aiohttp's own
    code for a parse failure, not upstream's status, so only the message is shown."""
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    message = getattr(root, "message", None)
    text = " ".join(
        (message if isinstance(message, str) and message.strip() else str(root)).split()
    )
    return f"{type(root).__name__}: {text[:200]}" if text else type(root).__name__


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:200]


async def serve_proxy(
    app: web.Application,
    host: str,
    port: int,
    on_started: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
    flush_every: float = 5.0,
) -> None:
    """Serve ``app`` until ``stop`` is set (the CLI sets it on SIGINT/SIGTERM).

    A recording is written every ``flush_every`` seconds while it changes, and at the end.
    """
    state = app[PROXY]
    # aiohttp's own connection limits, not the mock's: the proxy is no stand-in for uvicorn.
    listening = await start_app(app, host, port, options=None)
    flusher = None
    try:
        if on_started is not None:
            on_started(listening.base_url)
        stop = stop or asyncio.Event()
        if state.recorder is not None:
            flusher = asyncio.get_running_loop().create_task(
                _flush_periodically(state.recorder, flush_every)
            )
        await stop.wait()
    finally:
        if flusher is not None:
            flusher.cancel()
        await listening.close()
        if state.recorder is not None:
            try:
                await asyncio.to_thread(state.recorder.write, True)
            except OSError as exc:  # kept in recorder.write_error: the CLI reports it, exits 2
                log.error("recording: cannot write %s (%s)", state.recorder.path, exc)


async def _flush_periodically(recorder: Recorder, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(recorder.write)
        except OSError as exc:  # e.g. a full disk: keep serving, keep the calls, try again
            log.error("recording: cannot write %s (%s): will try again", recorder.path, exc)
