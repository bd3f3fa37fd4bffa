"""Moving users' files without ever losing or overwriting one.

A move is a ``rename`` when source and destination share a filesystem; otherwise the file is copied to a
temporary name beside the destination, fsync'ed, verified (size and sha256 against the source), renamed
into place and only then is the source removed. A *different* file already at the destination is an
error (:class:`~hstlc.errors.FilingError`), never an overwrite (the original pipeline did
``os.remove(dst)`` first); an *identical* one means an earlier move got that far before being
interrupted, so the source is removed (nothing is lost: the bytes are at the destination) and the
destination returned. Directories are created with the configured mode and group.

Every file hstlc writes (products, STIS corrtags, verified copies) goes through
:func:`write_atomically`: written under a temporary name beside the target that starts with
:data:`TEMP_PREFIX` (so the ingest's sweeper needs to know one pattern), fsync'ed, and only then put in
place — without ever replacing a file that appeared meanwhile unless the caller asked to overwrite.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from hstlc.errors import FilingError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
TEMP_PREFIX = ".hstlc-tmp-"
"""Temporary files (copies and products being written) start with this; a leading dot hides them."""

MAX_NAME_BYTES = 255
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV, errno.ENOSYS}
)
"""``os.link`` errors that mean "this filesystem cannot hard-link", not "something is in the way"."""


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes by ``algorithm`` (a :func:`hashlib.new` name), read in 1 MiB
    chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes (read in 1 MiB chunks)."""
    return file_digest(path, "sha256")


def _group_id(group: str | int) -> int:
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    import grp

    return grp.getgrnam(str(group)).gr_gid


def apply_group(path: Path, group: str | None) -> None:
    """Give ``path`` the group ``group`` if given and permitted; otherwise log a warning."""
    if not group:
        return
    try:
        gid = _group_id(group)
    except (KeyError, ImportError):
        log.warning("%s: group %r does not exist; keeping the default group", path, group)
        return
    try:
        if os.stat(path).st_gid != gid:
            os.chown(path, -1, gid)
    except OSError as exc:
        log.warning("%s: cannot give it group %r (%s)", path, group, exc.strerror or exc)


def ensure_dir(path: Path, *, group: str | None = None, dir_mode: int = 0o770) -> Path:
    """Create ``path`` and any missing parents with mode ``dir_mode`` (umask ignored) and ``group``.

    Existing directories are left as they are. Returns ``path``.
    """
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise FilingError(f"{probe}: exists and is not a directory (cannot create {path})")
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            if not directory.is_dir():
                raise FilingError(f"{directory}: exists and is not a directory") from None
            continue
        except OSError as exc:
            raise FilingError(f"{directory}: cannot create directory ({exc.strerror or exc})") from None
        try:
            os.chmod(directory, dir_mode)
        except OSError as exc:
            log.warning("%s: cannot set mode %o (%s)", directory, dir_mode, exc.strerror or exc)
        apply_group(directory, group)
    return path


def fsync_directory(directory: Path) -> None:
    """Flush a directory entry (a rename or new file in it) to disk; best effort."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _same_content(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are regular files with the same bytes (size, then sha256)."""
    if not (a.is_file() and b.is_file()):
        return False
    return a.stat().st_size == b.stat().st_size and sha256_of(a) == sha256_of(b)


def temporary_path(target: Path) -> Path:
    """A fresh temporary name beside ``target``: :data:`TEMP_PREFIX`, 32 random hex digits, ``-`` and the
    target's name (cut to the 255 bytes a file name may have)."""
    name = f"{TEMP_PREFIX}{uuid.uuid4().hex}-{target.name}"
    while len(os.fsencode(name)) > MAX_NAME_BYTES:
        name = name[:-1]
    return target.parent / name


