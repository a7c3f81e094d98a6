"""The lowest versions the kit declares work: every runtime dependency of ``pyproject.toml`` at
its floor (``name==floor``, read from the file, never a list kept by hand), installed from the
package index as wheels into a fresh venv with the built kit, serves real requests; with the
``contracts`` extra's floors too, ``prosper-mock contract`` checks a running mock.

The smoke covers what each dependency does for the kit: the CLI writes a world (faker, tqdm) and
serves it (aiohttp, uvloop, pydantic, lazy-loader); over a real socket it answers a lookup, a
write and a ``422``, the control API moves the clock, and the validating proxy checks an answer
against the spec (openapi-core).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import venv
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from prosper_mock import MockServer, World
from prosper_mock.world.clock import VirtualClock
from tests.clirun import serve
from tests.dists import Distributions, clean_env, kit_requirements

RUNTIME = kit_requirements()
LOWER_BOUNDS = (">=", "==", "~=")


def floors(requirements: list[str]) -> list[str]:
    """``name==floor`` for each requirement that applies here (its marker holds)."""
    pins = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        lowest = [s.version for s in requirement.specifier if s.operator in LOWER_BOUNDS]
        assert len(lowest) == 1, f"{text!r} does not name one lowest version"
        pins.append(f"{requirement.name}=={lowest[0]}")
    return pins


def test_every_runtime_and_contracts_dependency_names_its_floor() -> None:
    for requirements in (RUNTIME, kit_requirements("contracts")):
        pins = floors(requirements)  # refuses a requirement without one
        named = {Requirement(text).name for text in requirements}
        assert {pin.split("==")[0] for pin in pins} <= named
    assert {"aiohttp", "pydantic", "schemathesis", "pytest"} <= {p.split("==")[0] for p in pins}


def test_a_requirement_without_a_floor_is_refused() -> None:
    with pytest.raises(AssertionError, match="one lowest version"):
        floors(["aiohttp<4"])
    assert floors(["a>=1.2,<2", "b~=3.1", "c>=1; sys_platform == 'nonesuch'"]) == [
        "a==1.2",
        "b==3.1",
    ]


def install_floors(directory: Path, wheel: Path, requirements: list[str]) -> Path:
    """A venv with the floors of ``requirements`` from the index (wheels only, what they need
    at the versions pip picks) and the kit's wheel; checked to hold those floors."""
    venv.EnvBuilder(with_pip=False).create(directory)
    python = directory / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    for args in (["--only-binary=:all:", *floors(requirements)], ["--no-deps", str(wheel)]):
        done = subprocess.run(
            [*pip, "install", "--quiet", *args],
            capture_output=True, text=True, timeout=240, env=clean_env(),
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    listed = subprocess.run(
        [*pip, "list", "--format=json"], capture_output=True, text=True, check=True, env=clean_env()
    )
    versions = {canonicalize_name(p["name"]): p["version"] for p in json.loads(listed.stdout)}
    for pin in floors(requirements):
        name, floor = pin.split("==")
        assert Version(versions[canonicalize_name(name)]) == Version(floor), (name, versions)
    return python


def fetch(url: str, body: Any = None) -> tuple[int, bytes]:
    """The status and body of a GET (or, with ``body``, a JSON POST) over a real socket."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


# Answers that follow from the world file alone: at the floors they are this environment's,
# byte for byte (a FastAPI 422 included).
READS = ("/api/v1/live-calls?call_log_id={live}", "/api/v1/live-calls?call_log_id=x",
         "/api/v1/call-logs?limit=2", "/api/v1/campaigns/{campaign}/variables")  # fmt: skip

TARGET = {
    "phone_number": "+15557654321",
    "patient": {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1815-12-10"},
}


@pytest.mark.slow
def test_the_kit_serves_with_every_runtime_dependency_at_its_floor(
    tmp_path: Path, distributions: Distributions
) -> None:
    python = install_floors(tmp_path / "venv", distributions.wheel, RUNTIME)

    path = tmp_path / "world.json"
    generated = subprocess.run(
        [str(python), "-m", "prosper_mock", "generate", "--seed", "1", "-o", str(path),
         "--live-calls", "4", "--call-logs", "12"],
        capture_output=True, text=True, timeout=60, env=clean_env(), cwd=tmp_path,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    world = json.loads(path.read_text())
    live, campaign = world["live_calls"][0]["call_log_id"], world["campaigns"][0]["id"]
    reads = [read.format(live=live, campaign=campaign) for read in READS]
    here = World.from_file(path, clock=VirtualClock(world["recipe"]["anchor"]))
    with (
        MockServer(here) as reference,
        serve(["--world", str(path), "--virtual-clock"], python=str(python)) as mock,
    ):
        for read in reads:
            assert fetch(mock.url(read)) == fetch(reference.url(read)), read
        status, found = fetch(mock.url(reads[0]))
        assert (status, json.loads(found)["source"]) == (200, "live_calls")
        status, refused = fetch(mock.url(reads[1]))
        assert status == 422 and json.loads(refused)["detail"][0]["type"] == "int_parsing"

        status, added = fetch(
            mock.url(f"/api/v1/campaigns/{campaign}/targets"), {"targets": [TARGET]}
        )
        assert status == 200, added
        target_id = json.loads(added)["targets"][0]["id"]
        status, read = fetch(mock.url(f"/api/v1/targets/{target_id}"))
        assert status == 200 and json.loads(read)["status"] == "Pending", read

        status, clock = fetch(mock.url("/__mock/clock/advance"), {"seconds": 60})
        assert status == 200 and json.loads(clock)["mode"] == "virtual", clock

        with serve(["--upstream", mock.base_url], command="proxy", python=str(python)) as proxy:
            assert fetch(proxy.url(reads[0])) == fetch(mock.url(reads[0]))
        assert proxy.process.returncode == 0, proxy.stderr  # the proxy saw no violation


@pytest.mark.slow
def test_the_contract_command_runs_with_every_dependency_at_its_floor(
    tmp_path: Path, distributions: Distributions
) -> None:
    python = install_floors(tmp_path / "venv", distributions.wheel, kit_requirements("contracts"))
    junit = tmp_path / "contract.xml"
    with serve([], python=str(python)) as mock:
        # one operation's spec checks, both generation modes: the suites run in tests/contracts/
        done = subprocess.run(
            [str(python), "-m", "prosper_mock", "contract", "--base-url", mock.base_url,
             "--examples", "2", "-k", "spec", "--operation", "get_live_call_api_v1_live_calls_get",
             "--junit-xml", str(junit)],
            capture_output=True, text=True, timeout=180, env=clean_env(), cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    cases = list(ElementTree.parse(junit).getroot().iter("testcase"))
    # a rule none of the chosen suites judges is a skipped case; none may fail
    failed = [case for case in cases if case.find("failure") is not None
              or case.find("error") is not None]  # fmt: skip
    assert cases and not failed, b"".join(ElementTree.tostring(case) for case in failed)
