"""Strict JSON (RFC 8259) for everything the kit reads: files and control bodies alike.

Python's ``json`` accepts what JSON does not, and each of those would poison the
world or hide a mistake: ``NaN`` and ``Infinity`` (no answer could carry them),
``1e400`` (read as infinity), a key repeated in one object (the last one silently
wins), a lone surrogate escape (no UTF-8 answer can hold it), nesting deep
enough to exhaust the parser's recursion (a ``RecursionError``, not a parse error),
and an integer of more digits than Python converts (a bare ``ValueError``).
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from prosper_mock.base.errors import ProsperMockError

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONTextError(ProsperMockError, ValueError):
    """The text is not strict JSON; the message says where and why."""


def loads(raw: str | bytes) -> Any:
    """``raw`` parsed as strict JSON.

    Raises ``json.JSONDecodeError`` where it is not JSON at all, ``JSONTextError``
    where it is JSON that the standard refuses (both are ``ValueError``). A repeated
    key is named with where it sits: ``live_calls[3]: duplicate key "call_log_id"``.
    ``raw`` as bytes must be UTF-8 (``UnicodeDecodeError``, a ``ValueError`` too).
    """
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    repeated: list[tuple[dict[str, Any], str]] = []

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(pairs)
        if len(found) != len(pairs) and not repeated:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    repeated.append((found, key))
                    break
                seen.add(key)
        return found

    not_finite: list[str] = []  # NaN, Infinity, 1e400: read as floats, then named where they sit

    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            not_finite.append(text)
        return value

    def constant(name: str) -> float:
        not_finite.append(name)
        return float(name)

    try:
        data = json.loads(
            text, parse_constant=constant, parse_float=number, object_pairs_hook=unique
        )
    except RecursionError:  # the C parser recurses once per nested array or object
        raise JSONTextError("it is nested too deeply") from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # int() of more digits than sys.get_int_max_str_digits()
        raise JSONTextError(
            f"an integer has more than {sys.get_int_max_str_digits()} digits"
        ) from None
    if not_finite:
        where = _path_to(data, _first_not_finite(data))
        raise JSONTextError(
            f"{where + ': ' if where else ''}{not_finite[0]} is not a finite number "
            "(JSON has no NaN or Infinity)"
        )
    if repeated:
        holder, key = repeated[0]
        where = _path_to(data, holder)
        raise JSONTextError(f"{where + ': ' if where else ''}duplicate key {json.dumps(key)}")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(data):
        raise JSONTextError("a string holds a lone surrogate")
    return data


def short(value: Any, limit: int = 80) -> str:
    """``value`` as compact JSON, cut to ``limit`` characters: a message stays one short line."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_not_finite(data: Any) -> object:
    todo = [data]
    while todo:
        value = todo.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return value
        if isinstance(value, dict):
            todo.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            todo.extend(reversed(value))
    return None


def _path_to(data: Any, target: object) -> str:
    """Where ``target`` (found by identity) sits in ``data``: ``live_calls[3].variables``."""
    todo: list[tuple[Any, str]] = [(data, "")]
    while todo:
        value, where = todo.pop()
        if value is target:
            return where
        if isinstance(value, dict):
            todo.extend((v, f"{where}.{k}" if where else k) for k, v in value.items())
        elif isinstance(value, list):
            todo.extend((v, f"{where}[{i}]") for i, v in enumerate(value))
    return ""


def _has_lone_surrogate(data: Any) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def dumps_in_slices(value: Any, items: int = 1000, **options: Any) -> str:
    """``json.dumps(value, **options)``, the same text, with every object or array of more
    than ``items`` entries encoded ``items`` at a time: at the top, or nested in a few small
    ones (a change's ``{"document": {"call_logs": {...}}}``).

    The encoder holds the GIL for a whole call: a world's change of 150 000 rows is tens of
    megabytes, a quarter of a second and more in which no other thread runs. In slices,
    another thread (the event loop's) takes its turn between them.
    """
    item_separator, key_separator = options.get("separators") or (", ", ": ")

    def large(node: Any, depth: int) -> bool:  # more than ``items`` entries, near the top
        if not isinstance(node, dict | list):
            return False
        if len(node) > items:
            return True
        children = node.values() if isinstance(node, dict) else node
        return depth > 0 and any(large(v, depth - 1) for v in children)

    def encode(node: Any, depth: int) -> str:
        if not large(node, depth) or (
            isinstance(node, dict) and not all(isinstance(k, str) for k in node)
        ):  # small, or keys json.dumps converts itself
            return json.dumps(node, **options)
        if isinstance(node, dict):
            pairs = list(node.items())
            parts = [pairs_of(pairs[i : i + items], depth) for i in range(0, len(pairs), items)]
            return "{" + item_separator.join(p for p in parts if p) + "}"
        parts = [entries_of(node[i : i + items], depth) for i in range(0, len(node), items)]
        return "[" + item_separator.join(p for p in parts if p) + "]"

    def pairs_of(chunk: list[tuple[str, Any]], depth: int) -> str:
        """An object's slice, without braces: at once, unless one of its values is large."""
        if not any(large(v, depth - 1) for _, v in chunk):
            return json.dumps(dict(chunk), **options)[1:-1]
        return item_separator.join(
            json.dumps(k, **options) + key_separator + encode(v, depth - 1) for k, v in chunk
        )

    def entries_of(chunk: list[Any], depth: int) -> str:
        """An array's slice, without brackets: at once, unless one of its items is large."""
        if not any(large(v, depth - 1) for v in chunk):
            return json.dumps(chunk, **options)[1:-1]
        return item_separator.join(encode(v, depth - 1) for v in chunk)

    return encode(value, 3)
