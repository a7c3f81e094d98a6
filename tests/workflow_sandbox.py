"""Run the jobs of a documented GitHub workflow on this machine, as a runner would.

A job's ``run`` steps run in order under ``bash -eo pipefail`` in an empty workspace, with a
Python environment that starts with nothing but pip: each ``pip install`` step goes through
a stand-in ``pip`` that installs the run's built kit (from a git URL of this repository or
``.``) and, from this environment, exactly the distributions the step names and what they
require, with their commands. So a step that runs ``pytest`` or ``prosper-mock`` finds it only
if an earlier step installed it, and offline. ``actions/checkout``, ``actions/setup-python``
and ``actions/upload-artifact`` do nothing here; this repository's serve action runs its own
start-and-wait script (its install step is checked in tests/test_actions.py); a step that needs
the real API (``secrets`` or ``vars`` in it) is left out. Fixed ports become free ones and the
upstream's address a loopback one (``Sandbox.swaps``).

``python -m tests.workflow_sandbox pip VIEW WHEEL PYTHON ARGS...`` is the stand-in ``pip``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.dists import ROOT, clean_env, fresh_venv, kit_requirements, needed, top_level_entries

KIT = "prosper-voice-mock"
REPOSITORY = "github.com/prosper-voice/prosper-voice-mock"
OURS = re.compile(r"^prosper-voice/prosper-voice-mock(?P<path>/actions/serve)?@(?P<ref>\S+)$")
SETUP_ONLY = ("actions/checkout@", "actions/setup-python@", "actions/upload-artifact@")
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def kit_refs(text: str) -> list[str]:
    """The refs at which ``text`` installs the kit from this repository."""
    return re.findall(re.escape(REPOSITORY) + r"@([\w./-]+)", text)


def pip(view: Path, wheel: Path, python: Path, args: list[str]) -> int:
    """The stand-in ``pip``: ``install`` what ``args`` name into ``python``'s venv."""
    if not args or args[0] != "install" or any(a.startswith("-") for a in args[1:]):
        sys.exit(f"sandbox pip: only 'pip install REQUIREMENT...' is supported: {args}")
    wanted: list[str] = []
    kit_extras: set[str] | None = None
    for arg in args[1:]:
        if arg == ".":  # a checkout of this repository
            kit_extras = set() if kit_extras is None else kit_extras
            continue
        requirement = Requirement(arg)
        if canonicalize_name(requirement.name) != KIT:
            wanted.append(arg)
        elif requirement.url is None or REPOSITORY not in requirement.url:
            sys.exit(f"sandbox pip: {arg!r}: the kit is not on the package index; install it "
                     f"from git+https://{REPOSITORY}")  # fmt: skip
        else:
            kit_extras = (kit_extras or set()) | set(requirement.extras)
    if kit_extras is not None:
        wanted += kit_requirements(*sorted(kit_extras))
    distributions = needed(wanted)
    for entry in top_level_entries(distributions):
        if not (view / entry).exists():
            (view / entry).symlink_to(Path(_site_packages()) / entry)
    for name in distributions:
        _write_commands(name, python)
    if kit_extras is not None:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
             "--no-deps", "--no-index", str(wheel)],
            capture_output=True, text=True, env=clean_env(),
        )  # fmt: skip
        sys.stderr.write(done.stdout + done.stderr)
        return done.returncode
    return 0


def _site_packages() -> str:
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def _write_commands(name: str, python: Path) -> None:
    """The console scripts of distribution ``name``, in ``python``'s venv."""
    for point in importlib.metadata.distribution(name).entry_points:
        if point.group == "console_scripts":
            script = python.parent / point.name
            module, _, attr = point.value.partition(":")
            script.write_text(
                f"#!{python}\nimport sys\nfrom {module} import {attr.split('.')[0]}\n"
                f"sys.exit({attr}())\n"
            )
            script.chmod(0o755)


