"""The kit as it ships: sdist and wheel built from a copy of the checkout, fresh venvs to install
them into.

The distributions are built once per run (``python -m build``, the same command the release
workflow runs) and shared by the xdist workers. A fresh venv sees this environment's installed
packages (the kit's dependencies) through a view that leaves the kit itself out, so installing
the kit there with ``--no-deps`` needs no index and finds no copy of the kit already installed.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def fresh_venv(directory: Path, only: Collection[str] | None = None) -> Path:
    """A new venv in ``directory`` that sees this environment's packages but not the kit
    (with ``only``: those distributions' files alone, see ``needed``, and pip); its python
    (``-m pip`` works there too)."""
    venv.EnvBuilder(with_pip=False).create(directory)
    python = directory / "bin" / "python"
    view = directory / "outer-site-packages"
    view.mkdir()
    outer = Path(sysconfig.get_paths()["purelib"])
    shown = None if only is None else top_level_entries({*only, "pip"})
    for entry in outer.iterdir():
        if shown is not None and entry.name not in shown:
            continue
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


def kit_requirements(*extras: str) -> list[str]:
    """What ``pip install '.[EXTRAS]'`` asks for: the runtime dependencies of pyproject.toml
    and those of ``extras``, an extra that names the kit's own extras expanded."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    todo, seen = list(extras), set()
    while todo:
        if (extra := todo.pop()) in seen:
            continue
        seen.add(extra)
        for text in project["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
                todo.extend(requirement.extras)
            else:
                requirements.append(text)
    return requirements


def needed(requirements: Iterable[str]) -> set[str]:
    """The distributions of this environment that ``requirements`` install, what they
    require followed through (with the extras asked for), as canonical names."""
    extras: dict[str, set[str]] = {}
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        asked = set(requirement.extras)
        if name in extras and asked <= extras[name]:
            continue
        extras[name] = extras.get(name, set()) | asked
        environments = [{"extra": extra} for extra in sorted(extras[name])] or [{"extra": ""}]
        for text in importlib.metadata.distribution(name).requires or []:
            each = Requirement(text)
            if each.marker is None or any(each.marker.evaluate(e) for e in environments):
                todo.append(each)
    return set(extras)


def top_level_entries(distributions: Collection[str]) -> set[str]:
    """The names in site-packages that ``distributions`` installed (packages, modules,
    their ``.dist-info``)."""
    entries = set()
    for name in distributions:
        for path in importlib.metadata.distribution(name).files or []:
            if path.parts[0] not in ("..", "__pycache__"):
                entries.add(path.parts[0])
    return entries


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
