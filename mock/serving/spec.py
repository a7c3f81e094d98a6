"""Load an OpenAPI document and describe its operations.

The vendored ``openapi.json`` ships inside the package, so an installed
``prosper-voice-mock`` works outside the repository. openapi-core checks a
document against the OpenAPI schema; jsonschema-path (openapi-core's own view of a
document) resolves its ``$ref``s; the app then compiles the operations it finds
into routes and validators once, at start-up.

Checking a document costs a second or more of start-up (importing openapi-core and
its validator, then validating). The vendored document is known valid (a test
checks it, and that ``VENDORED_SHA256`` is its digest), so those exact bytes are not
checked again: a mock on the vendored spec starts without importing openapi-core.
Any other document, or an edited vendored one, is checked in full.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema.exceptions import ValidationError as JsonSchemaValidationError
from jsonschema_path import SchemaPath
from referencing.exceptions import Unresolvable

from prosper_mock.base.errors import ProsperMockError
from prosper_mock.base.files import FileError, parse_json, read_bytes

if TYPE_CHECKING:
    from openapi_core import OpenAPI

# The digest of the vendored openapi.json: those bytes were checked (tests/serving/test_spec.py).
VENDORED_SHA256 = "abf3e055c0dcd1751aeb02dd745abcfec38dc86a3d712fed0eedf658c179d5ae"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def vendored_spec_path() -> Path:
    """Path of the vendored upstream ``openapi.json`` shipped with the package."""
    return Path(str(resources.files("prosper_mock").joinpath("openapi.json")))


@dataclass(frozen=True)
class Parameter:
    """One operation parameter with its ``$ref``s resolved."""

    name: str
    location: str  # "query", "path", "header" or "cookie"
    required: bool
    schema: dict[str, Any]
    # The schema as written, ``$ref``s kept: a ``$ref`` names a class upstream (an Enum, a model).
    raw_schema: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, eq=False)  # one object per operation of a loaded spec: hashed by identity
class Operation:
    """One (method, path) pair of the spec."""

    method: str
    path: str
    operation_id: str
    parameters: tuple[Parameter, ...]
    responses: dict[str, Any] = field(default_factory=dict)
    # The operation's ``requestBody`` as written (``$ref``s kept), ``None`` when it has none.
    request_body: dict[str, Any] | None = None
    # The whole document, to follow the ``$ref``s of ``raw_schema`` and ``request_body``.
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def documented_statuses(self) -> frozenset[str]:
        return frozenset(self.responses)


def path_pattern(template: str) -> re.Pattern[str]:
    """The paths a template such as ``/api/v1/call-logs/{id}`` matches (use ``fullmatch``).

    Each ``{name}`` stands for one path segment, captured as the group ``name``.
    """

    def segment(name: re.Match[str]) -> str:
        group = name[1]
        return f"(?P<{group}>[^/]+)" if group.isidentifier() else "[^/]+"

    return re.compile(re.sub(r"\\\{([^/]+?)\\\}", segment, re.escape(template)))


@dataclass(frozen=True, eq=False)
class Spec:
    """A loaded, checked OpenAPI document: its raw bytes, its dict, and a view that
    follows its ``$ref``s (``root``); ``openapi`` is openapi-core's, made when first used."""

    path: Path | None
    raw: bytes
    document: dict[str, Any]
    root: SchemaPath = field(repr=False, compare=False)

    @functools.cached_property
    def openapi(self) -> OpenAPI:
        """openapi-core's view of the document, to validate requests and responses with."""
        from openapi_core import Config, OpenAPI

        # The document was checked when it was loaded: not again (openapi-core's own way
        # to skip its check is a None validator, which its annotation does not admit).
        return OpenAPI(self.root, config=Config(spec_validator_cls=None))  # type: ignore[arg-type]

    def operations(self) -> Iterator[Operation]:
        """The spec's operations in written order (resolved once: every app on it shares them)."""
        return iter(self._operations)

    @functools.cached_property
    def _operations(self) -> tuple[Operation, ...]:
        return tuple(self._resolve_operations())

    def _resolve_operations(self) -> Iterator[Operation]:
        if "paths" not in self.root:  # OpenAPI 3.1: webhooks only
            return
        for path, item in (self.root / "paths").items():
            shared = list(item / "parameters") if "parameters" in item else []
            with item.open() as raw_item:  # the methods in written order: upstream's route order
                methods = [m for m in raw_item if m in HTTP_METHODS]
            for method in methods:
                op = item / method
                own = list(op / "parameters") if "parameters" in op else []
                params: dict[tuple[str, str], Parameter] = {}
                for p in [*shared, *own]:  # operation-level wins over path-level
                    param = _resolve_parameter(p)
                    params[(param.name, param.location)] = param
                with op.open() as raw_op:
                    operation_id = raw_op.get("operationId") or f"{method}_{path}"
                    responses = dict(raw_op.get("responses", {}))
                    request_body = raw_op.get("requestBody")
                yield Operation(
                    method=method.upper(),
                    path=str(path),  # a key of the paths object: a string already
                    operation_id=operation_id,
                    parameters=tuple(params.values()),
                    responses=responses,
                    request_body=dict(request_body) if request_body is not None else None,
                    document=self.document,
                )


