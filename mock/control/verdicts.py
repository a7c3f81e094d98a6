"""Stubs and verification for test code: a stub as a context manager, a failed
verification as a message a test author can act on (the plugin's ``prosper.stub`` and
``prosper.verify``, and any ``ControlClient`` user's)."""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

from prosper_mock.control.client import ControlClient, ControlError


class StubHandle:
    """A stub in force: ``with`` it to remove it on leaving the block, or let it last
    as long as the world (the plugin's fixture removes every stub after the test).

    ``stub`` is the stub as the mock lists it; ``refresh()`` reads it again (``seen``,
    ``answered``); ``remove()`` takes it away (once answered ``times`` times it is gone).
    """

    def __init__(self, control: ControlClient, stub: dict[str, Any]) -> None:
        self.control = control
        self.stub = stub

    @property
    def id(self) -> str:
        return str(self.stub["id"])

    def refresh(self) -> dict[str, Any]:
        self.stub = self.control.stub(self.id)
        return self.stub

    def remove(self) -> None:
        """Remove the stub (nothing if it is gone already)."""
        try:
            self.control.remove_stub(self.id)
        except ControlError as exc:
            if exc.status != 404:
                raise

    def __enter__(self) -> StubHandle:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.remove()


def describe(matcher: dict[str, Any]) -> str:
    """A matcher as one line: ``GET /api/v1/targets/{target_id} with query {...}``."""
    head = f"{matcher.get('method', 'any method')} {matcher.get('path', 'any path')}"
    extra = [
        f"{label} {json.dumps(matcher[key], sort_keys=True)}"
        for key, label in (
            ("query", "query"),
            ("headers", "headers"),
            ("request_body", "exactly the body" if matcher.get("request_body_exact") else "body"),
        )
        if key in matcher
    ]
    return head + (" with " + ", ".join(extra) if extra else "")


def failure(matcher: dict[str, Any], verdict: dict[str, Any]) -> str:
    """Why ``verdict`` (``POST /__mock/journal/verify``'s answer) failed, near misses included."""
    count = verdict["count"]
    lines = [
        f"expected {verdict['expected']} request(s) matching {describe(matcher)}; "
        f"the journal has {count}"
        + (f" (seq {', '.join(map(str, verdict['seqs']))})" if count else "")
    ]
    misses = verdict.get("near_misses") or []
    if misses:
        lines.append("nearest requests that did not match:")
    for miss in misses:
        e = miss["entry"]
        query = "&".join(f"{n}={v}" for n, v in e["query"])
        where = e["path"] + (f"?{query}" if query else "")
        parts = "; ".join(
            f"{d['part']}: expected {json.dumps(d['expected'])}, got {json.dumps(d['actual'])}"
            for d in miss["differences"]
        )
        lines.append(f"  #{e['seq']} {e['method']} {where} -> {e['status']}: {parts}")
    if not count and not misses:
        lines.append("the journal holds no requests at all")
    return "\n".join(lines)
