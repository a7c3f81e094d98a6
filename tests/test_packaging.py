"""A wheel built from the repo carries the spec and works outside the repo."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import prosper_mock, requests
from prosper_mock import MockServer
assert '{unpacked}' in prosper_mock.__file__, prosper_mock.__file__
with MockServer() as s:
    spec = requests.get(s.url('/openapi.json'), timeout=5).content
    answer = requests.get(s.url('/api/v1/live-calls?call_log_id=1250'), timeout=5).json()
print(len(spec), answer['source'])
"""


def test_wheel_carries_openapi_json_and_serves_outside_the_repo(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("prosper_voice_mock-*.whl"))
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
