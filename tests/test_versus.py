"""A smoke run of benchmarks.versus (a tree against itself, seconds): it never rots."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


TOOLS = bool(shutil.which("wrk") and shutil.which("taskset") and (os.cpu_count() or 1) >= 2)


# Off CI a machine without wrk skips it; CI (.ci/run installs wrk) must run it.
@pytest.mark.skipif(not TOOLS and not os.environ.get("CI"), reason="needs wrk, taskset, 2 CPUs")
def test_versus_compares_two_trees_on_both_cases() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.versus", str(ROOT), "--rounds", "1", "--seconds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for case in ("by id", "422"):
        assert f"{case}: median new/old requests/s " in done.stdout
    assert "CPU per request" in done.stdout
