"""The contract suite's generated examples per second against the in-process mock.

Two runs of the schemathesis phase (``-k spec_conformance``) differ only in examples per
mode; the difference in time over the difference in requests is the rate, free of start-up.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any


def _run(examples: int, operations: tuple[str, ...]) -> float:
    start = time.perf_counter()
    chosen = [part for name in operations for part in ("--operation", name)]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "prosper_mock",
            "contract",
            "--examples",
            str(examples),
            "-k",
            "spec_conformance",
            *chosen,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start


def run(examples: int = 300, operations: tuple[str, ...] = ()) -> dict[str, Any]:
    """The rate over every operation, or over ``operations`` (``--operation`` names)."""
    small, large = _run(1, operations), _run(examples + 1, operations)
    sent = 2 * examples  # positive and negative modes
    return {
        "examples": sent,
        "seconds": round(large - small, 2),
        "examples_per_second": round(sent / (large - small), 1),
        "operations": list(operations) or "all",
    }


if __name__ == "__main__":
    print(run())
