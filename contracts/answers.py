"""What any answer of any operation must be: the rules judged on every exchange of a run.

Each request the suites send is matched to its operation of the contract document (the
vendored spec plus the kit's documented ``400`` and ``404``, ``kit.contract_document``) and
its answer judged here, whichever suite sent it: an answer at all, no ``5xx``, a documented
status, a JSON body, and that body valid for the operation's response schema. A failure
that leaves nothing to judge further (no answer, a ``5xx``, a body that is not JSON) is a
*fault*: the suites judge no semantic rule on it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import jsonschema_rs

from prosper_contracts.kit import contract_document
from prosper_contracts.rules import Violation

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SERVER_ERROR = "no-server-error"
NO_ANSWER = "complete-answer"
JSON_BODY = "json-body"
UNDOCUMENTED = "documented-status"
# An answer breaking one of these is a fault: that one finding, and nothing judged on it (a
# 403 for a missing key is not also a page walk that stopped, nor a lookup's wrong answer).
FAULT_RULES = frozenset({SERVER_ERROR, NO_ANSWER, JSON_BODY, UNDOCUMENTED})
REF = "#/components/schemas/"


@dataclass(frozen=True)
class OperationSpec:
    """One operation of the contract document: its label, path pattern and answers."""

    method: str
    template: str
    pattern: re.Pattern[str]
    responses: Mapping[str, Any] = field(repr=False)

    @property
    def label(self) -> str:
        """``METHOD /path``, as findings, reports and JUnit files name it."""
        return f"{self.method} {self.template}"

    @property
    def statuses(self) -> tuple[int, ...]:
        """The statuses documented for it (the spec's and the kit's), numerically."""
        return tuple(sorted(int(s) for s in self.responses if s.isdigit()))

    def documents(self, status: int) -> Mapping[str, Any] | None:
        """The response object documented for ``status`` (exact, then ``4XX``, ``default``)."""
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in self.responses:
                found: Mapping[str, Any] = self.responses[key]
                return found
        return None

    def params(self, path: str) -> dict[str, str]:
        """The path parameters of ``path`` (one this operation answers)."""
        match = self.pattern.fullmatch(path)
        return {k: unquote(v) for k, v in match.groupdict().items()} if match else {}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^}/]+)\}", template)
    regex = "".join(
        "(?P<" + re.sub(r"\W", "_", part) + ">[^/]+)" if i % 2 else re.escape(part)
        for i, part in enumerate(parts)
    )
    return re.compile(regex)


@functools.cache
def operations() -> tuple[OperationSpec, ...]:
    """Every operation of the contract document, literal paths before templated ones."""
    found = [
        OperationSpec(method.upper(), path, _pattern(path), operation.get("responses", {}))
        for path, item in contract_document()["paths"].items()
        for method, operation in item.items()
        if method in METHODS and isinstance(operation, dict)
    ]
    return tuple(sorted(found, key=lambda o: (o.template.count("{"), o.template, o.method)))


def operation_for(method: str, path: str) -> OperationSpec | None:
    """The operation answering ``method path`` (a percent-encoded path), or ``None``."""
    method = method.upper()
    return next((o for o in operations() if o.method == method and o.pattern.fullmatch(path)), None)


@functools.cache
def _validator(label: str, status_key: str) -> Any:
    document = contract_document()
    operation = next(o for o in operations() if o.label == label)
    response = operation.responses[status_key]
    schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
    if schema is None:
        return None
    # The schema's references point into the document's components: give it those it reaches,
    # at its root. jsonschema-rs (schemathesis' own validator): every answer of a run is
    # validated, pages of a thousand call logs among them, so it must cost little.
    schemas = document.get("components", {}).get("schemas", {})
    reached = _reached(schema, schemas)
    return jsonschema_rs.Draft202012Validator(
        {**schema, "components": {"schemas": {n: schemas[n] for n in reached}}}
    )


def _reached(schema: Any, schemas: Mapping[str, Any]) -> set[str]:
    """The names of the component schemas ``schema`` refers to, directly or not."""
    found: set[str] = set()
    todo = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF):
                name = ref[len(REF) :]
                if name not in found and name in schemas:
                    found.add(name)
                    todo.append(schemas[name])
            todo.extend(v for k, v in node.items() if k != "$ref")
        elif isinstance(node, list):
            todo.extend(node)
    return found


def _status_key(operation: OperationSpec, status: int) -> str | None:
    return next(
        (k for k in (str(status), f"{str(status)[0]}XX", "default") if k in operation.responses),
        None,
    )


def judge(
    operation: OperationSpec | None, status: int, content_type: str | None, body: bytes
) -> list[Violation]:
    """The answer rules ``status`` with ``body`` breaks for ``operation`` (none: unknown)."""
    if status >= 500:
        return [Violation(SERVER_ERROR, f"answered {status}: {clip(body)}")]
    if operation is None:
        return []
    key = _status_key(operation, status)
    if key is None:
        shown = ", ".join(map(str, operation.statuses))
        return [Violation(UNDOCUMENTED, f"answered {status}; documented: {shown}: {clip(body)}")]
    validator = _validator(operation.label, key)
    if validator is None:
        return []
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        kind = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        return [Violation(JSON_BODY, f"{status} body is not JSON ({kind}): {clip(body)}")]
    if validator.is_valid(data):
        return []
    errors = _first(validator.iter_errors(data), 10)
    more = f" (and {len(errors) - 1}{'+' if len(errors) == 10 else ''} more)" if errors[1:] else ""
    first = errors[0]
    return [
        Violation(
            "response-schema",
            f"{status} body at {where(first.instance_path)}: {first.message}{more}",
        )
    ]


def _first(errors: Iterator[Any], n: int) -> list[Any]:
    found = []
    for error in errors:
        found.append(error)
        if len(found) == n:
            break
    return found


def where(path: Any) -> str:
    """A JSON path such as ``$.targets[0].status``."""
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def clip(body: Any, n: int = 120) -> str:
    """A body's first ``n`` characters, for a finding's message."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"
