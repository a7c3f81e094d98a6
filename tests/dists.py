"""The kit as it ships: sdist and wheel built from a copy of the checkout, fresh venvs to install
them into.

The distributions are built once per run (``python -m build``, the same command the release
workflow runs) and shared by the xdist workers. A fresh venv sees this environment's installed
packages (the kit's dependencies) through a view that leaves the kit itself out, so installing
the kit there with ``--no-deps`` needs no index and finds no copy of the kit already installed.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a build of the checkout must not see: local environments, caches, earlier builds.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", ".peers", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
    ".hypothesis", "node_modules",
)  # fmt: skip
# The installed kit in this environment (an editable install): hidden from fresh venvs.
KIT_ENTRIES = ("prosper_voice_mock", "__editable__", "prosper_mock", "prosper_contracts")


@dataclass(frozen=True)
class Distributions:
    sdist: Path
    wheel: Path


def build_distributions(out: Path) -> Distributions:
    """Build the sdist, and the wheel from it, of a copy of the checkout into ``out``."""
    source = out / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    # No isolation: the build backend comes from this environment (the test extra), not an index.
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return Distributions(
        sdist=next(out.glob("prosper_voice_mock-*.tar.gz")),
        wheel=next(out.glob("prosper_voice_mock-*.whl")),
    )


def shared_distributions(basetemp: Path) -> Distributions:
    """The run's distributions, built by whichever xdist worker gets there first."""
    shared = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    out = shared / "distributions"
    with (shared / "distributions.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = out / "built"
        if done.exists():
            return Distributions(*(out / name for name in done.read_text().split()))
        if out.exists():  # a worker that failed half way
            shutil.rmtree(out)
        out.mkdir()
        dists = build_distributions(out)
        done.write_text(f"{dists.sdist.name} {dists.wheel.name}")
        return dists


def fresh_venv(directory: Path) -> Path:
    """A new venv in ``directory`` that sees this environment's packages but not the kit;
    its python (``-m pip`` works there too)."""
    venv.EnvBuilder(with_pip=False).create(directory)
    python = directory / "bin" / "python"
    view = directory / "outer-site-packages"
    view.mkdir()
    outer = Path(sysconfig.get_paths()["purelib"])
    for entry in outer.iterdir():
        if not entry.name.startswith(KIT_ENTRIES) and entry.suffix != ".pth":
            (view / entry.name).symlink_to(entry)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # after the venv's own site-packages on sys.path, so what is installed there comes first
    (Path(purelib) / "outer.pth").write_text(f"{view}\n")
    return python


def pip_install(python: Path, *args: str, timeout: float = 300) -> None:
    """``pip install --no-deps ARGS`` into ``python``'s venv, offline."""
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this run's venv and pytest variables, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    return {**env, **extra}
