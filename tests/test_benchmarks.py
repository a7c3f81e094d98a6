"""A smoke run of every benchmark (tiny sizes, seconds) so they never rot. No timing asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_smoke_run_produces_every_section(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--fuzz-requests", "50", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    for heading in (
        "## HTTP",
        "## World scale",
        "## pytest plugin",
        "## Long fuzz run",
        "## Targets",
    ):
        assert heading in text
    for case in ("by id", "by phone", "by variable", "404", "422"):
        assert f"| {case} (" in text
    assert "5xx answers: **0**" in text
