"""The CLI reference: every subcommand and option, read from the argparse parsers.

``build_parser()`` is the one ``prosper-mock`` runs: the mock's own subcommands plus
those the contract kit registers (``prosper_mock.commands`` entry points).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator

from prosper_mock.cli.program import build_parser
from sitegen.text import cell, code, table


def commands(
    parser: argparse.ArgumentParser | None = None, path: tuple[str, ...] = ("prosper-mock",)
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Each (sub)command's words and parser, the program first, depth first."""
    parser = parser or build_parser()
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def _subcommand_help(parser: argparse.ArgumentParser) -> dict[str, str]:
    helps: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                helps[choice.dest] = choice.help or ""
    return helps


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return code(action.metavar or action.dest)
    value = "" if action.nargs == 0 else " " + str(action.metavar or action.dest.upper())
    return ", ".join(code(flag + value) for flag in action.option_strings)


def _options(parser: argparse.ArgumentParser) -> Iterator[str]:
    for group in parser._action_groups:
        actions = [
            a
            for a in group._group_actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
        ]
        if not actions:
            continue
        title = group.title or ""
        described = f": {cell(group.description)}" if group.description else ""
        rows = [[_flags(a), cell(a.help or "")] for a in actions]
        yield f"**{cell(title.capitalize())}**{described}\n\n" + table(["Option", "Meaning"], rows)


def _usage(parser: argparse.ArgumentParser) -> str:
    """The usage line, wrapped at 100 columns whatever the terminal."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return parser.format_usage().strip()
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def cli_reference() -> str:
    """The markdown of every command: usage, description, subcommands, options."""
    parts = []
    for path, parser in commands():
        name = " ".join(path)
        level = "#" * min(len(path) + 1, 4)
        parts.append(f"{level} `{name}`\n")
        parts.append("```text\n" + _usage(parser) + "\n```\n")
        if parser.description:
            parts.append(cell(parser.description) + "\n")
        helps = _subcommand_help(parser)
        if helps:
            rows = [[code(f"{name} {sub}"), cell(text)] for sub, text in helps.items()]
            parts.append(table(["Subcommand", "What it does"], rows))
        parts.extend(_options(parser))
    return "\n".join(parts)
