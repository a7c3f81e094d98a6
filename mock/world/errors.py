"""Errors of the world: a change it cannot make, a world file it cannot read."""

from __future__ import annotations

from prosper_mock.base.errors import ProsperMockError


class WorldError(ProsperMockError, ValueError):
    """A change the world cannot make; ``status`` is the HTTP answer it deserves."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
