"""Progress of long work (a big world to index or write, a contract run), on a terminal only.

The bar goes to stderr, and only when stderr is a terminal: piped or logged output stays
what it was. It erases itself when the work is done.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Protocol, Self

# tqdm ships no type information (its stubs are a separate package, types-tqdm, which the
# kit does not depend on): ProgressBar below is the part of it the kit uses.
from tqdm import tqdm  # type: ignore[import-untyped]

Advance = Callable[[int], object]  # "n more done"


class ProgressBar(Protocol):
    """What the kit uses of a tqdm bar."""

    def update(self, n: float | None = 1) -> object: ...

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


def progress_bar(total: int | None, what: str, unit: str = "call") -> ProgressBar:
    """A bar for ``total`` units of ``what``; a no-op bar when stderr is not a terminal."""
    bar: ProgressBar = tqdm(
        total=total,
        desc=what,
        unit=unit,
        unit_scale=True,
        leave=False,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        mininterval=0.2,
    )
    return bar
