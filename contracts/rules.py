"""The semantic rules of ``GET /api/v1/live-calls``, as pure functions.

One place states what a correct answer looks like beyond the spec's schemas;
the schemathesis checks, the model-based tests, the validating proxy and the
mock-versus-real comparison all judge answers with ``check_answer``.

Every rule has a stable name (``Violation.rule``) so reports, JUnit files and
tests can name the rule that broke.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from prosper_mock import text_form

SOURCES = ("live_calls", "call_logs")
# The kit's documented answers beyond the spec's 200 and 422 (docs/semantics.md).
KIT_STATUSES = (400, 404)

RULES: dict[str, str] = {
    # Judged on every answer of every suite (answers.py), whichever operation it is:
    "complete-answer": "every request gets a complete answer: no dropped connection, no "
    "timeout, no body cut short",
    "no-server-error": "no answer is a 5xx",
    "documented-status": "every status is documented for its operation: the spec's, or the "
    "kit's 400 and 404 (kit decisions 2 and 3)",
    "json-body": "the body of a documented JSON answer is valid JSON",
    "response-schema": "every JSON answer matches its operation's response schema for its "
    "status (types, required fields, enums)",
    "consistent-answers": "a step that failed fails again when repeated: an endpoint that "
    "answers the same requests differently is flaky",
    # Judged on the mock's control API, which the model-based suites drive:
    "control-answer": "a mock's control API does what a suite asks (a snapshot, a restore, a "
    "change of its world or its clock) instead of refusing it with a 4xx or 5xx",
    "json-content-type": "answers are application/json (FastAPI's JSONResponse)",
    "flat-snapshot": "a 200 snapshot is one JSON object with no object values (dotted keys)",
    "source-valid": "source is 'live_calls' or 'call_logs'",
    "call-log-id-integer": "call_log_id is an integer",
    "phone-present": "user_phone_number is present and a string",
    "matches-call-log-id": "a lookup by call_log_id returns that call",
    "matches-phone": "a lookup by user_phone_number returns a call with that number",
    "matches-variable": "a lookup by key+value returns a call whose variables.<key> has that text",
    "validation-error-shape": "a 422 body is FastAPI's HTTPValidationError",
    "detail-shape": "a 400/404 body is FastAPI's HTTPException shape {'detail': str}",
    # Judged by the model-based test (test_fallback.py) against its reference model:
    "precedence": "call_log_id, then user_phone_number, then key+value: the first given is used",
    "live-first": "live_calls is searched before call_logs",
    "fallback-to-call-logs": "a call missing from live_calls is found in call_logs",
    "most-recent": "several matches in a store: the most recent call wins",
    "text-matching": "variables match on their text form (PostgreSQL ->>); null never matches",
    "not-found": "no call in either store: not found",
    # Judged by the read-only test and the checks on generated requests:
    "source-monotonic": "a call's source never goes back from call_logs to live_calls",
    "fastapi-validation": "422 exactly when FastAPI would reject the parameters actually sent",
    # Judged across operations (workflow.py, test_workflow.py):
    "call-log-matches-snapshot": "GET /call-logs/{id} of a finished call agrees with its "
    "live-calls snapshot (source=call_logs): id, to, created_at, call_length, "
    "campaign_target_id, its objects flattened",
    "call-log-matches-listing": "GET /call-logs/{id} agrees with the same call's entry in "
    "GET /call-logs: every field the entry carries is equal",
    "target-matches-listing": "GET /targets/{id} agrees with the same target's entry in its "
    "campaign's GET /campaigns/{id}/targets: every field the entry carries is equal",
    "call-log-pages": "GET /call-logs walked page by page with a limit: complete, no overlap, "
    "page_count and next_page exact",
    "target-pages": "GET /campaigns/{id}/targets walked page by page with a limit: complete, "
    "no overlap, page_count and next_page exact",
    "call-log-ids-resolve": "every call_log_ids entry of a target is found by GET "
    "/call-logs/{id} or by live-calls",
    "target-status-agrees": "a target with a live call is 'In Progress'; one whose calls all "
    "ended is not",
    # Judged by the model-based workflow test (test_lifecycle.py):
    "lifecycle": "a target added is Pending and uncalled; launched, its call is live at once, "
    "without a call log; once ended (on the clock) its log answers by id and in the list",
    # Judged by the webhook suite (test_webhooks.py, webhooks.py):
    "webhook-per-attempt": "every finished target got exactly one target-finished webhook per "
    "attempt, with upstream's six keys, attempt n naming its n-th call, whose "
    "GET /call-logs/{id} is that target's; only the last attempt names no next one",
}


SPEC, FALLBACK, READ_ONLY = "test_spec_conformance", "test_fallback_semantics", "test_lookups"
LOGS, TARGETS = "test_call_log_pages", "test_target_pages"
LIFECYCLE = "test_workflow_lifecycle"
WEBHOOKS = "test_workflow_webhooks"
ANSWER = (SPEC, READ_ONLY, LIFECYCLE)
# The suites (test names, or their start) that judge each rule; a rule not named here is
# judged on every answer of every suite. A JUnit file shows a rule none of them ran for as
# skipped, not as passed.
JUDGED_BY: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("json-content-type", "flat-snapshot", "source-valid", "call-log-id-integer",
         "phone-present", "matches-call-log-id", "validation-error-shape", "detail-shape"),
        ANSWER,
    ),
    **dict.fromkeys(("matches-phone", "matches-variable", "source-monotonic"), ANSWER),
    **dict.fromkeys(
        ("precedence", "live-first", "fallback-to-call-logs", "most-recent", "text-matching"),
        (FALLBACK,),
    ),
    "not-found": (FALLBACK, LIFECYCLE),
    "fastapi-validation": (SPEC,),
    **dict.fromkeys(
        ("call-log-matches-snapshot", "call-log-matches-listing", "call-log-pages"), (LOGS,)
    ),
    **dict.fromkeys(("target-matches-listing", "target-pages"), (TARGETS,)),
    **dict.fromkeys(("call-log-ids-resolve", "target-status-agrees"), (TARGETS, LIFECYCLE)),
    "lifecycle": (LIFECYCLE,),
    "webhook-per-attempt": (WEBHOOKS,),
}  # fmt: skip


@dataclass(frozen=True)
class Violation:
    """One broken rule, with what was seen."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


