"""Run the console examples the docs show, as a reader's shell would, and compare the output.

A console example is a fenced ``console`` block. Its ``$ `` lines are commands, the lines
after each are what it prints. The commands understood:

- ``prosper-mock serve [OPTIONS] &`` (optionally after ``NAME=value`` assignments) starts
  the page's mock, in-process, with exactly those options, parsed by the real ``serve``
  parser; later blocks of the page talk to it, until the next such line. A page whose
  first curl comes before any such line gets ``prosper-mock serve`` without options (what
  ``make serve`` runs).
- ``--store redis://127.0.0.1:6379/0`` in those options is the Redis the tests started
  (``DOCS_REDIS_ENV``), the namespace emptied first.
- ``curl`` with ``-s``, ``-i``, ``-X METHOD``, ``-H 'Name: value'``, ``-d 'body'``,
  ``--json 'body'`` and one URL (``http://127.0.0.1:8765`` or ``localhost:8765``, replaced
  by the test server's address), then optionally ``| python3 -m json.tool``, ``| head -n N``
  and ``| grep TEXT`` (or ``grep -e TEXT -e TEXT``: fixed strings). A ``# comment`` ends the
  command.

Anything else fails, unless the block is marked ``<!-- console: not run: REASON -->`` on the
line before it (for what cannot run here: the real upstream, a Docker engine). Blocks run in
page order on one server, so an example may build on the one before it.

``python -m tests.console PAGE...`` rewrites the pages' shown output with what the commands
print now (review the diff: the tests compare against what the page shows).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from prosper_mock import MockServer

ROOT = Path(__file__).resolve().parent.parent
SHOWN_BASES = ("http://127.0.0.1:8765", "http://localhost:8765")
SHOWN_REDIS = "redis://127.0.0.1:6379/0"  # a page's shared store: the session's Redis
DOCS_REDIS_ENV = "PROSPER_MOCK_DOCS_REDIS"
NOT_RUN = re.compile(r"<!-- console: not run: (.+?) -->\n$")
FENCE = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)


@dataclass
class Step:
    """One ``$ `` line and the output shown under it."""

    command: str
    shown: str


@dataclass
class Block:
    """One console block of a page: where it is, its steps, and why it is not run if it is not."""

    start: int  # offset of the block's body in the page
    end: int
    line: int
    steps: list[Step] = field(default_factory=list)
    not_run: str | None = None


def console_blocks(text: str) -> list[Block]:
    """The console blocks of a page's markdown, in order."""
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()]
        marked = NOT_RUN.search(before[-300:])
        block = Block(
            match.start(1),
            match.end(1),
            before.count("\n") + 1,
            not_run=marked.group(1) if marked else None,
        )
        for line in match.group(1).splitlines(keepends=True):
            if line.startswith("$ "):
                block.steps.append(Step(line[2:].rstrip("\n"), ""))
            elif block.steps:
                block.steps[-1].shown += line
            elif line.strip():
                raise AssertionError(f"line {block.line}: output before any command: {line!r}")
        found.append(block)
    return found


class NotUnderstood(AssertionError):
    """A command the runner does not run: mark its block ``not run`` with the reason."""


class Shell:
    """One page's shell: the mock its ``prosper-mock serve`` lines started, and curl."""

    def __init__(self) -> None:
        self.server: MockServer | None = None

    def __enter__(self) -> Shell:
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def run(self, command: str) -> str:
        """What ``command`` prints."""
        words = shlex.split(command, comments=True)
        env = {}
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        if words[:2] == ["prosper-mock", "serve"] and words[-1] == "&":
            self._stop()
            self.server = start_serve(words[2:-1], env)
            return ""
        if words and words[0] == "curl" and not env:
            if self.server is None:
                self.server = start_serve([], {})
            return curl(command, self.server.base_url)
        raise NotUnderstood(f"command not understood: {command}")


