"""The README is the two-minute page: short, its example output real, its pytest example a
passing test, and everything else one link away in docs/.

Its console examples run with the docs' (tests/test_doc_examples.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prosper_mock import World
from tests.console import console_blocks

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FIRST_MOCK = (ROOT / "docs" / "tutorials" / "first-mock.md").read_text(encoding="utf-8")
MAX_BYTES = 8 * 1024


def test_readme_stays_short() -> None:
    assert len(README.encode("utf-8")) <= MAX_BYTES


def test_readme_shows_a_curl_that_runs() -> None:
    run = [s for b in console_blocks(README) if b.not_run is None for s in b.steps]
    assert [s.command.split()[0] for s in run] == ["curl"]
    assert run[0].shown.startswith("{\n")


def test_readme_names_every_way_to_install() -> None:
    for form in (
        "pip install git+https://github.com/prosper-voice/prosper-voice-mock",
        "pip install dist/prosper_voice_mock-",
        "pip install prosper-voice-mock ",
        "once published",
        "'prosper-voice-mock[contracts]'",
    ):
        assert form in README, form


def test_readme_set_up_commands_say_what_the_makefile_says() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("serve", "test"):
        said = re.search(rf"^#\s+make {target}\s+(.+)$", makefile, re.M).group(1)
        assert re.search(rf"^make {target}\s+# {re.escape(said)}", README, re.M), target


def test_readme_links_into_the_docs() -> None:
    linked = set(re.findall(r"\]\((docs/[^)#]+)", README))
    assert {
        "docs/index.md",
        "docs/semantics.md",
        "docs/tutorials/first-mock.md",
        "docs/reference/cli.md",
    } <= linked
    assert all((ROOT / p).is_file() for p in linked)


def test_readme_pytest_example_passes(quiet_pytester: pytest.Pytester) -> None:
    example = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    assert len(example.strip().splitlines()) <= 10
    quiet_pytester.makepyfile(test_readme_example=example)
    quiet_pytester.runpytest_inprocess("-q").assert_outcomes(passed=1)


def test_quick_start_ids_exist_in_the_default_world() -> None:
    world = World.generate()
    live = sorted(c.call_log_id for c in world.live_calls)
    logs = sorted(c.call_log_id for c in world.call_logs)
    assert (live[0], live[-1], logs[0], logs[-1]) == (1248, 1272, 1000, 1249)
    assert "ids 1000\u20131249" in FIRST_MOCK and "ids 1248\u20131272" in FIRST_MOCK
