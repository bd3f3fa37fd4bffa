"""Which files make up a dataset: the rootname, its event file(s) and its x1d (FORMATS.md §1).

Purely by name and existence (no FITS is opened): ingest discovery and extraction both use it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from hstlc.errors import InputFileError, UnsupportedProductError

_SUFFIX = re.compile(r"^(?P<root>[^_]+)_(?P<kind>corrtag_a|corrtag_b|corrtag|tag|x1d)\.fits$", re.IGNORECASE)


@dataclass(frozen=True)
class DatasetFiles:
    """The files of one exposure.

    ``event_files`` are the event lists in segment order (``_corrtag_a`` before ``_corrtag_b``; a single
    ``_corrtag``/``_tag`` otherwise), only those that exist; ``x1d`` the ``<rootname>_x1d.fits`` if present.
    """

    rootname: str
    event_files: tuple[Path, ...]
    x1d: Path | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file of the dataset (event files, then the x1d)."""
        return self.event_files + ((self.x1d,) if self.x1d is not None else ())

    @property
    def primary(self) -> Path:
        """The file the dataset is known by (the first event file)."""
        return self.event_files[0]


def _sibling(path: Path, kind: str) -> Path | None:
    """``<root>_<kind>.fits`` beside ``path`` (in its name's case, else lower case), if it exists."""
    match = _SUFFIX.match(path.name)
    assert match is not None
    root = match.group("root")
    upper = match.group("kind").isupper()
    ext = path.name[-5:]
    candidates = [path.with_name(f"{root}_{kind.upper() if upper else kind}{ext}"),
                  path.with_name(f"{root}_{kind}.fits")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def split_name(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(rootname, kind)`` of a product file name, e.g. ``("lb4m01aaq", "corrtag_a")``.

    Raises :class:`UnsupportedProductError` for a name that is not
    ``<rootname>_<corrtag[_a|_b]|tag|x1d>.fits``.
    """
    p = Path(path)
    match = _SUFFIX.match(p.name)
    if match is None:
        raise UnsupportedProductError(
            p, "file name is not <rootname>_corrtag_a/_corrtag_b/_corrtag/_tag/_x1d.fits"
        )
    return match.group("root").lower(), match.group("kind").lower()


def companion_files(path: str | os.PathLike[str]) -> DatasetFiles:
    """The files of the dataset ``path`` belongs to.

    An FUV file named by either segment gives both ``_corrtag_a`` and ``_corrtag_b`` that exist; an x1d
    gives the event file(s) beside it. ``path`` itself must exist unless it is an x1d with event files.
    """
    p = Path(path)
    root, kind = split_name(p)
    if kind != "x1d" and not p.is_file():  # is_file() stats only: a FIFO is never opened
        raise InputFileError(p, "not a regular file" if p.exists() else "file not found")
    if kind in ("corrtag_a", "corrtag_b"):
        events = tuple(f for f in (_sibling(p, "corrtag_a"), _sibling(p, "corrtag_b")) if f is not None)
    elif kind == "x1d":
        found: tuple[Path, ...] = ()
        for group in (("corrtag_a", "corrtag_b"), ("corrtag",), ("tag",)):
            found = tuple(f for f in (_sibling(p, k) for k in group) if f is not None)
            if found:
                break
        if not found:
            raise UnsupportedProductError(p, "x1d file without an event file (_corrtag or _tag) beside it")
        events = found
    else:
        events = (p,) if p.is_file() else ()
    return DatasetFiles(rootname=root, event_files=events, x1d=_sibling(p, "x1d"))


__all__ = ["DatasetFiles", "companion_files", "split_name"]
