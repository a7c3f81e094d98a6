"""Reading and writing the files the kit is given, with one clear error naming the file.

Every file the kit reads (a world file, a state file, a spec) goes through
:func:`read_bytes` / :func:`parse_json`: a folder, a FIFO (which would block
forever), a dangling link or a link loop, bytes that are not UTF-8, an empty
file or JSON nested too deeply for the parser each give a ``FileError``
naming the file and what is wrong with it, never a traceback.

Every file the kit writes goes through :func:`write_atomically`. Its
temporary files end in :data:`TEMP_SUFFIX`, a name nobody else uses, so what a
killed write left behind can be swept without ever touching a user's files.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prosper_mock.base import jsontext
from prosper_mock.base.errors import ProsperMockError

#: How every temporary file of :func:`write_atomically` ends (``.NAME.<random>.prosper-tmp``).
TEMP_SUFFIX = ".prosper-tmp"


class FileError(ProsperMockError, ValueError):
    """A file cannot be read, or is not what it must be; the message names it."""


def read_bytes(path: Path, what: str) -> bytes:
    """The contents of the regular file ``path``; raises ``FileError`` naming ``what`` and it."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise FileError(f"cannot read {what} {path}: {_reason(path, exc)}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise FileError(f"cannot read {what} {path}: it is {kind}")
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read()
        except OSError as exc:
            raise FileError(f"cannot read {what} {path}: {_reason(path, exc)}") from None


def parse_json(raw: bytes, what: str, name: str | Path) -> Any:
    """``raw`` (UTF-8 JSON) parsed; raises ``FileError`` naming ``what`` and ``name``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(
            f"cannot read {what} {name}: it is not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    if not text.strip():
        raise FileError(f"cannot read {what} {name}: it is empty")
    try:
        return jsontext.loads(text)
    except json.JSONDecodeError as exc:
        raise FileError(f"cannot read {what} {name}: it is not JSON ({exc})") from None
    except jsontext.JSONTextError as exc:
        raise FileError(f"cannot read {what} {name}: {exc}") from None


def read_json(path: Path, what: str) -> Any:
    """The JSON document in the file ``path``; raises ``FileError`` naming ``what`` and it."""
    return parse_json(read_bytes(path, what), what, path)


def through_links(path: Path) -> Path:
    """The file a write to ``path`` must replace: a symbolic link's final target, else ``path``.

    Raises ``OSError`` (naming ``path``) for a link loop or a link to nothing.
    """
    if not os.path.islink(path):
        return path
    try:
        return Path(os.path.realpath(path, strict=True))
    except OSError as exc:
        raise OSError(exc.errno, _reason(path, exc), str(path)) from None


def write_atomically(
    path: Path, data: bytes | Iterable[bytes], *, overwrite: bool = True, mode: int | None = None
) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, whole.

    ``data`` may come in chunks (an iterable of bytes), written as they come: a big
    file never has to be whole in memory.

    A symbolic link is written through: its target is replaced, and the
    temporary file is made beside the target, so the rename stays atomic. The
    folder must exist (none is made). With ``overwrite=False`` an existing file
    is never replaced (``FileExistsError``). The file is private (mode 0600)
    unless ``mode`` says otherwise. Raises ``OSError`` naming the path.
    """
    target = through_links(path)
    folder = target.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(errno.ENOENT, f"folder {folder} {problem}", str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise type(exc)(exc.errno, _reason(path, exc), str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            if isinstance(data, bytes):
                f.write(data)
            else:
                f.writelines(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)  # fails if the target exists, however recently it came
            os.unlink(tmp)
    except FileExistsError:
        Path(tmp).unlink(missing_ok=True)
        raise FileExistsError(errno.EEXIST, f"{path} exists", str(path)) from None
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise type(exc)(exc.errno, _reason(path, exc), str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def sweep_temporary_files(path: Path) -> None:
    """Remove what killed writes of ``path`` left beside it: only the kit's own temporary files.

    They were never renamed over the file, so they hold nothing it lacks.
    """
    try:
        target = through_links(path)
        names = os.listdir(target.parent)
    except OSError:
        return
    # mkstemp's random part: 8 of [a-z0-9_]. Anything else could be the user's.
    own = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}{re.escape(TEMP_SUFFIX)}")
    for name in names:
        leftover = target.parent / name
        if own.fullmatch(name) and stat.S_ISREG(os.lstat(leftover).st_mode):
            leftover.unlink(missing_ok=True)


def _reason(path: Path, exc: OSError) -> str:
    """What an ``OSError`` about ``path`` means, in words that say which part is wrong."""
    if exc.errno == errno.ELOOP:
        return "it is a symbolic link loop"
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"it is a symbolic link to {os.readlink(path)}, which does not exist"
        if not path.parent.is_dir():
            return f"folder {path.parent} does not exist"
        return "no such file"
    if exc.errno == errno.ENOTDIR:
        return "a part of its path is not a folder"
    if exc.errno == errno.EISDIR:
        return "it is a folder"
    return exc.strerror or str(exc)
