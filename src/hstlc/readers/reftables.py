"""CRDS reference tables: finding them (FORMATS.md §5.5) and reading them into plain dataclasses (§5.1–§5.4).

Finding: :func:`resolve_reference` expands header values such as ``lref$x1u1459il_phot.fits``,
``$lref/x1u1459il_phot.fits`` or an absolute path. It looks in the directory given (``--lref-dir``
/ settings), falls back to the environment variable the value names (``$lref``/``$oref``), and returns
``None`` — never a silent relative path — when the value is ``N/A``/blank or the file cannot be found;
:func:`locate_reference` also says why.

Reading: :func:`read_fluxtab` (COS FLUXTAB), :func:`read_tdstab` (COS TDSTAB, REF_TIME from the table
header, arrays trimmed to NWL/NT), :func:`read_phottab` (STIS PHOTTAB), :func:`read_bpixtab` (STIS
BPIXTAB) and :func:`read_flat` (STIS P-/L-flat SCI image). Row selection: :func:`match_rows` — string
columns match case-insensitively after stripping and a cell ``ANY`` matches every value; numbers match
exactly; a criterion of ``None`` is not applied. Each table class has a ``match(...)`` method using it.

Not read: the STIS TDSTAB. A real STIS x1d primary names one (FORMATS.md §9), but FORMATS.md documents
only the COS TDSTAB (§5.2; calstis' table is a different one), so there is no reader to guess at it: the
STIS reader only locates the file and the product says that no TDS correction was made.

Caching: CRDS reference files never change under their name, and an ingest extracts hundreds of
exposures against the same few tables, so each ``read_*`` keeps the tables it parsed (at most
:data:`CACHE_ENTRIES` per process), keyed by the file's identity (device, inode, size, modification and
change times): a file replaced or rewritten is read again. Cached arrays are read-only.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from hstlc.errors import InputFileError
from hstlc.readers.hdus import column_names, find_hdu, is_table, native, open_fits, read_columns

log = logging.getLogger(__name__)

NOT_APPLICABLE = frozenset({"", "N/A", "NONE", "NA", "OMIT"})
WILDCARD = "ANY"
_IRAF = re.compile(r"^(?P<var>[A-Za-z_][A-Za-z0-9_]*)\$(?P<name>.+)$")
_UNIX = re.compile(r"^\$\{?(?P<var>[A-Za-z_][A-Za-z0-9_]*)\}?/(?P<name>.+)$")

FloatArray = npt.NDArray[np.float64]
T = TypeVar("T")

#: Parsed reference tables kept per process (a few MB at most; real tables are a few hundred rows).
CACHE_ENTRIES = 32
_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


def _freeze(value: Any) -> None:
    """Make the arrays of a parsed table (a dataclass, its rows, or an array) read-only."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for item in value:
            _freeze(item)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            _freeze(getattr(value, name))


