"""Moving users' files without ever losing or overwriting one.

A move is a ``rename`` when source and destination share a filesystem; otherwise the file is copied to a
temporary name beside the destination, fsync'ed, verified (size and sha256 against the source), renamed
into place and only then is the source removed. A *different* file already at the destination is an
error (:class:`~hstlc.errors.FilingError`), never an overwrite (the original pipeline did
``os.remove(dst)`` first); an *identical* one means an earlier move got that far before being
interrupted, so the source is removed (nothing is lost: the bytes are at the destination) and the
destination returned. Directories are created with the configured mode and group.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import uuid
from pathlib import Path

from hstlc.errors import FilingError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
TEMP_PREFIX = ".hstlc-tmp-"
"""Temporary files (copies and products being written) start with this; a leading dot hides them."""


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
    return a.stat().st_size == b.stat().st_size and sha256_of(a) == sha256_of(b)


def _exists_error(src: Path, dest: Path) -> FilingError:
    return FilingError(
        f"{src.name}: a different file already exists at {dest}; not overwritten (source kept)"
    )


def _copy_verified(src: Path, dest: Path) -> None:
    """Copy ``src`` to a temporary name beside ``dest``, fsync, verify, and link it into place."""
    tmp = dest.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}-{dest.name}"[:255]
    try:
        source_hash = hashlib.sha256()
        copy_hash = hashlib.sha256()
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            while chunk := fin.read(CHUNK):
                source_hash.update(chunk)
                fout.write(chunk)
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(src, tmp)
        with open(tmp, "rb") as check:
            while chunk := check.read(CHUNK):
                copy_hash.update(chunk)
        if tmp.stat().st_size != src.stat().st_size or copy_hash.digest() != source_hash.digest():
            raise FilingError(
                f"{src.name}: the copy in {dest.parent} does not match the original; source kept"
            )
        _link_into_place(tmp, dest, src)
        fsync_directory(dest.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _link_into_place(tmp: Path, dest: Path, src: Path) -> None:
    """Put ``tmp`` at ``dest`` unless something is there already (never overwrite)."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        if _same_content(tmp, dest):
            return
        raise _exists_error(src, dest) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        # No hard links on this filesystem: an exclusive-create check then rename.
        if dest.exists():
            if _same_content(tmp, dest):
                return
            raise _exists_error(src, dest) from None
        os.replace(tmp, dest)


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


__all__ = ["TEMP_PREFIX", "apply_group", "copy_file", "ensure_dir", "fsync_directory", "move_file",
           "sha256_of"]
