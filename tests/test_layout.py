"""The tree shows the design: small modules, tests beside their code, docs naming real files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"mock": ROOT / "mock", "contracts": ROOT / "contracts"}
# Modules allowed past the size limit, each holding one concept that reads best whole.
LARGE: dict[str, str] = {
    "mock/world/generate/generator.py": "the Generator class: one row kind after another",
}
MAX_LINES = 500
# Test folders that mirror no package folder, each with what it tests instead.
UNMIRRORED: dict[str, str] = {
    "browser": "the dashboard (mock/control/static/) driven in a real browser",
}


def modules() -> list[Path]:
    return sorted(p for root in PACKAGES.values() for p in root.rglob("*.py"))


@pytest.mark.parametrize("module", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_size_limit(module: Path) -> None:
    name = str(module.relative_to(ROOT))
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES or name in LARGE, f"{name}: {lines} lines"


def test_test_folders_mirror_the_packages() -> None:
    for folder in (ROOT / "tests").rglob("*"):
        if not folder.is_dir() or folder.name == "__pycache__":
            continue
        relative = folder.relative_to(ROOT / "tests")
        if str(relative) in UNMIRRORED:
            continue
        mirrored = [ROOT / "mock" / relative, ROOT / relative]
        assert any(p.is_dir() for p in mirrored), f"tests/{relative} mirrors no package folder"


def test_every_path_the_docs_name_exists() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    pattern = re.compile(
        r"(?<![\w/.-])((?:mock|contracts|tests|benchmarks|fixtures|examples|docs)"
        r"/[\w/.-]*\w\.(?:py|pyi|json|md|toml))"
    )
    named = {m for doc in docs for m in pattern.findall(doc.read_text(encoding="utf-8"))}
    assert named, "the pattern finds nothing: the test would prove nothing"
    assert sorted(p for p in named if not (ROOT / p).exists()) == []
