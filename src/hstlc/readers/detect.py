"""Which product is this file? Decided from its headers and columns, not only from its name.

Rules (FORMATS.md §1–§4):

- an ``EVENTS`` table with TIME/XCORR/YCORR/EPSILON and INSTRUME ``COS`` (or no INSTRUME but the COS
  column set) → COS corrtag, FUV or NUV from DETECTOR (else SEGMENT ``FUVA``/``FUVB``, else the name);
- an ``EVENTS`` table with TIME/AXIS1/AXIS2 → STIS ``_tag``;
- an ``EVENTS`` table with INSTRUME ``STIS`` and XCORR/YCORR/EPSILON → the synthetic STIS corrtag (§3.4);
- a ``SCI`` table with a WAVELENGTH column → x1d of COS or STIS (INSTRUME, else SPORDER ⇒ STIS);
- an ``EVENTS`` table with TIME/RAWX/RAWY and none of XCORR/YCORR/EPSILON (a COS ``_rawtag``, FORMATS.md
  §9), or a file named ``_rawtag[_a|_b]`` without the calibrated columns → refused as an uncalibrated
  rawtag (run calcos or download the corrtag), not as "no EPSILON, XCORR, YCORR column".

File names may end in ``.fits``, ``.fits.gz`` or ``.fits.bz2`` (:func:`~hstlc.readers.files.product_kind`).

Anything else raises :class:`~hstlc.errors.UnsupportedProductError` (or :class:`InputFileError` when the
file is not readable FITS at all).
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

from astropy.io import fits

from hstlc.errors import UnsupportedProductError
from hstlc.readers.files import RAWTAG_PROBLEM, is_rawtag_name, product_kind
from hstlc.readers.hdus import column_names, find_hdu, header_value, is_table, open_fits


class ProductKind(str, Enum):
    """The products hstlc reads."""

    COS_FUV_CORRTAG = "cos_fuv_corrtag"
    COS_NUV_CORRTAG = "cos_nuv_corrtag"
    STIS_TAG = "stis_tag"
    STIS_CORRTAG = "stis_corrtag"
    COS_X1D = "cos_x1d"
    STIS_X1D = "stis_x1d"

    @property
    def is_events(self) -> bool:
        return self not in (ProductKind.COS_X1D, ProductKind.STIS_X1D)

    @property
    def instrument(self) -> str:
        return "STIS" if self.name.startswith("STIS") else "COS"


COS_EVENT_COLUMNS = frozenset({"TIME", "XCORR", "YCORR", "EPSILON"})
STIS_TAG_COLUMNS = frozenset({"TIME", "AXIS1", "AXIS2"})
#: A COS rawtag has these (and PHA) but none of the calibrated COS columns.
RAWTAG_COLUMNS = frozenset({"TIME", "RAWX", "RAWY"})
CALIBRATED_COLUMNS = frozenset({"XCORR", "YCORR", "EPSILON"})


def _hint(name: str) -> str:
    lowered = name.lower()
    if "_corrtag" in lowered:
        return " (is this a COS corrtag?)"
    if product_kind(name) == "tag":
        return " (is this a STIS TIME-TAG file?)"
    return ""


def _is_rawtag(path: Path, cols: set[str], primary: fits.Header) -> bool:
    """A COS uncalibrated event list: raw columns only, or a rawtag name (or FILETYPE) without the
    calibrated columns."""
    if cols & CALIBRATED_COLUMNS:
        return False
    if cols >= RAWTAG_COLUMNS:
        return True
    filetype = str(primary.get("FILETYPE", "")).upper()
    return is_rawtag_name(path.name) or ("UNCALIBRATED" in filetype and "TIME-TAG" in filetype)


def classify(path: Path, hdul: fits.HDUList) -> ProductKind:
    """Decide the product kind of an open file (see the module docstring)."""
    primary = hdul[0].header
    instrume = str(primary.get("INSTRUME", "")).strip().upper()
    events = find_hdu(hdul, "EVENTS")
    if events is not None:
        if not is_table(events):
            raise UnsupportedProductError(path, "EVENTS extension is not a binary table")
        cols = set(column_names(events))
        if "TIME" not in cols:
            raise UnsupportedProductError(path, f"EVENTS extension has no TIME column{_hint(path.name)}")
        if cols >= STIS_TAG_COLUMNS and "XCORR" not in cols:
            return ProductKind.STIS_TAG
        if cols >= COS_EVENT_COLUMNS:
            if instrume == "STIS":
                return ProductKind.STIS_CORRTAG
            if instrume not in ("", "COS"):
                raise UnsupportedProductError(path, f"EVENTS table of unsupported instrument {instrume!r}")
            detector = str(header_value([primary, events.header], "DETECTOR", "")).upper()
            segment = str(header_value([primary, events.header], "SEGMENT", "")).upper()
            if detector == "NUV" or segment.startswith("NUV"):
                return ProductKind.COS_NUV_CORRTAG
            if detector == "FUV" or segment in ("FUVA", "FUVB"):
                return ProductKind.COS_FUV_CORRTAG
            if product_kind(path.name) in ("corrtag_a", "corrtag_b"):
                return ProductKind.COS_FUV_CORRTAG
            raise UnsupportedProductError(path, "COS corrtag without DETECTOR keyword (FUV or NUV?)")
        if instrume in ("", "COS") and _is_rawtag(path, cols, primary):
            raise UnsupportedProductError(path, RAWTAG_PROBLEM)
        missing = sorted((STIS_TAG_COLUMNS if instrume == "STIS" else COS_EVENT_COLUMNS) - cols)
        raise UnsupportedProductError(
            path, f"EVENTS extension has no {', '.join(missing)} column(s){_hint(path.name)}"
        )
    sci = find_hdu(hdul, "SCI")
    if sci is not None and is_table(sci) and "WAVELENGTH" in column_names(sci):
        cols = set(column_names(sci))
        if instrume == "STIS" or (not instrume and "SPORDER" in cols):
            return ProductKind.STIS_X1D
        if instrume in ("COS", ""):
            return ProductKind.COS_X1D
        raise UnsupportedProductError(path, f"x1d of unsupported instrument {instrume!r}")
    lowered = path.name.lower()
    if "_corrtag" in lowered or product_kind(path.name) == "tag":
        raise UnsupportedProductError(path, f"no EVENTS extension{_hint(path.name)}")
    raise UnsupportedProductError(
        path, "not a COS/STIS event list or x1d (no EVENTS table and no SCI spectrum table)"
    )


def detect_product(path: str | os.PathLike[str]) -> ProductKind:
    """The :class:`ProductKind` of the file at ``path`` (reads headers only)."""
    p = Path(path)
    with open_fits(p) as hdul:
        return classify(p, hdul)


__all__ = ["ProductKind", "classify", "detect_product"]
