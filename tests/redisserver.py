"""A real ``redis-server`` on a free loopback port, for the tests of the shared store.

``RedisServer`` starts Debian's ``redis-server`` (``.ci/run`` installs it when missing) with no
persistence (``--save '' --appendonly no``) in a folder of its own, waits until it answers, and
stops it; ``stop`` and ``start`` again on the same port stand for Redis lost and back.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

STARTUP_SECONDS = 10.0


def free_port() -> int:
    """A loopback port nothing listens on now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process on ``127.0.0.1:port``; ``password`` makes it ask for one."""

    def __init__(self, folder: Path, password: str | None = None) -> None:
        found = shutil.which("redis-server")
        if found is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = found
        self.folder = folder
        self.password = password
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0`` (with the password when there is one)."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        """How it is started."""
        command = [
            self.binary,
            "--bind", "127.0.0.1", "--port", str(self.port),
            "--save", "", "--appendonly", "no",
            "--dir", str(self.folder), "--protected-mode", "yes",
        ]  # fmt: skip
        if self.password:
            command += ["--requirepass", self.password]
        return command

    def start(self) -> RedisServer:
        """Start it (again, on the same port) and wait until it answers ``PING``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        command = self.command()
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop it (Redis gone, as far as its clients can tell)."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def _answers(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn,
        ):
            conn.sendall(b"PING\r\n")
            reply = conn.recv(64)
            return reply.startswith((b"+PONG", b"-NOAUTH"))
        return False

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class RedisSentinel(RedisServer):
    """A Redis Sentinel (``redis-server --sentinel``) watching ``master`` as ``service``."""

    def __init__(self, folder: Path, master: RedisServer, service: str = "mymaster") -> None:
        super().__init__(folder)
        self.master, self.service = master, service

    @property
    def url(self) -> str:
        """``redis+sentinel://127.0.0.1:PORT/SERVICE/0`` (the master's password, if any)."""
        auth = f":{self.master.password}@" if self.master.password else ""
        return f"redis+sentinel://{auth}127.0.0.1:{self.port}/{self.service}/0"

    def command(self) -> list[str]:
        config = self.folder / "sentinel.conf"
        lines = [
            "bind 127.0.0.1",
            f"port {self.port}",
            f"dir {self.folder}",
            f"sentinel monitor {self.service} 127.0.0.1 {self.master.port} 1",
        ]
        if self.master.password:
            lines.append(f"sentinel auth-pass {self.service} {self.master.password}")
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [self.binary, str(config), "--sentinel"]
