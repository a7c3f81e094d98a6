"""Schemas compile back into upstream's types: the errors are pydantic's for those types."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from prosper_mock.serving.schemas import SchemaCompiler, plain
from prosper_mock.serving.spec import load_spec

DOC: dict[str, Any] = {
    "components": {
        "schemas": {
            "Colour": {"type": "string", "enum": ["red", "green"], "title": "Colour"},
            "Phone": {
                "type": "object",
                "properties": {"value": {"type": "string"}},
                "required": ["value"],
                "title": "Phone",
            },
        }
    }
}


def errors(schema: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    adapter = TypeAdapter(SchemaCompiler(DOC).annotation(schema))
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        return exc.errors(include_url=False)
    return []


def test_a_ref_to_an_enum_is_an_enum_class_an_inline_enum_a_literal() -> None:
    assert errors({"$ref": "#/components/schemas/Colour"}, "blue")[0]["type"] == "enum"
    assert errors({"enum": ["red", "green"]}, "blue")[0]["type"] == "literal_error"


def test_a_union_member_model_is_named_in_the_error_loc() -> None:
    schema = {"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/Phone"}]}
    assert [e["loc"] for e in errors(schema, {"value": 1})] == [("str",), ("Phone", "value")]


def test_bare_ge_and_le_are_extras_not_bounds() -> None:
    schema = {"type": "integer", "ge": 0, "le": 10}
    assert errors(schema, "-1") == errors(schema, "99") == []
    assert errors({"type": "integer", "minimum": 0}, "-1")[0]["type"] == "greater_than_equal"


@pytest.mark.parametrize("good", ["2024-01-01", "2024-01-01T10:00:00+05:00", "1700000000", 0])
def test_date_time_is_a_datetime(good: Any) -> None:
    schema = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
    assert errors(schema, good) == []
    assert TypeAdapter(SchemaCompiler().annotation(schema)).validate_python(good).year >= 1970
    assert errors(schema, "2024-13-01")[0]["type"] == "datetime_from_date_parsing"


def test_fields_not_required_get_upstreams_defaults() -> None:
    schema = {
        "type": "object",
        "title": "M",
        "properties": {
            "a": {"type": "boolean", "default": True},
            "b": {"type": "array", "items": {"type": "string"}},
            "c": {"type": "object", "additionalProperties": True},
            "d": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "json": {"type": "string"},  # a name a model may not use as an attribute
        },
    }
    model = SchemaCompiler().annotation(schema)
    assert plain(model.model_validate({})) == {"a": True, "b": [], "c": {}, "d": None, "json": None}


def test_plain_data_has_enum_values_and_keeps_datetimes() -> None:
    colour = SchemaCompiler(DOC).annotation({"$ref": "#/components/schemas/Colour"})
    assert issubclass(colour, enum.Enum)
    when = dt.datetime(2024, 1, 1)
    assert plain([colour("red"), {"at": when}]) == ["red", {"at": when}]
    assert type(plain(colour("red"))) is str


def test_every_schema_of_the_vendored_spec_compiles() -> None:
    spec = load_spec()
    compiler = SchemaCompiler(spec.document)
    for name in spec.document["components"]["schemas"]:
        assert compiler.annotation({"$ref": f"#/components/schemas/{name}"}) is not None
