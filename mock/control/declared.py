"""Every control operation, declared once: the registry its route, document and client read.

A ``ControlOperation`` names an operation's method, path, body type, answer schema and
error statuses. From the registry (``OPERATIONS``): ``routes.py`` registers one route per
declaration (its handler found by ``operationId``) and checks its body against the
declared type; ``document()`` is the control API's OpenAPI document (served at
``GET /__mock/openapi.json``; ``mock/control/openapi.json`` is this document written out
by ``python -m prosper_mock.control.declared``, and a test keeps the two equal);
``ControlClient.call`` sends any declared operation by its ``operationId``.

Adding a control operation: its declaration here (with the answer's schema in
``answers.py`` and a body type in ``bodies.py``), its handler in ``routes.py`` (or a
module it imports) decorated ``@handles("operation_id")``, and a ``ControlClient``
method of the same name if Python callers want a typed one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from prosper_mock.control import answers as a
from prosper_mock.control.bodies import (
    BODIES,
    PREFIX,
    adapter,
)

TAG = "Control"
_DETAIL = {"type": "object", "required": ["detail"], "properties": {"detail": {}}}
TOKEN_MISSING = "A control token is configured and this request lacks it"
FOREIGN = (
    "Not a loopback client and no control token is configured, or a request from a web page "
    "(a foreign Origin, Sec-Fetch-Site: cross-site, or without a token a Host that is not the "
    "mock's own address)"
)
TOO_LARGE = (
    "The body is over the endpoint's size limit (PUT /__mock/world: --max-world-bytes, "
    "256 MiB by default; others: 1 MiB)"
)
NOT_JSON = "The body is not JSON (Content-Type: application/json or application/*+json)"
INVALID = "The body or a value is invalid: detail says what"
READ_ONLY = "The world is read-only: the mock runs several worker processes (--workers)"
CONFLICT = "Conflict (the id exists already); or the world is read-only: the mock runs several worker processes (--workers)"  # noqa: E501
NOT_STORED = (
    "The change was not made: the state file (--state-file) could not be written; detail says why"
)
NO_CALL = "No such call"
BAD_LIMIT = "limit is not an integer in range, or another query parameter is given"
BAD_ID = "call_log_id is not an integer"
NO_CAMPAIGN = "No such campaign"


def _param(
    name: str, where: str, schema: dict[str, Any], description: str | None = None
) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "required": where == "path"}
    if description is not None:
        param["description"] = description
    param["schema"] = schema
    return param


CALL_ID = _param("call_log_id", "path", {"type": "integer"})
CAMPAIGN_ID = _param("campaign_id", "path", {"type": "string"})
STUB_ID = _param("stub_id", "path", {"type": "string"})
NO_STUB = "No such stub (removed, or answered its times)"


def _limit(most: int) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": 1, "maximum": most, "default": 50}
    return _param("limit", "query", schema, "how many rows, newest first (default 50)")


@dataclass(frozen=True)
class ControlOperation:
    """One control operation: ``path`` below ``/__mock``; ``answer`` the JSON schema of its
    answer (``None``: no body, as for ``204``); ``errors`` its statuses besides 401 and 403
    (and, with a body, 413 and 415), each with what it means."""

    operation_id: str
    method: str
    path: str
    summary: str
    answered: str  # what the success status means
    answer: dict[str, Any] | None
    status: int = 200
    errors: dict[int, str] = field(default_factory=dict)
    parameters: tuple[dict[str, Any], ...] = ()
    description: str | None = None
    world_sized: bool = False  # its body is capped by --max-world-bytes, not MAX_BODY_BYTES

    @property
    def has_body(self) -> bool:
        return self.operation_id in BODIES

    def path_names(self) -> list[str]:
        """The path parameters' names, in the path's order."""
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


def op(operation_id: str, method: str, path: str, summary: str, answered: str,
       answer: dict[str, Any] | None, **rest: Any) -> ControlOperation:  # fmt: skip
    return ControlOperation(operation_id, method, path, summary, answered, answer, **rest)


_WRITE = {409: READ_ONLY, 422: INVALID, 503: NOT_STORED}
_CALL_WRITE = {404: NO_CALL, **_WRITE}
_JOURNAL_DESCRIPTION = (
    "Entries with a seq above `since`, oldest first: at most `limit` of them (default 1000, at "
    "most 10000) and at most 1 MiB of JSON (always at least one entry). `next_since` is the "
    "cursor for the next page: pass it as `since`; `more` says whether entries remain after "
    "it. With `more` false, `next_since` is the newest seq looked at, so polling with it "
    "returns only later requests."
)

_VERIFY_DESCRIPTION = (
    "Counts the journalled requests that match (`method`; `path`, or a spec template whose "
    "parameters match any value; `query`, `headers` and `request_body`, a JSON subset of the "
    "body unless `request_body_exact`) against `count` (exactly) or `at_least`/`at_most` "
    "(default: at least 1). When that does not hold, `near_misses` lists up to 3 entries "
    "that differ in the fewest parts, each part with what was expected and what was sent."
)

OPERATIONS: tuple[ControlOperation, ...] = (
    op("health", "GET", "/health", "Identify the mock and count its calls", "The mock", a.HEALTH),
    op("live_calls", "GET", "/live-calls",
       "The latest live calls, latest start first (not journalled)", "Live calls as stored",
       a.rows("live_calls"), errors={422: BAD_LIMIT}, parameters=(_limit(1000),)),
    op("start_call", "POST", "/live-calls",
       "Start a live call: given LiveCall fields win, the rest is generated", "Started",
       a.CALL, status=201, errors={**_WRITE, 409: CONFLICT}),
    op("map_variables", "PATCH", "/live-calls/{call_log_id}/variables",
       "Map (set or change) variables on a live call", "Mapped", a.CALL,
       errors=_CALL_WRITE, parameters=(CALL_ID,)),
    op("end_call", "POST", "/live-calls/{call_log_id}/end",
       "End a live call: it moves to the call logs", "Ended", a.CALL_LOG,
       errors=_CALL_WRITE, parameters=(CALL_ID,)),
    op("live_call", "GET", "/live-calls/{call_log_id}",
       "One live call as stored and as a client sees it (not journalled)", "The live call",
       a.CALL, errors={404: NO_CALL, 422: BAD_ID}, parameters=(CALL_ID,)),
    op("delete_live_call", "DELETE", "/live-calls/{call_log_id}", "Delete a live call",
       "Deleted", None, status=204, errors=_CALL_WRITE, parameters=(CALL_ID,)),
    op("call_logs", "GET", "/call-logs",
       "The latest call logs, largest id first (not journalled)", "Call logs as stored",
       a.rows("call_logs"), errors={422: BAD_LIMIT}, parameters=(_limit(1000),)),
    op("add_call_log", "POST", "/call-logs",
       "Add a finished call: given CallLog fields win, the rest is generated", "Added",
       a.CALL_LOG, status=201, errors={**_WRITE, 409: CONFLICT}),
    op("call_log", "GET", "/call-logs/{call_log_id}",
       "One call log as stored and as a client sees it (not journalled)", "The call log",
       a.CALL_LOG, errors={404: NO_CALL, 422: BAD_ID}, parameters=(CALL_ID,)),
    op("delete_call_log", "DELETE", "/call-logs/{call_log_id}", "Delete a finished call",
       "Deleted", None, status=204, errors=_CALL_WRITE, parameters=(CALL_ID,)),
    op("reset", "POST", "/reset",
       "Back to the seeded (or loaded) world; clears the journal and removes every stub",
       "Counts", a.OBJECT, errors={409: READ_ONLY, 503: NOT_STORED}),
    op("dump", "GET", "/world", "The whole world in the world-file format", "World", a.OBJECT),
    op("load", "PUT", "/world", "Load a world file: it becomes the world reset returns to",
       "Counts", a.OBJECT, errors=_WRITE, world_sized=True),
    op("snapshot", "POST", "/snapshots",
       "Save the world (base and changes, so what reset returns to), the fault rules and "
       "the stubs", "The snapshot's name, for restore (the latest 16 are kept)",
       a.SNAPSHOT, status=201, errors={409: "The world is read-only (--workers)"}),
    op("restore", "POST", "/snapshots/{snapshot}/restore",
       "Back to a snapshot: the same world, reset baseline, origin, fault rules and stubs; "
       "the snapshot is then gone", "Counts", a.OBJECT,
       errors={404: "No such snapshot", 409: "The world is read-only (--workers)",
               503: NOT_STORED},
       parameters=(_param("snapshot", "path", {"type": "string"}),)),
    op("journal", "GET", "/journal",
       "Requests the mock answered, a page at a time (filters: method, path, status, "
       "param.NAME; cursor: since; page size: limit)", "Entries", a.JOURNAL,
       errors={422: INVALID}, description=_JOURNAL_DESCRIPTION,
       parameters=(
           _param("method", "query", {"type": "string"}),
           _param("path", "query", {"type": "string"}),
           _param("status", "query", {"type": "integer"}),
           {**_param("since", "query", {"type": "integer"}),
            "description": "the cursor: only entries with a greater seq"},
           _param("limit", "query",
                  {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000},
                  "entries per page (default 1000)"),
       )),
    op("clear_journal", "DELETE", "/journal", "Clear the journal", "Cleared", None,
       status=204, errors={409: READ_ONLY}),
    op("control_openapi", "GET", "/openapi.json", "This document", "OpenAPI", a.OBJECT),
    op("clock", "GET", "/clock", "The clock: system or virtual, and its now", "Clock", a.CLOCK),
    op("set_clock", "PUT", "/clock", "Set the virtual clock (never back)", "Clock", a.CLOCK,
       errors={409: "The system clock cannot be set; or the world is read-only: the mock "
                    "runs several worker processes (--workers)",
               422: "Bad time, or earlier than now", 503: NOT_STORED}),
    op("advance_clock", "POST", "/clock/advance",
       "Advance the virtual clock; the simulation follows", "Clock", a.CLOCK,
       errors={409: "The system clock cannot be advanced; or the world is read-only: the "
                    "mock runs several worker processes (--workers)",
               422: "Bad seconds", 503: NOT_STORED}),
    op("verify", "POST", "/journal/verify",
       "Whether the journal holds the expected number of matching requests; if not, the "
       "nearest that did not match and which parts differ", "Verdict", a.VERIFIED,
       errors={409: READ_ONLY}, description=_VERIFY_DESCRIPTION),
    op("stubs", "GET", "/stubs", "The stubs in force, oldest first", "Stubs", a.STUBS),
    op("add_stub", "POST", "/stubs",
       "Add a stub: the requests it matches get its answer instead of the world's", "Added",
       a.STUB, status=201,
       errors={409: f"A stub with this id exists already; or {READ_ONLY[0].lower()}"
                    f"{READ_ONLY[1:]}",
               422: "Not a request of the API, or an answer its spec does not allow: detail "
                    "names the path in the body and the schema rule", 503: NOT_STORED}),
    op("stub", "GET", "/stubs/{stub_id}", "One stub, with how often it matched and answered",
       "The stub", a.STUB, errors={404: NO_STUB}, parameters=(STUB_ID,)),
    op("remove_stub", "DELETE", "/stubs/{stub_id}", "Remove a stub", "Removed", None,
       status=204, errors={404: NO_STUB, 409: READ_ONLY, 503: NOT_STORED},
       parameters=(STUB_ID,)),
    op("clear_stubs", "DELETE", "/stubs", "Remove every stub", "Cleared", None, status=204,
       errors={409: READ_ONLY, 503: NOT_STORED}),
    op("faults", "GET", "/faults", "Fault rules in force", "Rules", a.RULES),
    op("set_faults", "PUT", "/faults", "Replace the fault rules", "Rules", a.RULES,
       errors={409: READ_ONLY, 422: "A rule is invalid: detail says which", 503: NOT_STORED}),
    op("clear_faults", "DELETE", "/faults", "Remove every fault rule", "Cleared", None,
       status=204, errors={409: READ_ONLY, 503: NOT_STORED}),
    op("campaigns", "GET", "/campaigns",
       "The world's campaigns: ids, flows, the variables their targets take", "Campaigns",
       a.CAMPAIGNS),
    op("campaign_targets", "GET", "/campaigns/{campaign_id}/targets",
       "A campaign's newest targets, newest first, as GET /api/v1/targets/{id} answers each "
       "(not journalled)", "Targets", a.rows("targets"),
       errors={404: "No such campaign", 422: BAD_LIMIT},
       parameters=(_param("campaign_id", "path", {"type": "string"}), _limit(100))),
    op("webhook", "GET", "/campaigns/{campaign_id}/webhook",
       "A campaign's target-finished webhook as in force: its URL (its own, serve's "
       "--webhook-url, or none), extra headers, max_attempts and faults", "The webhook",
       a.WEBHOOK,
       errors={404: NO_CAMPAIGN}, parameters=(CAMPAIGN_ID,)),
    op("set_webhook", "PUT", "/campaigns/{campaign_id}/webhook",
       "Give a campaign its own webhook: url (null: no deliveries), headers sent with each "
       "delivery, max_attempts of its targets, faults of its deliveries", "The webhook",
       a.WEBHOOK,
       errors={404: NO_CAMPAIGN, **_WRITE}, parameters=(CAMPAIGN_ID,)),
    op("clear_webhook", "DELETE", "/campaigns/{campaign_id}/webhook",
       "Drop a campaign's own webhook: serve's --webhook-url (if any) applies again",
       "Cleared", None, status=204, errors={404: NO_CAMPAIGN, 409: READ_ONLY, 503: NOT_STORED},
       parameters=(CAMPAIGN_ID,)),
    op("webhook_events", "GET", "/webhooks",
       "Webhook events, oldest first, each with its payload and its sends' outcomes "
       "(filters: campaign_id, target_id, state)", "Events", a.WEBHOOK_EVENTS,
       errors={422: "state is not pending, delivered or failed, limit is not an integer in "
                    "range, or another query parameter is given"},
       parameters=(
           _param("campaign_id", "query", {"type": "string"}),
           _param("target_id", "query", {"type": "string"}),
           _param("state", "query", {"enum": ["pending", "delivered", "failed"]}),
           _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 10000},
                  "only the latest this many (still oldest first; default: all)"),
       )),
)  # fmt: skip

BY_ID: dict[str, ControlOperation] = {o.operation_id: o for o in OPERATIONS}
# operationId → its handler: ``async (request, state) -> answer`` (routes.py calls it).
HANDLERS: dict[str, Callable[..., Awaitable[Any]]] = {}
_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])


def handles(operation_id: str) -> Callable[[_F], _F]:
    """Register the decorated function as the handler of the declared ``operation_id``."""
    if operation_id not in BY_ID:
        raise RuntimeError(f"{operation_id!r} is not a declared control operation")

    def register(fn: _F) -> _F:
        HANDLERS[operation_id] = fn
        return fn

    return register


def _responses(o: ControlOperation) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": o.answered}
    if o.answer is not None:
        ok["content"] = {"application/json": {"schema": o.answer}}
    errors = {401: TOKEN_MISSING, 403: FOREIGN, **o.errors}
    if o.has_body:
        errors = {413: TOO_LARGE, 415: NOT_JSON, 422: INVALID, **errors}
    answers = {str(o.status): ok}
    for status in sorted(errors):
        detail = {"schema": _DETAIL}
        answers[str(status)] = {
            "description": errors[status],
            "content": {"application/json": detail},
        }
    return answers


def document() -> dict[str, Any]:
    """The control API's OpenAPI document, made from ``OPERATIONS`` and the body types."""
    refs = "#/components/schemas/{model}"
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for o in OPERATIONS:
        entry: dict[str, Any] = {"summary": o.summary, "operationId": o.operation_id}
        if o.description is not None:
            entry["description"] = o.description
        entry["tags"] = [TAG]
        if o.parameters:
            entry["parameters"] = list(o.parameters)
        if o.has_body:
            kind, required = BODIES[o.operation_id]
            schema = adapter(kind).json_schema(ref_template=refs)
            components.update(schema.pop("$defs", {}))
            content = {"application/json": {"schema": schema}}
            entry["requestBody"] = {"required": required, "content": content}
        entry["responses"] = _responses(o)
        paths.setdefault(PREFIX + o.path, {})[o.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "prosper-voice-mock control API",
            "version": "1",
            "description": "Shapes the world of a running prosper-voice-mock. Not part of the "
            "Prosper Voice API.",
        },
        "paths": paths,
        "components": {"schemas": components},
    }


def render(doc: dict[str, Any]) -> bytes:
    """The document as ``mock/control/openapi.json`` holds it."""
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


DOCUMENT_PATH = Path(__file__).with_name("openapi.json")


def main(argv: list[str] | None = None) -> int:
    """Write ``openapi.json`` from the declarations (``--check``: only say if it differs)."""
    args = sys.argv[1:] if argv is None else argv
    made = render(document())
    if "--check" in args:
        same = DOCUMENT_PATH.read_bytes() == made
        print("up to date" if same else f"{DOCUMENT_PATH} differs: run without --check")
        return 0 if same else 1
    DOCUMENT_PATH.write_bytes(made)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
