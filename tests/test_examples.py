"""The plugin as users get it: the example project installed in a fresh virtual environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.dists import Distributions, fresh_venv, pip_install

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "live-call-client"


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory: pytest.TempPathFactory, distributions: Distributions) -> Path:
    """A new venv with the kit (the run's built wheel, not this checkout) and the example
    installed; the dependencies are this environment's (tests/dists.py)."""
    python = fresh_venv(tmp_path_factory.mktemp("example") / "venv")
    pip_install(python, "--no-build-isolation", str(distributions.wheel), str(EXAMPLE))
    return python


def run_example_tests(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV"))}
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_example_project_passes_through_the_installed_plugin(fresh_env: Path) -> None:
    probe = "import prosper_mock; print(prosper_mock.__file__)"
    where = subprocess.run([str(fresh_env), "-c", probe], capture_output=True, text=True, cwd="/")
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout
    done = run_example_tests(fresh_env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "6 passed" in done.stdout


def test_example_project_passes_under_xdist(fresh_env: Path) -> None:
    done = run_example_tests(fresh_env, "-n", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "6 passed" in done.stdout
