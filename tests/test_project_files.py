"""The files a released project carries: licence, changelog, contributing guide, metadata."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_license_is_the_mit_licence_pyproject_declares() -> None:
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    licence = text("LICENSE")
    assert licence.startswith("MIT License\n")
    assert "Copyright (c) 2026 The prosper-voice-mock authors" in licence
    assert "WITHOUT WARRANTY OF ANY KIND" in licence


def test_changelog_keeps_a_changelog_with_unreleased_and_the_current_version() -> None:
    changelog = text("CHANGELOG.md")
    assert "[Keep a Changelog](https://keepachangelog.com/" in changelog
    versions = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", changelog, re.M)
    assert versions[0] == ("Unreleased", "")
    released = dict(versions[1:])
    assert PROJECT["version"] in released and released[PROJECT["version"]]
    # every section under a version is one of the format's kinds
    kinds = set(re.findall(r"^### (.+)$", changelog, re.M))
    assert kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_contributing_names_make_targets_the_makefile_has() -> None:
    guide = text("CONTRIBUTING.md")
    targets = set(re.findall(r"^([\w.-]+):", text("Makefile"), re.M))
    named = set(re.findall(r"`make ([\w-]+)", guide))
    assert {"test", "test-fast", "lint", "bench", "bench-peers"} <= named
    assert named <= targets
    for heading in ("## Set up", "## Docs", "## Add an operation", "## Add a contract rule"):
        assert heading in guide


def test_paths_the_contributing_guide_names_exist() -> None:
    named = re.findall(
        r"`((?:mock|contracts|tests|docs)/[\w/.-]+\.(?:py|md|json))`", text("CONTRIBUTING.md")
    )
    assert named
    assert [p for p in named if not (ROOT / p).exists()] == []


def test_description_covers_the_whole_api_not_one_endpoint() -> None:
    assert "Get Live Call" not in PROJECT["description"]
    assert "Prosper Voice API" in PROJECT["description"]


def test_dependencies_keep_lower_bounds_only() -> None:
    extras = PROJECT["optional-dependencies"]
    pins = [*PROJECT["dependencies"], *(p for each in extras.values() for p in each)]
    pinned = [p.split(";")[0] for p in pins if not p.startswith("prosper-voice-mock[")]
    assert pinned and all(">=" in p and "==" not in p and "<" not in p for p in pinned)


def test_the_wheel_lists_every_package_of_the_source_tree() -> None:
    # setuptools ships exactly the packages pyproject names: a new subpackage left out of the
    # list imports from a checkout and fails once installed.
    tool = PYPROJECT["tool"]["setuptools"]
    found = {
        ".".join((name, *init.parent.relative_to(ROOT / folder).parts))
        for name, folder in tool["package-dir"].items()
        for init in (ROOT / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert sorted(found) == sorted(tool["packages"])
