"""The repository's GitHub Actions: action.yml (contract checks) and actions/serve.

actionlint checks only workflows (and the inputs they give these actions), so the action
files are checked here: their shape, that every input is declared and used, that scripts get
inputs through ``env`` only. Their scripts then run as a runner would run them, with the
``${{ }}`` expressions filled in: the serve action starts a real mock and waits for its
health; the contract action's command line is parsed by the real ``prosper-mock contract``.
Only the pip install steps do not run (their target is checked to be this project).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from prosper_mock.cli.program import build_parser

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = {"contract": ROOT / "action.yml", "serve": ROOT / "actions" / "serve" / "action.yml"}
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def action(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTIONS[name].read_text(encoding="utf-8"))
    return loaded


def expressions(value: Any) -> list[str]:
    return EXPRESSION.findall(json.dumps(value))


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_action_has_the_required_keys_and_composite_steps(name: str) -> None:
    spec = action(name)
    assert {"name", "description", "runs"} <= set(spec)
    assert spec["runs"]["using"] == "composite"
    steps = spec["runs"]["steps"]
    assert steps and all("run" in s or "uses" in s for s in steps)
    assert all(s["shell"] == "bash" for s in steps if "run" in s)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_input_is_described_declared_and_used(name: str) -> None:
    spec = action(name)
    inputs = spec["inputs"]
    for key, declared in inputs.items():
        assert declared["description"].strip(), key
        assert declared.get("required", False) or "default" in declared, key
        assert isinstance(declared.get("default", ""), str), key  # inputs are strings
    used = {e.split(".", 1)[1] for e in expressions(spec["runs"]) if e.startswith("inputs.")}
    assert used == set(inputs)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_scripts_take_inputs_from_the_environment_only(name: str) -> None:
    # an expression inside a script is pasted into it: a crafted input would run as code
    for step in action(name)["runs"]["steps"]:
        assert EXPRESSION.search(step.get("run", "")) is None, step["name"]


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_outputs_come_from_steps_that_exist(name: str) -> None:
    spec = action(name)
    ids = {s["id"] for s in spec["runs"]["steps"] if "id" in s}
    for key, output in spec["outputs"].items():
        assert output["description"].strip(), key
        (expression,) = EXPRESSION.findall(output["value"])
        step, output_name = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression).groups()
        assert step in ids
        script = next(s["run"] for s in spec["runs"]["steps"] if s.get("id") == step)
        assert f"{output_name}=" in script


def test_each_action_installs_this_project() -> None:
    # github.action_path is the folder of the action file
    for name, install in (("contract", '"${KIT}[contracts]"'), ("serve", '"$KIT"')):
        first = action(name)["runs"]["steps"][0]
        kit = first["env"]["KIT"].replace("${{ github.action_path }}", str(ACTIONS[name].parent))
        assert Path(kit).resolve() == ROOT
        assert f"-m pip install --quiet {install}" in first["run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Runner:
    """Runs an action's ``run`` steps as GitHub's runner does (bash -eo pipefail), with
    the kit's venv under RUNNER_TEMP standing in for the one its install step makes."""

    def __init__(self, tmp: Path, venv_name: str, program: str) -> None:
        self.temp = tmp / "runner-temp"
        self.workspace = tmp / "workspace"
        self.workspace.mkdir()
        bin_dir = self.temp / venv_name / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "python").symlink_to(sys.executable)
        (bin_dir / "prosper-mock").write_text(f"#!/bin/sh\n{program}\n")
        (bin_dir / "prosper-mock").chmod(stat.S_IRWXU)
        self.output = tmp / "github-output"
        self.output.touch()

    def run(self, name: str, given: dict[str, str]) -> subprocess.CompletedProcess[str]:
        spec = action(name)
        values = {k: given.get(k, v.get("default", "")) for k, v in spec["inputs"].items()}
        context = {f"inputs.{k}": v for k, v in values.items()}
        context["github.action_path"] = str(ACTIONS[name].parent)
        done = None
        for step in spec["runs"]["steps"][1:]:  # the first installs the kit
            env = {
                k: EXPRESSION.sub(lambda m: context[m.group(1)], v)
                for k, v in step.get("env", {}).items()
            }
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=self.workspace,
                env={
                    **os.environ,
                    **env,
                    "RUNNER_TEMP": str(self.temp),
                    "GITHUB_OUTPUT": str(self.output),
                },
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stdout + done.stderr
        assert done is not None
        return done

    def outputs(self) -> dict[str, str]:
        lines = self.output.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.mark.slow  # Runner starts bash (a class: tests/tiers.py follows functions)
