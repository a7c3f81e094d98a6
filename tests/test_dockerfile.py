"""The Dockerfile's recipe, run without a Docker engine so it cannot rot.

The runtime stage's ``pip install`` runs in a fresh venv with the run's wheel (``--no-deps``:
the dependencies come from this environment, offline), and the server starts as ENTRYPOINT
and CMD start it, with the image's ENV, until the HEALTHCHECK command says it is healthy. The
builder stage is checked to copy every file the wheel is built from, and compose to use the
image's health check and port.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
import signal
import socket
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import yaml

from prosper_mock.cli.options import DEFAULT_PORT
from tests.dists import Distributions, clean_env, fresh_venv, pip_install
from tests.redisserver import RedisServer

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stage:
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arguments for kw, arguments in self.instructions if kw == keyword]

    def one(self, keyword: str) -> str:
        (found,) = self.all(keyword)
        return found


def stages(text: str) -> list[Stage]:
    """The Dockerfile's stages: each FROM and the instructions after it, continuations joined."""
    joined = text.replace("\\\n", " ")
    found: list[Stage] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            found.append(Stage(arguments.strip()))
        else:
            found[-1].instructions.append((keyword.upper(), " ".join(arguments.split())))
    return found


DOCKERFILE = stages((ROOT / "Dockerfile").read_text(encoding="utf-8"))
BUILDER, RUNTIME = DOCKERFILE


def exec_form(arguments: str) -> list[str]:
    form = json.loads(arguments)
    assert isinstance(form, list) and all(isinstance(a, str) for a in form), arguments
    return form


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for arguments in stage.all("ENV"):
        for pair in shlex.split(arguments):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def copies(stage: Stage) -> list[tuple[list[str], str]]:
    """The stage's COPY lines from the build context: (sources, destination)."""
    found = []
    for arguments in stage.all("COPY"):
        *sources, destination = arguments.split()
        if not any(s.startswith("--from") for s in sources):
            found.append(([s for s in sources if not s.startswith("--")], destination))
    return found


def image_paths(stage: Stage) -> dict[str, Path]:
    """Where each file the stage copies from the context sits in the image -> the file here."""
    mapped = {}
    for sources, destination in copies(stage):
        for source in sources:
            target = destination + Path(source).name if destination.endswith("/") else destination
            mapped[target] = ROOT / source
    return mapped


def dockerignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
        or fnmatch.fnmatch(Path(prefix).name, pattern.removeprefix("**/"))
        for pattern in patterns
        for prefix in prefixes
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_image_is_a_slim_python_3_11_built_in_two_stages() -> None:
    assert BUILDER.base == "python:3.11-slim AS builder"
    assert RUNTIME.base == "python:3.11-slim"
    assert RUNTIME.all("COPY")[0].startswith("--from=builder ")
    # an unprivileged user, by number (no name the host would have to resolve)
    assert RUNTIME.one("USER") == "10001:10001"
    assert "useradd" in " ".join(RUNTIME.all("RUN"))


def test_the_port_is_the_one_serve_defaults_to() -> None:
    assert RUNTIME.one("EXPOSE") == str(DEFAULT_PORT)
    assert env_of(RUNTIME)["PROSPER_MOCK_PORT"] == str(DEFAULT_PORT)


def test_the_builder_copies_every_file_the_wheel_is_built_from(
    distributions: Distributions,
) -> None:
    # the wheel's files back at their source paths, the metadata's inputs, and link targets
    package_dir = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-dir"]
    with zipfile.ZipFile(distributions.wheel) as zf:
        packaged = [n.split("/", 1) for n in zf.namelist() if ".dist-info/" not in n]
    needed = {f"{package_dir[top]}/{rest}" for top, rest in packaged}
    needed |= {"pyproject.toml", "README.md", "LICENSE"}
    needed |= {
        str((ROOT / p).resolve().relative_to(ROOT)) for p in needed if (ROOT / p).is_symlink()
    }
    sources = [s.rstrip("/") for each, _ in copies(BUILDER) for s in each]
    missing = [p for p in needed if not any(p == s or p.startswith(s + "/") for s in sources)]
    assert missing == []
    assert [p for p in needed if dockerignored(p)] == []
    runtime_files = [str(p.relative_to(ROOT)) for p in image_paths(RUNTIME).values()]
    assert runtime_files and [p for p in runtime_files if dockerignored(p)] == []


@dataclass
class Container:
    """The runtime stage's commands, as they run here: ENTRYPOINT + CMD, HEALTHCHECK."""

    python: Path
    workdir: Path
    args: tuple[str, ...] = ()  # given to docker run after the image: they replace its CMD

    def local(self, argv: list[str]) -> list[str]:
        paths = image_paths(RUNTIME)
        return [
            str(self.python) if a == "python" else str(paths[a]) if a in paths else a for a in argv
        ]

    @property
    def start(self) -> list[str]:
        arguments = list(self.args) or exec_form(RUNTIME.one("CMD"))
        return self.local(exec_form(RUNTIME.one("ENTRYPOINT")) + arguments)

    @property
    def healthcheck(self) -> list[str]:
        arguments = RUNTIME.one("HEALTHCHECK")
        options, _, command = arguments.partition(" CMD ")
        assert options.startswith("--interval=")
        return self.local(exec_form(command))