def _cached(reader: Callable[[Path], T]) -> Callable[[str | os.PathLike[str]], T]:
    """``reader`` with the per-process cache of the module docstring (errors are never cached)."""

    @functools.wraps(reader)
    def read(path: str | os.PathLike[str]) -> T:
        p = Path(path)
        try:
            st = p.stat()
        except OSError:
            return reader(p)  # the reader names the problem
        key = (reader.__name__, str(p.absolute()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
               st.st_ctime_ns)
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        table = reader(p)
        _freeze(table)
        _cache[key] = table
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
        return table

    return read


def clear_cache() -> None:
    """Forget every parsed reference table of this process."""
    _cache.clear()


# --------------------------------------------------------------------------------------------- finding
@dataclass(frozen=True)
class ReferenceLookup:
    """Where a reference-file header value led: ``path`` (``None`` if not found) and ``reason`` why not."""

    value: str
    path: Path | None
    reason: str = ""


def locate_reference(value: str | None, ref_dir: str | os.PathLike[str] | None = None) -> ReferenceLookup:
    """Expand a header value like ``lref$name.fits`` to an existing file (see the module docstring)."""
    text = "" if value is None else str(value).strip()
    if text.upper() in NOT_APPLICABLE:
        return ReferenceLookup(text, None, "not applicable (N/A)")
    var: str | None = None
    name = text
    for pattern in (_IRAF, _UNIX):
        match = pattern.match(text)
        if match:
            var, name = match.group("var"), match.group("name")
            break
    name_path = Path(name)
    if name_path.is_absolute():
        return ReferenceLookup(text, name_path, "") if name_path.is_file() else ReferenceLookup(
            text, None, f"{name_path} does not exist"
        )
    directories: list[tuple[str, Path]] = []
    if ref_dir is not None:
        directories.append(("the reference directory", Path(ref_dir)))
    if var is not None and os.environ.get(var):
        directories.append((f"${var}", Path(os.environ[var])))
    if not directories:
        hint = f"set ${var} or the reference directory" if var else "set the reference directory"
        return ReferenceLookup(text, None, f"no directory to look for {name} in ({hint})")
    for _label, directory in directories:
        candidate = directory.expanduser() / name_path
        if candidate.is_file():
            return ReferenceLookup(text, candidate.absolute(), "")
    where = ", ".join(f"{label} {d}" for label, d in directories)
    return ReferenceLookup(text, None, f"{name} not found in {where}")


def resolve_reference(value: str | None, ref_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The existing file a reference-file header value names, or ``None`` (with the reason logged)."""
    found = locate_reference(value, ref_dir)
    if found.path is None and found.reason and not found.reason.startswith("not applicable"):
        log.warning("reference file %s: %s", found.value, found.reason)
    return found.path


# --------------------------------------------------------------------------------------------- matching
def _norm(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, str | np.str_):
        return str(value).strip().upper()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def match_rows(
    columns: Mapping[str, Sequence[Any] | npt.NDArray[Any]], **criteria: Any
) -> npt.NDArray[np.intp]:
    """Indices of the rows whose every criterion matches (``ANY`` string cells match everything).

    ``columns`` maps upper-case column names to 1-D arrays; ``criteria`` uses lower- or upper-case names.
    A criterion whose value is ``None`` or whose column the table lacks is not applied.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    keep = np.ones(n, dtype=bool)
    for key, wanted in criteria.items():
        if wanted is None:
            continue
        column = columns.get(key.upper())
        if column is None:
            continue
        cells = [_norm(v) for v in np.asarray(column).tolist()]
        target = _norm(wanted)
        if isinstance(target, str):
            ok = np.array([c in (target, WILDCARD) for c in cells], dtype=bool)
        else:
            ok = np.array([isinstance(c, int | float) and c == target for c in cells], dtype=bool)
        keep &= ok
    return np.flatnonzero(keep)


def _memo(table: Any, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` remembered on the (frozen, cached) ``table`` per criteria ``key``."""
    memo: dict[tuple[Any, ...], Any] = table.__dict__.setdefault("_match_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _strings(values: npt.ArrayLike) -> npt.NDArray[np.str_]:
    return np.array([str(_norm(v)) for v in np.asarray(values).tolist()], dtype=str)


def _table(path: Path, what: str) -> tuple[Any, dict[str, Any]]:
    """Open a reference table and return (HDU 1 header copy, {UPPER name: native array}) of all columns."""
    with open_fits(path) as hdul:
        hdu = None
        for candidate in hdul[1:]:
            if is_table(candidate):
                hdu = candidate
                break
        if hdu is None:
            raise InputFileError(path, f"{what} has no table extension")
        cols = read_columns(path, hdu, list(column_names(hdu)))
        return hdu.header.copy(), cols


def _require(path: Path, cols: Mapping[str, Any], names: tuple[str, ...], what: str) -> None:
    missing = [n for n in names if n not in cols]
    if missing:
        raise InputFileError(path, f"{what} has no {', '.join(missing)} column(s)")


def _rows_of(array: npt.NDArray[Any], n: int) -> list[npt.NDArray[Any]]:
    """Row arrays of an array column (a 1-D column of scalars gives one-element rows)."""
    arr = np.asarray(array)
    if arr.ndim == 1:
        return [arr[i : i + 1] for i in range(n)]
    return [np.asarray(arr[i]) for i in range(n)]


# --------------------------------------------------------------------------------------------- COS FLUXTAB
@dataclass(frozen=True, eq=False)
class FluxRow:
    """One FLUXTAB row: the sensitivity curve of a configuration."""

    segment: str
    opt_elem: str
    cenwave: int
    aperture: str
    fpoffset: int | None
    wavelength: FloatArray = field(repr=False)
    sensitivity: FloatArray = field(repr=False)


@dataclass(frozen=True, eq=False)
class FluxTable:
    """A COS FLUXTAB (``*_phot.fits``). FPOFFSET, where present, is FPPOS − 3 in calcos."""

    path: Path
    rows: tuple[FluxRow, ...]

    def match(
        self,
        *,
        segment: str,
        opt_elem: str,
        cenwave: int,
        aperture: str,
        fpoffset: int | None = None,
    ) -> tuple[FluxRow, ...]:
        """Rows matching the configuration (``ANY`` wildcards; FPOFFSET only if given and present)."""
        return _memo(self, (segment, opt_elem, cenwave, aperture, fpoffset),
                     lambda: self._match(segment, opt_elem, cenwave, aperture, fpoffset))

    def _match(
        self, segment: str, opt_elem: str, cenwave: int, aperture: str, fpoffset: int | None
    ) -> tuple[FluxRow, ...]:
        cols: dict[str, Any] = {
            "SEGMENT": [r.segment for r in self.rows],
            "OPT_ELEM": [r.opt_elem for r in self.rows],
            "CENWAVE": [r.cenwave for r in self.rows],
            "APERTURE": [r.aperture for r in self.rows],
        }
        if any(r.fpoffset is not None for r in self.rows):
            cols["FPOFFSET"] = [r.fpoffset for r in self.rows]
        idx = match_rows(cols, segment=segment, opt_elem=opt_elem, cenwave=cenwave, aperture=aperture,
                         fpoffset=fpoffset)
        return tuple(self.rows[i] for i in idx)


@_cached
def read_fluxtab(path: Path) -> FluxTable:
    """Read a COS FLUXTAB: SEGMENT, OPT_ELEM, CENWAVE, APERTURE, [FPOFFSET], WAVELENGTH, SENSITIVITY."""
    p = Path(path)
    _header, cols = _table(p, "FLUXTAB")
    _require(p, cols, ("SEGMENT", "OPT_ELEM", "CENWAVE", "APERTURE", "WAVELENGTH", "SENSITIVITY"), "FLUXTAB")
    n = len(cols["SEGMENT"])
    waves = _rows_of(cols["WAVELENGTH"], n)
    sens = _rows_of(cols["SENSITIVITY"], n)
    fpoff = cols.get("FPOFFSET")
    rows = []
    for i in range(n):
        w = np.asarray(waves[i], dtype=np.float64).ravel()
        s = np.asarray(sens[i], dtype=np.float64).ravel()
        if "NELEM" in cols:
            k = int(cols["NELEM"][i])
            w, s = w[:k], s[:k]
        rows.append(
            FluxRow(
                segment=str(_norm(cols["SEGMENT"][i])),
                opt_elem=str(_norm(cols["OPT_ELEM"][i])),
                cenwave=int(cols["CENWAVE"][i]),
                aperture=str(_norm(cols["APERTURE"][i])),
                fpoffset=None if fpoff is None else int(fpoff[i]),
                wavelength=w,
                sensitivity=s,
            )
        )
    return FluxTable(path=p, rows=tuple(rows))


# --------------------------------------------------------------------------------------------- COS TDSTAB
@dataclass(frozen=True, eq=False)
class TdsRow:
    """One TDSTAB row, trimmed to its NWL wavelengths and NT times. SLOPE/INTERCEPT have shape (NT, NWL).

    ``slope`` is in percent per year; ``time`` in MJD; ``cenwave`` is ``None`` if the table has no CENWAVE.
    """

    opt_elem: str
    cenwave: int | None
    aperture: str
    segment: str
    wavelength: FloatArray = field(repr=False)
    time: FloatArray = field(repr=False)
    slope: FloatArray = field(repr=False)
    intercept: FloatArray = field(repr=False)
    pedigree: str = ""


@dataclass(frozen=True, eq=False)
class TdsTable:
    """A COS TDSTAB (``*_tds.fits``); ``ref_time`` (MJD) from the table header (0.0 and ``ref_time_missing``
    if absent, as calcos does)."""

    path: Path
    ref_time: float
    rows: tuple[TdsRow, ...]
    ref_time_missing: bool = False

    def match(
        self, *, opt_elem: str, aperture: str, segment: str, cenwave: int | None = None
    ) -> tuple[TdsRow, ...]:
        """Rows matching the configuration (``ANY`` wildcards; CENWAVE only if given and present)."""
        return _memo(self, (opt_elem, aperture, segment, cenwave),
                     lambda: self._match(opt_elem, aperture, segment, cenwave))

    def _match(self, opt_elem: str, aperture: str, segment: str, cenwave: int | None) -> tuple[TdsRow, ...]:
        cols: dict[str, Any] = {
            "OPT_ELEM": [r.opt_elem for r in self.rows],
            "APERTURE": [r.aperture for r in self.rows],
            "SEGMENT": [r.segment for r in self.rows],
        }
        if any(r.cenwave is not None for r in self.rows):
            cols["CENWAVE"] = [r.cenwave if r.cenwave is not None else -1 for r in self.rows]
        idx = match_rows(cols, opt_elem=opt_elem, aperture=aperture, segment=segment, cenwave=cenwave)
        return tuple(self.rows[i] for i in idx)


@_cached
def read_tdstab(path: Path) -> TdsTable:
    """Read a COS TDSTAB (FORMATS.md §5.2)."""
    p = Path(path)
    header, cols = _table(p, "TDSTAB")
    needed = ("OPT_ELEM", "APERTURE", "SEGMENT", "WAVELENGTH", "TIME", "SLOPE", "INTERCEPT")
    _require(p, cols, needed, "TDSTAB")
    n = len(cols["SEGMENT"])
    ref = header.get("REF_TIME")
    missing = ref is None
    if missing:
        log.warning("%s: no REF_TIME keyword in the table header; using 0 as calcos does", p.name)
    rows = []
    for i in range(n):
        wave_all = np.asarray(cols["WAVELENGTH"][i], dtype=np.float64).ravel()
        time_all = np.asarray(cols["TIME"][i], dtype=np.float64).ravel()
        nwl = int(cols["NWL"][i]) if "NWL" in cols else len(wave_all)
        nt = int(cols["NT"][i]) if "NT" in cols else len(time_all)
        if not (0 < nwl <= len(wave_all)) or not (0 < nt <= len(time_all)):
            raise InputFileError(p, f"TDSTAB row {i + 1}: NWL={nwl}/NT={nt} outside the array sizes")
        shape = (len(time_all), len(wave_all))
        slope = np.asarray(cols["SLOPE"][i], dtype=np.float64)
        intercept = np.asarray(cols["INTERCEPT"][i], dtype=np.float64)
        if slope.size != shape[0] * shape[1] or intercept.size != slope.size:
            raise InputFileError(
                p, f"TDSTAB row {i + 1}: SLOPE/INTERCEPT size does not match TIME x WAVELENGTH"
            )
        slope = slope.reshape(shape)[:nt, :nwl]
        intercept = intercept.reshape(shape)[:nt, :nwl]
        rows.append(
            TdsRow(
                opt_elem=str(_norm(cols["OPT_ELEM"][i])),
                cenwave=int(cols["CENWAVE"][i]) if "CENWAVE" in cols else None,
                aperture=str(_norm(cols["APERTURE"][i])),
                segment=str(_norm(cols["SEGMENT"][i])),
                wavelength=np.ascontiguousarray(wave_all[:nwl]),
                time=np.ascontiguousarray(time_all[:nt]),
                slope=np.ascontiguousarray(slope),
                intercept=np.ascontiguousarray(intercept),
                pedigree=str(_norm(cols["PEDIGREE"][i])) if "PEDIGREE" in cols else "",
            )
        )
    ref_time = 0.0 if missing else float(ref)
    return TdsTable(path=p, ref_time=ref_time, rows=tuple(rows), ref_time_missing=missing)


# --------------------------------------------------------------------------------------------- STIS PHOTTAB
@dataclass(frozen=True, eq=False)
class PhotRow:
    """One STIS PHOTTAB row: THROUGHPUT(λ) of a grating/cenwave/order (arrays trimmed to NELEM)."""

    opt_elem: str
    cenwave: int
    sporder: int
    wavelength: FloatArray = field(repr=False)
    throughput: FloatArray = field(repr=False)
    error: FloatArray | None = field(repr=False)


@dataclass(frozen=True, eq=False)
class PhotTable:
    """A STIS PHOTTAB (``*_pht.fits``)."""

    path: Path
    rows: tuple[PhotRow, ...]

    def match(self, *, opt_elem: str, cenwave: int, sporder: int | None = None) -> tuple[PhotRow, ...]:
        return _memo(self, (opt_elem, cenwave, sporder), lambda: self._match(opt_elem, cenwave, sporder))

    def _match(self, opt_elem: str, cenwave: int, sporder: int | None) -> tuple[PhotRow, ...]:
        cols: dict[str, Sequence[Any]] = {
            "OPT_ELEM": [r.opt_elem for r in self.rows],
            "CENWAVE": [r.cenwave for r in self.rows],
            "SPORDER": [r.sporder for r in self.rows],
        }
        idx = match_rows(cols, opt_elem=opt_elem, cenwave=cenwave, sporder=sporder)
        return tuple(self.rows[i] for i in idx)


@_cached
def read_phottab(path: Path) -> PhotTable:
    """Read a STIS PHOTTAB: OPT_ELEM, CENWAVE, SPORDER, NELEM, WAVELENGTH, THROUGHPUT (ERROR optional)."""
    p = Path(path)
    _header, cols = _table(p, "PHOTTAB")
    _require(p, cols, ("OPT_ELEM", "CENWAVE", "SPORDER", "WAVELENGTH", "THROUGHPUT"), "PHOTTAB")
    n = len(cols["OPT_ELEM"])
    waves = _rows_of(cols["WAVELENGTH"], n)
    thru = _rows_of(cols["THROUGHPUT"], n)
    errs = _rows_of(cols["ERROR"], n) if "ERROR" in cols else None
    rows = []
    for i in range(n):
        k = int(cols["NELEM"][i]) if "NELEM" in cols else len(np.ravel(waves[i]))
        rows.append(
            PhotRow(
                opt_elem=str(_norm(cols["OPT_ELEM"][i])),
                cenwave=int(cols["CENWAVE"][i]),
                sporder=int(cols["SPORDER"][i]),
                wavelength=np.asarray(waves[i], dtype=np.float64).ravel()[:k],
                throughput=np.asarray(thru[i], dtype=np.float64).ravel()[:k],
                error=None if errs is None else np.asarray(errs[i], dtype=np.float64).ravel()[:k],
            )
        )
    return PhotTable(path=p, rows=tuple(rows))


# --------------------------------------------------------------------------------------------- STIS BPIXTAB
@dataclass(frozen=True, eq=False)
class BpixTable:
    """A STIS BPIXTAB: 1-indexed low-res start pixels PIX1/PIX2, LENGTH, AXIS (1 = X, 2 = Y), VALUE,
    OPT_ELEM per row (empty if the table has no such column); ``shape`` = (SIZAXIS2, SIZAXIS1)."""

    path: Path
    pix1: npt.NDArray[np.int64]
    pix2: npt.NDArray[np.int64]
    length: npt.NDArray[np.int64]
    axis: npt.NDArray[np.int64]
    value: npt.NDArray[np.int64]
    opt_elem: npt.NDArray[np.str_]
    shape: tuple[int, int] = (1024, 1024)

    def for_opt_elem(self, opt_elem: str) -> BpixTable:
        """Only the rows that apply to ``opt_elem`` (calstis dodqi; ``ANY`` or blank rows apply to all)."""
        wanted = opt_elem.strip().upper()
        keep = (self.opt_elem == wanted) | (self.opt_elem == WILDCARD) | (self.opt_elem == "")
        return BpixTable(
            path=self.path, pix1=self.pix1[keep], pix2=self.pix2[keep], length=self.length[keep],
            axis=self.axis[keep], value=self.value[keep], opt_elem=self.opt_elem[keep], shape=self.shape,
        )


@_cached
def read_bpixtab(path: Path) -> BpixTable:
    """Read a STIS BPIXTAB (FORMATS.md §5.4)."""
    p = Path(path)
    header, cols = _table(p, "BPIXTAB")
    _require(p, cols, ("PIX1", "PIX2", "LENGTH", "AXIS", "VALUE"), "BPIXTAB")
    n = len(cols["PIX1"])
    shape = (int(header.get("SIZAXIS2", 1024)), int(header.get("SIZAXIS1", 1024)))
    return BpixTable(
        path=p,
        pix1=cols["PIX1"].astype(np.int64),
        pix2=cols["PIX2"].astype(np.int64),
        length=cols["LENGTH"].astype(np.int64),
        axis=cols["AXIS"].astype(np.int64),
        value=cols["VALUE"].astype(np.int64),
        opt_elem=_strings(cols["OPT_ELEM"]) if "OPT_ELEM" in cols else np.full(n, "", dtype=str),
        shape=shape,
    )


# --------------------------------------------------------------------------------------------- STIS flats
@_cached
def read_flat(path: Path) -> FloatArray:
    """The SCI image (EXTVER 1) of a STIS P-flat or L-flat as a float64 array."""
    p = Path(path)
    with open_fits(p) as hdul:
        sci = find_hdu(hdul, "SCI")
        if sci is None:
            image_hdus = [h for h in hdul if getattr(h, "is_image", False) and h.data is not None]
            if not image_hdus:
                raise InputFileError(p, "flat field has no SCI image")
            sci = image_hdus[0]
        if sci.data is None or np.ndim(sci.data) != 2:
            raise InputFileError(p, "flat field SCI extension is not a 2-D image")
        return native(sci.data, np.float64)


__all__ = [
    "BpixTable",
    "FluxRow",
    "FluxTable",
    "PhotRow",
    "PhotTable",
    "ReferenceLookup",
    "TdsRow",
    "TdsTable",
    "locate_reference",
    "match_rows",
    "read_bpixtab",
    "read_flat",
    "read_fluxtab",
    "read_phottab",
    "read_tdstab",
    "resolve_reference",
]
