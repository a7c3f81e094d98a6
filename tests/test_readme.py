"""The README's examples are real: each one runs against a server and must print what it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from prosper_mock import MockServer, World
from tests.console import console_examples, run

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = console_examples(README, "readme-test")


def test_readme_has_tested_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(
    ("world_file", "command", "expected"), EXAMPLES, ids=[c[:70] for _, c, _ in EXAMPLES]
)
def test_readme_example_output_is_real(world_file: str, command: str, expected: str) -> None:
    with MockServer(World.from_file(ROOT / world_file)) as server:
        assert run(command, server.base_url) == expected


def test_quick_start_ids_exist_in_the_default_world() -> None:
    world = World.generate()
    live = sorted(c.call_log_id for c in world.live_calls)
    logs = sorted(c.call_log_id for c in world.call_logs)
    assert (live[0], live[-1], logs[0], logs[-1]) == (1248, 1272, 1000, 1249)
    assert "ids 1000\u20131249" in README and "ids 1248\u20131272" in README
    with MockServer(world) as server:
        body = requests.get(server.url("/api/v1/live-calls?call_log_id=1250"), timeout=5).text
    shown = re.search(r"call_log_id=1250'\n(\{.*?)\.\.\.\}", README).group(1)
    assert body.startswith(shown)
