"""Custom schemathesis checks: the semantic rules, and FastAPI-exact validation.

``semantic_rules`` applies ``rules.check_answer`` to every response.
``fastapi_validation`` replaces schemathesis's ``negative_data_rejection``,
which flags FastAPI's lenient integers (``call_log_id=0.0`` combined with other
mutations) as failures: it judges the query string *actually sent* with the
validators that reproduce FastAPI exactly, and demands ``422`` exactly when
FastAPI would answer it.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import schemathesis

from prosper_contracts.rules import check_answer, query_params
from prosper_mock import ParameterValidator, load_spec, parse_query, path_pattern
from prosper_mock.base.upstream import LIVE_CALLS_PATH


def sent_query(response: Any) -> str:
    """The raw query string of the request that was actually sent."""
    return str(urlsplit(response.request.url).query)


def content_type(response: Any) -> str | None:
    value = response.headers.get("content-type")
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


def sent_path(response: Any) -> str:
    """The percent-encoded path of the request that was actually sent."""
    return str(urlsplit(response.request.url).path)


@schemathesis.check
def semantic_rules(ctx: Any, response: Any, case: Any) -> None:
    """Every live-calls answer keeps the semantic rules of ``prosper_contracts.rules``."""
    if not sent_path(response).endswith(LIVE_CALLS_PATH):
        return  # the rules of the other operations need several requests: test_workflow.py
    violations = check_answer(
        query_params(sent_query(response)),
        response.status_code,
        content_type(response),
        response.content,
    )
    if violations:
        raise AssertionError("; ".join(str(v) for v in violations))


@functools.cache
def _validators() -> tuple[tuple[str, re.Pattern[str], ParameterValidator, bool], ...]:
    """(method, path pattern, validator, has a body) of every operation of the spec."""
    document = load_spec().document
    return tuple(
        (
            op.method.upper(),
            path_pattern(op.path),
            ParameterValidator(op),
            "requestBody" in document["paths"][op.path][op.method.lower()],
        )
        for op in load_spec().operations()
    )


@schemathesis.check
def fastapi_validation(ctx: Any, response: Any, case: Any) -> None:
    """``422`` exactly when FastAPI would reject the parameters that were sent.

    A path that matches no operation is the router's (404), not validation's. Bodies are
    not judged here: an operation with one may answer 422 for its body alone (the spec's
    schema checks judge that answer's shape).
    """
    method, path = str(response.request.method).upper(), sent_path(response)
    found = next(
        ((m, v, b) for o, p, v, b in _validators() if o == method and (m := p.fullmatch(path))),
        None,
    )
    if found is None:
        return
    match, validator, has_body = found
    values = {k: unquote(v) for k, v in match.groupdict().items()}
    query = parse_query(sent_query(response).encode("latin-1"))
    _, errors = validator.validate(query, path=values)
    if has_body and not errors:
        return
    if errors and response.status_code != 422:
        raise AssertionError(
            f"[fastapi-validation] FastAPI answers 422 ({errors[0]['type']} at "
            f"{errors[0]['loc']}) but the endpoint answered {response.status_code}"
        )
    if not errors and response.status_code == 422:
        raise AssertionError(
            "[fastapi-validation] the parameters are valid for FastAPI but the endpoint "
            "answered 422"
        )


RULE_IN_MESSAGE = re.compile(r"\[([a-z0-9-]+)\]")


def failure_rules(failure: Any) -> list[str]:
    """Rule names for one schemathesis failure: ours from the message, built-ins by check."""
    title, message = failure_text(failure)
    ours = RULE_IN_MESSAGE.findall(f"{title} {message}")
    if ours:
        return ours
    checks = getattr(failure, "checks", ()) or ()
    return [f"spec:{checks[0]}" if checks else f"spec:{title}"]


def finding_text(failure: Any) -> str:
    """A failure's message for its finding, each thing said once: our checks' messages
    without their rule tags (the finding names the rule), a built-in's title and message."""
    title, message = failure_text(failure)
    if RULE_IN_MESSAGE.search(f"{title} {message}"):
        text = RULE_IN_MESSAGE.sub("", message)
    else:
        text = f"{title}: {message}" if title else message
    first = next((line for line in text.splitlines() if line.strip()), "")
    return " ".join(first.split())


def failure_text(failure: Any) -> tuple[str, str]:
    """(title, message) of a schemathesis failure or a plain assertion."""
    return getattr(failure, "title", ""), getattr(failure, "message", None) or str(failure)