def open_new(path: Path) -> BinaryIO:
    """Open a file that must not exist yet for writing bytes (``O_EXCL``) — as ``open(path, "xb")``, but
    in mode ``"wb"``, which astropy's ``writeto`` accepts (it refuses a handle in mode ``"xb"``)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    return os.fdopen(fd, "wb")


def _fsync_file(path: Path) -> None:
    """Flush the bytes of ``path`` to disk (read-only is enough on POSIX, and works on a 0o444 copy)."""
    fd = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def place_exclusively(tmp: Path, target: Path) -> bool:
    """Put ``tmp`` at ``target`` unless something is there; False (and ``tmp`` kept) if something is.

    A hard link is atomic and fails if the name exists (``os.rename`` would silently replace a file
    created meanwhile). Where the filesystem has no hard links, a check then ``os.replace``: the only
    fallback POSIX offers, with a window of microseconds instead of the whole write.
    """
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if os.path.lexists(target):
            return False
        log.debug("%s: no hard links here (%s); checked, then renamed", target, exc.strerror or exc)
        os.replace(tmp, target)
    return True


def write_atomically(
    target: str | os.PathLike[str],
    write: Callable[[Path], object],
    *,
    overwrite: bool,
    identical_ok: bool = False,
    exists_message: str | None = None,
    durable: bool = True,
) -> bool:
    """Create ``target`` by calling ``write(temporary)``, so that it appears complete or not at all.

    ``write`` writes the file at the temporary path it is given (beside ``target``, named with
    :data:`TEMP_PREFIX`; the path does not exist yet: :func:`open_new` or ``open(path, "xb")``). It is then
    fsync'ed and put in place, and the folder fsync'ed:

    * ``overwrite=False``: placed with a hard link, so a file that appeared at ``target`` while ``write``
      ran is never replaced (:class:`FilingError`, ``exists_message``). A file already there before is
      refused before ``write`` is called — unless ``identical_ok``, where the new bytes are written and
      compared first;
    * ``overwrite=True``: ``os.replace`` — readers see the old file or the new one, never a mix;
    * ``identical_ok``: a file with exactly the new bytes at ``target`` counts as done (it is left as it
      is, mtime included) instead of a conflict or a needless replace.

    ``durable=False`` leaves out the two fsyncs (still atomic for readers, but a power cut may leave the old
    file or an empty one): for files made again on every run, such as the report's pages.

    Returns True if the new file was put in place, False if an identical one was already there. The
    temporary file is removed whatever happens (an exception in ``write``, a conflict, Ctrl-C). Errors
    from ``write`` and :class:`OSError` from the filesystem propagate unchanged, for the caller to word;
    missing folders are the caller's to create (with its mode and group).
    """
    target = Path(target)
    message = exists_message or f"{target}: a different file already exists; not overwritten"
    if target.is_dir():
        raise FilingError(f"{target}: is a folder; expected a file name")
    if not overwrite and not identical_ok and os.path.lexists(target):
        raise FilingError(message)  # don't write what cannot be placed
    tmp = temporary_path(target)
    try:
        write(tmp)
        if durable:
            _fsync_file(tmp)
        if overwrite:
            if identical_ok and _same_content(tmp, target):
                return False
            os.replace(tmp, target)
        elif not place_exclusively(tmp, target):
            if identical_ok and _same_content(tmp, target):
                return False
            raise FilingError(message)
        if durable:
            fsync_directory(target.parent)
        return True
    finally:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def _exists_error(src: Path, dest: Path) -> FilingError:
    return FilingError(
        f"{src.name}: a different file already exists at {dest}; not overwritten (source kept)"
    )


def _copy_verified(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` through :func:`write_atomically`: verified (size and sha256 of the copy
    read back) before it is put in place; an identical file already there counts as copied."""

    def copy(tmp: Path) -> None:
        source_hash = hashlib.sha256()
        copy_hash = hashlib.sha256()
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            while chunk := fin.read(CHUNK):
                source_hash.update(chunk)
                fout.write(chunk)
            fout.flush()
        shutil.copystat(src, tmp)
        with open(tmp, "rb") as check:
            while chunk := check.read(CHUNK):
                copy_hash.update(chunk)
        if tmp.stat().st_size != src.stat().st_size or copy_hash.digest() != source_hash.digest():
            raise FilingError(
                f"{src.name}: the copy in {dest.parent} does not match the original; source kept"
            )

    conflict = str(_exists_error(src, dest))
    write_atomically(dest, copy, overwrite=False, identical_ok=True, exists_message=conflict)


