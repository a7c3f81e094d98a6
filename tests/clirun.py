"""Run ``prosper-mock serve`` as a user would: a subprocess, its port read from its banner."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest


@dataclass
class Served:
    process: subprocess.Popen[str]
    base_url: str
    stderr: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path


@contextmanager
def serve(
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    command: str = "serve",
    python: str = sys.executable,
) -> Iterator[Served]:
    """Start ``python -m prosper_mock COMMAND --port 0 ARGS``; stop it with SIGTERM on exit.

    ``COMMAND`` (``serve``, ``proxy``) must announce ``serving on URL`` on stderr; ``python``
    is the interpreter (another venv's, to run the kit installed there).
    """
    process = subprocess.Popen(
        [python, "-m", "prosper_mock", command, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    lines: list[str] = []
    found = threading.Event()
    base: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            m = re.search(r"serving on (http://\S+)", line)
            if m:
                base.append(m.group(1))
                found.set()
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not found.wait(0.05):
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"serve did not start: {lines}")
    if not base:
        process.wait(5)
        raise RuntimeError(f"serve exited: {lines}")
    served = Served(process, base[0], lines)
    try:
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        reader.join(5)


def run(args: Sequence[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m prosper_mock ARGS`` to its end (stdin closed), as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "prosper_mock", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command prints (exit status 2, no traceback)."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def main_error(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line ``prosper-mock ARGS`` refuses with, run in this process (exit status 2).

    For the many refusals that happen before anything is served; a traceback fails the test.
    """
    from prosper_mock.cli import main

    capsys.readouterr()
    assert main(list(args)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]