@contextlib.contextmanager
def _environment(overrides: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _shared_store(argv: list[str], env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """A page's Redis (``SHOWN_REDIS``) is the test session's (``DOCS_REDIS_ENV``), its
    namespace emptied first: a page starts from the world it shows."""
    given = [a for a in [*argv, *env.values()] if a.startswith(SHOWN_REDIS)]
    if not given:
        return argv, env
    url = os.environ.get(DOCS_REDIS_ENV)
    if url is None:
        raise NotUnderstood(f"{given[0]}: no Redis for the docs' examples ({DOCS_REDIS_ENV})")
    argv = [a.replace(SHOWN_REDIS, url) for a in argv]
    env = {k: v.replace(SHOWN_REDIS, url) for k, v in env.items()}
    from redis import Redis

    from prosper_mock.world.storage.address import DEFAULT_NAMESPACE
    from prosper_mock.world.storage.redislog import key_names, lease_key

    names = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--store-namespace"]
    namespace = names[-1] if names else DEFAULT_NAMESPACE
    keys, _ = key_names(namespace)
    with Redis.from_url(url) as client:
        client.delete(*keys.values(), lease_key(namespace, "lead"))
    return argv, env


def start_serve(argv: list[str], env: dict[str, str]) -> MockServer:
    """The mock ``prosper-mock serve ARGV`` runs, on a free loopback port in this process."""
    from prosper_mock.cli.options import fill_defaults, world_from_args
    from prosper_mock.cli.program import build_parser
    from prosper_mock.cli.serve import SERVE_DEFAULTS, serve_options
    from prosper_mock.server import app_for
    from prosper_mock.serving.runtime import tick_simulation
    from prosper_mock.world.clock import VirtualClock
    from prosper_mock.world.simulation import Simulation

    argv, env = _shared_store(argv, env)
    args = build_parser().parse_args(["serve", *argv])
    fill_defaults(args, SERVE_DEFAULTS)
    with _environment(env), contextlib.chdir(ROOT):
        options = serve_options(args)
        world = world_from_args(args)
    if options.workers != 1 or options.state_file is not None:
        raise NotUnderstood(f"serve {' '.join(argv)}: --workers and --state-file are not run")
    if options.virtual_clock:
        world.clock = VirtualClock(options.clock_start or world.origin["recipe"]["anchor"])
    app = app_for(world, options)
    if options.simulate_rate is not None:
        simulation = Simulation(world, options.seed, options.simulate_rate, world.clock.now())
        tick_simulation(app, simulation)
    return MockServer(world, app_factory=lambda *_, **__: app).start()


def curl(command: str, base_url: str) -> str:
    """What the shell pipeline prints: curl, then optionally json.tool, head and grep."""
    stages = [shlex.split(stage) for stage in _pipeline(command)]
    method, headers, data, url, include = _curl(stages[0])
    for shown in SHOWN_BASES:
        url = url.replace(shown, base_url)
    try:
        response = requests.request(
            method, url, headers=headers, data=data, timeout=10, allow_redirects=False
        )
    except requests.ConnectionError:
        return "curl: (52) Empty reply from server\n"
    text = response.text
    if include:
        head = [f"HTTP/1.1 {response.status_code} {response.reason}"]
        head += [f"{name}: {value}" for name, value in response.raw.headers.items()]
        text = "\n".join(head) + "\n\n" + text
    for stage in stages[1:]:
        if stage[:3] == ["python3", "-m", "json.tool"]:
            text = json.dumps(json.loads(text), indent=4, ensure_ascii=False) + "\n"
        elif stage[0] == "head":
            text = "".join(text.splitlines(keepends=True)[: int(stage[-1].lstrip("-n"))])
        elif stage[0] == "grep":
            wanted = _grep_patterns(stage[1:])
            text = "".join(
                line for line in text.splitlines(keepends=True) if any(w in line for w in wanted)
            )
        else:
            raise NotUnderstood(f"pipeline stage not understood: {stage}")
    return text if text.endswith("\n") or not text else text + "\n"


def _grep_patterns(args: list[str]) -> list[str]:
    """The fixed strings of ``grep TEXT`` or ``grep -e TEXT -e TEXT...``."""
    if len(args) == 1 and not args[0].startswith("-"):
        return args
    if len(args) % 2 or any(flag != "-e" for flag in args[::2]):
        raise NotUnderstood(f"grep arguments not understood: {args}")
    return args[1::2]


def _pipeline(command: str) -> list[str]:
    """The command split at ``|`` outside quotes, without its ``# comment``."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    stages: list[list[str]] = [[]]
    for token in lexer:
        if token == "|":
            stages.append([])
        else:
            stages[-1].append(token)
    return [shlex.join(stage) for stage in stages]


def _curl(args: list[str]) -> tuple[str, dict[str, str], bytes | None, str, bool]:
    assert args[0] == "curl", args
    method, headers, data, url, include = "", {}, None, "", False
    rest = iter(args[1:])
    for arg in rest:
        if arg == "-X":
            method = next(rest)
        elif arg == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip()
        elif arg in ("-d", "--json"):
            data = next(rest).encode()
            if arg == "--json":
                headers |= {"Content-Type": "application/json", "Accept": "application/json"}
        elif arg in ("-s", "-i", "-si", "-is"):
            include = include or "i" in arg
        elif arg.startswith(("http://", "localhost:", "127.0.0.1:")):
            url = arg if arg.startswith("http://") else "http://" + arg
        else:
            raise NotUnderstood(f"curl option not understood: {arg}")
    return method or ("POST" if data is not None else "GET"), headers, data, url, include


def run_page(text: str) -> list[tuple[Block, Step, str]]:
    """(block, step, what it printed) for every step of every block that is run, in order."""
    printed = []
    with Shell() as shell:
        for block in console_blocks(text):
            if block.not_run is None:
                printed += [(block, step, shell.run(step.command)) for step in block.steps]
    return printed


def rewrite(path: Path) -> bool:
    """Replace the output ``path`` shows with what its commands print; whether it changed."""
    text = path.read_text(encoding="utf-8")
    printed = run_page(text)
    bodies: dict[int, tuple[Block, list[str]]] = {}
    for block, step, out in printed:
        bodies.setdefault(block.start, (block, []))[1].append(f"$ {step.command}\n{out}")
    new = text
    for block, parts in sorted(bodies.values(), key=lambda b: -b[0].start):
        new = new[: block.start] + "".join(parts) + new[block.end :]
    path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(name, "rewritten" if rewrite(Path(name)) else "unchanged")
