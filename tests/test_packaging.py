"""The kit as it ships: sdist and wheel pass twine's checks, the wheel carries the spec and
works outside the repo, and an install from a git URL works as written."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from tests.dists import Distributions, clean_env, fresh_venv, pip_install

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import prosper_mock, requests
from prosper_mock import MockServer
assert '{unpacked}' in prosper_mock.__file__, prosper_mock.__file__
with MockServer() as s:
    spec = requests.get(s.url('/openapi.json'), timeout=5).content
    answer = requests.get(s.url('/api/v1/live-calls?call_log_id=1250'), timeout=5).json()
    page = requests.get(s.url('/__mock/static/app.js'), timeout=5)
    assert page.ok and b'/__mock' in page.content, page.status_code
print(len(spec), answer['source'])
"""


def zf_read(wheel: Path, name: str) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(name)


def test_wheel_carries_openapi_json_and_serves_outside_the_repo(
    distributions: Distributions, tmp_path: Path
) -> None:
    wheel = distributions.wheel
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert zf.read("prosper_mock/openapi.json") == (ROOT / "openapi.json").read_bytes()
        zf.extractall(tmp_path / "unpacked")
    assert {
        "prosper_contracts/rules.py",
        "prosper_mock/cli/program.py",
        "prosper_contracts/cli/contract.py",
        "prosper_mock/__init__.pyi",
        "prosper_contracts/__init__.pyi",
    } <= names
    # the dashboard's files, served from the package itself
    for name in ("index.html", "app.js", "app.css"):
        shipped = zf_read(wheel, f"prosper_mock/control/static/{name}")
        assert shipped == (ROOT / "mock" / "control" / "static" / name).read_bytes(), name
    # PEP 561: without the marker, a consumer's type checker skips the packages' types
    assert {"prosper_mock/py.typed", "prosper_contracts/py.typed"} <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    registered = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "prosper-mock = prosper_mock.cli:main" in registered
    # the kit's subcommands reach prosper-mock only through this group
    assert "[prosper_mock.commands]" in registered
    assert "contract = prosper_contracts.cli.contract:add_contract [contracts]" in registered
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    unpacked = tmp_path / "unpacked"
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(unpacked=unpacked)],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len((ROOT / "openapi.json").read_bytes())), "live_calls"]


def test_sdist_and_wheel_pass_twine_check(distributions: Distributions) -> None:
    # --strict: a warning (a README PyPI cannot render, missing metadata) fails too
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(distributions.sdist),
         str(distributions.wheel)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def test_sdist_carries_the_sources_the_licence_and_no_local_state(
    distributions: Distributions,
) -> None:
    with tarfile.open(distributions.sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "mock/openapi.json",  # the vendored spec itself, not a link to the root's
        "mock/server.py",
        "mock/control/openapi.json",
        "contracts/rules.py",
    } <= names
    assert not [n for n in names if n.startswith((".venv", ".git/", "build/", "dist/"))]
    with tarfile.open(distributions.sdist) as tf:
        spec = next(m for m in tf.getmembers() if m.name.endswith("/mock/openapi.json"))
        assert spec.isfile()
    wheel_meta = zipfile.ZipFile(distributions.wheel)
    metadata = next(n for n in wheel_meta.namelist() if n.endswith(".dist-info/METADATA"))
    text = wheel_meta.read(metadata).decode()
    assert "License-Expression: MIT" in text
    assert "License-File: LICENSE" in text


def test_pip_install_from_a_git_url_works(tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    # what a user types, offline: the build backend is this environment's (the view's setuptools)
    pip_install(python, "--no-build-isolation", f"git+file://{ROOT}")
    probe = (
        "import importlib.metadata as m, prosper_mock, pathlib;"
        "print(m.version('prosper-voice-mock'), prosper_mock.__file__,"
        "(pathlib.Path(prosper_mock.__file__).parent / 'openapi.json').is_file())"
    )
    done = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=clean_env()
    )
    assert done.returncode == 0, done.stderr
    version, where, spec = done.stdout.split()
    assert version == "0.1.0" and spec == "True"
    assert where.startswith(str(tmp_path / "venv")) and str(ROOT) not in where
    command = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "prosper-mock"), "serve", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert command.returncode == 0, command.stderr
    assert "--control-token-env" in command.stdout
