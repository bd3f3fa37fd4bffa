"""Low-level FITS access shared by the readers: opening safely, finding HDUs and columns, keywords.

The golden rules of FORMATS.md live here: HDUs are found by EXTNAME (never by index), columns by name
case-insensitively, keywords in the HDU FORMATS.md names with a fallback to the other header. Every
problem becomes an :class:`~hstlc.errors.InputFileError` that names the file.
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning

from hstlc.domain import GTIArray, as_gti
from hstlc.errors import InputFileError

log = logging.getLogger(__name__)

FITS_MAGIC = b"SIMPLE  ="
_MISSING = object()
SKIPPED_CARDS = frozenset({"", "COMMENT", "HISTORY"})


def _expected_data_size(header: fits.Header) -> int:
    """Bytes of an HDU's data (without padding), from its structural keywords (FITS 4.0 §4.4.1.1)."""
    naxis = int(header.get("NAXIS", 0))
    if naxis == 0:
        return 0
    bitpix = abs(int(header.get("BITPIX", 8)))
    dims = [int(header.get(f"NAXIS{i}", 0)) for i in range(1, naxis + 1)]
    # Random-groups HDUs have NAXIS1 = 0; that dimension does not count.
    product = math.prod(d for d in dims if d > 0) if dims and dims[0] == 0 else math.prod(dims)
    return bitpix // 8 * int(header.get("GCOUNT", 1)) * (int(header.get("PCOUNT", 0)) + product)


