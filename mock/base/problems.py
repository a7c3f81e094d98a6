"""Validation errors (pydantic's, or the same shape) as one line of text.

Every refusal that lists what failed validation says it the same way:
``where.field: message; where.other[2]: message``, the path to each failing value
then what is wrong with it. The world file, the control API's bodies and the
validating proxy each choose how the path reads and how many errors are shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def location(loc: Iterable[object], where: str = "", *, brackets: bool = False) -> str:
    """The path to a value: ``where``, then each part of ``loc`` after a dot.

    ``brackets``: a list index reads ``[3]``, as in ``live_calls[3].variables.y``.
    An empty path is ``(root)``. A key no UTF-8 text can hold (a lone surrogate, from a
    JSON escape such as ``"\\ud800"``) reads as that escape in quotes, ``input_data."\\ud800"``,
    so the message naming it can itself be sent.
    """
    text = where
    for part in loc:
        if brackets and isinstance(part, int):
            text += f"[{part}]"
        else:
            name = printable(str(part))
            text += f".{name}" if text else name
    return text or "(root)"


def printable(text: str) -> str:
    """``text`` itself when UTF-8 can hold it, else its JSON escape in quotes (``"\\ud800"``)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(text)
    return text


def one_line(
    errors: Sequence[Mapping[str, Any]],
    where: str = "",
    *,
    brackets: bool = False,
    limit: int | None = None,
    count_rest: bool = False,
    messages: Mapping[str, str] | None = None,
) -> str:
    """``errors`` (each with ``loc``, ``msg`` and ``type``) as ``path: message; ...``.

    ``limit``: show the first few only, and with ``count_rest`` say how many more
    there are. ``messages``: a message of one's own for an error type, by type.
    """
    shown = errors if limit is None else errors[:limit]
    text = "; ".join(
        f"{location(e['loc'], where, brackets=brackets)}: "
        + (messages or {}).get(e.get("type", ""), e["msg"])
        for e in shown
    )
    if count_rest and len(shown) < len(errors):
        text += f" (and {len(errors) - len(shown)} more)"
    return text
