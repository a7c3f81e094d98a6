"""prosper-voice-mock: a mock of Prosper Voice's ``GET /api/v1/live-calls``."""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("prosper-voice-mock")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

# Eager: the submodule shares the function's name, and a submodule import would
# otherwise rebind ``prosper_mock.flatten`` to the module.
from .flatten import flatten

# Other names load on first use (PEP 562): the pytest plugins import this package in
# every session of a project that installed the kit, and most sessions never
# start a mock, so they must not pay for aiohttp, openapi-core and faker.
_LAZY = {
    "MockState": "app",
    "create_app": "app",
    "state_of": "app",
    "Clock": "clock",
    "SystemClock": "clock",
    "VirtualClock": "clock",
    "Semantics": "config",
    "WorldRecipe": "generate",
    "Journal": "journal",
    "JournalEntry": "journal",
    "Found": "lookup",
    "LiveCallQuery": "lookup",
    "NotFound": "lookup",
    "NothingToLookUp": "lookup",
    "find_call": "lookup",
    "CallLog": "records",
    "LiveCall": "records",
    "snapshot": "render",
    "MockServer": "server",
    "SpecError": "spec",
    "load_spec": "spec",
    "vendored_spec_path": "spec",
    "text_form": "textform",
    "World": "world",
    "WorldError": "world",
}

if TYPE_CHECKING:
    from .app import MockState, create_app, state_of
    from .clock import Clock, SystemClock, VirtualClock
    from .config import Semantics
    from .generate import WorldRecipe
    from .journal import Journal, JournalEntry
    from .lookup import Found, LiveCallQuery, NotFound, NothingToLookUp, find_call
    from .records import CallLog, LiveCall
    from .render import snapshot
    from .server import MockServer
    from .spec import SpecError, load_spec, vendored_spec_path
    from .textform import text_form
    from .world import World, WorldError


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "CallLog",
    "Clock",
    "Found",
    "Journal",
    "JournalEntry",
    "LiveCall",
    "LiveCallQuery",
    "MockServer",
    "MockState",
    "NotFound",
    "NothingToLookUp",
    "Semantics",
    "SpecError",
    "SystemClock",
    "VirtualClock",
    "World",
    "WorldError",
    "WorldRecipe",
    "__version__",
    "create_app",
    "find_call",
    "flatten",
    "load_spec",
    "snapshot",
    "state_of",
    "text_form",
    "vendored_spec_path",
]
