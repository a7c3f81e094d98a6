"""The text form of a flow variable, as PostgreSQL's ``->>`` gives it.

Upstream matches ``value`` against ``variables->>key``: strings as they are,
booleans as ``true``/``false``, numbers as their JSON text, nested values as
``jsonb`` prints them, and SQL ``NULL`` (JSON ``null``) never equals anything.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def text_form(value: Any) -> str | None:
    """What ``variables->>'key'`` returns for ``value``; ``None`` means it never matches."""
    if value is None:
        return None
    kind = value.__class__
    if kind is bool:  # exact types first: indexing a big world asks this millions of times
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if isinstance(value, str):
        return value  # ->> unquotes a top-level string; nested ones stay JSON strings
    return _jsonb_text(value)


def _numeric_text(value: float) -> str:
    # jsonb stores numbers as NUMERIC, which never prints an exponent.
    return format(Decimal(repr(value)), "f")


def _jsonb_text(value: Any) -> str:
    """jsonb's output: ", " and ": " separators, keys ordered by length then bytes."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: (len(kv[0].encode()), kv[0].encode()))
        inner = ", ".join(
            f"{json.dumps(k, ensure_ascii=False)}: {_jsonb_text(v)}" for k, v in items
        )
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_jsonb_text(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _numeric_text(value)
    return json.dumps(value, ensure_ascii=False)
