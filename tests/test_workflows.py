"""The GitHub workflows: CI runs the test command, a tag releases to PyPI (actionlint, run by
``make lint``, checks their syntax and expressions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key ``on`` as True
    loaded["on"] = loaded.pop(True, loaded.get("on"))
    return loaded


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def test_make_lint_checks_every_workflow_file() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(BIN)/actionlint .github/workflows/*.yml" in makefile
    assert all(p.suffix == ".yml" for p in WORKFLOWS.iterdir())


def test_ci_runs_make_test_on_ubuntu_with_python_3_11() -> None:
    ci = workflow("ci.yml")
    test = ci["jobs"]["test"]
    assert test["runs-on"].startswith("ubuntu")
    setup = next(s for s in test["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "3.11"
    assert any(r.startswith("make test") for r in runs(test))
    assert "pull_request" in ci["on"]


def test_ci_runs_the_repositorys_own_actions() -> None:
    job = workflow("ci.yml")["jobs"]["actions"]
    assert {"./actions/serve", "./"} <= set(uses(job))


def test_release_builds_checks_and_publishes_on_a_version_tag() -> None:
    release = workflow("release.yml")
    assert release["on"]["push"]["tags"] == ["v*"]
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    commands = runs(build)
    assert "python -m build" in commands
    assert any(c.startswith("python -m twine check") for c in commands)
    assert any("GITHUB_REF_NAME" in c for c in commands)  # the tag must name the version
    assert publish["needs"] == "build"
    assert "pypa/gh-action-pypi-publish@release/v1" in uses(publish)
    # trusted publishing: an OIDC token for this job only, no stored password
    assert publish["permissions"] == {"id-token": "write"}
    assert release["permissions"] == {"contents": "read"}
    publish_step = next(
        s for s in publish["steps"] if "gh-action-pypi-publish" in s.get("uses", "")
    )
    assert "password" not in publish_step.get("with", {})
