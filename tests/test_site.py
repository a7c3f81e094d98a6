"""The documentation site builds without a warning, and its generated pages cover the code.

``mkdocs build --strict`` (mkdocs.yml) fails on any warning: a broken link or anchor, a page
missing from the nav's targets, a docstring mkdocstrings cannot render. The generated
reference tables (docs/sitegen/) are checked against what they are generated from, so a
generator that silently drops a command, an option or a rule fails here. The site is built
in a venv that holds the kit and its ``docs`` extra alone, as ``make docs`` installs them, so a
generator that needs a package the extra lacks fails here too.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from prosper_contracts.rules import RULES
from prosper_mock.plugin import Prosper
from tests.dists import NOT_SOURCE, clean_env, fresh_venv, kit_requirements, needed, pip_install

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))  # where mkdocs finds the generators (docs/hooks.py)

from sitegen import GENERATORS, cli, control, fixture, pytest_options  # noqa: E402
from sitegen.rules import rules_reference  # noqa: E402


def test_the_site_builds_strict_without_warnings(tmp_path: Path) -> None:
    # as `make docs` builds it in a fresh clone: the kit installed editable, with its docs
    # extra alone (and the build backend), in a venv of its own
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, symlinks=True, ignore=NOT_SOURCE)
    python = fresh_venv(tmp_path / "venv", only=needed(kit_requirements("docs")) | {"setuptools"})
    pip_install(python, "--no-build-isolation", "--editable", str(checkout))
    built = subprocess.run(
        [str(python), "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(NO_MKDOCS_2_WARNING="1"),  # the theme's notice, not ours
    )
    assert built.returncode == 0, built.stderr
    warnings = [line for line in built.stderr.splitlines() if line.startswith("WARNING")]
    assert warnings == []
    site = tmp_path / "site"
    cli_page = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "prosper-mock spec update" in cli_page and "--control-token-env" in cli_page
    rules_page = (site / "reference" / "contract-rules" / "index.html").read_text("utf-8")
    assert all(f"<code>{name}</code>" in rules_page for name in RULES)
    api_page = (site / "reference" / "python-api" / "index.html").read_text(encoding="utf-8")
    assert "MockServer" in api_page and "check_answer" in api_page
    plugin_page = (site / "reference" / "pytest-plugin" / "index.html").read_text("utf-8")
    assert "prosper.add_targets" in plugin_page and "prioritize_oldest" in plugin_page
    assert "generate:" not in cli_page + rules_page


def test_every_page_with_a_generate_line_names_a_generator() -> None:
    named = {
        line.removeprefix("<!-- generate: ").removesuffix(" -->")
        for page in (ROOT / "docs").rglob("*.md")
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("<!-- generate: ")
    }
    assert named == set(GENERATORS)


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return [
        flag
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction)
        for flag in action.option_strings
        if flag not in ("-h", "--help")
    ]


def test_the_cli_page_names_every_subcommand_and_option() -> None:
    page = cli.cli_reference()
    found = list(cli.commands())
    names = {" ".join(path) for path, _ in found}
    assert {
        "prosper-mock serve",
        "prosper-mock generate",
        "prosper-mock contract",
        "prosper-mock proxy",
        "prosper-mock spec diff",
        "prosper-mock spec update",
    } <= names
    for path, parser in found:
        section = page.split(f"`{' '.join(path)}`\n", 1)[1]
        section = section.split("\n#", 1)[0]  # up to the next command's heading
        for flag in _option_strings(parser):
            assert f"`{flag}" in section, (path, flag)


def test_the_rules_page_names_every_rule_with_its_meaning() -> None:
    page = rules_reference()
    for name, meaning in RULES.items():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{name}` |"))
        assert meaning.split()[0] in row


def test_the_control_page_covers_every_operation_of_its_document() -> None:
    page = control.control_reference()
    doc = control.document()
    for method, path, op in control.operations(doc):
        assert f"### `{method} {path}`" in page
        assert f"(`{op['operationId']}`)" in page
        for status in op["responses"]:
            assert f"| `{status}` |" in page
    assert len(list(control.operations(doc))) >= 20


def test_the_pytest_page_names_every_option_of_both_plugins() -> None:
    page = pytest_options.pytest_options_reference()
    parser = pytest_options.registered()
    flags = [name for group in parser._groups for o in group.options for name in o.names()]
    assert "--prosper-base-url" in flags and "--prosper-examples" in flags
    assert all(f"`{flag}`" in page for flag in flags)


def test_the_pytest_page_has_a_section_per_public_name_of_the_prosper_fixture() -> None:
    page = fixture.fixture_reference()
    fields = {f.name for f in dataclasses.fields(Prosper)}
    public = {n for n in {*fields, *vars(Prosper)} if not n.startswith("_")}
    assert {"campaigns", "add_targets", "launch", "target", "journal", "base_url"} <= public
    headings = re.findall(r"^### `prosper\.(\w+)`$", page, re.M)
    assert sorted(headings) == sorted(public)
    for name in public:
        section = page.split(f"### `prosper.{name}`\n", 1)[1].split("\n### ", 1)[0]
        signature, text = section.split("```python\n", 1)[1].split("\n```\n", 1)
        assert signature.startswith(f"prosper.{name}") and len(text.strip()) > 20, name
        function = vars(Prosper).get(name)
        if inspect.isfunction(function):
            wanted = list(inspect.signature(function).parameters)[1:]
            assert all(p in signature for p in wanted), (name, signature)


def test_an_unknown_generate_line_fails_the_build() -> None:
    import hooks

    assert hooks.fill("a\n<!-- generate: rules -->\nb").startswith("a\n| Rule |")
    with pytest.raises(KeyError, match="no generator named 'nothing'"):
        hooks.fill("<!-- generate: nothing -->")