def query_params(
    query: str | bytes | Sequence[tuple[str, str]] | Mapping[str, Any],
) -> dict[str, str]:
    """The parameters as upstream reads them: percent-decoded, the last repeat winning."""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    if isinstance(query, str):
        return dict(parse_qsl(query.lstrip("?"), keep_blank_values=True))
    if isinstance(query, Mapping):
        return {str(k): _scalar(v) for k, v in query.items() if v is not None}
    return {str(k): str(v) for k, v in query}


def _scalar(value: Any) -> str:
    if isinstance(value, list | tuple):
        return str(value[-1]) if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def lookup_of(params: Mapping[str, str]) -> tuple[str, Any] | None:
    """Which lookup the precedence rule picks: ``("call_log_id", 42)``, ... or ``None``.

    ``call_log_id`` is judged as FastAPI parses it; an unparseable one is not
    a lookup (the answer must then be a 422, which the spec checks cover).
    """
    if "call_log_id" in params:
        parsed = parse_int(params["call_log_id"])
        return ("call_log_id", parsed) if parsed is not None else None
    if "user_phone_number" in params:
        return ("user_phone_number", params["user_phone_number"])
    if "key" in params and "value" in params:
        return ("key", (params["key"], params["value"]))
    return None


def parse_int(text: str) -> int | None:
    """An integer as FastAPI/pydantic (lax mode) parses a query string, or ``None``."""
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(int).validate_python(text)
    except ValidationError:
        return None


def variable_text(snapshot: Mapping[str, Any], key: str) -> str | None:
    """The text form of ``variables.<key>`` in a flat snapshot (nested values rebuilt)."""
    name = f"variables.{key}"
    if name in snapshot:
        return text_form(snapshot[name])
    prefix = name + "."
    nested: dict[str, Any] = {}
    for k, v in snapshot.items():
        if k.startswith(prefix):
            node = nested
            *parents, leaf = k[len(prefix) :].split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = v
    return text_form(nested) if nested else None


