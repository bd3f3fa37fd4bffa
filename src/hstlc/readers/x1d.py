"""x1d spectra (FORMATS.md §4): COS (one row per segment/stripe) and STIS (one row per spectral order).

:func:`read_x1d` reads **every** ``SCI`` table of the file (upper-case column names, arrays trimmed to
NELEM); :func:`choose_extension` picks the one an event file's extraction uses and says why;
:func:`stis_orders` turns a STIS x1d into the extraction geometry the STIS event reader puts in
``Dataset.extras["orders"]``.

Facts of real archive files (FORMATS.md §9) this reader is built for:

- **Several SCI extensions.** A STIS x1d has one ``SCI`` table per input imset (e.g. one per readout of a
  repeated exposure), each with its own header (EXPSTART, EXPTIME, SHIFTA1/2, SDQFLAGS …) and its own
  extraction (A2CENTER, WAVELENGTH). They are all read. For an event file the extraction regions and
  wavelengths come from *one* of them, never a mixture: the SCI whose [EXPSTART, EXPSTART + EXPTIME]
  overlaps the events' exposure most, the first (lowest EXTVER, then file order) on a tie or when the
  headers carry no times. Each readout's geometry is self-consistent (its own wavecal shift); an average
  would be a geometry no readout had. The choice, and how far the others' A2CENTER and wavelengths lie
  from it, is stated (:class:`X1DChoice`, then the calibration notes of the product).
- **Column sets differ between pipeline versions.** A calcos 3.3.4 COS x1d has no ``ERROR_LOWER`` and
  no ``VARIANCE_FLAT/_COUNTS/_BKG`` columns (its SCI header carries LIVETM_x, CHI_SQ_x, NDF_x, NGOODPIX,
  GOODMEAN, GOODMAX instead); only WAVELENGTH is required here, every other column is optional.
- **STIS keywords.** EXPSTART, EXPTIME, EXPFLAG, SDQFLAGS (typically 31743), SHIFTA1/2 and
  TEXPSTRT/TEXPEND/TEXPTIME sit in the SCI header; the primary names PHOTTAB, APERTAB, PCTAB and TDSTAB
  (there is no FLUXTAB). :attr:`X1DSpectrum.primary` exposes them for the STIS reader's reference look-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from hstlc.domain import finite_float
from hstlc.errors import InputFileError
from hstlc.readers.hdus import column_names, find_hdus, header_dict, is_table, open_fits, read_columns

#: Per-order keys of ``Dataset.extras["orders"]`` (values from the x1d; geometry in low-res 1-indexed pixels).
ORDER_KEYS = ("sporder", "a2center", "extrsize", "bk1size", "bk2size", "bk1offst", "bk2offst", "wavelength")

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True, eq=False)
class X1DExtension:
    """One ``SCI`` table: its EXTVER, its rows (upper-case column name → value/array) and its header."""

    extver: int
    rows: tuple[dict[str, Any], ...]
    header: dict[str, Any]

    def span(self) -> tuple[float, float] | None:
        """(start, stop) MJD of this table's exposure from its header: EXPSTART to EXPEND, or to
        EXPSTART + EXPTIME without EXPEND (TEXPSTRT/TEXPEND/TEXPTIME, the whole exposure's, if the
        readout's own are missing); ``None`` without usable times."""
        h = self.header
        start = finite_float(h.get("EXPSTART", h.get("TEXPSTRT")))
        if start is None:
            return None
        stop = finite_float(h.get("EXPEND", h.get("TEXPEND")))
        if stop is None:
            exptime = finite_float(h.get("EXPTIME", h.get("TEXPTIME")))
            stop = None if exptime is None else start + exptime / SECONDS_PER_DAY
        if stop is None or stop < start:
            return None
        return start, stop


@dataclass(frozen=True, eq=False)
class X1DSpectrum:
    """An x1d file. ``rows``/``sci`` are those of the SCI table in use (the first unless
    :func:`choose_extension` picked another); ``extensions`` holds every SCI table in file order and
    ``index`` which one ``rows`` came from."""

    path: Path
    instrume: str
    rows: tuple[dict[str, Any], ...]
    primary: dict[str, Any]
    sci: dict[str, Any]
    extensions: tuple[X1DExtension, ...] = ()
    index: int = 0


@dataclass(frozen=True)
class X1DChoice:
    """Which SCI table an extraction uses and why; ``note`` is ``""`` for a file with one SCI table."""

    spectrum: X1DSpectrum
    extver: int
    reason: str
    note: str


def _rows(cols: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    n = len(cols["WAVELENGTH"])
    rows: list[dict[str, Any]] = []
    for i in range(n):
        nelem = int(cols["NELEM"][i]) if "NELEM" in cols else None
        row: dict[str, Any] = {}
        for name, values in cols.items():
            value = values[i]
            if np.ndim(value) >= 1:
                arr = np.asarray(value)
                row[name] = np.ascontiguousarray(arr[:nelem] if nelem is not None else arr)
            elif isinstance(value, bytes | np.bytes_):
                row[name] = value.decode("ascii", "replace").strip()
            elif isinstance(value, str | np.str_):
                row[name] = str(value).strip()
            else:
                row[name] = value.item() if hasattr(value, "item") else value
        rows.append(row)
    return tuple(rows)


def read_x1d(path: str | os.PathLike[str]) -> X1DSpectrum:
    """Read every ``SCI`` table of an x1d file (``rows``/``sci`` = the first one)."""
    p = Path(path)
    extensions: list[X1DExtension] = []
    with open_fits(p) as hdul:
        tables = find_hdus(hdul, "SCI")
        if not tables or not any(is_table(h) for h in tables):
            raise InputFileError(p, "x1d file has no SCI table")
        for number, sci in enumerate(tables, start=1):
            where = f"SCI table {number} of {len(tables)}" if len(tables) > 1 else "SCI table"
            if not is_table(sci):
                raise InputFileError(p, f"x1d {where} is not a binary table")
            names = list(column_names(sci))
            if "WAVELENGTH" not in names:
                raise InputFileError(p, f"x1d {where} has no WAVELENGTH column")
            cols = read_columns(p, sci, names)
            try:
                extver = int(sci.header.get("EXTVER", number))
            except (TypeError, ValueError):
                extver = number
            extensions.append(X1DExtension(extver, _rows(cols), header_dict(sci.header)))
        primary = header_dict(hdul[0].header)
    first = extensions[0]
    return X1DSpectrum(
        path=p,
        instrume=str(primary.get("INSTRUME", "")).upper(),
        rows=first.rows,
        primary=primary,
        sci=first.header,
        extensions=tuple(extensions),
        index=0,
    )


def _spread(chosen: X1DExtension, others: list[X1DExtension]) -> str:
    """How far the other tables' A2CENTER (low-res px) and WAVELENGTH (Å) lie from the chosen one's."""
    da = dw = 0.0
    for ext in others:
        for mine, theirs in zip(chosen.rows, ext.rows, strict=False):
            a, b = finite_float(mine.get("A2CENTER")), finite_float(theirs.get("A2CENTER"))
            if a is not None and b is not None:
                da = max(da, abs(a - b))
            wa, wb = np.asarray(mine["WAVELENGTH"], float), np.asarray(theirs["WAVELENGTH"], float)
            k = min(len(wa), len(wb))
            if k:
                dw = max(dw, float(np.max(np.abs(wa[:k] - wb[:k]))))
    parts = [f"{dw:.3g} Å in WAVELENGTH"]
    if any(finite_float(r.get("A2CENTER")) is not None for r in chosen.rows):
        parts.insert(0, f"{da:.3g} px in A2CENTER")
    return "the others differ from it by up to " + " and ".join(parts)


def choose_extension(
    spectrum: X1DSpectrum, *, expstart: float | None = None, expend: float | None = None
) -> X1DChoice:
    """The SCI table whose exposure overlaps [expstart, expend] (MJD) the most; the first on a tie or
    without times. Returns the spectrum with ``rows``/``sci`` set to that table, and a note for the
    product header when the file holds more than one SCI table."""
    exts = list(spectrum.extensions) or [X1DExtension(1, spectrum.rows, spectrum.sci)]
    if len(exts) == 1:
        return X1DChoice(spectrum, exts[0].extver, "the only SCI table", "")
    best, reason = 0, "the first"
    if expstart is not None and expend is not None and expend > expstart:
        overlaps = []
        for ext in exts:
            span = ext.span()
            overlaps.append(-1.0 if span is None else max(0.0, min(span[1], expend) - max(span[0], expstart)))
        top = max(overlaps)
        if top > 0:
            winners = [i for i, o in enumerate(overlaps) if o >= top - 1e-9]  # (days) ties within 0.1 ms
            best = winners[0]
            reason = (
                f"the first of {len(winners)} overlapping the events' exposure equally"
                if len(winners) > 1
                else "the one overlapping the events' exposure most"
            )
    chosen = exts[best]
    others = [e for i, e in enumerate(exts) if i != best]
    note = (
        f"{spectrum.path.name}: {len(exts)} SCI tables (one per readout/imset); extraction regions and "
        f"wavelengths from SCI EXTVER {chosen.extver}, {reason}; {_spread(chosen, others)}"
    )
    picked = replace(spectrum, rows=chosen.rows, sci=chosen.header, index=exts.index(chosen))
    return X1DChoice(picked, chosen.extver, reason, note)


def stis_orders(spectrum: X1DSpectrum) -> tuple[dict[str, Any], ...]:
    """Per-order extraction geometry of a STIS x1d (its ``rows``) by SPORDER (keys: :data:`ORDER_KEYS`).

    ``a2center``, ``extrsize``, ``bk1size``, ``bk2size``, ``bk1offst``, ``bk2offst`` are floats in the
    x1d's low-res, 1-indexed image pixels (``None`` where the column is absent); ``wavelength`` is the
    float64 WAVELENGTH array (NELEM long, indexed by low-res column 0…NELEM−1).
    """
    orders = []
    for row in spectrum.rows:
        entry: dict[str, Any] = {
            "sporder": int(row.get("SPORDER", 1)),
            "wavelength": np.asarray(row["WAVELENGTH"], dtype=np.float64),
        }
        for key in ORDER_KEYS[1:-1]:
            value = row.get(key.upper())
            entry[key] = None if value is None else float(value)
        orders.append(entry)
    return tuple(sorted(orders, key=lambda o: o["sporder"]))


__all__ = [
    "ORDER_KEYS",
    "X1DChoice",
    "X1DExtension",
    "X1DSpectrum",
    "choose_extension",
    "read_x1d",
    "stis_orders",
]
