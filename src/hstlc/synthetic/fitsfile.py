"""Small helpers that build FITS HDUs with exact TFORMs and write files atomically."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits


@dataclass(frozen=True)
class Col:
    """One binary-table column: name, TFORM (e.g. ``1E``, ``60D``, ``4A``), TUNIT, TDISP, TDIM, TSCAL."""

    name: str
    format: str
    unit: str | None = None
    disp: str | None = None
    dim: str | None = None
    bscale: float | None = None
    bzero: float | None = None


def table_hdu(
    name: str,
    cols: Sequence[Col],
    data: Mapping[str, Any],
    nrows: int,
    *,
    header: Mapping[str, Any] | None = None,
    ver: int | None = None,
) -> fits.BinTableHDU:
    """A BINTABLE with exactly the given TFORMs, filled column by column (one copy, no temporaries)."""
    coldefs = [
        fits.Column(
            name=c.name, format=c.format, unit=c.unit, disp=c.disp, dim=c.dim, bscale=c.bscale, bzero=c.bzero
        )
        for c in cols
    ]
    hdu = fits.BinTableHDU.from_columns(coldefs, nrows=nrows, name=name)
    if ver is not None:
        hdu.ver = ver
    for c in cols:
        if c.name in data and nrows:
            hdu.data[c.name] = data[c.name]
    if header:
        apply_header(hdu.header, header)
    return hdu


def apply_header(header: fits.Header, values: Mapping[str, Any]) -> None:
    """Set cards from ``values``; a value of ``None`` deletes the card; tuples are (value, comment)."""
    for key, value in values.items():
        if value is None:
            if key in header:
                del header[key]
            continue
        header[key] = value


def write_hdus(path: Path, hdus: Sequence[fits.hdu.base.ExtensionHDU | fits.PrimaryHDU]) -> Path:
    """Write ``hdus`` to ``path`` through a temporary name and an atomic rename.

    The tables' Column objects are detached from their data afterwards: otherwise astropy copies
    every column when the record array is freed (seconds and hundreds of MB for big event lists).
    The HDUs must not be used after this call.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        fits.HDUList(list(hdus)).writeto(tmp, overwrite=True, checksum=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
        for hdu in hdus:
            if isinstance(hdu, fits.BinTableHDU):
                for col in hdu.columns:
                    col.array = None
    return path


CACHE_KEYWORD = "SYNTHKEY"
"""Primary-header card holding the hash of the arguments a deterministic reference file was made from."""


def cache_key(*parts: Any) -> str:
    """A short stable hash of ``parts`` (their ``repr``) identifying a deterministic file's content."""
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def is_current(path: Path, key: str) -> bool:
    """True if ``path`` exists and was written with cache key ``key`` (so it need not be rewritten)."""
    try:
        return bool(fits.getval(path, CACHE_KEYWORD, ext=0) == key)
    except (OSError, KeyError, IndexError, ValueError):
        return False


def primary_hdu(cards: Mapping[str, Any]) -> fits.PrimaryHDU:
    """A header-only primary HDU with ``cards`` (``None`` values are skipped)."""
    hdu = fits.PrimaryHDU()
    apply_header(hdu.header, cards)
    return hdu


def as_float32(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


__all__ = [
    "CACHE_KEYWORD",
    "Col",
    "apply_header",
    "as_float32",
    "cache_key",
    "is_current",
    "primary_hdu",
    "table_hdu",
    "write_hdus",
]
