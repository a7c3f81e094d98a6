"""Run the ``$ curl ...`` lines the docs show, as a shell would, against a test server.

A line is curl (``-s``, ``-X METHOD``, ``-H 'Name: value'``, ``-d 'body'``, one URL), then
optionally ``| python3 -m json.tool`` and ``| head -n N``. The URL's shown base
(``http://127.0.0.1:8765``) is replaced with the test server's.
"""

from __future__ import annotations

import json
import re
import shlex

import requests

SHOWN_BASE = "http://127.0.0.1:8765"


def console_examples(text: str, marker: str) -> list[tuple[str, str, str]]:
    """(marker argument, command, expected output) for each ``$ curl`` in the console blocks
    that follow ``<!-- marker: argument -->``."""
    found = []
    pattern = re.compile(rf"<!-- {marker}: (\S+) -->\n```console\n(.*?)```", re.S)
    for argument, block in pattern.findall(text):
        for chunk in block.split("$ ")[1:]:
            command, _, output = chunk.partition("\n")
            if command.startswith("curl"):
                found.append((argument, command, output))
    return found


def run(command: str, base_url: str) -> str:
    """What the shell pipeline prints: curl, then optionally json.tool and head."""
    stages = [shlex.split(stage) for stage in _pipeline(command)]
    method, headers, data, url = _curl(stages[0])
    response = requests.request(
        method, url.replace(SHOWN_BASE, base_url), headers=headers, data=data, timeout=5
    )
    text = response.text
    for stage in stages[1:]:
        if stage[:3] == ["python3", "-m", "json.tool"]:
            text = json.dumps(json.loads(text), indent=4, ensure_ascii=False) + "\n"
        elif stage[0] == "head":
            text = "".join(text.splitlines(keepends=True)[: int(stage[-1].lstrip("-n"))])
        else:
            raise AssertionError(f"pipeline stage not understood: {stage}")
    return text if text.endswith("\n") else text + "\n"


def _pipeline(command: str) -> list[str]:
    """The command split at ``|`` outside quotes."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    stages: list[list[str]] = [[]]
    for token in lexer:
        if token == "|":
            stages.append([])
        else:
            stages[-1].append(token)
    return [shlex.join(stage) for stage in stages]


def _curl(args: list[str]) -> tuple[str, dict[str, str], bytes | None, str]:
    assert args[0] == "curl", args
    method, headers, data, url = "GET", {}, None, ""
    rest = iter(args[1:])
    for arg in rest:
        if arg == "-X":
            method = next(rest)
        elif arg == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            data = next(rest).encode()
            method = "POST" if method == "GET" else method
        elif arg == "-s":
            continue
        elif arg.startswith("http"):
            url = arg
        else:
            raise AssertionError(f"curl option not understood: {arg}")
    return method, headers, data, url
