"""Every console example of the README and the docs is real: it runs and prints what it shows.

Each page runs in its own shell (tests/console.py): its ``prosper-mock serve ... &`` lines
start the mock in-process, and its curl lines, in page order, must print what the page
shows under them. A block that cannot run here says why, and such blocks stay few.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.console import DOCS_REDIS_ENV, NotUnderstood, console_blocks, run_page
from tests.redisserver import RedisServer

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
WITH_EXAMPLES = [
    p for p in PAGES if any(b.not_run is None for b in console_blocks(p.read_text("utf-8")))
]
# What no test machine has: the real upstream and its key, a Docker engine, a minute per run.
MAX_NOT_RUN = 6


def test_the_pages_have_examples_to_run() -> None:
    names = {str(p.relative_to(ROOT)) for p in WITH_EXAMPLES}
    assert {"README.md", "docs/workflow.md", "docs/tutorials/first-mock.md"} <= names


@pytest.mark.parametrize("page", WITH_EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_console_examples_print_what_they_show(
    page: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DOCS_REDIS_ENV, redis_server.url)  # for a page's --store
    for block, step, printed in run_page(page.read_text(encoding="utf-8")):
        assert printed == step.shown, f"{page.name} line {block.line}: $ {step.command}"


def test_blocks_not_run_say_why_and_are_few() -> None:
    skipped = [
        (str(p.relative_to(ROOT)), b.line, b.not_run)
        for p in PAGES
        for b in console_blocks(p.read_text(encoding="utf-8"))
        if b.not_run is not None
    ]
    assert all(len(reason) > 10 for _, _, reason in skipped), skipped
    assert len(skipped) <= MAX_NOT_RUN, skipped


def test_a_command_the_runner_does_not_know_fails_rather_than_passing_unseen() -> None:
    text = "```console\n$ rm -rf build\n```\n"
    with pytest.raises(NotUnderstood, match="rm -rf build"):
        run_page(text)
    marked = "<!-- console: not run: needs a build folder to remove -->\n" + text
    assert run_page(marked) == []
    assert console_blocks(marked)[0].not_run == "needs a build folder to remove"


def test_output_that_differs_is_caught() -> None:
    text = (
        "```console\n$ curl -s 'http://127.0.0.1:8765/api/v1/live-calls?call_log_id=4242'\n"
        '{"detail":"Call found"}\n```\n'
    )
    [(_, step, printed)] = run_page(text)
    assert printed == '{"detail":"Call not found"}\n' != step.shown


PYTEST_TUTORIAL = ROOT / "docs" / "tutorials" / "pytest-suite.md"


def tutorial_blocks(uses_example_project: bool) -> list[str]:
    """The pytest tutorial's python blocks that import the example project's client, or not."""
    blocks = re.findall(r"```python\n(.*?)```", PYTEST_TUTORIAL.read_text("utf-8"), re.S)
    return [b for b in blocks if ("live_call_client" in b) == uses_example_project]


def test_the_pytest_tutorial_shows_tests_of_the_example_project() -> None:
    example = (ROOT / "examples" / "live-call-client" / "tests" / "test_client.py").read_text(
        encoding="utf-8"
    )
    shown = re.findall(r"^def (test_\w+)", "".join(tutorial_blocks(True)), re.M)
    assert len(shown) == 3
    assert all(f"def {name}(" in example for name in shown)


def test_the_pytest_tutorials_campaign_tests_pass_as_shown(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    [campaign] = tutorial_blocks(False)
    pytester.makepyfile(test_campaign=campaign)
    shown = re.findall(r"^def (test_\w+)", campaign, re.M)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=len(shown))
    assert "test_a_launched_target_is_called_then_logged" in shown


def test_the_python_api_examples_run_and_print_what_they_show(
    capsys: pytest.CaptureFixture[str],
) -> None:
    page = (ROOT / "docs" / "reference" / "python-api.md").read_text(encoding="utf-8")
    examples = re.findall(r"```python\n(.*?)```", page, re.S)
    assert len(examples) == 2
    for example in examples:
        exec(compile(example, "python-api.md", "exec"), {})
    shown = re.search(r"^# (\[.*\])$", examples[1], re.M).group(1)
    assert capsys.readouterr().out.splitlines()[-1] == shown
