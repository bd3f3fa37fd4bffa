"""Which files make up a dataset: the rootname, its event file(s) and its x1d (FORMATS.md §1).

Purely by name and existence (no FITS is opened): ingest discovery and extraction both use it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from hstlc.errors import InputFileError, UnsupportedProductError

#: Compressed forms hstlc reads (decided by the file's first bytes, so a compressed file named ``.fits``
#: is read too; the suffix only lets discovery and companions recognise the product by name).
COMPRESSION_SUFFIXES: tuple[str, ...] = (".gz", ".bz2")
_SUFFIX = re.compile(
    r"^(?P<root>[^_]+)_(?P<kind>corrtag_a|corrtag_b|corrtag|tag|x1d)(?P<ext>\.fits(?:\.gz|\.bz2)?)$",
    re.IGNORECASE,
)
_RAWTAG = re.compile(r"^[^_]+_rawtag(?:_a|_b)?\.fits(?:\.gz|\.bz2)?$", re.IGNORECASE)


def product_kind(name: str) -> str | None:
    """The product kind a file name says (``corrtag_a`` … ``x1d``, lower case), or None; ``.fits``,
    ``.fits.gz`` and ``.fits.bz2`` in any case."""
    match = _SUFFIX.match(name)
    return match.group("kind").lower() if match else None


def is_rawtag_name(name: str) -> bool:
    """Whether ``name`` is a COS uncalibrated event list (``<root>_rawtag[_a|_b].fits[.gz|.bz2]``)."""
    return _RAWTAG.match(name) is not None


#: What hstlc says about a COS ``_rawtag`` (by name or by its columns).
RAWTAG_PROBLEM = "uncalibrated rawtag: run calcos or download the corrtag"


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
    """``<root>_<kind>.fits`` beside ``path``, if it exists: first in the case and compression of
    ``path``'s name, then lower case, then plain ``.fits``, ``.fits.gz``, ``.fits.bz2``."""
    match = _SUFFIX.match(path.name)
    assert match is not None
    root = match.group("root")
    upper = match.group("kind").isupper()
    ext = match.group("ext")
    names = [f"{root}_{kind.upper() if upper else kind}{ext}", f"{root}_{kind}{ext.lower()}"]
    names += [f"{root}_{kind}.fits{suffix}" for suffix in ("", *COMPRESSION_SUFFIXES)]
    for name in dict.fromkeys(names):
        candidate = path.with_name(name)
        if candidate.is_file():
            return candidate
    return None


def split_name(path: str | os.PathLike[str]) -> tuple[str, str]:
    """``(rootname, kind)`` of a product file name, e.g. ``("lb4m01aaq", "corrtag_a")``.

    Raises :class:`UnsupportedProductError` for a name that is not
    ``<rootname>_<corrtag[_a|_b]|tag|x1d>.fits`` (optionally ``.fits.gz`` or ``.fits.bz2``).
    """
    p = Path(path)
    match = _SUFFIX.match(p.name)
    if match is None:
        if is_rawtag_name(p.name):
            raise UnsupportedProductError(p, RAWTAG_PROBLEM)
        raise UnsupportedProductError(
            p, "file name is not <rootname>_corrtag_a/_corrtag_b/_corrtag/_tag/_x1d.fits "
            "(or .fits.gz, .fits.bz2)"
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


__all__ = [
    "COMPRESSION_SUFFIXES",
    "RAWTAG_PROBLEM",
    "DatasetFiles",
    "companion_files",
    "is_rawtag_name",
    "product_kind",
    "split_name",
]
