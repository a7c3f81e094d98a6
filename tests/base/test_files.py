"""Every file the kit reads, given as an attacker would: one line naming the file, exit 2."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from prosper_mock.base.files import TEMP_SUFFIX, FileError, read_json, write_atomically
from tests.clirun import main_error, one_line_error, run


def _folder(p: Path) -> None:
    p.mkdir()


def _fifo(p: Path) -> None:
    os.mkfifo(p)  # opening it for reading would wait for a writer forever


def _loop(p: Path) -> None:
    other = p.with_name("other-link")
    os.symlink(other, p)
    os.symlink(p, other)


def _dangling(p: Path) -> None:
    os.symlink(p.with_name("nowhere.json"), p)


BAD_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "a folder": (_folder, "is a folder"),
    "a FIFO": (_fifo, "not a regular file"),
    "empty": (lambda p: p.write_bytes(b""), "is empty"),
    "a huge line": (lambda p: p.write_bytes(b"x" * 5_000_000), "is not JSON"),
    "an array": (lambda p: p.write_bytes(b"[]"), ""),
    "invalid UTF-8": (lambda p: p.write_bytes(b'{"a": "\xff\xfe"}'), "is not UTF-8"),
    "a link loop": (_loop, "symbolic link loop"),
    "a dangling link": (_dangling, "does not exist"),
    "nested 100 000 deep": (lambda p: p.write_bytes(b"[" * 100_000), "nested too deeply"),
}

READERS = {
    "world file": ["serve", "--port", "0", "--world"],
    "state file": ["serve", "--port", "0", "--live-calls", "1", "--call-logs", "1", "--state-file"],
    "spec file": ["spec", "diff", "--file"],
}


@pytest.mark.parametrize("kind", BAD_FILES)
@pytest.mark.parametrize("reader", READERS)
def test_a_bad_file_is_one_line_naming_it(
    tmp_path: Path, reader: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "given.json"
    make, reason = BAD_FILES[kind]
    make(path)
    before = path.read_bytes() if path.is_file() else None
    line = main_error([*READERS[reader], str(path)], capsys)
    assert str(path) in line and reason in line
    assert (path.read_bytes() if path.is_file() else None) == before  # never overwritten


@pytest.mark.parametrize("kind", BAD_FILES)
def test_read_json_refuses_each_bad_file_naming_it(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "given.json"
    make, reason = BAD_FILES[kind]
    make(path)
    if kind == "an array":
        assert read_json(path, "world file") == []  # valid JSON: its reader judges the shape
        return
    with pytest.raises(FileError, match=reason) as refused:
        read_json(path, "world file")
    assert str(refused.value).startswith(f"cannot read world file {path}: ")


def test_a_missing_file_and_a_missing_folder_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="no such file"):
        read_json(tmp_path / "nope.json", "spec")
    with pytest.raises(FileError, match="is not a folder"):
        (tmp_path / "f").write_text("x")
        read_json(tmp_path / "f" / "x.json", "spec")


@pytest.mark.parametrize("reader", READERS)
def test_a_bad_file_is_one_line_from_the_command_line(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "given.json"
    _fifo(path)  # a FIFO: the worst of them, reading it would block forever
    line = one_line_error(run([*READERS[reader], str(path)], timeout=30))
    assert str(path) in line and "not a regular file" in line


def test_write_atomically_writes_through_a_link_and_never_makes_folders(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "s.json").write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real / "s.json")
    write_atomically(link, b"new")
    assert link.is_symlink() and (real / "s.json").read_bytes() == b"new"
    assert sorted(p.name for p in real.iterdir()) == ["s.json"]
    with pytest.raises(FileNotFoundError) as missing:
        write_atomically(tmp_path / "no" / "such" / "s.json", b"x")
    assert str(tmp_path / "no" / "such") in str(missing.value)
    assert not (tmp_path / "no").exists()
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    with pytest.raises(OSError, match="symbolic link loop"):
        write_atomically(loop, b"x")
    assert loop.is_symlink()


def test_write_atomically_can_refuse_to_replace(tmp_path: Path) -> None:
    target = tmp_path / "mine.txt"
    target.write_text("the user's")
    with pytest.raises(FileExistsError, match="exists"):
        write_atomically(target, b"x", overwrite=False)
    assert target.read_text() == "the user's"
    write_atomically(tmp_path / "new.json", b"x", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt", "new.json"]
    assert not any(p.name.endswith(TEMP_SUFFIX) for p in tmp_path.iterdir())
