"""x1d spectra (FORMATS.md §4): COS (one row per segment/stripe) and STIS (one row per spectral order).

:func:`read_x1d` returns every row of the first ``SCI`` table with its scalar and array columns (upper-case
names, arrays trimmed to NELEM). :func:`stis_orders` turns a STIS x1d into the extraction geometry the
STIS event reader puts in ``Dataset.extras["orders"]``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hstlc.errors import InputFileError
from hstlc.readers.hdus import column_names, find_hdu, header_dict, is_table, open_fits, read_columns

#: Per-order keys of ``Dataset.extras["orders"]`` (values from the x1d; geometry in low-res 1-indexed pixels).
ORDER_KEYS = ("sporder", "a2center", "extrsize", "bk1size", "bk2size", "bk1offst", "bk2offst", "wavelength")


@dataclass(frozen=True, eq=False)
class X1DSpectrum:
    """The rows of an x1d ``SCI`` table: ``rows[i]`` maps upper-case column names to values/arrays."""

    path: Path
    instrume: str
    rows: tuple[dict[str, Any], ...]
    primary: dict[str, Any]
    sci: dict[str, Any]


def read_x1d(path: str | os.PathLike[str]) -> X1DSpectrum:
    """Read the first ``SCI`` table of an x1d file."""
    p = Path(path)
    with open_fits(p) as hdul:
        sci = find_hdu(hdul, "SCI")
        if sci is None or not is_table(sci):
            raise InputFileError(p, "x1d file has no SCI table")
        names = list(column_names(sci))
        if "WAVELENGTH" not in names:
            raise InputFileError(p, "x1d SCI table has no WAVELENGTH column")
        cols = read_columns(p, sci, names)
        primary = header_dict(hdul[0].header)
        sci_header = header_dict(sci.header)
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
    return X1DSpectrum(
        path=p,
        instrume=str(primary.get("INSTRUME", "")).upper(),
        rows=tuple(rows),
        primary=primary,
        sci=sci_header,
    )


def stis_orders(spectrum: X1DSpectrum) -> tuple[dict[str, Any], ...]:
    """Per-order extraction geometry of a STIS x1d, sorted by SPORDER (keys: :data:`ORDER_KEYS`).

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


__all__ = ["ORDER_KEYS", "X1DSpectrum", "read_x1d", "stis_orders"]
