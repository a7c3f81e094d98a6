"""The kit's documented answers beyond the vendored spec: the ONE place they are allowed.

Upstream documents only ``200`` and ``422``. The mock (docs/semantics.md) also
answers ``400 {"detail": str}`` when nothing can be looked up and ``404
{"detail": str}`` when no store has the call. Rather than switching checks
off, the contract suite runs against the vendored spec *plus* these two
documented responses, so ``status_code_conformance`` and
``response_schema_conformance`` still judge them (their bodies must be
FastAPI's ``HTTPException`` shape), and ``positive_data_acceptance`` accepts
them for valid input (a valid query can name a call that does not exist).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from prosper_mock import load_spec
from prosper_mock.base.upstream import LIVE_CALLS_PATH

HTTP_EXCEPTION = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": False,
    "title": "HTTPException",
}
KIT_RESPONSES: dict[str, dict[str, Any]] = {
    "400": {
        "description": "Nothing to look up (kit decision 2, docs/semantics.md)",
        "content": {"application/json": {"schema": HTTP_EXCEPTION}},
    },
    "404": {
        "description": "Not found: no call in either store, or no such campaign, target or "
        "call log (kit decision 3, docs/semantics.md)",
        "content": {"application/json": {"schema": HTTP_EXCEPTION}},
    },
}
# Valid input may still find nothing (404) or be incomplete (400): both are acceptable answers.
POSITIVE_EXPECTED_STATUSES = ["2xx", "400", "404"]


def contract_document() -> dict[str, Any]:
    """The vendored spec with the kit's documented answers added to every operation: each
    may find nothing it names (an unknown campaign, target or call log: 404) or be given
    nothing to act on (400), docs/semantics.md."""
    document = copy.deepcopy(load_spec().document)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method.startswith("x-") or not isinstance(operation, dict):
                continue
            if path == LIVE_CALLS_PATH or "responses" in operation:
                responses = operation.setdefault("responses", {})
                for status, response in KIT_RESPONSES.items():
                    responses.setdefault(status, response)
    return document


_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def operation_names(document: dict[str, Any] | None = None) -> dict[str, str]:
    """Every operation of the vendored spec: each name ``--operation`` takes (its
    operationId, and ``METHOD /path``) -> its ``METHOD /path``."""
    found: dict[str, str] = {}
    for path, item in (document or load_spec().document)["paths"].items():
        for method, operation in item.items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            label = f"{method.upper()} {path}"
            found[label] = label
            if isinstance(operation.get("operationId"), str):
                found[operation["operationId"]] = label
    return found


def operation_refusal(names: Sequence[str]) -> str | None:
    """Why ``--operation`` values name no operation of the spec, or ``None``."""
    known = operation_names()
    unknown = [n for n in names if _normal(n) not in known]
    if not unknown:
        return None
    listed = ", ".join(sorted(label for name, label in known.items() if name == label))
    return f"--operation {unknown[0]!r} is not an operation of the spec; it has: {listed}"


def selected_operations(names: Sequence[str]) -> set[str] | None:
    """The ``METHOD /path`` labels ``--operation`` values choose; ``None``: every one."""
    if not names:
        return None
    known = operation_names()
    return {known[_normal(n)] for n in names if _normal(n) in known}


def _normal(name: str) -> str:
    """``get /api/v1/health`` and ``GET  /api/v1/health`` as the label ``GET /api/v1/health``."""
    method, _, path = name.strip().partition(" ")
    if path and method.lower() in _METHODS:
        return f"{method.upper()} {path.strip()}"
    return name.strip()
