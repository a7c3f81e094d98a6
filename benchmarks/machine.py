"""The machine a benchmark runs on: which cores the server and the loader get, and what
RESULTS.md records about it (CPU model, cores, versions).

With two cores or more (and ``taskset``), the server runs on every core but the last and the
loader on the last one, so neither takes the other's CPU; with one core both run unpinned.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


@dataclass(frozen=True)
class Pinning:
    """CPU lists (``taskset -c`` syntax) for the server and the loader; ``None``: unpinned."""

    server: str | None
    loader: str | None

    def describe(self) -> str:
        if self.server is None or self.loader is None:
            return "unpinned (loader and server share the cores)"
        return f"server on CPU {self.server}, loader on CPU {self.loader} (taskset -c)"


def pinning(cores: int | None = None, taskset: bool | None = None) -> Pinning:
    """Server on cores ``0..n-2``, loader on core ``n-1``; unpinned below two cores."""
    n = (os.cpu_count() or 1) if cores is None else cores
    usable = shutil.which("taskset") is not None if taskset is None else taskset
    if n < 2 or not usable:
        return Pinning(None, None)
    return Pinning("0" if n == 2 else f"0-{n - 2}", str(n - 1))


def ensure_command(command: str, package: str) -> str | None:
    """The path of ``command``; when it is missing and this process is root with apt-get,
    ``package`` is installed first (``apt-get update`` only when the first try fails: a fresh
    image has no package lists yet). ``None`` when it is still missing."""
    found = shutil.which(command)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        install = ["apt-get", "install", "-y", package]
        for steps in ([install], [["apt-get", "update"], install]):
            for step in steps:
                subprocess.run(step, capture_output=True, check=False)
            if found := shutil.which(command):
                return found
    return None


def pinned(cpus: str | None, argv: list[str]) -> list[str]:
    """``argv`` run on ``cpus`` (taskset execs it: the process keeps the pid)."""
    return argv if cpus is None else ["taskset", "-c", cpus, *argv]


@contextmanager
def serving(
    argv: list[str], cpus: str | None, env: dict[str, str] | None = None, cwd: str | None = None
) -> Iterator[tuple[str, int]]:
    """``argv`` (a server that prints ``serving on URL`` on stdout or stderr) pinned to
    ``cpus``: its URL and pid once it serves; it is stopped on leaving."""
    proc = subprocess.Popen(
        pinned(cpus, argv),
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "serving on " in line:
                yield line.split("serving on ")[1].split()[0], proc.pid  # taskset execs
                break
        else:
            raise RuntimeError(f"{argv} did not start")
    finally:
        proc.terminate()
        proc.wait(30)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_model(cpuinfo: str) -> str:
    """The first ``model name`` of a ``/proc/cpuinfo`` text (``unknown`` when it has none)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return "unknown"


def package_version(name: str) -> str:
    """The installed version of ``name``, or ``not installed``."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class Machine:
    """What RESULTS.md records about the run's machine and software."""

    cpu: str
    cores: int
    system: str
    python: str
    packages: dict[str, str]

    @classmethod
    def current(cls, packages: tuple[str, ...]) -> Machine:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
        return cls(
            cpu=cpu_model(cpuinfo) if cpuinfo else platform.processor() or "unknown",
            cores=os.cpu_count() or 1,
            system=f"{platform.system()} {platform.release()}, {platform.machine()}",
            python=platform.python_version(),
            packages={p: package_version(p) for p in packages},
        )