@pytest.fixture(scope="module")
def container(distributions: Distributions, tmp_path_factory: pytest.TempPathFactory) -> Container:
    """A fresh venv with the kit installed by the runtime stage's own pip command."""
    python = fresh_venv(tmp_path_factory.mktemp("image") / "venv")
    (install,) = [
        part.strip()
        for run in RUNTIME.all("RUN")
        for part in run.split("&&")
        if part.strip().startswith("pip install")
    ]
    argv = shlex.split(install)[2:]
    wheels = [a for a in argv if a.endswith(".whl")]
    assert len(wheels) == 1 and fnmatch.fnmatch(distributions.wheel.name, Path(wheels[0]).name)
    pip_install(python, *[str(distributions.wheel) if a in wheels else a for a in argv])
    return Container(python, tmp_path_factory.mktemp("home"))


def run_until_healthy(container: Container, env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        container.start,
        cwd=container.workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"the server stopped ({process.returncode}): {err[-2000:]}")
        check = subprocess.run(container.healthcheck, env=env, capture_output=True, timeout=30)
        if check.returncode == 0:
            return process
        time.sleep(0.3)
    process.kill()
    pytest.fail("HEALTHCHECK never passed")


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)  # what docker stop sends
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-2000:]
    return err


def status_of(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_cmd_serves_on_every_address_with_no_control_api_without_a_token(
    container: Container,
) -> None:
    port = free_port()
    env = clean_env(**{**env_of(RUNTIME), "PROSPER_MOCK_PORT": str(port)})
    env.pop("PROSPER_MOCK_CONTROL_TOKEN", None)
    process = run_until_healthy(container, env)
    try:
        base = f"http://127.0.0.1:{port}"
        assert status_of(base + "/api/v1/live-calls?call_log_id=1250") == 200
        assert status_of(base + "/__mock/health") == 404  # no control API
    finally:
        err = stop(process)
    assert f"serving on http://0.0.0.0:{port}" in err


def test_a_token_in_the_environment_serves_the_control_api_behind_it(
    container: Container,
) -> None:
    port = free_port()
    env = clean_env(
        **{**env_of(RUNTIME), "PROSPER_MOCK_PORT": str(port), "PROSPER_MOCK_CONTROL_TOKEN": "t0k"}
    )
    process = run_until_healthy(container, env)
    try:
        base = f"http://127.0.0.1:{port}"
        assert status_of(base + "/__mock/health", token="t0k") == 200
        assert status_of(base + "/__mock/health") == 401
    finally:
        stop(process)


def test_containers_given_one_store_serve_one_world(
    container: Container, redis_server: RedisServer, redis_namespace: str
) -> None:
    ports = [free_port(), free_port()]
    started = []
    for port in ports:
        env = clean_env(
            **{
                **env_of(RUNTIME),
                "PROSPER_MOCK_PORT": str(port),
                "PROSPER_MOCK_CONTROL_TOKEN": "t0k",
                "PROSPER_MOCK_STORE": redis_server.url,
            }
        )
        shared = replace(
            container, args=(*exec_form(RUNTIME.one("CMD")), "--store-namespace", redis_namespace)
        )
        started.append(run_until_healthy(shared, env))
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{ports[0]}/__mock/call-logs",
            data=b"{}",
            headers={"Authorization": "Bearer t0k", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            added = json.load(answer)["call_log"]["id"]
        assert status_of(f"http://127.0.0.1:{ports[1]}/api/v1/call-logs/{added}") == 200
    finally:
        errs = [stop(process) for process in started]
    assert all(f"namespace {redis_namespace}" in err for err in errs)


def test_compose_runs_three_replicas_of_the_image_on_one_redis_behind_one_port() -> None:
    compose = yaml.safe_load((ROOT / "examples" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    mock = services["prosper-mock"]
    assert (ROOT / "examples" / mock["build"]["context"] / "Dockerfile").is_file()
    assert mock["healthcheck"]["test"] == [
        "CMD",
        *exec_form(RUNTIME.one("HEALTHCHECK").split(" CMD ")[1]),
    ]
    assert mock["deploy"]["replicas"] == 3
    # Arguments replace the image's CMD: they must keep serving on every address.
    assert mock["command"][:2] == exec_form(RUNTIME.one("CMD"))
    assert "PROSPER_MOCK_CONTROL_TOKEN" in mock["environment"]
    store = mock["environment"]["PROSPER_MOCK_STORE"]
    assert store.startswith("redis://redis:") and "redis" in services
    assert mock["depends_on"]["redis"] == {"condition": "service_healthy"}
    balancer = services["prosper-mock-lb"]
    assert balancer["ports"] == [f"{DEFAULT_PORT}:{DEFAULT_PORT}"]
    config = compose["configs"][balancer["configs"][0]["source"]]["content"]
    assert f"server prosper-mock:{DEFAULT_PORT};" in config
    assert f"listen {DEFAULT_PORT};" in config
    assert balancer["depends_on"]["prosper-mock"] == {"condition": "service_healthy"}
    assert "prosper-mock-lb:" in " ".join(services["client"]["command"])
