"""The ``prosper`` fixture's reference, read from the ``Prosper`` class the fixture yields.

One section per public attribute, property and helper, in source order: its signature and
its docstring. A helper added to ``Prosper`` appears here without a line of docs to write.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import re
import textwrap
from collections.abc import Iterator
from typing import Any

from prosper_mock.plugin import Prosper


@dataclasses.dataclass(frozen=True)
class Member:
    """One public name of ``Prosper``: how it is written in a test, and its docstring."""

    name: str
    signature: str  # prosper.name, prosper.name(...) -> ..., or prosper.name: type
    doc: str


def members(cls: type = Prosper) -> Iterator[Member]:
    """The public fields, properties and methods of ``cls``, in source order."""
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.name.startswith("_")}
    field_docs = attribute_docstrings(cls)
    for name, found in fields.items():
        annotation = found.type if isinstance(found.type, str) else found.type.__name__
        yield Member(name, f"prosper.{name}: {annotation}", field_docs.get(name, ""))
    for name, value in vars(cls).items():
        if name.startswith("_") or name in fields:
            continue
        if isinstance(value, property):
            annotation = inspect.signature(value.fget).return_annotation  # type: ignore[arg-type]
            yield Member(name, f"prosper.{name}: {annotation}", inspect.getdoc(value) or "")
        elif inspect.isfunction(value):
            signature = call_signature(f"prosper.{name}", value)
            yield Member(name, signature, inspect.getdoc(value) or "")


class _Written(str):
    """An annotation as the source writes it (a string under ``from __future__ import
    annotations``), shown without the quotes ``inspect`` would give it."""

    def __repr__(self) -> str:
        return str(self)


def call_signature(prefix: str, function: Any, width: int = 88) -> str:
    """``prefix(params) -> returns`` for a method (without ``self``), one parameter a line
    when it is longer than ``width``."""
    signature = inspect.signature(function)
    params = [
        p.replace(annotation=_Written(p.annotation)) if isinstance(p.annotation, str) else p
        for p in list(signature.parameters.values())[1:]
    ]
    returns = signature.return_annotation
    shown = signature.replace(
        parameters=params,
        return_annotation=_Written(returns) if isinstance(returns, str) else returns,
    )
    one_line = f"{prefix}{shown}"
    if len(one_line) <= width:
        return one_line
    parts: list[str] = []
    starred = False  # a bare * goes before the first keyword-only one, unless *args did
    for param in shown.parameters.values():
        starred = starred or param.kind is inspect.Parameter.VAR_POSITIONAL
        if param.kind is inspect.Parameter.KEYWORD_ONLY and not starred:
            parts.append("*")
            starred = True
        parts.append(str(param))
    body = "".join(f"    {part},\n" for part in parts)
    return f"{prefix}(\n{body}) -> {shown.return_annotation}"


def attribute_docstrings(cls: type) -> dict[str, str]:
    """The docstrings written under ``cls``'s annotated attributes (as mkdocstrings reads
    them): the string literal right after ``name: type = ...``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for statement, following in itertools.pairwise(body):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs


def markdown(doc: str) -> str:
    """A docstring as markdown: reST's ``code`` is markdown's `code`."""
    return re.sub(r"``(.+?)``", r"`\1`", doc)


def fixture_reference(cls: Any = Prosper) -> str:
    """A section per public member of the ``prosper`` fixture: signature, then docstring."""
    parts = []
    for member in members(cls):
        parts.append(
            f"### `prosper.{member.name}`\n\n```python\n{member.signature}\n```\n\n"
            f"{markdown(member.doc)}\n"
        )
    return "\n".join(parts)