def _resolve_parameter(p: Any) -> Parameter:
    with p.open() as raw:
        name, location = raw["name"], raw["in"]
        required = bool(raw.get("required", location == "path"))
        raw_schema = raw.get("schema")
    schema = resolve(p / "schema") if "schema" in p else {}
    return Parameter(
        name=name,
        location=location,
        required=required,
        schema=schema,
        raw_schema=dict(raw_schema) if isinstance(raw_schema, dict) else None,
    )


def resolve(node: Any) -> Any:
    """A plain dict/list copy of a SchemaPath node, every ``$ref`` followed."""
    with node.open() as raw:
        if isinstance(raw, dict):
            return {k: resolve(node / k) for k in raw}
        if isinstance(raw, list):
            return [resolve(node / i) for i in range(len(raw))]
        return raw


class SpecError(ProsperMockError, ValueError):
    """The OpenAPI document cannot be read, is not JSON, or is not valid OpenAPI."""


@functools.lru_cache(maxsize=8)
def load_spec(path: str | Path | None = None) -> Spec:
    """Load and check an OpenAPI document (the vendored one by default).

    Cached per path: openapi-core's checks cost about half a second, and the
    pytest plugin and the contract suite start many apps in one process.
    Raises ``SpecError`` naming the file and what is wrong with it.
    """
    spec_path = Path(path) if path is not None else vendored_spec_path()
    try:
        raw = read_bytes(spec_path, "spec")
    except FileError as exc:
        raise SpecError(str(exc)) from None
    return spec_from_raw(raw, spec_path, spec_path)


def spec_from_raw(raw: bytes, name: str | Path, path: Path | None = None) -> Spec:
    """Parse and check the OpenAPI document ``raw`` read from ``name`` (a file or a URL).

    Raises ``SpecError`` naming ``name`` and what is wrong, in one line.
    """
    try:
        document = parse_json(raw, "spec", name)
    except FileError as exc:
        raise SpecError(str(exc)) from None
    return checked_spec(document, name, raw, path)


def checked_spec(
    document: Any, name: str | Path, raw: bytes | None = None, path: Path | None = None
) -> Spec:
    """A checked ``Spec`` of the parsed ``document``; raises ``SpecError`` naming ``name``."""
    if not isinstance(document, dict):
        raise SpecError(f"spec {name} must be a JSON object")
    if "openapi" not in document:
        raise SpecError(f"spec {name} is not an OpenAPI document: it has no 'openapi' field")
    if raw is None:
        raw = json.dumps(document).encode()
    try:
        if hashlib.sha256(raw).hexdigest() != VENDORED_SHA256:
            _check(document)
        spec = Spec(path=path, raw=raw, document=document, root=SchemaPath.from_dict(document))
        spec.operations()  # every $ref of the parameters resolves
    except JsonSchemaValidationError as exc:
        reason = f"{_first_line(exc.message)} (at {exc.json_path})"
        raise SpecError(f"spec {name} is not valid OpenAPI: {reason}") from None
    except Unresolvable as exc:
        raise SpecError(
            f"spec {name} is not valid OpenAPI: unresolvable $ref {exc.ref!r}"
        ) from None
    except (
        Exception
    ) as exc:  # openapi-core's other refusals (an unknown version, ...), any odd shape
        raise SpecError(f"spec {name} is not valid OpenAPI: {_first_line(str(exc))}") from None
    return spec


def _check(document: dict[str, Any]) -> None:
    """Raise openapi-core's refusal of ``document`` if it is not valid OpenAPI."""
    from openapi_core import OpenAPI

    OpenAPI.from_dict(document)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no reason given)"