class Sandbox:
    """A workspace, an empty Python environment and the stand-in ``pip``, for one job."""

    def __init__(self, tmp: Path, wheel: Path, swaps: dict[str, str]) -> None:
        self.tmp = tmp
        self.workspace = tmp / "workspace"
        self.workspace.mkdir(parents=True)
        self.python = fresh_venv(tmp / "env", only=set())  # pip alone
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        view = tmp / "env" / "outer-site-packages"
        (bin_dir / "pip").write_text(
            f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m tests.workflow_sandbox "
            f'pip {view} {wheel} {self.python} "$@"\n'
        )
        (bin_dir / "pip").chmod(0o755)
        # this run's own environment stays out of reach: the job has what its steps install
        here = str(Path(sys.executable).parent)
        system = [p for p in os.environ["PATH"].split(os.pathsep) if p and p != here]
        self.path = os.pathsep.join([str(bin_dir), str(self.python.parent), *system])
        self.swaps = swaps
        self.outputs: dict[str, str] = {}
        self.sessions: list[int] = []  # every step's process group: its background jobs too

    def run_job(self, job: dict[str, Any]) -> list[str]:
        """Run ``job``'s steps; what each did (``ran``, ``left out: why``)."""
        return [self.run_step(step) for step in job["steps"]]

    def run_step(self, step: dict[str, Any]) -> str:
        text = json.dumps(step)
        if "secrets." in text or "vars." in text:
            return "left out: needs the real API"
        uses = step.get("uses", "")
        if uses.startswith(SETUP_ONLY):
            return "left out: set-up"
        if m := OURS.match(uses):
            if m["path"] is None:
                return "left out: the contract action (tests/test_actions.py runs its script)"
            self._serve(step)
            return "ran"
        self._bash(
            self._fill(step["run"]), {k: self._fill(v) for k, v in step.get("env", {}).items()}
        )
        return "ran"

    def _fill(self, text: str) -> str:
        text = EXPRESSION.sub(lambda m: self.outputs[m.group(1)], str(text))
        for old, new in self.swaps.items():
            text = text.replace(old, new)
        return text

    def _bash(self, script: str, env: dict[str, str]) -> None:
        process = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.workspace,
            env=clean_env(**env, PATH=self.path, RUNNER_TEMP=str(self.tmp / "runner-temp"),
                          GITHUB_OUTPUT=str(self.tmp / "github-output")),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.sessions.append(process.pid)
        out, _ = process.communicate(timeout=180)
        logs = "".join(f"\n{p.name}:\n{p.read_text()}" for p in self.workspace.glob("*.log"))
        assert process.returncode == 0, f"{script}\n{out[-4000:]}{logs[-4000:]}"

    def _serve(self, step: dict[str, Any]) -> None:
        """The serve action's start-and-wait script, the kit from this environment."""
        import yaml

        action = yaml.safe_load((ROOT / "actions" / "serve" / "action.yml").read_text())
        given = {k: self._fill(v) for k, v in step.get("with", {}).items()}
        given.setdefault("port", self.swaps.get("8765", "8765"))
        inputs = {k: given.get(k, v.get("default", "")) for k, v in action["inputs"].items()}
        venv_bin = self.tmp / "runner-temp" / "prosper-serve" / "bin"
        venv_bin.mkdir(parents=True)
        (venv_bin / "python").symlink_to(sys.executable)
        (venv_bin / "prosper-mock").write_text(
            f'#!/bin/sh\nexec "{sys.executable}" -m prosper_mock "$@"\n'
        )
        (venv_bin / "prosper-mock").chmod(0o755)
        (self.tmp / "github-output").write_text("")
        script = action["runs"]["steps"][1]
        context = {f"inputs.{k}": v for k, v in inputs.items()}
        env = {
            k: EXPRESSION.sub(lambda m: context[m.group(1)], v) for k, v in script["env"].items()
        }
        self._bash(script["run"], env)
        lines = (self.tmp / "github-output").read_text().splitlines()
        for key, value in (line.split("=", 1) for line in lines if "=" in line):
            self.outputs[f"steps.{step['id']}.outputs.{key}"] = value

    def close(self) -> None:
        """Stop what the steps left running (``serve ... &``)."""
        for session in self.sessions:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session, signal.SIGTERM)


if __name__ == "__main__" and sys.argv[1] == "pip":
    view, wheel, python = (Path(arg) for arg in sys.argv[2:5])
    sys.exit(pip(view, wheel, python, sys.argv[5:]))
