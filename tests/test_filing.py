"""filing.move_file / ensure_dir: rename or verified copy, never overwrite, never lose a file."""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

import pytest

from hstlc import filing
from hstlc.errors import FilingError
from hstlc.filing import ensure_dir, move_file, sha256_of


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_move_same_filesystem(tmp_path: Path) -> None:
    src = _write(tmp_path / "in" / "a_corrtag.fits", b"abc" * 1000)
    digest = sha256_of(src)
    dest = move_file(src, tmp_path / "out" / "TARGET")
    assert dest == tmp_path / "out" / "TARGET" / "a_corrtag.fits"
    assert not src.exists()
    assert sha256_of(dest) == digest


def test_move_across_filesystems_copies_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_link(a: object, b: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(filing.os, "link", no_link)
    src = _write(tmp_path / "in" / "x.fits", os.urandom(3 * filing.CHUNK + 17))
    digest = sha256_of(src)
    dest = move_file(src, tmp_path / "out")
    assert not src.exists()
    assert sha256_of(dest) == digest
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["x.fits"]  # no temporary left


def test_copy_that_does_not_verify_keeps_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_link(a: object, b: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    real_open = open

    class Corrupting:
        def __init__(self, handle):  # type: ignore[no-untyped-def]
            self.handle = handle

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            self.handle.close()

        def write(self, chunk: bytes) -> int:
            return self.handle.write(chunk[:-1] + b"X")

        def flush(self) -> None:
            self.handle.flush()

        def fileno(self) -> int:
            return self.handle.fileno()

    def fake_open(path, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = real_open(path, mode, *args, **kwargs)
        return Corrupting(handle) if mode == "xb" else handle

    monkeypatch.setattr(filing.os, "link", no_link)
    monkeypatch.setattr("builtins.open", fake_open)
    src = _write(tmp_path / "in" / "x.fits", b"payload" * 100)
    with pytest.raises(FilingError, match="does not match the original; source kept"):
        move_file(src, tmp_path / "out")
    monkeypatch.undo()
    assert src.read_bytes() == b"payload" * 100
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("cross_device", [False, True])
def test_different_file_at_destination_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cross_device: bool
) -> None:
    if cross_device:
        monkeypatch.setattr(filing.os, "link", _exdev)
    src = _write(tmp_path / "in" / "x.fits", b"new")
    existing = _write(tmp_path / "out" / "x.fits", b"old")
    with pytest.raises(FilingError) as info:
        move_file(src, tmp_path / "out")
    assert str(info.value) == (
        f"x.fits: a different file already exists at {existing}; not overwritten (source kept)"
    )
    assert src.read_bytes() == b"new"
    assert existing.read_bytes() == b"old"


def _exdev(a: object, b: object) -> None:
    raise OSError(errno.EXDEV, "Invalid cross-device link")


def test_identical_file_at_destination_removes_source(tmp_path: Path) -> None:
    src = _write(tmp_path / "in" / "x.fits", b"same")
    existing = _write(tmp_path / "out" / "x.fits", b"same")
    assert move_file(src, tmp_path / "out") == existing
    assert not src.exists()
    assert existing.read_bytes() == b"same"


def test_interrupted_hard_link_is_finished(tmp_path: Path) -> None:
    src = _write(tmp_path / "in" / "x.fits", b"data")
    (tmp_path / "out").mkdir()
    os.link(src, tmp_path / "out" / "x.fits")  # a move killed between link and unlink
    dest = move_file(src, tmp_path / "out")
    assert not src.exists() and dest.read_bytes() == b"data"


def test_already_moved_source_returns_destination(tmp_path: Path) -> None:
    dest = _write(tmp_path / "out" / "x.fits", b"data")
    assert move_file(tmp_path / "in" / "x.fits", tmp_path / "out") == dest


def test_missing_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FilingError, match="file to move does not exist"):
        move_file(tmp_path / "nope.fits", tmp_path / "out")


def test_move_onto_itself_keeps_the_file(tmp_path: Path) -> None:
    src = _write(tmp_path / "x.fits", b"data")
    assert move_file(src, tmp_path) == src
    assert src.read_bytes() == b"data"


def test_ensure_dir_mode_ignores_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        path = ensure_dir(tmp_path / "a" / "b", dir_mode=0o750)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o750


def test_ensure_dir_group(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gid = os.getgid()
    path = ensure_dir(tmp_path / "g", group=str(gid))
    assert path.stat().st_gid == gid
    with caplog.at_level(logging.WARNING, logger="hstlc.filing"):
        ensure_dir(tmp_path / "h", group="no-such-group-hstlc")
    assert "does not exist" in caplog.text
    assert (tmp_path / "h").is_dir()


def test_ensure_dir_through_a_file_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "f", b"")
    with pytest.raises(FilingError, match="exists and is not a directory"):
        ensure_dir(tmp_path / "f" / "sub")
