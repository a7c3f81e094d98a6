"""The pytest options of both plugins, read from their ``pytest_addoption`` hooks."""

from __future__ import annotations

from _pytest.config.argparsing import Parser  # the parser pytest hands to the hook

from prosper_contracts import plugin as contracts_plugin
from prosper_mock import plugin as mock_plugin
from sitegen.text import cell, code, table


def registered() -> Parser:
    """A parser holding what the two plugins add."""
    parser = Parser(_ispytest=True)  # pytest's own constructor, without its warning
    mock_plugin.pytest_addoption(parser)
    contracts_plugin.pytest_addoption(parser)
    return parser


def pytest_options_reference() -> str:
    """One table per option group: the flag, its ini name if it has one, its help."""
    parser = registered()
    ini = set(parser._inidict)
    parts = []
    for group in parser._groups:
        if not group.options:
            continue
        rows = []
        for option in group.options:
            flags = option.names()
            dest = option.attrs().get("dest", "")
            rows.append(
                [
                    ", ".join(code(f) for f in flags),
                    code(dest) if dest in ini else "",
                    cell(str(option.attrs().get("help", ""))),
                ]
            )
        title = f"**{cell(group._arggroup.title or group.name)}**\n\n"
        parts.append(title + table(["Option", "ini", "Meaning"], rows))
    return "\n".join(parts)
