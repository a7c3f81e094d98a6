"""docs/workflow.md walks the whole API: every step is there, and every block of it is run.

tests/test_doc_examples.py runs the page's commands, in order, on the mock its first block
starts, and compares what they print with what the page shows.
"""

from __future__ import annotations

from pathlib import Path

from tests.console import console_blocks

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = console_blocks((ROOT / "docs" / "workflow.md").read_text(encoding="utf-8"))


def test_the_walkthrough_has_every_step() -> None:
    commands = " ".join(step.command for block in BLOCKS for step in block.steps)
    for step in ("/targets -H", "user_phone_number=", "key=external_id", "/clock/advance"):
        assert step in commands


def test_the_walkthrough_runs_on_a_virtual_clock_and_skips_nothing() -> None:
    # ``serve --virtual-clock``: the default world, its clock stopped at the world's anchor.
    assert BLOCKS[0].steps[0].command == "prosper-mock serve --virtual-clock &"
    serve_lines = [s for b in BLOCKS for s in b.steps if s.command.startswith("prosper-mock")]
    assert len(serve_lines) == 1
    assert [b.line for b in BLOCKS if b.not_run is not None] == []
