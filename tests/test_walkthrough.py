"""docs/workflow.md is real: its curl lines, run in order on one mock, print what it shows."""

from __future__ import annotations

from pathlib import Path

from prosper_mock import MockServer, World
from prosper_mock.world.clock import VirtualClock
from tests.console import console_examples, run

ROOT = Path(__file__).resolve().parent.parent
STEPS = console_examples((ROOT / "docs" / "workflow.md").read_text(encoding="utf-8"), "walkthrough")


def test_the_walkthrough_has_every_step() -> None:
    commands = " ".join(command for _, command, _ in STEPS)
    for step in ("/targets -H", "user_phone_number=", "key=external_id", "/clock/advance"):
        assert step in commands
    assert {world for world, _, _ in STEPS} == {"default-virtual"}


def test_the_walkthrough_prints_what_it_shows() -> None:
    # ``serve --virtual-clock``: the default world, its clock stopped at the world's anchor.
    world = World.generate()
    world.clock = VirtualClock(world.origin["recipe"]["anchor"])
    with MockServer(world) as server:
        for _, command, expected in STEPS:
            assert run(command, server.base_url) == expected, command