def _has_content(path: Path, offset: int) -> bool:
    """Whether the bytes after ``offset`` (first block) hold anything but zero padding."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return bool(handle.read(2880).strip(b"\0"))


@contextmanager
def open_fits(path: str | os.PathLike[str]) -> Iterator[fits.HDUList]:
    """Open a FITS file read-only with memory mapping; raise :class:`InputFileError` for anything wrong.

    Checks, in order: the file exists and is a regular file, starts with the FITS signature, astropy can
    parse every header, and no HDU's data runs past the end of the file (a truncated download).
    astropy's warnings while parsing are logged at debug level, never raised.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "file not found")
    if not p.is_file():
        raise InputFileError(p, "not a regular file")
    try:
        with open(p, "rb") as handle:
            head = handle.read(len(FITS_MAGIC))
    except OSError as exc:
        raise InputFileError(p, f"cannot read file ({exc.strerror or exc})") from None
    if head != FITS_MAGIC:
        raise InputFileError(p, "not a FITS file (no SIMPLE card at the start)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AstropyWarning)
        try:
            hdul = fits.open(p, mode="readonly", memmap=True, lazy_load_hdus=False)
        except (OSError, ValueError, TypeError, IndexError, KeyError) as exc:
            if p.stat().st_size % 2880:
                raise InputFileError(p, f"truncated FITS file ({exc})") from None
            raise InputFileError(p, f"cannot read FITS file ({exc})") from None
    for warning in caught:
        log.debug("%s: astropy: %s", p.name, warning.message)
    try:
        size = p.stat().st_size
        parsed_end = 0
        for hdu in hdul:
            info = hdu.fileinfo()
            if info is None:
                continue
            end = int(info["datLoc"]) + _expected_data_size(hdu.header)
            if end > size:
                name = str(hdu.header.get("EXTNAME", "")) or "PRIMARY"
                raise InputFileError(
                    p, f"truncated FITS file: the {name} HDU needs {end} bytes, the file has {size}"
                )
            parsed_end = max(parsed_end, int(info["datLoc"]) + int(info["datSpan"]))
        if size > parsed_end and _has_content(p, parsed_end):
            # astropy silently stops at a damaged or partial header: bytes left unread mean a bad file.
            raise InputFileError(
                p, f"truncated or damaged FITS file: {size - parsed_end} bytes after HDU {len(hdul) - 1} "
                "could not be read"
            )
        yield hdul
    finally:
        hdul.close()


def extname(hdu: Any) -> str:
    return str(hdu.header.get("EXTNAME", "")).strip().upper()


def find_hdus(hdul: fits.HDUList, name: str) -> list[Any]:
    """All HDUs whose EXTNAME is ``name`` (case-insensitive), in file order."""
    wanted = name.upper()
    return [hdu for hdu in hdul if extname(hdu) == wanted]


def find_hdu(hdul: fits.HDUList, name: str, *, highest_extver: bool = False) -> Any | None:
    """The HDU named ``name``: the first one, or the one with the largest EXTVER (default EXTVER 1)."""
    hdus = find_hdus(hdul, name)
    if not hdus:
        return None
    if highest_extver:
        return max(enumerate(hdus), key=lambda pair: (int(pair[1].header.get("EXTVER", 1)), pair[0]))[1]
    return hdus[0]


def is_table(hdu: Any) -> bool:
    return isinstance(hdu, fits.BinTableHDU | fits.TableHDU)


def _ttypes(header: fits.Header) -> list[str] | None:
    """The TTYPEn names of a table header in column order (None if a column has no usable name)."""
    try:
        count = int(header.get("TFIELDS", 0))
    except (TypeError, ValueError):
        return None
    names = []
    for i in range(1, count + 1):
        value = header.get(f"TTYPE{i}")
        if not isinstance(value, str) or not value.strip():
            return None
        names.append(value.strip())
    return names


def column_names(hdu: Any) -> dict[str, str]:
    """Upper-case column name → the name as written in the file (from the TTYPEn cards when usable,
    which avoids building astropy's column definitions just to list them)."""
    if not is_table(hdu):
        return {}
    names = _ttypes(hdu.header)
    if names is None or len({n.upper() for n in names}) != len(names):
        return {c.name.upper(): c.name for c in hdu.columns}
    return {name.upper(): name for name in names}


#: Binary-table TFORM codes: bytes per element and, for the numeric ones read directly, the dtype.
_TFORM_BYTES = {"L": 1, "B": 1, "I": 2, "J": 4, "K": 8, "A": 1, "E": 4, "D": 8, "C": 8, "M": 16, "P": 8,
                "Q": 16}
_TFORM_DTYPE = {"B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}
#: Largest read of table rows at a time (bounds the memory beyond the columns themselves).
_BLOCK_BYTES = 32 << 20
_TFORM = re.compile(r"^\s*(\d*)\s*([LXBIJKAEDCMPQ])", re.IGNORECASE)


def _direct_columns(path: Path, hdu: Any, wanted: Sequence[str]) -> dict[str, npt.NDArray[Any]] | None:
    """Plain numeric columns of a binary table read straight from the file (FITS 4.0 §7.3), or None
    when astropy's general reader is needed (scaled, multi-dimensional, logical, string, variable-length
    columns, an empty table, or a header that does not add up).

    Same values and dtypes as astropy gives (native byte order), without building its column objects.
    """
    if not isinstance(hdu, fits.BinTableHDU):
        return None
    header = hdu.header
    info = hdu.fileinfo()
    names = _ttypes(header)
    if info is None or names is None:
        return None
    try:
        rows, width = int(header["NAXIS2"]), int(header["NAXIS1"])
    except (KeyError, TypeError, ValueError):
        return None
    if rows <= 0:
        return None
    layout: dict[str, tuple[int, int, str, int]] = {}  # NAME → (column number, byte offset, code, repeat)
    offset = 0
    for number, name in enumerate(names, start=1):
        match = _TFORM.match(str(header.get(f"TFORM{number}", "")))
        if match is None:
            return None
        repeat = int(match.group(1) or 1)
        code = match.group(2).upper()
        layout[name.upper()] = (number, offset, code, repeat)
        offset += (repeat + 7) // 8 if code == "X" else repeat * _TFORM_BYTES[code]
    if offset != width or len(layout) != len(names):
        return None
    plan = []
    for name in dict.fromkeys(n.upper() for n in wanted):
        number, start, code, repeat = layout[name]
        if code not in _TFORM_DTYPE or repeat < 1:
            return None
        if any(f"{key}{number}" in header for key in ("TSCAL", "TZERO", "TDIM")):
            return None
        plan.append((name, start, np.dtype(_TFORM_DTYPE[code]), repeat))
    row_type = np.dtype({
        "names": [p[0] for p in plan],
        "formats": [dt if repeat == 1 else (dt, (repeat,)) for _, _, dt, repeat in plan],
        "offsets": [p[1] for p in plan],
        "itemsize": width,
    })
    out = {name: np.empty((rows, repeat) if repeat > 1 else rows, dtype=dt.newbyteorder("="))
           for name, _, dt, repeat in plan}
    # Whole rows are read with plain reads into one reused buffer (at most _BLOCK_BYTES), then each
    # column is copied out with its byte order fixed: three times faster than copying each column out
    # of a memory map, which pays a page fault per page per pass.
    step = max(1, min(rows, _BLOCK_BYTES // width))
    buffer = np.empty(step, dtype=row_type)
    raw = buffer.view(np.uint8)
    with open(path, "rb") as handle:
        handle.seek(int(info["datLoc"]))
        for start in range(0, rows, step):
            count = min(step, rows - start)
            want, done = count * width, 0
            while done < want:
                got = handle.readinto(raw[done:want])
                if not got:
                    raise OSError(f"the table ends {want - done} bytes early")
                done += got
            for name, column in out.items():
                column[start : start + count] = buffer[name][:count]
    return out


def native(array: npt.ArrayLike, dtype: npt.DTypeLike | None = None) -> npt.NDArray[Any]:
    """A contiguous native-byte-order copy (so the memory map can be released)."""
    arr = np.asarray(array)
    target = np.dtype(dtype) if dtype is not None else arr.dtype.newbyteorder("=")
    return np.array(arr, dtype=target, copy=True, order="C")


def read_columns(
    path: Path,
    hdu: Any,
    names: Sequence[str],
    *,
    optional: Sequence[str] = (),
    hint: str = "",
) -> dict[str, npt.NDArray[Any]]:
    """Read ``names`` (required) and ``optional`` columns of a table HDU as native arrays.

    Keys are the upper-case names. A missing required column raises ``InputFileError`` naming the
    extension and the column, followed by ``hint`` (e.g. ``(is this a COS corrtag?)``).
    """
    where = extname(hdu) or "table"
    available = column_names(hdu)
    for name in names:
        if name.upper() not in available:
            suffix = f" {hint}" if hint else ""
            raise InputFileError(path, f"{where} extension has no {name.upper()} column{suffix}")
    wanted = [n for n in names] + [n for n in optional if n.upper() in available]
    try:
        direct = _direct_columns(path, hdu, wanted)
        if direct is not None:
            return direct
        data = hdu.data
        out: dict[str, npt.NDArray[Any]] = {}
        for name in wanted:
            if data is None:
                col = hdu.columns[available[name.upper()]]
                out[name.upper()] = np.zeros(0, dtype=col.dtype.base if col.dtype is not None else float)
                continue
            out[name.upper()] = native(data.field(available[name.upper()]))
    except (OSError, ValueError, TypeError) as exc:
        raise InputFileError(path, f"cannot read the {where} table ({exc})") from None
    return out


def header_value(
    headers: Sequence[fits.Header], key: str, default: Any = _MISSING, *, path: Path | None = None,
    where: str = "",
) -> Any:
    """The first value of ``key`` in ``headers`` (the HDU FORMATS.md names first, then the fallback).

    Without a default a missing keyword raises ``InputFileError`` (``missing keyword EXPSTART (…)``).
    """
    for header in headers:
        if header is None:
            continue
        if key in header:
            value = header[key]
            if isinstance(value, fits.card.Undefined):
                continue
            return value.strip() if isinstance(value, str) else value
    if default is _MISSING:
        assert path is not None
        place = f" ({where})" if where else ""
        raise InputFileError(path, f"missing keyword {key}{place}")
    return default


def header_dict(*headers: fits.Header | None) -> dict[str, Any]:
    """Keyword → value of the given headers merged (later ones win), without COMMENT/HISTORY cards."""
    merged: dict[str, Any] = {}
    for header in headers:
        if header is None:
            continue
        for card in header.cards:
            key = card.keyword
            if key in SKIPPED_CARDS:
                continue
            value = card.value
            if isinstance(value, fits.card.Undefined):
                value = None
            elif isinstance(value, str):
                value = value.strip()
            merged[key] = value
    return merged


def read_gti(path: Path, hdul: fits.HDUList, exptime: float) -> GTIArray:
    """The GTI table with the highest EXTVER as an (N, 2) array, or ``[[0, exptime]]`` if there is none."""
    hdu = find_hdu(hdul, "GTI", highest_extver=True)
    if hdu is None:
        return as_gti([[0.0, float(exptime)]])
    cols = read_columns(path, hdu, ["START", "STOP"])
    try:
        return as_gti(np.column_stack([cols["START"].astype(np.float64), cols["STOP"].astype(np.float64)]))
    except ValueError as exc:
        extver = hdu.header.get("EXTVER", 1)
        raise InputFileError(path, f"GTI extension (EXTVER {extver}) is invalid: {exc}") from None


def read_timeline(path: Path, hdul: fits.HDUList) -> dict[str, npt.NDArray[Any]] | None:
    """The TIMELINE extension's columns with lower-case names, or ``None`` if the file has none."""
    hdu = find_hdu(hdul, "TIMELINE", highest_extver=True)
    if hdu is None or not is_table(hdu):
        return None
    names = list(column_names(hdu))
    cols = read_columns(path, hdu, names)
    return {name.lower(): arr for name, arr in cols.items()}


def as_int(value: Any, default: int = 0) -> int:
    """An integer keyword value; ``N/A``, blanks and non-numbers give ``default``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return int(value) if math.isfinite(value) else default
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return default
    return default


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def as_str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def lookup(mapping: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """Case-insensitive ``mapping[key]``."""
    if key in mapping:
        return mapping[key]
    upper = key.upper()
    for k, v in mapping.items():
        if k.upper() == upper:
            return v
    return default


__all__ = [
    "as_float",
    "as_int",
    "as_str",
    "column_names",
    "extname",
    "find_hdu",
    "find_hdus",
    "header_dict",
    "header_value",
    "is_table",
    "lookup",
    "native",
    "open_fits",
    "read_columns",
    "read_gti",
    "read_timeline",
]
