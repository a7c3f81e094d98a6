"""The project's own docs: what they cite exists, and the decisions the code cites are there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from prosper_contracts.kit import KIT_RESPONSES

ROOT = Path(__file__).resolve().parent.parent
SEMANTICS = (ROOT / "docs" / "semantics.md").read_text(encoding="utf-8")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    if not out:  # not a git checkout (an unpacked sdist): every file there is the project's
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts]
    return [ROOT / line for line in out.splitlines()]


def decisions() -> dict[int, str]:
    """The numbered kit decisions of docs/semantics.md: number -> its bold title."""
    part = SEMANTICS.split("## The kit's decisions", 1)[1]
    return {int(n): title for n, title in re.findall(r"^(\d+)\. \*\*(.+?)\*\*", part, re.M)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    relative = [t for t in targets if "://" not in t and not t.startswith("mailto:")]
    missing = [t for t in relative if not (doc.parent / t).exists()]
    assert missing == []


def test_readme_links_the_semantics_page() -> None:
    assert "](docs/semantics.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_no_file_cites_a_document_the_repository_lacks() -> None:
    # The upstream notes the kit was built from are not shipped: cite docs/semantics.md.
    citing = [
        str(p.relative_to(ROOT))
        for p in tracked_files()
        if p.suffix in {".py", ".md", ".json", ".toml", ".cfg"}
        and p.exists()
        and p != Path(__file__).resolve()
        and "DOMAIN.md" in p.read_text(encoding="utf-8", errors="replace")
    ]
    assert citing == []


def test_semantics_lists_the_decisions_in_order() -> None:
    # 1-8: the live-calls lookup; 9-10: bodies; 11-24: campaigns and targets; 25-29: answers;
    # 30-33: what the world stores (call ids, text, depth, all or nothing); 34: stubs;
    # 35: the contract kit's sandbox; 36-42: webhooks and attempts; 43-47: a shared world;
    # 48: long writes.
    assert list(decisions()) == list(range(1, 49))
    assert decisions()[9].startswith("A body over")


def test_the_sandbox_rule_is_a_kit_decision_the_code_cites_and_the_contracts_page_links() -> None:
    from prosper_contracts.safety import created_targets

    [number] = [
        n for n, title in decisions().items() if title.startswith("A sandboxed run writes only")
    ]
    assert f"kit decision {number})" in " ".join((created_targets.__doc__ or "").split())
    contracts = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    assert f"[kit decision {number}](semantics.md#the-contract-kit)" in contracts
    assert "\n## The contract kit\n" in SEMANTICS


def test_kit_responses_cite_the_decision_that_describes_them() -> None:
    titles = decisions()
    cited = {
        status: int(m.group(1))
        for status, response in KIT_RESPONSES.items()
        if (m := re.search(r"kit decision (\d+), docs/semantics\.md", response["description"]))
    }
    assert cited == {"400": 2, "404": 3}
    assert titles[cited["400"]] == "Nothing to look up"
    assert titles[cited["404"]].startswith("Not found")


def test_no_file_carries_process_notes() -> None:
    # Docs and code say what the kit does; which piece of work added it is git's to tell.
    noting = [
        str(p.relative_to(ROOT))
        for p in tracked_files()
        if p.suffix in {".py", ".md", ".toml"}
        and p.exists()
        and p != Path(__file__).resolve()
        and re.search(r"\(issue \d+\)|\bissue #?\d+\b", p.read_text(encoding="utf-8"), re.I)
    ]
    assert noting == []


# Options of other tools the docs show (docker run, pytest, mkdocs build, curl, wrk).
OTHER_TOOLS_OPTIONS = {"--entrypoint", "--rm", "--pyargs", "--strict", "--json", "--latency"}
OTHER_TOOLS_OPTIONS |= {"--path-as-is"}  # curl's, in the dashboard's curl lines


def kit_options() -> set[str]:
    """Every option of prosper-mock's commands, of the pytest plugins and of the benchmarks."""
    import sys

    sys.path.insert(0, str(ROOT / "docs"))  # the site's generators read the same parsers
    from sitegen import cli, pytest_options

    found = {f for _, parser in cli.commands() for a in parser._actions for f in a.option_strings}
    plugins = pytest_options.registered()
    found.update(name for group in plugins._groups for o in group.options for name in o.names())
    for script in (ROOT / "benchmarks").glob("*.py"):
        found.update(re.findall(r"add_argument\(\s*\"(--[\w-]+)\"", script.read_text("utf-8")))
    return found


def test_every_option_the_docs_name_exists() -> None:
    known = kit_options() | OTHER_TOOLS_OPTIONS
    named = {
        (flag, str(doc.relative_to(ROOT)))
        for doc in DOCS
        for code in re.findall(r"`([^`\n]+)`", doc.read_text(encoding="utf-8"))
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9])(?![\w*-])", code)
    }
    assert "--require-api-key" in known and "--prosper-base-url" in known
    assert sorted((flag, doc) for flag, doc in named if flag not in known) == []


def test_the_client_generation_note_names_every_constant_choice_of_the_spec() -> None:
    import json

    spec = json.loads((ROOT / "mock" / "openapi.json").read_text(encoding="utf-8"))
    with_a_constant = sorted(
        (schema, name)
        for schema, body in spec["components"]["schemas"].items()
        for name, prop in body.get("properties", {}).items()
        if any("const" in choice for choice in prop.get("anyOf", ()))
    )
    assert with_a_constant == [
        ("CallLogExportInformation", "from_"),
        ("CallLogListExportInformation", "from_"),
    ]
    page = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    note = page.split("## Generating a client from the spec", 1)[1]
    assert all(f'"{schema}"' in note and f'["{name}"]' in note for schema, name in with_a_constant)
