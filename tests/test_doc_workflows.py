"""Every GitHub workflow the docs show runs as written.

Each ``yaml`` block of the README and docs/ that is a workflow (``jobs:``), or a list of a job's
steps, passes actionlint; this repository's actions and the kit's git installs name one ref,
which exists; every other action is at the version this repository's own workflows use. Then
each job runs in a sandbox (tests/workflow_sandbox.py): a step that runs a command finds it
only if an earlier step installed it.
"""

from __future__ import annotations

import http.server
import json
import re
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.dists import Distributions
from tests.workflow_sandbox import OURS, Sandbox, kit_refs

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


@dataclass(frozen=True)
class DocWorkflow:
    page: str
    text: str  # as a workflow file: a list of steps is put into a job of its own
    jobs: dict[str, Any]


def doc_workflows() -> list[DocWorkflow]:
    found = []
    for page in PAGES:
        for block in BLOCK.findall(page.read_text(encoding="utf-8")):
            loaded = yaml.safe_load(block)
            if isinstance(loaded, dict) and "jobs" in loaded:
                text = block
            elif isinstance(loaded, list) and all("run" in s or "uses" in s for s in loaded):
                steps = textwrap.indent(textwrap.dedent(block), "      ")
                text = f"on: push\njobs:\n  steps:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"
            else:
                continue
            found.append(
                DocWorkflow(str(page.relative_to(ROOT)), text, yaml.safe_load(text)["jobs"])
            )
    return found


WORKFLOWS = doc_workflows()


def steps(workflow: DocWorkflow) -> Iterator[dict[str, Any]]:
    for job in workflow.jobs.values():
        yield from job["steps"]


def test_the_docs_show_the_workflows_of_every_page_that_has_one() -> None:
    pages = {w.page for w in WORKFLOWS}
    assert {"docs/ci.md", "docs/tutorials/contract-ci.md", "docs/how-to/spec-drift.md",
            "docs/how-to/record-replay.md"} <= pages  # fmt: skip


def test_actionlint_passes_every_workflow_in_the_docs(tmp_path: Path) -> None:
    files = []
    for n, workflow in enumerate(WORKFLOWS):
        files.append(tmp_path / f"{n}-{Path(workflow.page).stem}.yml")
        files[-1].write_text(workflow.text, encoding="utf-8")
    linted = subprocess.run(
        [str(Path(sys.executable).parent / "actionlint"), "-no-color", *map(str, files)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def refs_of_this_repository() -> set[str]:
    refs = set()
    for workflow in WORKFLOWS:
        for step in steps(workflow):
            if m := OURS.match(step.get("uses", "")):
                refs.add(m["ref"])
            refs.update(kit_refs(step.get("run", "")))
    return refs


def test_the_docs_name_this_repositorys_actions_at_one_ref_that_exists() -> None:
    uses = [s.get("uses", "") for w in WORKFLOWS for s in steps(w)]
    assert all("prosper-voice-mock" not in u or OURS.match(u) for u in uses), uses
    assert {m["path"] for u in uses if (m := OURS.match(u))} == {None, "/actions/serve"}
    tags = subprocess.run(["git", "tag"], cwd=ROOT, capture_output=True, text=True).stdout
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    branches = ci[True]["push"]["branches"]  # YAML 1.1 reads the key ``on`` as True
    refs = refs_of_this_repository()
    assert len(refs) == 1, refs
    assert refs <= set(tags.split()) | set(branches)


def versions(uses: list[str]) -> dict[str, set[str]]:
    named: dict[str, set[str]] = {}
    for each in uses:
        if "@" in each and not OURS.match(each):
            name, version = each.split("@")
            named.setdefault(name, set()).add(version)
    return named


def test_the_docs_use_the_action_versions_of_this_repositorys_workflows() -> None:
    own = [
        step["uses"]
        for path in (ROOT / ".github" / "workflows").glob("*.yml")
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values()
        for step in job["steps"]
        if "uses" in step
    ]
    documented = versions([s["uses"] for w in WORKFLOWS for s in steps(w) if "uses" in s])
    workflows = versions(own)
    assert all(len(v) == 1 for v in workflows.values()), workflows
    for name, version in documented.items():
        assert version == workflows.get(name), (name, version, workflows.get(name))


def free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """A loopback stand-in for the real API's address: it serves the vendored spec."""

    class Spec(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (ROOT / "openapi.json").read_bytes()
            self.send_response(200 if self.path == "/openapi.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Spec)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


# The workspace's own files, as a project that uses the kit has them: the client's tests
# (tests/integration reads API_BASE_URL) and a world file; recorded.json stands in for what the
# step against the real API would have recorded.
CLIENT_TEST = """
import json, urllib.request

def test_a_lookup_through_the_running_mock(prosper_base_url):
    url = prosper_base_url + "/api/v1/live-calls?call_log_id=1011"
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert json.load(answer)["source"] == "live_calls"
"""
INTEGRATION_TEST = """
import json, os, urllib.request

def test_a_lookup():
    url = os.environ["API_BASE_URL"] + "/api/v1/live-calls?call_log_id=1011"
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert json.load(answer)["source"] == "live_calls"
"""


def workspace(sandbox: Sandbox, page: str) -> None:
    world = (ROOT / "fixtures" / "world.json").read_bytes()
    (sandbox.workspace / "mock-world.json").write_bytes(world)
    (sandbox.workspace / "recorded.json").write_bytes(world)
    tests = sandbox.workspace / "tests"
    (tests / "integration").mkdir(parents=True)
    if page == "docs/how-to/record-replay.md":
        (tests / "integration" / "test_api.py").write_text(INTEGRATION_TEST)
    else:
        (tests / "test_client.py").write_text(CLIENT_TEST)
    if page == "docs/how-to/spec-drift.md":  # a job of this repository's CI: a checkout of it
        (sandbox.workspace / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())


# The contract runs are cut to one operation's spec checks (the suites run in tests/contracts/).
SHORT_CONTRACT = " --examples 1 -k spec --operation get_live_call_api_v1_live_calls_get"


def shortened(job: dict[str, Any]) -> dict[str, Any]:
    def short(step: dict[str, Any]) -> dict[str, Any]:
        if "prosper-mock contract " not in step.get("run", ""):
            return step
        return step | {"run": step["run"].rstrip() + SHORT_CONTRACT}

    return job | {"steps": [short(step) for step in job["steps"]]}


def runs_something(workflow: DocWorkflow) -> bool:
    return any(
        ("run" in step and "secrets." not in json.dumps(step) and "vars." not in json.dumps(step))
        or ((m := OURS.match(step.get("uses", ""))) and m["path"])
        for step in steps(workflow)
    )


RUNNABLE = [w for w in WORKFLOWS if runs_something(w)]


@pytest.mark.parametrize("workflow", RUNNABLE, ids=[w.page for w in RUNNABLE])
def test_each_documented_job_runs_as_written(
    workflow: DocWorkflow, tmp_path: Path, distributions: Distributions, upstream: str
) -> None:
    for name, job in workflow.jobs.items():
        swaps = {"8765": free_port(), "8766": free_port(),
                 "https://voice.getprosperapp.com": upstream}  # fmt: skip
        sandbox = Sandbox(tmp_path / name, distributions.wheel, swaps)
        workspace(sandbox, workflow.page)
        try:
            done = sandbox.run_job(shortened(job))
        finally:
            sandbox.close()
        assert "ran" in done, done
