"""One file from MAST into ``ingest_dir``: never partial, never over another file, resumed after a kill.

The bytes go to ``.hstlc-part-<name>`` in ``ingest_dir`` (hidden: ingest passes over it), appended with
``Range`` requests when a transfer broke or a run was killed, fsync'ed, checked against the size (and the
checksum, when MAST gives one), and only then put at ``<name>`` with a hard link that fails if anything is
there (:func:`hstlc.filing.place_exclusively`). A file already at ``<name>`` with the expected size and
checksum counts as done; a different one is left alone and the transfer fails with that reason.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import requests

from hstlc.download.mast import MastClient, describe
from hstlc.download.selection import ProductFile
from hstlc.errors import DownloadError
from hstlc.filing import file_digest, fsync_directory, place_exclusively

log = logging.getLogger(__name__)

PART_PREFIX = ".hstlc-part-"
"""Files being downloaded start with this (hidden; ingest passes over them, the next download resumes)."""
CHUNK = 1 << 16
"""Bytes read from the network at a time: a reply that breaks loses at most the chunk being read."""

#: Called with the bytes each chunk added (for a progress bar), from the transferring thread.
ByteCallback = Callable[[int], None]


@dataclass(frozen=True)
class Transfer:
    """What became of one file: ``downloaded`` (bytes fetched by this run, resumed from ``resumed``),
    ``present`` (an identical file was already there) or ``failed`` (``reason``)."""

    file: ProductFile
    status: str
    path: Path | None = None
    bytes: int = 0
    resumed: int = 0
    reason: str = ""


def part_path(folder: Path, name: str) -> Path:
    return folder / f"{PART_PREFIX}{name}"


def _matches(path: Path, file: ProductFile) -> str | None:
    """None if ``path`` holds what MAST says ``file`` is (size, checksum), else how it differs."""
    size = path.stat().st_size
    if file.size is not None and size != file.size:
        return f"{size} bytes where MAST lists {file.size}"
    if file.checksum is not None:
        algorithm, expected = file.checksum
        got = file_digest(path, algorithm)
        if got != expected:
            return f"{algorithm} {got[:12]}… where MAST lists {expected[:12]}…"
    return None


def _append(client: MastClient, file: ProductFile, part: Path, on_bytes: ByteCallback | None) -> int:
    """Fetch the rest of ``file`` into ``part`` (from its current size); the bytes added."""
    start = part.stat().st_size if part.exists() else 0
    added = 0
    with client.open_product(file.name, start=start) as reply:
        if reply.status_code == 416:  # the server has nothing after ``start``: the size check decides
            return 0
        resuming = start > 0 and reply.status_code == 206
        if start > 0 and not resuming:
            log.info("%s: the server sent the whole file again; starting over", file.name)
        limit = file.size if file.size is not None else None
        with open(part, "ab" if resuming else "wb") as out:
            written = start if resuming else 0
            try:
                for chunk in reply.iter_content(CHUNK):
                    if not chunk:
                        continue
                    written += len(chunk)
                    if limit is not None and written > limit:
                        raise DownloadError(f"{file.name}: the server sent more than the {limit} bytes MAST "
                                            "lists; the transfer is abandoned")
                    out.write(chunk)
                    added += len(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
            except requests.RequestException as exc:
                out.flush()
                raise DownloadError(f"{file.name}: {describe(exc)} after {written} bytes",
                                    retryable=True) from None
            out.flush()
            os.fsync(out.fileno())
    return added


def fetch(client: MastClient, file: ProductFile, folder: Path, *,
          on_bytes: ByteCallback | None = None) -> Transfer:
    """Download ``file`` into ``folder`` (see the module docstring); never raises for the file's own
    problems, which come back as a ``failed`` :class:`Transfer`."""
    target = folder / file.name
    part = part_path(folder, file.name)
    try:
        if os.path.lexists(target):
            if target.is_file() and not target.is_symlink() and _matches(target, file) is None:
                with suppress(OSError):
                    part.unlink(missing_ok=True)
                return Transfer(file, "present", target)
            return Transfer(file, "failed",
                            reason=f"{target}: a different file is already there; not replaced")
        resumed = part.stat().st_size if part.is_file() else 0
        if file.size is not None and resumed > file.size:
            part.unlink()
            resumed = 0
    except OSError as exc:
        return Transfer(file, "failed", reason=f"{target}: {exc.strerror or exc}")
    fetched = 0

    def attempt() -> None:
        nonlocal fetched
        fetched += _append(client, file, part, on_bytes)
        if not part.exists():
            part.touch()
        problem = _matches(part, file)
        if problem is not None:
            if file.size is not None and part.stat().st_size < file.size:
                raise DownloadError(f"{file.name}: the transfer ended early ({problem})", retryable=True)
            part.unlink()  # complete but wrong: start over on a retry
            raise DownloadError(f"{file.name}: {problem}", retryable=True)

    try:
        client.retrying(file.name, attempt)
        if not place_exclusively(part, target):
            return Transfer(file, "failed", reason=f"{target}: a different file appeared there; not replaced")
        part.unlink(missing_ok=True)  # placed by a hard link (or renamed where links are not supported)
        fsync_directory(folder)
    except DownloadError as exc:
        return Transfer(file, "failed", bytes=fetched, resumed=resumed, reason=str(exc))
    except OSError as exc:
        return Transfer(file, "failed", bytes=fetched, resumed=resumed,
                        reason=f"{target}: {exc.strerror or exc}")
    return Transfer(file, "downloaded", target, bytes=fetched, resumed=resumed)


__all__ = ["PART_PREFIX", "ByteCallback", "Transfer", "fetch", "part_path"]
