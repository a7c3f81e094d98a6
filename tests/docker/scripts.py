"""The image's scripts (docker/), loaded as modules: they are files the image copies, not
part of a package."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

DOCKER = Path(__file__).resolve().parent.parent.parent / "docker"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docker_{name}", DOCKER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
