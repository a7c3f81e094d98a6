"""Spec drift: what changed between the vendored ``openapi.json`` and another version.

Every change is classed for a *client* of the API: removing an operation, a
parameter, a documented success answer or a response field breaks clients;
adding a required parameter or narrowing a parameter's type breaks them too;
adding an optional parameter, a response field or an answer does not. A change
we cannot judge precisely (a rewritten schema) is called breaking, to be safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from prosper_mock import (
    Operation,
    Spec,
    SpecError,
    checked_spec,
    load_spec,
    resolve,
    spec_from_raw,
)


@dataclass(frozen=True)
class Change:
    where: str  # e.g. "GET /api/v1/live-calls query call_log_id"
    what: str
    breaking: bool

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'ok      '}  {self.where}: {self.what}"


def spec_from_document(document: dict[str, Any]) -> Spec:
    """A ``Spec`` for any OpenAPI document (openapi-core checks it; raises ``SpecError``)."""
    return checked_spec(document, "document")


def diff(old: Spec, new: Spec) -> list[Change]:
    """Every change from ``old`` to ``new``, operations first."""
    before = {(o.method, o.path): o for o in old.operations()}
    after = {(o.method, o.path): o for o in new.operations()}
    changes = [
        Change(f"{m} {p}", "operation removed", True) for m, p in before.keys() - after.keys()
    ]
    changes += [
        Change(f"{m} {p}", "operation added", False) for m, p in after.keys() - before.keys()
    ]
    for key in sorted(before.keys() & after.keys()):
        changes += _parameters(before[key], after[key])
        changes += _responses(old, new, before[key], after[key])
    return sorted(changes, key=lambda c: (not c.breaking, c.where))


def _parameters(old: Operation, new: Operation) -> list[Change]:
    op = f"{old.method} {old.path}"
    before = {(p.location, p.name): p for p in old.parameters}
    after = {(p.location, p.name): p for p in new.parameters}
    changes = []
    for loc, name in sorted(before.keys() - after.keys()):
        changes.append(Change(f"{op} {loc} {name}", "parameter removed", True))
    for loc, name in sorted(after.keys() - before.keys()):
        required = after[(loc, name)].required
        what = f"{'required' if required else 'optional'} parameter added"
        changes.append(Change(f"{op} {loc} {name}", what, required))
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        where = f"{op} {key[0]} {key[1]}"
        if a.required != b.required:
            changes.append(
                Change(where, f"now {'required' if b.required else 'optional'}", b.required)
            )
        if _bare(a.schema) != _bare(b.schema):
            old_types, new_types = _types(a.schema), _types(b.schema)
            if new_types < old_types:
                changes.append(
                    Change(where, f"type narrowed {sorted(old_types)} -> {sorted(new_types)}", True)
                )
            elif new_types > old_types:
                changes.append(
                    Change(where, f"type widened {sorted(old_types)} -> {sorted(new_types)}", False)
                )
            else:
                changes.append(Change(where, "schema changed", True))
    return changes


def _responses(old_spec: Spec, new_spec: Spec, old: Operation, new: Operation) -> list[Change]:
    op = f"{old.method} {old.path}"
    changes = []
    for status in sorted(old.documented_statuses - new.documented_statuses):
        changes.append(Change(f"{op} {status}", "response removed", status.startswith("2")))
    for status in sorted(new.documented_statuses - old.documented_statuses):
        changes.append(Change(f"{op} {status}", "response added", False))
    for status in sorted(old.documented_statuses & new.documented_statuses):
        a = _response_schema(old_spec, old, status)
        b = _response_schema(new_spec, new, status)
        where = f"{op} {status}"
        a_props, b_props = a.get("properties", {}), b.get("properties", {})
        for name in sorted(set(a_props) - set(b_props)):
            changes.append(Change(where, f"field {name!r} removed", True))
        for name in sorted(set(b_props) - set(a_props)):
            changes.append(Change(where, f"field {name!r} added", False))
        for name in sorted(set(a_props) & set(b_props)):
            if _bare(a_props[name]) != _bare(b_props[name]):
                changes.append(Change(where, f"field {name!r} changed", True))
        if a.get("type") != b.get("type"):
            changes.append(Change(where, f"body type {a.get('type')} -> {b.get('type')}", True))
    return changes


def _response_schema(spec: Spec, op: Operation, status: str) -> dict[str, Any]:
    node = spec.openapi.spec / "paths" / op.path / op.method.lower() / "responses" / status
    if "content" not in node:
        return {}
    content = node / "content"
    for media in content.keys():  # noqa: SIM118 - a SchemaPath, not a dict
        if "schema" in content / media:
            return cast("dict[str, Any]", resolve(content / media / "schema"))
    return {}


def _bare(schema: object) -> object:
    """A schema without its prose: descriptions and titles change nothing for a client."""
    if isinstance(schema, dict):
        return {k: _bare(v) for k, v in schema.items() if k not in ("description", "title")}
    if isinstance(schema, list):
        return [_bare(v) for v in schema]
    return schema


def _types(schema: dict[str, Any]) -> frozenset[str]:
    if "anyOf" in schema or "oneOf" in schema:
        members = cast("list[dict[str, Any]]", schema.get("anyOf") or schema.get("oneOf"))
        return frozenset().union(*(_types(m) for m in members))
    kind = schema.get("type")
    if isinstance(kind, list):
        return frozenset(kind)
    if kind == "integer":  # every integer is a number: number widens integer
        return frozenset({"integer"})
    return frozenset({kind}) if kind else frozenset({"any"})


def report(changes: list[Change], old_name: str, new_name: str) -> str:
    if not changes:
        return f"no changes between {old_name} and {new_name}\n"
    breaking = sum(c.breaking for c in changes)
    lines = [f"{len(changes)} change(s) from {old_name} to {new_name}, {breaking} breaking:"]
    lines += [f"  {c}" for c in changes]
    return "\n".join(lines) + "\n"


def load_version(url: str | None = None, file: str | None = None) -> Spec:
    """The other version, fetched from ``url`` or read from ``file``, and checked.

    Raises ``SpecError`` naming the URL or file and what is wrong, in one line.
    """
    import urllib.request

    if url is None:
        return load_spec(Path(file))  # type: ignore[arg-type]
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            raw = response.read()
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot load {url}: {exc}") from None
    return spec_from_raw(raw, url)
