"""Flatten nested objects into one level of dotted keys.

``{"agent_data": {"voice": {"provider": "x"}}}`` becomes
``{"agent_data.voice.provider": "x"}``. Arrays stay arrays, scalars and ``null``
stay as they are, and an empty object has no leaves, so it leaves no key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prosper_mock.world.records import CallLog, LiveCall, to_dict


def flatten(data: Mapping[str, Any], sep: str = ".") -> dict[str, Any]:
    """Return a single-level dict; a nested key path is joined with ``sep``."""
    out: dict[str, Any] = {}
    _flatten_into(out, data, "", sep)
    return out


def _flatten_into(out: dict[str, Any], data: Mapping[str, Any], prefix: str, sep: str) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten_into(out, value, name + sep, sep)
        else:
            out[name] = value


def unflatten(flat: Mapping[str, Any], sep: str = ".") -> dict[str, Any]:
    """The inverse of :func:`flatten`: dotted keys become nested objects again.

    A dotted key that would nest under a key already holding a non-object value
    (``{"a": 1, "a.b": 2}``: not something ``flatten`` makes) is kept as it is.
    """
    out: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, leaf = name.split(sep)
        node: dict[str, Any] = out
        clash = False  # a parent already holds a leaf value: keep the dotted key as it is
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                clash = True
                break
            node = child
        if clash or (leaf in node and isinstance(node[leaf], dict)):
            out[name] = value
        else:
            node[leaf] = value
    return out


def snapshot(source: str, row: LiveCall | CallLog) -> dict[str, Any]:
    """The flat answer for a row: ``source``, ``call_log_id``, ``user_phone_number`` first."""
    data = to_dict(row)
    data.pop("call_log_id", None)
    data.pop("user_phone_number", None)
    head = {
        "source": source,
        "call_log_id": row.call_log_id,
        "user_phone_number": row.user_phone_number,
    }
    return head | flatten(data)
