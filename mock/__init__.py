"""prosper-voice-mock: a mock of Prosper Voice's ``GET /api/v1/live-calls``."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prosper-voice-mock")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"

from .app import MockState, create_app, state_of
from .clock import Clock, SystemClock, VirtualClock
from .config import Semantics
from .flatten import flatten
from .generate import WorldRecipe
from .journal import Journal, JournalEntry
from .lookup import Found, LiveCallQuery, NotFound, NothingToLookUp, find_call
from .records import CallLog, LiveCall
from .render import snapshot
from .server import MockServer
from .spec import SpecError, load_spec, vendored_spec_path
from .textform import text_form
from .world import World, WorldError

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
