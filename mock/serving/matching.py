"""What a request must be to match: the one matcher of stubs and of journal verification.

A ``RequestPattern`` names a method, a path (exactly, or a spec template such as
``/api/v1/targets/{target_id}`` whose parameters match any segment), query parameters,
headers (names in any case) and a JSON body (a subset of the request's, or exactly it);
what it leaves out matches anything. ``differences`` says which parts of a request differ,
for the near misses a failed verification lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prosper_mock.serving.spec import path_pattern

ANY: Any = object()  # a part the pattern leaves out
NOT_JSON: Any = object()  # a request body that is not JSON, or was not read


@dataclass(frozen=True)
class Difference:
    """One part of a request that is not what the pattern asks: ``part`` is ``method``,
    ``path``, ``query.NAME``, ``header.NAME`` or ``body``."""

    part: str
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class RequestPattern:
    """What a request must carry; ``None`` and ``ANY`` fields match anything."""

    method: str | None = None
    path: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = ANY
    body_exact: bool = False
    _path: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.path is not None:
            compiled = (
                path_pattern(self.path) if "{" in self.path else re.compile(re.escape(self.path))
            )
            object.__setattr__(self, "_path", compiled)

    @property
    def reads_body(self) -> bool:
        return self.body is not ANY

    def matches(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        body: Any = NOT_JSON,
        headers: Iterable[tuple[str, str]] = (),
    ) -> bool:
        """Whether the request matches (its decoded path, last-wins query, parsed JSON body)."""
        return not self.differences(method, path, params, body, headers, first=True)

    def differences(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        body: Any = NOT_JSON,
        headers: Iterable[tuple[str, str]] = (),
        *,
        first: bool = False,
    ) -> list[Difference]:
        """The parts of the request that differ (``first``: stop at the first)."""
        found: list[Difference] = []
        if self.method is not None and method != self.method:
            found.append(Difference("method", self.method, method))
        if self._path is not None and not self._path.fullmatch(path):
            found.append(Difference("path", self.path, path))
        if found and first:
            return found
        for name, value in self.query.items():
            if params.get(name) != value:
                found.append(Difference(f"query.{name}", value, params.get(name)))
        if self.headers:
            sent = {n.lower(): v for n, v in headers}
            for name, value in self.headers.items():
                if sent.get(name.lower()) != value:
                    found.append(Difference(f"header.{name}", value, sent.get(name.lower())))
        if self.body is not ANY and not (
            body == self.body if self.body_exact else contains(body, self.body)
        ):
            found.append(Difference("body", self.body, None if body is NOT_JSON else body))
        return found


def contains(value: Any, subset: Any) -> bool:
    """Whether JSON ``value`` holds ``subset``: an object's given keys (recursively), any
    other value equal (an array element by element, in order)."""
    if isinstance(subset, dict):
        return isinstance(value, dict) and all(
            k in value and contains(value[k], v) for k, v in subset.items()
        )
    if isinstance(subset, list):
        return (
            isinstance(value, list)
            and len(value) == len(subset)
            and all(contains(a, b) for a, b in zip(value, subset, strict=True))
        )
    return type(value) is type(subset) and bool(value == subset)
