"""The kit's configurable decisions where upstream documents nothing (``docs/semantics.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Semantics:
    """How the mock answers what upstream leaves undocumented.

    ``missing_lookup``: the answer when no complete lookup is given: ``400``
    with ``{"detail": "<what is missing>"}`` (default), or ``422`` in FastAPI's
    ``HTTPValidationError`` shape. ``not_found_status`` and ``not_found_detail``:
    the answer when neither store has the call (default ``404 {"detail": "Call
    not found"}``).
    """

    missing_lookup: Literal[400, 422] = 400
    not_found_status: int = 404
    not_found_detail: str = "Call not found"

    def __post_init__(self) -> None:
        if self.missing_lookup not in (400, 422):
            raise ValueError("missing_lookup must be 400 or 422")
        if not 400 <= self.not_found_status <= 499:
            raise ValueError("not_found_status must be a 4xx status")
