"""Markdown helpers shared by the generators."""

from __future__ import annotations

import html


def cell(text: str) -> str:
    """``text`` safe inside a markdown table cell: no pipes, no raw HTML, one line."""
    return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")


def code(text: str) -> str:
    """``text`` as inline code inside a table cell."""
    return "`" + str(text).replace("|", "\\|").replace("`", "'") + "`"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
