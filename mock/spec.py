"""Load an OpenAPI document and describe its operations.

The vendored ``openapi.json`` ships inside the package, so an installed
``prosper-voice-mock`` works outside the repository. openapi-core parses and
checks the document (it resolves ``$ref``s for us); the app then compiles the
operations it finds into routes and validators once, at start-up.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError as JsonSchemaValidationError
from openapi_core import OpenAPI
from referencing.exceptions import Unresolvable

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


@dataclass(frozen=True)
class Operation:
    """One (method, path) pair of the spec."""

    method: str
    path: str
    operation_id: str
    parameters: tuple[Parameter, ...]
    responses: dict[str, Any] = field(default_factory=dict)

    @property
    def documented_statuses(self) -> frozenset[str]:
        return frozenset(self.responses)


@dataclass(frozen=True)
class Spec:
    """A loaded OpenAPI document: its raw bytes, its dict, and openapi-core's view."""

    path: Path
    raw: bytes
    document: dict[str, Any]
    openapi: OpenAPI

    def operations(self) -> Iterator[Operation]:
        for path, item in (self.openapi.spec / "paths").items():
            shared = list(item / "parameters") if "parameters" in item else []
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item / method
                own = list(op / "parameters") if "parameters" in op else []
                params: dict[tuple[str, str], Parameter] = {}
                for p in [*shared, *own]:  # operation-level wins over path-level
                    param = _resolve_parameter(p)
                    params[(param.name, param.location)] = param
                with op.open() as raw_op:
                    operation_id = raw_op.get("operationId") or f"{method}_{path}"
                    responses = dict(raw_op.get("responses", {}))
                yield Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=operation_id,
                    parameters=tuple(params.values()),
                    responses=responses,
                )


def _resolve_parameter(p: Any) -> Parameter:
    with p.open() as raw:
        name, location = raw["name"], raw["in"]
        required = bool(raw.get("required", location == "path"))
    schema = resolve(p / "schema") if "schema" in p else {}
    return Parameter(name=name, location=location, required=required, schema=schema)


def resolve(node: Any) -> Any:
    """A plain dict/list copy of a SchemaPath node, every ``$ref`` followed."""
    with node.open() as raw:
        if isinstance(raw, dict):
            return {k: resolve(node / k) for k in raw}
        if isinstance(raw, list):
            return [resolve(node / i) for i in range(len(raw))]
        return raw


class SpecError(ValueError):
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
        raw = spec_path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read spec {spec_path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise SpecError(f"spec {spec_path} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise SpecError(f"spec {spec_path} must be a JSON object")
    try:
        spec = Spec(path=spec_path, raw=raw, document=document, openapi=OpenAPI.from_dict(document))
        tuple(spec.operations())  # every $ref of the parameters resolves
    except JsonSchemaValidationError as exc:
        reason = f"{exc.message.splitlines()[0]} (at {exc.json_path})"
        raise SpecError(f"spec {spec_path} is not valid OpenAPI: {reason}") from None
    except Unresolvable as exc:
        raise SpecError(
            f"spec {spec_path} is not valid OpenAPI: unresolvable $ref {exc.ref!r}"
        ) from None
    return spec
