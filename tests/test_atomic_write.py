"""filing.write_atomically, the one atomic write, and the sweeper of the temporaries it leaves when killed."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from hstlc import filing
from hstlc.errors import FilingError
from hstlc.filing import TEMP_PREFIX, copy_file, temporary_path, write_atomically
from hstlc.ingestion import sweep_temporaries
from hstlc.products import write_lightcurve
from support.report import make_lightcurve


def _bytes(data: bytes):  # type: ignore[no-untyped-def]
    """A write function writing ``data`` (and remembering the temporary path it was given)."""
    seen: list[Path] = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        with open(tmp, "xb") as handle:
            handle.write(data)

    write.seen = seen  # type: ignore[attr-defined]
    return write


def _no_hard_links(a: object, b: object) -> None:
    raise OSError(errno.EPERM, "Operation not permitted")


# ------------------------------------------------------------------------------------------ placement


def test_writes_through_a_prefixed_temporary_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "x_curve.fits"
    write = _bytes(b"new")
    assert write_atomically(target, write, overwrite=False) is True
    assert target.read_bytes() == b"new"
    [tmp] = write.seen  # type: ignore[attr-defined]
    assert tmp.parent == tmp_path and tmp.name.startswith(TEMP_PREFIX) and tmp.name.endswith("-x_curve.fits")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x_curve.fits"]


@pytest.mark.parametrize("hard_links", [True, False])
def test_a_file_appearing_during_the_write_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hard_links: bool
) -> None:
    if not hard_links:
        monkeypatch.setattr(filing.os, "link", _no_hard_links)
    target = tmp_path / "race.fits"

    def write_while_someone_creates_the_target(tmp: Path) -> None:
        tmp.write_bytes(b"ours")
        target.write_bytes(b"theirs")  # another process, between our write and our placement

    with pytest.raises(FilingError) as info:
        write_atomically(target, write_while_someone_creates_the_target, overwrite=False)
    assert str(info.value) == f"{target}: a different file already exists; not overwritten"
    assert target.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.fits"]


def test_a_file_appearing_just_before_placement_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created after every check, at the instant before the call that places our file: still kept."""
    target = tmp_path / "race.fits"
    real_link, real_replace = os.link, os.replace

    def someone_creates_target_first(real):  # type: ignore[no-untyped-def]
        def place(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
            if Path(dst) == target and not target.exists():
                target.write_bytes(b"theirs")
            return real(src, dst, *args, **kwargs)

        return place

    monkeypatch.setattr(os, "link", someone_creates_target_first(real_link))
    monkeypatch.setattr(os, "replace", someone_creates_target_first(real_replace))
    with pytest.raises(FilingError, match="already exists; not overwritten"):
        write_atomically(target, _bytes(b"ours"), overwrite=False)
    assert target.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.fits"]


def test_the_caller_words_the_conflict(tmp_path: Path) -> None:
    target = tmp_path / "race.fits"

    def race(tmp: Path) -> None:
        tmp.write_bytes(b"ours")
        target.write_bytes(b"theirs")

    with pytest.raises(FilingError, match=r"^custom: not replaced$"):
        write_atomically(target, race, overwrite=False, exists_message="custom: not replaced")


def test_an_existing_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    target = tmp_path / "x.fits"
    target.write_bytes(b"old")
    write = _bytes(b"new")
    with pytest.raises(FilingError, match="already exists; not overwritten"):
        write_atomically(target, write, overwrite=False)
    assert write.seen == []  # type: ignore[attr-defined]
    assert target.read_bytes() == b"old"


def test_overwrite_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "x.fits"
    target.write_bytes(b"old")
    old_inode = target.stat().st_ino
    reader = open(target, "rb")  # noqa: SIM115 - a reader that has the old file open
    try:

        def write(tmp: Path) -> None:
            tmp.write_bytes(b"partial")
            assert target.read_bytes() == b"old"  # nothing of the new file is visible while writing
            tmp.write_bytes(b"new and longer")

        assert write_atomically(target, write, overwrite=True) is True
        assert target.read_bytes() == b"new and longer"
        assert target.stat().st_ino != old_inode  # a rename of a new file, not a rewrite in place
        assert reader.read() == b"old"  # the open reader still sees the complete old file
    finally:
        reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.fits"]


def test_file_and_folder_are_fsynced_before_and_after_placement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.fits"
    synced: list[tuple[int, bool]] = []  # (inode, target present at that moment)
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append((os.fstat(fd).st_ino, target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    write_atomically(target, _bytes(b"data"), overwrite=False)
    assert synced == [(target.stat().st_ino, False), (tmp_path.stat().st_ino, True)]


# ------------------------------------------------------------------------------------------ failures


@pytest.mark.parametrize("crash", [RuntimeError("boom"), KeyboardInterrupt()])
@pytest.mark.parametrize("overwrite", [False, True])
def test_a_crash_inside_write_leaves_no_temporary(
    tmp_path: Path, crash: BaseException, overwrite: bool
) -> None:
    target = tmp_path / "x.fits"
    if overwrite:
        target.write_bytes(b"old")

    def crashing(tmp: Path) -> None:
        with open(tmp, "xb") as handle:
            handle.write(b"half a file")
        raise crash

    with pytest.raises(type(crash)):
        write_atomically(target, crashing, overwrite=overwrite)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["x.fits"] if overwrite else [])
    if overwrite:
        assert target.read_bytes() == b"old"


def test_a_failing_placement_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_link(a: object, b: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(filing.os, "link", broken_link)
    with pytest.raises(OSError, match="Input/output error"):
        write_atomically(tmp_path / "x.fits", _bytes(b"data"), overwrite=False)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_at_the_target_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x.fits").mkdir()
    with pytest.raises(FilingError, match="is a folder"):
        write_atomically(tmp_path / "x.fits", _bytes(b"data"), overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["x.fits"]


# ------------------------------------------------------------------------------------ identical files


@pytest.mark.parametrize("overwrite", [False, True])
def test_an_identical_file_counts_as_done(tmp_path: Path, overwrite: bool) -> None:
    target = tmp_path / "x.fits"
    target.write_bytes(b"same")
    before = target.stat()
    assert write_atomically(target, _bytes(b"same"), overwrite=overwrite, identical_ok=True) is False
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # left as it was
    assert [p.name for p in tmp_path.iterdir()] == ["x.fits"]


def test_identical_ok_still_refuses_a_different_file(tmp_path: Path) -> None:
    target = tmp_path / "x.fits"
    target.write_bytes(b"old")
    with pytest.raises(FilingError, match="not overwritten"):
        write_atomically(target, _bytes(b"new"), overwrite=False, identical_ok=True)
    assert target.read_bytes() == b"old"
    assert write_atomically(target, _bytes(b"new"), overwrite=True, identical_ok=True) is True
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["x.fits"]


def test_an_identical_file_appearing_during_a_copy_counts_as_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in" / "x.fits"
    src.parent.mkdir()
    src.write_bytes(b"payload")
    dest = tmp_path / "out" / "x.fits"
    real_write = filing.write_atomically

    def someone_copies_too(target: Path, write, **kwargs):  # type: ignore[no-untyped-def]
        def also(tmp: Path) -> None:
            write(tmp)
            target.write_bytes(b"payload")

        return real_write(target, also, **kwargs)

    monkeypatch.setattr(filing, "write_atomically", someone_copies_too)
    assert copy_file(src, tmp_path / "out") == dest
    assert dest.read_bytes() == b"payload" and src.read_bytes() == b"payload"
    assert [p.name for p in dest.parent.iterdir()] == ["x.fits"]


def test_a_different_file_appearing_during_a_copy_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in" / "x.fits"
    src.parent.mkdir()
    src.write_bytes(b"payload")
    dest = tmp_path / "out" / "x.fits"
    real_write = filing.write_atomically

    def someone_else_writes(target: Path, write, **kwargs):  # type: ignore[no-untyped-def]
        def also(tmp: Path) -> None:
            write(tmp)
            target.write_bytes(b"theirs")

        return real_write(target, also, **kwargs)

    monkeypatch.setattr(filing, "write_atomically", someone_else_writes)
    with pytest.raises(FilingError) as info:
        copy_file(src, tmp_path / "out")
    assert str(info.value) == (
        f"x.fits: a different file already exists at {dest}; not overwritten (source kept)"
    )
    assert dest.read_bytes() == b"theirs" and src.read_bytes() == b"payload"
    assert [p.name for p in dest.parent.iterdir()] == ["x.fits"]


def test_stis_corrtag_never_replaces_a_file_created_just_before_placement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old writer checked ``out.exists()`` and then ``os.replace``d: a file created in between was lost.

    Another process creates ``out`` at the last moment, just before whatever call places our file.
    """
    from test_readers_stis import make_stis

    from hstlc.stis_corrtag import corrtag_path_for, write_stis_corrtag

    files = make_stis(tmp_path)
    out = corrtag_path_for(files["tag"])
    real_link, real_replace = os.link, os.replace

    def someone_creates_out_first(real):  # type: ignore[no-untyped-def]
        def place(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
            if Path(dst) == out and not out.exists():
                out.write_bytes(b"theirs")
            return real(src, dst, *args, **kwargs)

        return place

    monkeypatch.setattr(os, "link", someone_creates_out_first(real_link))
    monkeypatch.setattr(os, "replace", someone_creates_out_first(real_replace))
    with pytest.raises(FilingError, match="a different file already exists; not overwritten"):
        write_stis_corrtag(files["tag"], oref_dir=files["oref"])
    assert out.read_bytes() == b"theirs"
    assert not list(tmp_path.glob(f"{TEMP_PREFIX}*"))
    monkeypatch.undo()
    out.unlink()
    assert write_stis_corrtag(files["tag"], oref_dir=files["oref"]) == out  # without a race: written
    assert write_stis_corrtag(files["tag"], oref_dir=files["oref"]) == out  # identical: up to date
    assert not list(tmp_path.glob(f"{TEMP_PREFIX}*"))


# ---------------------------------------------------------------------------------- temporary names


def test_temporary_names_fit_in_a_file_name(tmp_path: Path) -> None:
    long = tmp_path / ("é" * 120 + ".fits")  # 245 bytes in UTF-8
    tmp = temporary_path(long)
    assert tmp.parent == tmp_path and tmp.name.startswith(TEMP_PREFIX)
    assert len(os.fsencode(tmp.name)) <= 255
    assert temporary_path(long) != tmp
    write_atomically(long, _bytes(b"data"), overwrite=False)
    assert long.read_bytes() == b"data"


def test_every_writer_uses_the_one_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """products and stis_corrtag write through write_atomically (so through TEMP_PREFIX names)."""
    import hstlc.products
    import hstlc.stis_corrtag

    assert hstlc.products.write_atomically is filing.write_atomically
    assert hstlc.stis_corrtag.write_atomically is filing.write_atomically

    seen: list[str] = []
    real_write = filing.write_atomically

    def spy(target, write, **kwargs):  # type: ignore[no-untyped-def]
        def recording(tmp: Path) -> None:
            seen.append(tmp.name)
            write(tmp)

        return real_write(target, recording, **kwargs)

    monkeypatch.setattr(hstlc.products, "write_atomically", spy)
    write_lightcurve(make_lightcurve(), tmp_path / "x_curve.fits")
    assert len(seen) == 1 and seen[0].startswith(TEMP_PREFIX)


# ------------------------------------------------------------------------------------------ sweeper


def test_the_sweeper_removes_both_patterns_and_nothing_else(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    (outputs / "GD71").mkdir(parents=True)
    (outputs / "GD71" / "deeper" / "deepest").mkdir(parents=True)
    ours = [
        outputs / f"{TEMP_PREFIX}0123abcd-x_curve.fits",
        outputs / "GD71" / f"{TEMP_PREFIX}{'f' * 32}-lb4m01aaq_curve.fits",
        outputs / "GD71" / ".lb4m01aaq_curve.fits.0a1b2c3d4e5f.tmp",  # written by older versions
        outputs / ".composite.fits.ffffffffffff.tmp",
    ]
    theirs = [
        outputs / "GD71" / "lb4m01aaq_curve.fits",
        outputs / "notes.tmp",
        outputs / ".hidden",
        outputs / ".x.fits.tmp",  # no random part: not a name hstlc ever wrote
        outputs / ".x.fits.NOTHEXNOTHEX.tmp",
        outputs / "x.fits.0a1b2c3d4e5f.tmp",  # no leading dot
        outputs / "GD71" / "deeper" / "deepest" / f"{TEMP_PREFIX}beyond-the-depth.fits",
    ]
    for path in ours + theirs:
        path.write_bytes(b"x")
    link = outputs / f"{TEMP_PREFIX}a-symlink.fits"
    link.symlink_to(outputs / "GD71" / "lb4m01aaq_curve.fits")
    assert sweep_temporaries([outputs, tmp_path / "missing"]) == len(ours)
    assert not any(p.exists() for p in ours)
    assert all(p.exists() for p in theirs)
    assert link.is_symlink()  # only regular files are removed
