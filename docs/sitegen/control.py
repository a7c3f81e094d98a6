"""The control API reference: tables rendered from its OpenAPI document.

The document is ``mock/control/openapi.json`` (served at ``GET /__mock/openapi.json``);
every operation becomes a section with its parameters, request body fields and answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import prosper_mock.control
from sitegen.text import cell, code, table

METHODS = ("get", "put", "post", "patch", "delete")


def document() -> dict[str, Any]:
    """The control API's OpenAPI document, as the package ships it."""
    path = Path(prosper_mock.control.__file__).parent / "openapi.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) in the document's order."""
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def type_of(doc: dict[str, Any], schema: dict[str, Any]) -> str:
    """A short type for a schema: ``integer``, ``array of string``, ``A | B``, ``Name``..."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(type_of(doc, s) for s in schema[key])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " or ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array" and "items" in schema:
        return f"array of {type_of(doc, schema['items'])}"
    return str(kind)


def _fields(doc: dict[str, Any], schema: dict[str, Any]) -> list[list[str]]:
    schema = _resolve(doc, schema)
    required = set(schema.get("required", ()))
    return [
        [
            code(name),
            cell(type_of(doc, prop)),
            "yes" if name in required else "",
            cell(prop.get("description") or _resolve(doc, prop).get("description", "")),
        ]
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(doc: dict[str, Any], method: str, path: str, op: dict[str, Any]) -> str:
    parts = [f"### `{method} {path}`\n", f"{cell(op.get('summary', ''))} (`{op['operationId']}`)\n"]
    if op.get("description"):
        parts.append(op["description"].strip() + "\n")
    params = op.get("parameters", [])
    if params:
        rows = [
            [
                code(p["name"]),
                p["in"],
                cell(type_of(doc, p.get("schema", {}))),
                "yes" if p.get("required") else "",
                cell(p.get("description", "")),
            ]
            for p in params
        ]
        parts.append(table(["Parameter", "In", "Type", "Required", "Meaning"], rows))
    body = op.get("requestBody", {}).get("content", {})
    for media, content in body.items():
        schema = content.get("schema", {})
        rows = _fields(doc, schema)
        needed = " (required)" if op["requestBody"].get("required") else " (optional)"
        if rows:
            parts.append(
                f"Body{needed}, `{media}`:\n\n"
                + table(["Field", "Type", "Required", "Meaning"], rows)
            )
        else:
            parts.append(f"Body{needed}, `{media}`: {cell(type_of(doc, schema))}.\n")
    rows = [
        [code(status), cell(answer.get("description", ""))]
        for status, answer in op["responses"].items()
    ]
    parts.append(table(["Status", "Answer"], rows))
    return "\n".join(parts)


def control_reference() -> str:
    """Every control operation: a summary table, then one section each."""
    doc = document()
    ops = list(operations(doc))
    summary = table(
        ["Endpoint", "operationId", "What it does"],
        [
            [code(f"{m} {p}"), code(op["operationId"]), cell(op.get("summary", ""))]
            for m, p, op in ops
        ],
    )
    return summary + "\n" + "\n".join(_operation(doc, m, p, op) for m, p, op in ops)
