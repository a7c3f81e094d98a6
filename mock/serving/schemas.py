"""JSON schemas of the spec compiled back into the Python types upstream declared.

FastAPI wrote the spec from upstream's pydantic signatures; validating with the
same types makes pydantic's errors, and so FastAPI's ``422`` bodies, identical.
The schema says which type it came from:

- a ``$ref`` names a class: an ``enum`` becomes an ``Enum`` (pydantic reports
  ``enum`` errors for it, ``literal_error`` for an inline ``Literal``), an
  object with ``properties`` a ``BaseModel`` of that name (a union's error
  ``loc`` carries the class name: ``["phone_number", "TargetInputPhoneNumber",
  "value"]``);
- ``anyOf``/``oneOf`` a ``Union`` in the written order, ``type: null`` ``None``;
- ``format: date-time`` a ``datetime`` (pydantic then takes dates alone,
  offsets and unix numbers, and refuses the rest in its own words);
- ``minimum``/``maximum`` (and their exclusive forms), ``minLength``/
  ``maxLength``/``pattern`` constraints. Any other key is an annotation or a
  schema extra (``json_schema_extra={"ge": 0}`` shows up as a bare ``ge``): it
  constrains nothing, as upstream's value was not constrained either.

A model field the schema does not require has a default: the schema's
``default``, else (a ``default_factory`` upstream, which FastAPI does not
publish) an empty list for an array, an empty dict for an object, ``None``
otherwise.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

_FORMATS: dict[str, type] = {"date-time": dt.datetime, "date": dt.date}


class SchemaCompiler:
    """Compiles schemas of one document; each ``$ref`` becomes one class, made once."""

    def __init__(self, document: Mapping[str, Any] | None = None) -> None:
        self.document = document or {}
        self._classes: dict[str, Any] = {}

    def follow(self, ref: str) -> dict[str, Any]:
        """The schema a local ``$ref`` (``#/components/schemas/X``) points to."""
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return dict(node)

    def annotation(self, schema: Mapping[str, Any]) -> Any:
        """The Python annotation a FastAPI signature would have for ``schema``."""
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref not in self._classes:
                self._classes[ref] = self._named(ref.rsplit("/", 1)[-1], self.follow(ref))
            return self._classes[ref]
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                members = tuple(self.annotation(s) for s in schema[combinator])
                return Union[members] if len(members) > 1 else members[0]  # noqa: UP007
        if "enum" in schema:
            return Literal[tuple(schema["enum"])]
        if "const" in schema:
            return Literal[schema["const"]]
        kind = schema.get("type")
        if isinstance(kind, list):
            return self.annotation({"anyOf": [{**schema, "type": k} for k in kind]})
        if kind == "null":
            return type(None)
        if kind == "string":
            return _string(schema)
        if kind in ("integer", "number"):
            return _number(schema, int if kind == "integer" else float)
        if kind == "boolean":
            return bool
        if kind == "array":
            # A type built at run time from the spec: the checker cannot follow it, pydantic can.
            return list[self.annotation(schema.get("items", {}))]  # type: ignore[misc]
        if kind == "object" or "properties" in schema:
            if schema.get("properties"):
                return self.model(str(schema.get("title", "Model")), schema)
            return dict[str, Any]
        return Any

    def _named(self, name: str, schema: dict[str, Any]) -> Any:
        if "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
            # upstream's ``class X(str, Enum)``: members named after nothing pydantic reports
            return enum.Enum(name, [(f"m{i}", v) for i, v in enumerate(schema["enum"])], type=str)
        if schema.get("properties"):
            return self.model(name, schema)
        return self.annotation(schema)

    def model(self, name: str, schema: Mapping[str, Any]) -> type[BaseModel]:
        """A pydantic model named ``name`` with one field per property, in order."""
        required = set(schema.get("required", ()))
        fields: dict[str, Any] = {}
        for i, (prop, sub) in enumerate(schema.get("properties", {}).items()):
            fields[f"f{i}"] = (self.annotation(sub), self.field(prop, sub, prop in required))
        # Aliases carry the JSON names: a property may be called anything ("json", "model_x").
        config = ConfigDict(use_enum_values=True, populate_by_name=False)
        built: type[BaseModel] = create_model(name, __config__=config, **fields)
        return built

    def field(self, alias: str, schema: Mapping[str, Any], required: bool) -> Any:
        """The ``Field`` of a model property: required, or with the default upstream had."""
        if required:
            return Field(alias=alias)
        if "default" in schema:
            return Field(default=schema["default"], alias=alias)
        factory = _empty_factory(self._resolved(schema))
        if factory is not None:
            return Field(default_factory=factory, alias=alias)
        return Field(default=None, alias=alias)

    def _resolved(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.follow(schema["$ref"]) if "$ref" in schema else schema


def _empty_factory(schema: Mapping[str, Any]) -> type[list[Any]] | type[dict[str, Any]] | None:
    kind = schema.get("type")
    if kind == "array":
        return list
    if kind == "object":
        return dict
    return None


def _string(schema: Mapping[str, Any]) -> Any:
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    constraints = {
        k2: schema[k1]
        for k1, k2 in (("minLength", "min_length"), ("maxLength", "max_length"))
        if k1 in schema
    }
    if "pattern" in schema:
        constraints["pattern"] = schema["pattern"]
    return Annotated[str, StringConstraints(**constraints)] if constraints else str


def _number(schema: Mapping[str, Any], base: type) -> Any:
    # Only JSON Schema's own keywords: a bare "ge"/"le" is an extra, not a bound.
    bounds = {
        k2: schema[k1]
        for k1, k2 in (
            ("minimum", "ge"),
            ("maximum", "le"),
            ("exclusiveMinimum", "gt"),
            ("exclusiveMaximum", "lt"),
        )
        if isinstance(schema.get(k1), int | float) and not isinstance(schema.get(k1), bool)
    }
    return Annotated[base, Field(**bounds)] if bounds else base


def plain(value: Any) -> Any:
    """A validated value as plain data: models as dicts by JSON name, enums as their values.

    Inside a model pydantic does it (``model_dump``; enums are stored as values); a
    list or dict of models or enums is converted one level deep. Free JSON (a
    ``dict[str, Any]``) is handed on as parsed, never walked: it may be deeply
    nested. Dates and times stay ``datetime``/``date`` objects.
    """
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list) and any(isinstance(v, BaseModel | enum.Enum) for v in value):
        return [plain(v) for v in value]
    if isinstance(value, dict) and any(
        isinstance(v, BaseModel | enum.Enum) for v in value.values()
    ):
        return {k: plain(v) for k, v in value.items()}
    return value