def check_answer(
    params: Mapping[str, str],
    status: int,
    content_type: str | None,
    body: bytes | str,
) -> list[Violation]:
    """Every semantic rule the answer to ``params`` breaks (empty when it keeps them all)."""
    found: list[Violation] = []
    media = (content_type or "").split(";")[0].strip().lower()
    if status in (200, 422, *KIT_STATUSES) and media != "application/json":
        found.append(
            Violation("json-content-type", f"{status} answer has Content-Type {content_type!r}")
        )
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        if status in (200, 422, *KIT_STATUSES):
            found.append(Violation("json-body", f"{status} body is not JSON: {_clip(body)}"))
        return found
    if status == 200:
        found.extend(check_snapshot(params, data))
    elif status == 422:
        found.extend(check_validation_error(data))
    elif status in KIT_STATUSES and not _is_detail(data):
        found.append(Violation("detail-shape", f"{status} body is {_clip(body)}"))
    return found


def _is_detail(data: Any) -> bool:
    return isinstance(data, dict) and set(data) == {"detail"} and isinstance(data["detail"], str)


def check_snapshot(params: Mapping[str, str], data: Any) -> list[Violation]:
    """The rules for a ``200`` answer."""
    if not isinstance(data, dict):
        return [
            Violation("flat-snapshot", f"the snapshot is a {type(data).__name__}, not an object")
        ]
    found: list[Violation] = []
    nested = sorted(k for k, v in data.items() if isinstance(v, dict))
    if nested:
        found.append(Violation("flat-snapshot", f"object values under {nested[:5]}"))
    if data.get("source") not in SOURCES:
        found.append(Violation("source-valid", f"source is {data.get('source')!r}"))
    call_log_id = data.get("call_log_id")
    if not isinstance(call_log_id, int) or isinstance(call_log_id, bool):
        found.append(Violation("call-log-id-integer", f"call_log_id is {call_log_id!r}"))
    phone = data.get("user_phone_number")
    if not isinstance(phone, str):
        found.append(Violation("phone-present", f"user_phone_number is {phone!r}"))
    lookup = lookup_of(params)
    if lookup is None:
        return found
    by, wanted = lookup
    if by == "call_log_id" and call_log_id != wanted:
        found.append(Violation("matches-call-log-id", f"asked for {wanted}, got {call_log_id!r}"))
    elif by == "user_phone_number" and phone != wanted:
        found.append(Violation("matches-phone", f"asked for {wanted!r}, got {phone!r}"))
    elif by == "key":
        key, value = wanted
        got = variable_text(data, key)
        if got != value:
            found.append(
                Violation("matches-variable", f"asked for variables.{key} = {value!r}, got {got!r}")
            )
    return found


def check_validation_error(data: Any) -> list[Violation]:
    """FastAPI's ``HTTPValidationError``: ``{"detail": [{"type", "loc", "msg", ...}]}``."""
    problem = _validation_error_problem(data)
    return [Violation("validation-error-shape", problem)] if problem else []


def _validation_error_problem(data: Any) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("detail"), list):
        return f"body is not {{'detail': [...]}}: {_clip(json.dumps(data))}"
    if not data["detail"]:
        return "detail is an empty list"
    for i, item in enumerate(data["detail"]):
        if not isinstance(item, dict):
            return f"detail[{i}] is not an object"
        missing = [k for k in ("type", "loc", "msg") if k not in item]
        if missing:
            return f"detail[{i}] lacks {missing}"
        loc = item["loc"]
        if not isinstance(loc, list) or not all(
            isinstance(p, str | int) and not isinstance(p, bool) for p in loc
        ):
            return f"detail[{i}].loc is {loc!r}, not a list of strings and integers"
        if not isinstance(item["msg"], str) or not isinstance(item["type"], str):
            return f"detail[{i}].msg and .type must be strings"
    return None


def _clip(body: Any, n: int = 120) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return text if len(text) <= n else text[:n] + "…"
