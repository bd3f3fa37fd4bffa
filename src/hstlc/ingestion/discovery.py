"""Ingest step 1: find the datasets in a directory (FORMATS.md §1), by file name only.

A dataset is one rootname in one folder: its event file(s) — ``_corrtag_a`` and/or ``_corrtag_b`` (an FUV
pair is ONE dataset), or ``_corrtag`` (COS NUV or a STIS corrtag), or ``_tag`` (STIS, possibly with a
``_corrtag`` derived from it earlier) — and its ``_x1d`` if present. Every other file is listed as skipped
with the reason and left alone. With ``recursive`` sub-folders are searched too, except the configured
working folders (filesystem, outputs, bad data …) when they lie inside the searched tree, and symbolic
links are never followed.

Names may end in ``.fits``, ``.fits.gz`` or ``.fits.bz2`` (any case): a compressed file is the same kind
as its plain name, is read decompressed and is filed as it is (same bytes, same name). A plain and a
compressed copy of one file in a folder are one file too many (the second is skipped). A COS
``_rawtag`` is skipped as uncalibrated (run calcos or download the corrtag).

Paths in :class:`Candidate` and :class:`SkippedFile` are ``directory`` (as the caller gave it) joined
with the names found. Ingest's batch summary and catalog rows name files by their name only (the
:class:`~hstlc.errors.InputFileError` message): a dataset is known by its rootname and its files move
during ingest, so the name is the one stable handle; the skipped list keeps the full path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hstlc.errors import HstlcError, InputFileError
from hstlc.readers.files import RAWTAG_PROBLEM, is_rawtag_name, product_kind, split_name

#: Event-file kinds in the order a dataset lists them.
EVENT_KINDS: tuple[str, ...] = ("corrtag_a", "corrtag_b", "corrtag", "tag")
_VALID_COMBINATIONS = (
    frozenset({"corrtag_a"}),
    frozenset({"corrtag_b"}),
    frozenset({"corrtag_a", "corrtag_b"}),
    frozenset({"corrtag"}),
    frozenset({"tag"}),
    frozenset({"tag", "corrtag"}),
)


@dataclass(frozen=True)
class Candidate:
    """One dataset found on disk: its rootname, folder, event files (in :data:`EVENT_KINDS` order), x1d."""

    rootname: str
    directory: Path
    event_files: tuple[Path, ...]
    x1d: Path | None = None
    kinds: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        return self.event_files + ((self.x1d,) if self.x1d is not None else ())

    @property
    def is_fuv_pair(self) -> bool:
        return any(k in ("corrtag_a", "corrtag_b") for k in self.kinds)

    @property
    def tag(self) -> Path | None:
        return next((p for p, k in zip(self.event_files, self.kinds, strict=True) if k == "tag"), None)

    @property
    def corrtag(self) -> Path | None:
        return next((p for p, k in zip(self.event_files, self.kinds, strict=True) if k == "corrtag"), None)

    @property
    def primary(self) -> Path:
        """The file the dataset is checked and known by (the first event file; the ``_tag`` for STIS)."""
        return self.tag or self.event_files[0]


@dataclass(frozen=True)
class SkippedFile:
    path: Path
    reason: str


@dataclass(frozen=True)
class Discovery:
    candidates: tuple[Candidate, ...] = ()
    skipped: tuple[SkippedFile, ...] = field(default_factory=tuple)


def _is_regular(path: Path) -> bool:
    """Whether ``path`` itself (not followed) is a regular file; decided by ``lstat``, never by opening."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _walk(directory: Path, recursive: bool, exclude: frozenset[Path]) -> Iterable[Path]:
    """Files, symlinks and folders named like a product in ``directory`` (and below), sorted, skipping
    ``exclude`` folders."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        raise InputFileError(directory, f"cannot list folder ({exc.strerror or exc})") from None
    subdirs: list[Path] = []
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink():
            yield path
        elif entry.is_dir(follow_symlinks=False):
            if product_kind(entry.name) is not None:
                yield path  # a folder named like a product file: reported as not a regular file
            elif recursive and path.absolute() not in exclude:
                subdirs.append(path)
        else:
            yield path
    for sub in subdirs:
        yield from _walk(sub, recursive, exclude)


def discover(
    directory: str | os.PathLike[str], *, recursive: bool = False, exclude: Iterable[Path] = ()
) -> Discovery:
    """The datasets in ``directory`` (and every other file, as skipped with a reason)."""
    root = Path(directory)
    if not root.exists():
        raise InputFileError(root, "folder not found")
    if not root.is_dir():
        raise InputFileError(root, "not a folder (give the folder that holds the event files)")
    excluded = frozenset(Path(p).absolute() for p in exclude if Path(p).absolute() != root.absolute())
    groups: dict[tuple[Path, str], dict[str, Path]] = {}
    skipped: list[SkippedFile] = []
    for path in _walk(root, recursive, excluded):
        if path.is_symlink():
            skipped.append(SkippedFile(path, "symbolic link (not followed; ingest the file it points to)"))
            continue
        if path.name.startswith("."):
            skipped.append(SkippedFile(path, "hidden or temporary file"))
            continue
        if not _is_regular(path):  # a FIFO, device, socket or folder: never opened (a FIFO would block)
            skipped.append(SkippedFile(path, "not a regular file"))
            continue
        try:
            rootname, kind = split_name(path)
        except HstlcError:
            reason = RAWTAG_PROBLEM if is_rawtag_name(path.name) else "not a corrtag, tag or x1d file"
            skipped.append(SkippedFile(path, reason))
            continue
        if not rootname.isalnum() or not rootname.isascii():
            skipped.append(SkippedFile(path, "rootname is not letters and digits"))
            continue
        group = groups.setdefault((path.parent, rootname), {})
        if kind in group:  # same name in another case (e.g. X1D and x1d)
            skipped.append(SkippedFile(path, f"a second {kind} file of {rootname} in this folder"))
            continue
        group[kind] = path

    candidates: list[Candidate] = []
    seen: dict[str, Path] = {}
    for (folder, rootname), files in sorted(groups.items(), key=lambda item: (item[0][1], str(item[0][0]))):
        kinds = frozenset(k for k in files if k != "x1d")
        if not kinds:
            skipped.extend(SkippedFile(p, "x1d without an event file (_corrtag or _tag) beside it")
                           for p in files.values())
            continue
        if kinds not in _VALID_COMBINATIONS:
            skipped.extend(
                SkippedFile(p, f"files of {rootname} do not form one dataset ({', '.join(sorted(kinds))})")
                for p in files.values()
            )
            continue
        if rootname in seen:
            skipped.extend(
                SkippedFile(p, f"dataset {rootname} also found in {seen[rootname]}; ingest this copy later")
                for p in files.values()
            )
            continue
        seen[rootname] = folder
        ordered = tuple(k for k in EVENT_KINDS if k in kinds)
        candidates.append(
            Candidate(
                rootname=rootname,
                directory=folder,
                event_files=tuple(files[k] for k in ordered),
                x1d=files.get("x1d"),
                kinds=ordered,
            )
        )
    skipped.sort(key=lambda s: str(s.path))
    return Discovery(tuple(candidates), tuple(skipped))


__all__ = ["EVENT_KINDS", "Candidate", "Discovery", "SkippedFile", "discover"]