def test_the_serve_action_starts_a_mock_that_answers_at_its_base_url(tmp_path: Path) -> None:
    runner = Runner(tmp_path, "prosper-serve", f'exec "{sys.executable}" -m prosper_mock "$@"')
    (runner.workspace / "fixtures").mkdir()
    (runner.workspace / "fixtures" / "world.json").write_bytes(
        (ROOT / "fixtures" / "world.json").read_bytes()
    )
    port = free_port()
    runner.run(
        "serve",
        {"port": str(port), "world": "fixtures/world.json", "virtual-clock": "true"},
    )
    out = runner.outputs()
    try:
        assert out["base-url"] == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(out["base-url"] + "/__mock/clock", timeout=10) as answer:
            clock = json.load(answer)
        with urllib.request.urlopen(out["base-url"] + "/__mock/health", timeout=10) as answer:
            health = json.load(answer)
        assert clock["mode"] == "virtual", clock
        assert health["live_calls"] == 4 and health["call_logs"] == 12  # the world file's
        assert Path(out["log"]).is_file()
    finally:
        os.kill(int(out["pid"]), signal.SIGTERM)


@pytest.mark.slow  # Runner starts bash (a class: tests/tiers.py follows functions)
def test_the_serve_action_fails_with_the_log_when_the_mock_does_not_start(
    tmp_path: Path,
) -> None:
    runner = Runner(tmp_path, "prosper-serve", f'exec "{sys.executable}" -m prosper_mock "$@"')
    with pytest.raises(AssertionError, match="--rate needs --simulate"):
        runner.run("serve", {"port": "0", "args": "--rate 3", "timeout": "20"})
    assert "base-url" not in runner.outputs()


@pytest.mark.slow  # Runner starts bash (a class: tests/tiers.py follows functions)
def test_the_contract_action_runs_prosper_mock_contract_with_its_inputs(tmp_path: Path) -> None:
    # a prosper-mock that records its arguments and the key it sees
    record = tmp_path / "argv.json"
    recorder = (
        f'exec "{sys.executable}" -c "import json, os, sys; json.dump([sys.argv[1:], '
        f"os.environ.get('PROSPER_API_KEY')], open('{record}', 'w'))\" \"$@\""
    )
    runner = Runner(tmp_path, "prosper-contract", recorder)
    runner.run(
        "contract",
        {
            "base-url": "https://voice.example",
            "sample": "call_log_id=48213\n\nuser_phone_number=+15550100\n",
            "examples": "7",
            "api-key": "k3y",
            "min-coverage": "62.5",
            "args": "--seed 3 --negative",
        },
    )
    argv, key = json.loads(record.read_text())
    assert key == "k3y"
    assert "k3y" not in argv
    args = build_parser().parse_args(argv)  # the real command's options
    assert args.command == "contract"
    assert args.base_url == "https://voice.example"
    assert args.sample == ["call_log_id=48213", "user_phone_number=+15550100"]
    assert args.examples == 7 and args.seed == 3 and args.negative
    assert args.min_coverage == 62.5
    assert args.junit_xml == "contract-junit.xml"
    assert runner.outputs()["junit-xml"] == "contract-junit.xml"


@pytest.mark.slow  # Runner starts bash (a class: tests/tiers.py follows functions)
def test_the_contract_action_without_a_base_url_or_key_checks_an_in_process_mock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "argv.json"
    recorder = (
        f'exec "{sys.executable}" -c "import json, os, sys; json.dump([sys.argv[1:], '
        f"os.environ.get('PROSPER_API_KEY')], open('{record}', 'w'))\" \"$@\""
    )
    runner = Runner(tmp_path, "prosper-contract", recorder)
    monkeypatch.delenv("PROSPER_API_KEY", raising=False)
    runner.run("contract", {})
    argv, key = json.loads(record.read_text())
    assert key is None
    args = build_parser().parse_args(argv)
    assert args.base_url is None and args.sample == [] and args.examples == 50
    assert args.min_coverage is None


def doc_workflows() -> list[dict[str, Any]]:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_the_docs_workflows_give_the_actions_only_inputs_they_declare() -> None:
    workflows = doc_workflows()
    assert len(workflows) == 2
    seen = set()
    for workflow in workflows:
        for job in workflow["jobs"].values():
            outputs = {}
            for step in job["steps"]:
                uses = step.get("uses", "")
                if not uses.startswith("prosper-voice/prosper-voice-mock"):
                    continue
                name = "serve" if "/actions/serve@" in uses else "contract"
                seen.add(name)
                assert set(step.get("with", {})) <= set(action(name)["inputs"])
                if "id" in step:
                    outputs[step["id"]] = set(action(name)["outputs"])
            for used in expressions(job["steps"]):
                if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", used):
                    assert m.group(2) in outputs[m.group(1)], used
    assert seen == set(ACTIONS)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_the_docs_list_every_input(name: str) -> None:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for key, declared in action(name)["inputs"].items():
        default = declared.get("default", "")
        shown = re.escape(f"`{default}`") if default else re.escape("(none)")
        row = r"^\| `" + re.escape(key) + r"` \| " + shown + r" \|"
        assert re.search(row, text, re.M), key
