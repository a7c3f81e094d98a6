"""Progress of long work (a big world to index or write, a contract run), on a terminal only.

The bar goes to stderr, and only when stderr is a terminal: piped or logged output stays
what it was. It erases itself when the work is done.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Never

from tqdm import tqdm

Advance = Callable[[int], object]  # "n more done"


def progress_bar(total: int | None, what: str, unit: str = "call") -> tqdm[Never]:
    """A bar for ``total`` units of ``what``; a no-op bar when stderr is not a terminal."""
    return tqdm(
        total=total,
        desc=what,
        unit=unit,
        unit_scale=True,
        leave=False,
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
        mininterval=0.2,
    )
