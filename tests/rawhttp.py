"""A tiny HTTP/1.1 client over a raw socket: sends exactly the bytes a test gives."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names; the last of a repeated header
    body: bytes
    status_line: str = ""  # as sent, reason phrase included: "HTTP/1.1 499 " has none


def request(
    host: str,
    port: int,
    target: bytes,
    method: bytes = b"GET",
    headers: bytes = b"",
    timeout: float = 5.0,
    body: bytes | None = None,
) -> RawResponse:
    """Send one request with ``target`` as-is in the request line; read to close.

    ``body``, when given, follows the headers with its ``Content-Length``.
    """
    if body is not None:
        headers += b"Content-Length: %d\r\n" % len(body)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(
            method
            + b" "
            + target
            + b" HTTP/1.1\r\nHost: "
            + f"{host}:{port}".encode()
            + b"\r\nConnection: close\r\n"
            + headers
            + b"\r\n"
            + (body or b"")
        )
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return parse(b"".join(chunks))


def parse(raw: bytes) -> RawResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return RawResponse(status, headers, body, lines[0])
