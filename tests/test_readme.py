"""The README's examples are real: each one runs against a server and must print what it shows."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import requests

from prosper_mock import MockServer, World

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SHOWN_BASE = "http://127.0.0.1:8765"


def examples() -> list[tuple[str, str, str]]:
    """(world file, command, expected output) for each ``$ curl`` in a tested block."""
    found = []
    pattern = re.compile(r"<!-- readme-test: (\S+) -->\n```console\n(.*?)```", re.S)
    for world_file, block in pattern.findall(README):
        for chunk in block.split("$ ")[1:]:
            command, _, output = chunk.partition("\n")
            if command.startswith("curl"):
                found.append((world_file, command, output))
    return found


def run(command: str, base_url: str) -> str:
    """What the shell pipeline prints: curl, then optionally json.tool and head."""
    stages = [shlex.split(stage) for stage in command.split("|")]
    curl = stages[0]
    url = next(arg for arg in curl if arg.startswith("http")).replace(SHOWN_BASE, base_url)
    text = requests.get(url, timeout=5).text
    for stage in stages[1:]:
        if stage[:3] == ["python3", "-m", "json.tool"]:
            text = json.dumps(json.loads(text), indent=4) + "\n"
        elif stage[0] == "head":
            text = "".join(text.splitlines(keepends=True)[: int(stage[1].lstrip("-n"))])
        else:
            raise AssertionError(f"README pipeline stage not understood: {stage}")
    return text if text.endswith("\n") else text + "\n"


EXAMPLES = examples()


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
