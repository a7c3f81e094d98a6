"""Count the calls a test lets through to a method, to bound the work an operation does."""

from __future__ import annotations

from typing import Any


class Counted:
    """Replaces ``owner.name`` with a wrapper counting its calls (``calls``; ``reset()``)."""

    def __init__(self, owner: Any, name: str) -> None:
        self.calls = 0
        original = getattr(owner, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        setattr(owner, name, counting)

    def reset(self) -> None:
        self.calls = 0