def move_file(src: Path, dest_dir: Path, *, group: str | None = None, dir_mode: int = 0o770) -> Path:
    """Move ``src`` into ``dest_dir`` (same file name) without ever losing or overwriting a file.

    Returns the destination path. Raises :class:`FilingError` if a different file is already at the
    destination (both are kept), if the source is missing (and the destination does not hold it), or
    if the copy cannot be verified.
    """
    src = Path(src)
    dest_dir = Path(dest_dir)
    dest = dest_dir / src.name
    if not src.exists():
        if dest.exists():
            return dest  # moved by an earlier, interrupted run
        raise FilingError(f"{src}: file to move does not exist")
    if not src.is_file():
        raise FilingError(f"{src}: not a regular file; not moved")
    ensure_dir(dest_dir, group=group, dir_mode=dir_mode)
    if src.absolute() == dest.absolute():
        return dest
    try:
        if dest.exists() and os.path.samefile(src, dest):
            # A hard link made by an earlier, interrupted move: finish it.
            src.unlink()
            fsync_directory(src.parent)
            return dest
    except OSError:
        pass
    if dest.exists():
        if _same_content(src, dest):
            log.info("%s: identical copy already at %s; removing the source", src, dest)
            src.unlink()
            return dest
        raise _exists_error(src, dest)
    try:
        # Hard-link then unlink: atomic, same filesystem, and never replaces an existing file
        # (os.rename would silently overwrite one created meanwhile).
        os.link(src, dest)
    except FileExistsError:
        if _same_content(src, dest):
            src.unlink()
            return dest
        raise _exists_error(src, dest) from None
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            log.debug("%s: %s is on another filesystem; copying and verifying", src, dest_dir)
        else:
            log.debug("%s: hard link not possible (%s); copying and verifying", src, exc.strerror or exc)
        try:
            _copy_verified(src, dest)
        except OSError as exc2:
            reason = exc2.strerror or exc2
            raise FilingError(f"{src.name}: cannot copy into {dest_dir} ({reason}); source kept") from None
    else:
        fsync_directory(dest_dir)
    src.unlink()
    fsync_directory(src.parent)
    apply_group(dest, group)
    return dest


def copy_file(src: Path, dest_dir: Path, *, group: str | None = None, dir_mode: int = 0o770) -> Path:
    """Copy ``src`` into ``dest_dir`` (same name), verified, leaving ``src`` as it is (``ingest --copy``).

    Always a real copy (never a hard link: the user's file stays theirs to edit); an identical file at
    the destination counts as copied; a different one is never overwritten (:class:`FilingError`).
    """
    src, dest_dir = Path(src), Path(dest_dir)
    dest = dest_dir / src.name
    if not src.is_file():
        raise FilingError(f"{src}: not a regular file; not copied")
    ensure_dir(dest_dir, group=group, dir_mode=dir_mode)
    if dest.exists():
        if _same_content(src, dest):
            return dest
        raise _exists_error(src, dest)
    try:
        _copy_verified(src, dest)
    except OSError as exc:
        raise FilingError(f"{src.name}: cannot copy into {dest_dir} ({exc.strerror or exc})") from None
    apply_group(dest, group)
    return dest


__all__ = ["TEMP_PREFIX", "apply_group", "copy_file", "ensure_dir", "file_digest", "fsync_directory",
           "move_file", "open_new", "place_exclusively", "sha256_of", "temporary_path", "write_atomically"]
