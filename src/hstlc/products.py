"""Lightcurve product files: domain ``LightCurve`` ⇄ FITS (MAST HLSP time-series conventions).

File layout written by :func:`write_lightcurve`
------------------------------------------------
* **PRIMARY** (no data) — what the product *is* and where it came from:
  identity keywords of the source (TELESCOP, INSTRUME, DETECTOR, TARGNAME, RA_TARG, DEC_TARG, OPT_ELEM,
  CENWAVE, APERTURE, PROPOSID, ROOTNAME, EXPSTART, EXPEND), EXPTIME (the summed exposure Σ BINS, written
  by the writer), FILTER (= OPT_ELEM) and, for
  composites, ``MULTI`` plus INSTRUnn/DETECTnn/FILTERnn for every member, calibration state (FLUXCAL,
  FLUXNOTE), source files (SRCFILEn), provenance (HSTLCVER, NUMPYVER, ASTROVER, DATE, FILETYPE), the MAST
  HLSP keywords (HLSPNAME, HLSPACRN, HLSPID, HLSPLEAD, HLSPVER, HLSPTARG, LICENSE, LICENURL, OBSERVAT,
  RADESYS) and the time-range keywords (TIMESYS, DATE-OBS, DATE-BEG, DATE-END, MJD-BEG, MJD-END, TSTART,
  TSTOP, TELAPSE, XPOSURE, MJDREF …).
* **LIGHTCURVE** (binary table) — the columns of ``PRODUCT_COLUMNS``: ``time`` (ISO-8601 UTC strings of
  the bin starts, the column astropy's ``TimeSeries.read(path)`` and lightkurve take as the time axis —
  it must be named exactly ``time``), then ``LIGHTCURVE_COLUMNS`` upper-cased with NET_ERROR (= ERROR /
  BINS, the error of NET) after NET, float64 ``D`` except DATASET ``J``, with TUNITs astropy parses;
  ``time`` and TIMES are FITS time columns (TCTYPn = 'UTC', TIMES with TCUNIn = 's', relative to
  MJDREF). The unit of FLUX, FLUX_ERROR and BUNIT follows FLUXCAL: erg/s/cm²/Å when calibrated (or when
  FLUXCAL is absent, as in the original products), ct/s/pixel when ``FLUXCAL = 'UNCALIBRATED'`` (unity
  sensitivity: FLUX = NET / NPIXEL). The header carries the keywords MAST's light-curve
  metadata asks for in the extension (RA_TARG, DEC_TARG, RADESYS, FILTER, APERTURE, DETECTOR), FLUXCAL and
  FLUXNOTE (they give BUNIT its meaning), the full
  FITS time block that gives the TIMES column its meaning (TIMESYS, TIMEREF, TREFPOS, TIMEUNIT, MJDREF,
  TSTART, TSTOP, TIMEPIXR, TIMEDEL, TELAPSE, XPOSURE, DATE-OBS/BEG/END, MJD-BEG/END), the extraction
  parameters (STEPSIZE, WMIN, WMAX, XMIN, XMAX, YMIN_x/YMAX_x, AIRGLOW, MAXSUNAL) and every other meta
  keyword the writer does not know (extraction notes).

Rules for ``LightCurve.meta``
-----------------------------
* Keys are upper-cased. Keys of up to 8 characters ``[A-Z0-9_-]`` become ordinary cards; longer keys of
  those characters (and ``.``), up to 60 characters, become HIERARCH cards; any other key is dropped with
  a logged warning. Structural keywords (SIMPLE, NAXISn, TTYPEn, TCTYPn, EXTNAME, CHECKSUM …) are ignored.
* A value may be ``(value, comment)``. Strings are made FITS-safe (non-ASCII letters lose their accents,
  other non-printable characters become ``?`` or a space, at most 1000 characters — long strings use
  CONTINUE cards); NaN/inf and ``None`` values are dropped; numpy scalars become Python scalars.
* A list/tuple value holds one entry per composite member (DATASET order): the keyword gets the common
  value, or ``MULTI`` if members differ, and each member gets a numbered keyword — ``FILTERnn`` for
  OPT_ELEM, ``INSTRUnn`` for INSTRUME, ``DETECTnn`` for DETECTOR, otherwise the key's first 6 characters
  (5 from member 100 on) plus the number. COMMENT/HISTORY values (a string or a list) are added as such.
* RADESYS defaults to ``ICRS`` (HST's RA_TARG/DEC_TARG are ICRS); with ICRS no EQUINOX is written
  anywhere (MAST: never EQUINOX together with RADESYS='ICRS'); with another RADESYS (e.g. FK5 in meta),
  EQUINOX is kept next to it.
* The writer's own computed keywords (time block, EXPTIME, provenance) win over meta; HLSP keywords in
  meta win over the writer's defaults, so a caller can set e.g. HLSPLEAD.

Times: MJDREF is the first EXPSTART (meta EXPSTART, else derived from the first row as MJD − TIMES/86400),
TIMES are seconds relative to it (bin starts, TIMEPIXR = 0), UTC as recorded at HST: **not barycentred**
(TIMEREF = 'LOCAL', TREFPOS = 'TOPOCENTER', the spacecraft; a COMMENT card says so in both headers).
TSTART is the first bin start; TSTOP the end of the last bin's good time, its start + BINS (the grid ends
at the last GTI stop, so a partial last bin ends there), never taken from EXPEND — calcos does not update
EXPEND after trimming the GTIs (FORMATS.md §9); TELAPSE = TSTOP − TSTART, XPOSURE = EXPTIME = Σ BINS
(≤ TELAPSE for bins that do not overlap).

Reading: :func:`read_lightcurve` gives the domain ``LightCurve`` (NET_ERROR is not a domain column: it is
``net_error(lc.error, lc.bins)`` exactly, and is re-derived identically on every write);
:func:`read_timeseries` gives an astropy ``TimeSeries`` with units (NET_ERROR read from the file, or
computed for products written before it existed); :func:`to_lightkurve` gives a lightkurve
``LightCurve`` (optional extra ``hstlc[lightkurve]``).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import unicodedata
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import astropy
import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning

from hstlc.domain import LIGHTCURVE_COLUMNS, SECONDS_PER_DAY, LightCurve
from hstlc.errors import FilingError, InputFileError
from hstlc.filing import open_new, sha256_of, write_atomically
from hstlc.safe_paths import safe_component

if TYPE_CHECKING:
    from astropy.timeseries import TimeSeries

logger = logging.getLogger(__name__)

EXTNAME = "LIGHTCURVE"

FLUX_UNIT = u.erg / u.s / u.cm**2 / u.AA
UNCALIBRATED_FLUX_UNIT = u.ct / u.s / u.pix
"""Unit of FLUX when ``FLUXCAL = 'UNCALIBRATED'``: unity sensitivity makes FLUX counts/s per spectral
column (NET / NPIXEL), as FLUXNOTE says."""
NET_ERROR = "net_error"
TIME_COLUMN = "time"
"""The ISO-8601 time column: astropy's ``TimeSeries`` (and lightkurve) need a column named exactly so."""
_ISO_WIDTH = 26  # YYYY-MM-DDThh:mm:ss.ssssss
_MJD_YEAR_1, _MJD_YEAR_10000 = -678575.0, 2973484.0  # the MJDs a four-digit ISO year can write
COLUMN_UNITS: dict[str, u.UnitBase | None] = {
    "times": u.s,
    "mjd": u.d,
    "bins": u.s,
    "gross": u.count,
    "background": u.count,
    "counts": u.count,
    "net": u.count / u.s,
    "net_error": u.count / u.s,
    "error": u.count,
    "flux": FLUX_UNIT,
    "flux_error": FLUX_UNIT,
    "signal_to_noise": None,
    "dataset": None,
}
"""Unit of each product column (``None``: dimensionless, no TUNIT); FLUX/FLUX_ERROR: see :func:`flux_unit`."""

_AFTER_NET = LIGHTCURVE_COLUMNS.index("net") + 1
PRODUCT_COLUMNS: tuple[str, ...] = (
    TIME_COLUMN,
    *LIGHTCURVE_COLUMNS[:_AFTER_NET],
    NET_ERROR,
    *LIGHTCURVE_COLUMNS[_AFTER_NET:],
)
"""Column order of a written product (FITS names: ``time`` as is, the others upper case)."""

HLSP_DEFAULTS: dict[str, tuple[str, str]] = {
    "HLSPNAME": ("The Lightcurve Legacy of COS and STIS", "HLSP title"),
    "HLSPACRN": ("HSTLC", "HLSP acronym"),
    "HLSPID": ("HSTLC", "HLSP identifier (as in the file names)"),
    "HLSPLEAD": ("hstlc developers", "HLSP lead"),
    "HLSPVER": ("V1", "HLSP data release version"),
    "LICENSE": ("CC BY 4.0", "license of the data"),
    "LICENURL": ("https://creativecommons.org/licenses/by/4.0/", "license URL"),
    "OBSERVAT": ("HST", "observatory"),
    "TELESCOP": ("HST", "telescope"),
}

IDENTITY_KEYS = (
    "TELESCOP", "INSTRUME", "DETECTOR", "TARGNAME", "RA_TARG", "DEC_TARG", "EQUINOX", "OPT_ELEM",
    "CENWAVE", "APERTURE", "PROPOSID", "ROOTNAME", "EXPSTART", "EXPEND", "EXPTIME",
)  # fmt: skip
"""Source identity keywords; they go to the primary header."""

_PRIMARY_KEYS = frozenset(IDENTITY_KEYS) | frozenset(HLSP_DEFAULTS) | {
    "FILTER", "HLSPTARG", "DOI", "FLUXCAL", "FLUXNOTE", "TARDESCR", "TARDESC2", "CAL_VER",
    "HSTLCVER", "NUMPYVER", "ASTROVER", "DATE", "FILETYPE", "RADESYS", "PR_INV_L", "PR_INV_F", "PR_INV_M",
}  # fmt: skip
_MEMBER_PREFIX = {"OPT_ELEM": "FILTER", "INSTRUME": "INSTRU", "DETECTOR": "DETECT"}
_PRIMARY_PATTERNS = (
    re.compile(r"SRCFILE\d+"),
    *(
        re.compile(rf"{re.escape(prefix[:6])}\d{{2}}|{re.escape(prefix[:5])}\d{{3}}")
        for prefix in {_MEMBER_PREFIX.get(k, k) for k in IDENTITY_KEYS} | {"FILTER"}
    ),
)
_EXTENSION_COPIES = (
    "RA_TARG", "DEC_TARG", "RADESYS", "EQUINOX", "FILTER", "APERTURE", "DETECTOR", "FLUXCAL", "FLUXNOTE",
)  # fmt: skip
"""Keywords MAST's light-curve metadata wants in the extension header too (and FLUXCAL/FLUXNOTE, which
say what BUNIT means, so a reader of the table HDU alone — ``TimeSeries.read`` — knows it)."""
_NOT_BARYCENTRED = "Times are UTC at the spacecraft (HST): not barycentred."

_TIME_KEYS = (
    "TIMESYS", "TIMEREF", "TREFPOS", "TIMEUNIT", "MJDREF", "TSTART", "TSTOP", "TIMEPIXR", "TIMEDEL",
    "TELAPSE", "XPOSURE", "DATE-OBS", "DATE-BEG", "DATE-END", "MJD-BEG", "MJD-END",
)  # fmt: skip
_STRUCTURAL = re.compile(
    r"(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|TFIELDS|EXTNAME|EXTVER|EXTLEVEL|END|"
    r"CHECKSUM|DATASUM|BSCALE|BZERO|BLANK|THEAP|"
    r"T(TYPE|FORM|UNIT|NULL|SCAL|ZERO|DISP|DIM|BCOL|CTYP|CUNI|CRPX|CRVL|CDLT|RPOS)\d+)"
)
_STANDARD_KEY = re.compile(r"[A-Z0-9_-]{1,8}")
_HIERARCH_KEY = re.compile(r"[A-Z0-9_-][A-Z0-9_.-]{8,59}")
_MAX_STRING = 1000

_NUMERIC_DTYPE = np.float64
_DATASET_DTYPE = np.int32
_NUMERIC_COLUMNS = tuple(c for c in LIGHTCURVE_COLUMNS if c != "dataset")


# --------------------------------------------------------------------------------------------- names


def individual_filename(rootname: str) -> str:
    """``<rootname>_curve.fits`` with the rootname lower-cased and sanitised."""
    return f"{safe_component(str(rootname).lower()).lower()}_curve.fits"


def composite_filename(
    instrume: str, detector: str, targname: str, opt_elem: str, cenwave: int | str, aperture: str
) -> str:
    """``hlsp_hstlc_hst_<instrume>-<detector>_<targname>_<opt_elem>_<cenwave>_<aperture>_v1_sci.fits``.

    Lower case; each component sanitised on its own (so ``52X0.2`` keeps its dot but no value can form a
    path) and bounded so the whole name stays well under 255 characters.
    """

    def part(value: object, max_length: int) -> str:
        return safe_component(str(value).strip().lower(), max_length=max_length).lower()

    name = "_".join(
        [
            "hlsp_hstlc_hst",
            f"{part(instrume, 16)}-{part(detector, 16)}",
            part(targname, 64),
            part(opt_elem, 20),
            part(cenwave, 16),
            part(aperture, 32),
            "v1_sci.fits",
        ]
    )
    return name


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    try:
        return sha256_of(Path(path))
    except OSError as exc:
        raise InputFileError(path, f"cannot read file ({exc.strerror or exc})") from None


# ---------------------------------------------------------------------------------- header cleaning


def _fits_string(value: str) -> str:
    """ASCII-printable text: accents dropped, control characters → space, other characters → ``?``."""
    out: list[str] = []
    for char in unicodedata.normalize("NFKD", value):
        code = ord(char)
        if 0x20 <= code < 0x7F:
            out.append(char)
        elif unicodedata.combining(char):
            continue
        elif code < 0x20 or code == 0x7F or char.isspace():
            out.append(" ")
        else:
            out.append("?")
    text = "".join(out).rstrip()
    if len(text) > _MAX_STRING:
        text = text[: _MAX_STRING - 3] + "..."
    return text


def _fits_value(value: Any) -> str | int | float | bool | None:
    """A value a FITS card can hold, or ``None`` if it cannot be written."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else _fits_string(str(value))
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, (dt.datetime, dt.date)):
        value = value.isoformat()
    return _fits_string(str(value))


def _fits_key(key: Any) -> str | None:
    if not isinstance(key, str):
        return None
    key = key.strip().upper()
    if key.startswith("HIERARCH "):
        key = key[len("HIERARCH ") :].strip()
    if _STANDARD_KEY.fullmatch(key) or _HIERARCH_KEY.fullmatch(key):
        return key
    return None


def _make_card(key: str, value: Any, comment: str = "") -> fits.Card | None:
    """A verified card for ``key = value``; long strings are shortened until they fit, else ``None``."""
    name = key if len(key) <= 8 else f"HIERARCH {key}"
    comment = _fits_string(comment)[:60]
    candidates: list[Any] = [value]
    if isinstance(value, str):
        candidates += [value[:n] for n in (200, 60, 40, 20) if n < len(value)]
    for candidate in candidates:
        for note in (comment, ""):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                try:
                    card = fits.Card(name, candidate, note)
                    card.verify("exception")
                    image = card.image
                except (ValueError, TypeError, fits.VerifyError, AstropyWarning):
                    continue
            if image and len(image) % 80 == 0:
                return card
    return None


def _set(header: fits.Header, key: str, value: Any, comment: str = "") -> None:
    """Set ``key`` in ``header`` (replacing it) if a FITS-safe card can be made; log otherwise."""
    clean = _fits_value(value)
    if clean is None:
        logger.debug("keyword %s has no FITS-representable value (%r); not written", key, value)
        return
    card = _make_card(key, clean, comment)
    if card is None:
        logger.warning("keyword %s = %r cannot be written as a FITS card; dropped", key, value)
        return
    if key in header:
        del header[key]
    header.append(card, end=True)


def _split_comment(value: Any) -> tuple[Any, str]:
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[1], str)
        and not isinstance(value[0], (list, tuple))
    ):
        return value[0], value[1]
    return value, ""


def _member_key(key: str, number: int) -> str:
    prefix = _MEMBER_PREFIX.get(key, key.replace("-", "_"))
    width = 2 if number < 100 else 3
    return f"{prefix[: 8 - width]}{number:0{width}d}"


def _expand_meta(meta: Mapping[str, Any]) -> dict[str, tuple[Any, str]]:
    """Meta → ``{KEY: (value, comment)}`` with keys cleaned and member lists expanded (see module doc)."""
    out: dict[str, tuple[Any, str]] = {}
    members: dict[str, tuple[Any, str]] = {}
    for raw_key, raw_value in meta.items():
        key = _fits_key(raw_key)
        if key is None:
            logger.warning("meta key %r is not a usable FITS keyword; dropped", raw_key)
            continue
        if _STRUCTURAL.fullmatch(key):
            continue
        value, comment = _split_comment(raw_value)
        if key in ("COMMENT", "HISTORY"):
            out[key] = (value, comment)
            continue
        if isinstance(value, (list, tuple, np.ndarray)):
            entries = [_fits_value(v) for v in np.asarray(value, dtype=object).ravel()]
            present = [v for v in entries if v is not None]
            if not present:
                continue
            common = present[0] if all(v == present[0] for v in present) else "MULTI"
            out[key] = (common, comment)
            if key == "OPT_ELEM":
                out["FILTER"] = (common, "optical element (MULTI: see FILTERnn)")
            if len(entries) > 1:
                for number, entry in enumerate(entries, start=1):
                    if entry is not None and number < 1000:
                        members[_member_key(key, number)] = (entry, f"{key} of dataset {number}")
            continue
        out[key] = (value, comment)
    # Explicit member keywords in meta (e.g. read back from a composite) yield to the expanded lists.
    out.update(members)
    if "OPT_ELEM" in out and "FILTER" not in out:
        out["FILTER"] = (out["OPT_ELEM"][0], "optical element (= OPT_ELEM)")
    return out


_CARD_ORDER: dict[str, int] = {}
for _key in (*IDENTITY_KEYS, "FILTER", "RADESYS", "FLUXCAL", "FLUXNOTE", *HLSP_DEFAULTS, "HLSPTARG"):
    _CARD_ORDER.setdefault(_key, len(_CARD_ORDER))


def _card_rank(key: str) -> int:
    """Identity keywords first, in the documented order; everything else keeps its meta order after."""
    return _CARD_ORDER.get(key, len(_CARD_ORDER))


def _is_primary_key(key: str) -> bool:
    return key in _PRIMARY_KEYS or any(p.fullmatch(key) for p in _PRIMARY_PATTERNS)


# ------------------------------------------------------------------------- units and derived columns


def flux_is_calibrated(meta: Mapping[str, Any]) -> bool:
    """Whether FLUX is a calibrated f_λ according to ``meta``'s FLUXCAL.

    ``'CALIBRATED'`` (any case) or no FLUXCAL at all (the original pipeline's products, which claimed
    erg/s/cm²/Å) → True; ``'UNCALIBRATED'``, ``'MULTI'`` or anything else → False. A per-member list is
    calibrated only if every member is.
    """
    value = _split_comment(meta.get("FLUXCAL"))[0] if "FLUXCAL" in meta else None
    if value is None:
        return True
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    return bool(values) and all(str(v).strip().upper() == "CALIBRATED" for v in values)


def flux_unit(meta: Mapping[str, Any]) -> u.UnitBase:
    """The unit of FLUX and FLUX_ERROR: :data:`FLUX_UNIT` if calibrated, else ct/s/pixel."""
    return FLUX_UNIT if flux_is_calibrated(meta) else UNCALIBRATED_FLUX_UNIT


def net_error(error: Any, bins: Any) -> np.ndarray:
    """NET_ERROR = ERROR / BINS (ct/s, the error of NET), NaN where BINS ≤ 0 or is not finite.

    A rate without exposure is undefined, so its error is NaN, not 0 (which would claim a perfect
    measurement). hstlc writes no bin without exposure; old or foreign products may have them.
    """
    err = np.asarray(error, dtype=np.float64)
    exposure = np.asarray(bins, dtype=np.float64)
    out = np.full(np.broadcast(err, exposure).shape, np.nan, dtype=np.float64)
    np.divide(err, exposure, out=out, where=np.isfinite(exposure) & (exposure > 0))
    return out


def _iso_times(mjd: np.ndarray) -> np.ndarray:
    """ISO-8601 UTC strings (microseconds) of MJDs; an empty string for a non-finite MJD."""
    from astropy.time import Time
    from erfa import ErfaWarning

    values = np.asarray(mjd, dtype=np.float64)
    out = np.full(values.shape, "", dtype=f"U{_ISO_WIDTH}")
    good = np.isfinite(values) & (values >= _MJD_YEAR_1) & (values < _MJD_YEAR_10000)
    if np.any(good):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ErfaWarning)
            out[good] = Time(values[good], format="mjd", scale="utc", precision=6).isot
    return out


# -------------------------------------------------------------------------------------- time block


def _iso(mjd: float) -> str:
    """``YYYY-MM-DDThh:mm:ss.sss`` (UTC) of an MJD; astropy.time is imported here, only when writing."""
    from astropy.time import Time
    from erfa import ErfaWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErfaWarning)
        return str(Time(mjd, format="mjd", scale="utc", precision=3).isot)


def _float_meta(meta: Mapping[str, tuple[Any, str]], key: str) -> float | None:
    if key not in meta:
        return None
    value = _fits_value(meta[key][0])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _time_keywords(lc: LightCurve, meta: Mapping[str, tuple[Any, str]]) -> dict[str, tuple[Any, str]]:
    """The FITS time keywords (FITS 4.0 §9 / OGIP) computed from the columns and EXPSTART.

    The end comes from the data (the last bin's start + BINS), never from EXPEND, which calcos leaves
    at the raw exposure end when it trims the GTIs (FORMATS.md §9).
    """
    keys: dict[str, tuple[Any, str]] = {
        "TIMESYS": ("UTC", "time scale of the times"),
        "TIMEREF": ("LOCAL", "times at the spacecraft, not barycentred (OGIP)"),
        "TREFPOS": ("TOPOCENTER", "times at the spacecraft (HST), not barycentred"),
        "TIMEUNIT": ("s", "unit of TIMES, TSTART, TSTOP, TIMEDEL"),
        "TIMEPIXR": (0.0, "TIMES are bin starts"),
    }
    step = _float_meta(meta, "STEPSIZE")
    if step is None:
        step = _float_meta(meta, "TIMEDEL")
    if step is not None and step > 0:
        keys["TIMEDEL"] = (step, "[s] bin width")
    mjdref = _float_meta(meta, "EXPSTART")
    if mjdref is None and len(lc):
        mjdref = float(lc.mjd[0]) - float(lc.times[0]) / SECONDS_PER_DAY
    if mjdref is None or not math.isfinite(mjdref):
        return keys
    keys["MJDREF"] = (mjdref, "[d] MJD of time zero (first EXPSTART)")
    if not len(lc):
        return keys
    times = np.asarray(lc.times, dtype=np.float64)
    bins = np.asarray(lc.bins, dtype=np.float64)
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(bins))):
        return keys
    tstart = float(times.min())
    # The grid ends at the last GTI stop, so the last bin ends where its good time does: start + BINS
    # (a full bin: start + TIMEDEL). EXPEND is not consulted (calcos does not update it).
    tstop = float(np.max(times + np.maximum(bins, 0.0)))
    xposure = float(np.sum(bins, dtype=np.float64))
    telapse = tstop - tstart
    if xposure > telapse:
        if xposure - telapse <= 1e-9 * max(1.0, xposure):  # rounding of the summed bins only
            telapse = xposure
            tstop = max(tstop, tstart + xposure)
        else:
            logger.warning("bins overlap in time: XPOSURE %.6g s exceeds TELAPSE %.6g s", xposure, telapse)
    mjd_beg = mjdref + tstart / SECONDS_PER_DAY
    mjd_end = mjdref + tstop / SECONDS_PER_DAY
    date_beg, date_end = _iso(mjd_beg), _iso(mjd_end)
    keys.update(
        {
            "TSTART": (tstart, "[s] start of the first bin, relative to MJDREF"),
            "TSTOP": (tstop, "[s] end of the last bin, relative to MJDREF"),
            "TELAPSE": (telapse, "[s] TSTOP - TSTART"),
            "XPOSURE": (xposure, "[s] total exposure (sum of BINS)"),
            "DATE-OBS": (date_beg, "start of the lightcurve (UTC)"),
            "DATE-BEG": (date_beg, "start of the lightcurve (UTC)"),
            "DATE-END": (date_end, "end of the lightcurve (UTC)"),
            "MJD-BEG": (mjd_beg, "[d] start of the lightcurve (MJD, UTC)"),
            "MJD-END": (mjd_end, "[d] end of the lightcurve (MJD, UTC)"),
        }
    )
    return keys


# ------------------------------------------------------------------------------------------ writing


def _provenance(lc: LightCurve, meta: Mapping[str, tuple[Any, str]]) -> dict[str, tuple[Any, str]]:
    from hstlc import __version__

    composite = len(np.unique(lc.dataset)) > 1 if len(lc) else False
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    filetype = meta.get("FILETYPE", ("COMPOSITE LIGHTCURVE" if composite else "LIGHTCURVE", ""))[0]
    return {
        "FILETYPE": (filetype, "type of product"),
        "DATE": (now, "UTC date and time the file was written"),
        "HSTLCVER": (__version__, "hstlc version"),
        "NUMPYVER": (np.__version__, "numpy version"),
        "ASTROVER": (astropy.__version__, "astropy version"),
    }


def _build_hdulist(lc: LightCurve) -> fits.HDUList:
    meta = _expand_meta(lc.meta)
    hlsp = {key: meta.get(key, default) for key, default in HLSP_DEFAULTS.items()}
    if "TARGNAME" in meta:
        hlsp.setdefault("HLSPTARG", meta.get("HLSPTARG", meta["TARGNAME"]))
    radesys = str(_fits_value(meta.get("RADESYS", ("ICRS", ""))[0]) or "ICRS").upper()
    meta["RADESYS"] = (radesys, "celestial reference frame of RA_TARG/DEC_TARG")
    if radesys == "ICRS":
        meta.pop("EQUINOX", None)
    time_keys = _time_keywords(lc, meta)
    provenance = _provenance(lc, meta)
    exposure = np.asarray(lc.bins, dtype=np.float64)
    meta["EXPTIME"] = (float(np.sum(exposure, dtype=np.float64)), "[s] total exposure (sum of BINS)")
    unit_of_flux = flux_unit(meta)

    primary = fits.PrimaryHDU()
    table_header = fits.Header()
    history: list[tuple[str, Any]] = []
    for key, (value, comment) in sorted({**meta, **hlsp}.items(), key=lambda item: _card_rank(item[0])):
        if key in ("COMMENT", "HISTORY"):
            history.append((key, value))
            continue
        if key in time_keys or key in provenance:
            continue
        if _is_primary_key(key):
            _set(primary.header, key, value, comment)
            if key in _EXTENSION_COPIES:
                _set(table_header, key, value, comment)
        else:
            _set(table_header, key, value, comment)
    for key, (value, comment) in {**provenance, **time_keys}.items():
        _set(primary.header, key, value, comment)
    for key, (value, comment) in time_keys.items():
        _set(table_header, key, value, comment)
    _set(table_header, "BUNIT", unit_of_flux.to_string("fits"), "unit of FLUX and FLUX_ERROR")
    for key, value in history:
        entries = value if isinstance(value, (list, tuple)) else [value]
        for entry in entries:
            text = _fits_value(entry)
            if text is not None:
                getattr(primary.header, f"add_{key.lower()}")(str(text)[:_MAX_STRING])
    for header in (primary.header, table_header):
        header.add_comment(_NOT_BARYCENTRED)

    columns = []
    for name in PRODUCT_COLUMNS:
        unit = unit_of_flux if name in ("flux", "flux_error") else COLUMN_UNITS.get(name)
        time_axis: dict[str, str] = {}
        if name == TIME_COLUMN:
            # ISO-8601 bin starts (FITS 4.0 §9.2.1), the time axis TimeSeries.read/lightkurve look for.
            columns.append(
                fits.Column(name=name, format=f"{_ISO_WIDTH}A", array=_iso_times(lc.mjd), coord_type="UTC")
            )
            continue
        if name == "dataset":
            array = np.asarray(lc.dataset).astype(_DATASET_DTYPE, copy=False)
            fmt = "J"
        elif name == NET_ERROR:
            array = net_error(lc.error, lc.bins)
            fmt = "D"
        else:
            array = np.asarray(getattr(lc, name), dtype=_NUMERIC_DTYPE)
            fmt = "D"
        if name == "times":  # a FITS time column: seconds since MJDREF in TIMESYS (Rots et al. 2015)
            time_axis = {"coord_type": "UTC", "coord_unit": "s"}
        columns.append(
            fits.Column(
                name=name.upper(),
                format=fmt,
                unit=unit.to_string("fits") if unit is not None else None,
                array=array,
                **time_axis,
            )
        )
    # The same HDU as BinTableHDU.from_columns(columns, header=…) builds, without importing astropy.table
    # (0.14 s of a short `hstlc extract`): astropy's BinTableHDU(data=…) imports it to check for a Table.
    table = fits.BinTableHDU(header=table_header, name=EXTNAME)
    table.data = fits.FITS_rec.from_columns(columns)
    return fits.HDUList([primary, table])


def write_lightcurve(lc: LightCurve, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``lc`` as a FITS product at ``path`` atomically and return the path.

    Through :func:`hstlc.filing.write_atomically`: written to a hidden temporary name in the same folder,
    fsynced, then put in place; on any error the temporary file is removed and no product appears. An
    existing file — also one that appears while this one is being written — is replaced only with
    ``overwrite=True`` (else :class:`~hstlc.errors.FilingError`). Missing parent folders are created.
    """
    target = Path(path)
    if target.is_dir():
        raise FilingError(f"{target}: is a folder; expected a product file name")
    exists = f"{target}: already exists; not replaced (use overwrite to replace it)"
    if target.exists() and not overwrite:
        raise FilingError(exists)
    hdulist = _build_hdulist(lc)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FilingError(f"{target}: cannot create folder {folder} ({exc.strerror or exc})") from None

    def write(temporary: Path) -> None:
        with open_new(temporary) as handle:
            hdulist.writeto(handle, checksum=True)

    try:
        write_atomically(target, write, overwrite=overwrite, exists_message=exists)
    except OSError as exc:
        raise FilingError(f"{target}: could not be written ({exc.strerror or exc})") from exc
    logger.debug("wrote %s (%d rows)", target, len(lc))
    return target


# ------------------------------------------------------------------------------------------ reading


def _header_meta(header: fits.Header, meta: dict[str, Any]) -> None:
    for card in header.cards:
        key = card.keyword
        if not key or key in ("COMMENT", "HISTORY") or _STRUCTURAL.fullmatch(key.upper()):
            if key == "HISTORY":
                meta.setdefault("HISTORY", [])
                if str(card.value) not in meta["HISTORY"]:
                    meta["HISTORY"].append(str(card.value))
            continue
        value = card.value
        if isinstance(value, fits.card.Undefined):
            value = None
        meta[key.upper()] = value


def _find_table(hdulist: fits.HDUList, path: Path) -> fits.BinTableHDU | fits.TableHDU:
    for hdu in hdulist:
        if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)) and hdu.name.upper() == EXTNAME:
            return hdu
    for hdu in hdulist:
        if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
            return hdu
    raise InputFileError(path, f"no {EXTNAME} extension and no table extension (is this a lightcurve?)")


def _column_arrays(table: fits.BinTableHDU | fits.TableHDU, path: Path) -> dict[str, np.ndarray]:
    names = {name.strip().lower(): name for name in table.columns.names}
    data = table.data
    nrows = 0 if data is None else len(data)
    missing = [c for c in _NUMERIC_COLUMNS if c not in names]
    if missing:
        listed = ", ".join(m.upper() for m in missing)
        raise InputFileError(path, f"{table.name or 'table'} extension has no {listed} column(s)")
    out: dict[str, np.ndarray] = {}
    for column in (*LIGHTCURVE_COLUMNS, NET_ERROR):
        if column not in names:
            if column == "dataset":
                out[column] = np.ones(nrows, dtype=_DATASET_DTYPE)
            continue
        raw = np.asarray(data[names[column]]) if data is not None else np.zeros(0)
        if raw.ndim != 1:
            raise InputFileError(path, f"column {column.upper()} is not a scalar column (shape {raw.shape})")
        try:
            if column == "dataset":
                if raw.dtype.kind == "f" and not np.all(np.isfinite(raw)):
                    raise ValueError("non-finite dataset numbers")
                out[column] = raw.astype(_DATASET_DTYPE)
            else:
                out[column] = raw.astype(_NUMERIC_DTYPE)
        except (TypeError, ValueError) as exc:
            raise InputFileError(path, f"column {column.upper()} is not numeric ({exc})") from None
    return out


def read_lightcurve(path: str | os.PathLike[str]) -> LightCurve:
    """Read a lightcurve product (hstlc's or the original pipeline's) into a ``LightCurve``.

    The table is the ``LIGHTCURVE`` extension, else the first table extension; column names are matched
    case-insensitively in any order; a missing DATASET column means dataset 1. ``meta`` holds the
    primary header's keywords overlaid by the table header's (structural keywords left out; HISTORY as
    a list). A file that is not FITS, is truncated, or lacks a needed column raises
    :class:`~hstlc.errors.InputFileError` naming the file. NET_ERROR and ``time`` are not domain columns
    (``net_error(lc.error, lc.bins)`` and ``lc.mjd`` give them); :func:`read_timeseries` returns them.
    """
    source = Path(path)
    columns, meta = _read_product(source)
    columns.pop(NET_ERROR, None)
    try:
        return LightCurve(**columns, meta=meta)
    except ValueError as exc:  # pragma: no cover - columns of one table always share a length
        raise InputFileError(source, str(exc)) from None


def _read_product(source: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The product's columns (LIGHTCURVE_COLUMNS, and NET_ERROR if the file has it) and its meta."""
    if not source.is_file():
        raise InputFileError(source, "no such file")
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with fits.open(source, memmap=False, lazy_load_hdus=False) as hdulist:
                table = _find_table(hdulist, source)
                meta: dict[str, Any] = {}
                _header_meta(hdulist[0].header, meta)
                if table is not hdulist[0]:
                    _header_meta(table.header, meta)
                columns = _column_arrays(table, source)
    except InputFileError:
        raise
    except (OSError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise InputFileError(source, f"not a readable FITS file ({exc})") from None
    for warning in caught:
        message = str(warning.message)
        if "truncated" in message.lower():
            raise InputFileError(source, f"file is truncated ({message})")
        logger.debug("%s: %s", source.name, message)
    if "HISTORY" in meta:
        meta["HISTORY"] = tuple(meta["HISTORY"])
    return columns, meta


# ------------------------------------------------------------------------------- standard readers


def read_timeseries(path: str | os.PathLike[str]) -> TimeSeries:
    """Read a product (hstlc's or the original pipeline's) as an astropy ``TimeSeries``.

    ``time`` is an astropy ``Time`` (UTC, format ``mjd``) of the bin starts (TIMEPIXR = 0; not
    barycentred); the columns are the product's, lower-case, as Quantities: ``times`` s since MJDREF,
    ``mjd`` d, ``bins`` (exposure) s, ``gross``/``background``/``counts``/``error`` ct, ``net`` and
    ``net_error`` ct/s, ``flux``/``flux_error`` in :func:`flux_unit` of the product's FLUXCAL, and
    ``signal_to_noise``/``dataset`` without unit. NET_ERROR is the file's column, or computed for a
    product that lacks it. ``meta`` is :func:`read_lightcurve`'s. Errors: as :func:`read_lightcurve`.
    """
    columns, meta = _read_product(Path(path))
    return _timeseries(columns, meta)


def _timeseries(columns: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> TimeSeries:
    from astropy.time import Time
    from astropy.timeseries import TimeSeries

    data: dict[str, Any] = {}
    unit_of_flux = flux_unit(meta)
    for name in PRODUCT_COLUMNS:
        if name == TIME_COLUMN:
            continue
        if name == NET_ERROR and name not in columns:
            values = net_error(columns["error"], columns["bins"])
        else:
            values = np.asarray(columns[name])
        unit = unit_of_flux if name in ("flux", "flux_error") else COLUMN_UNITS.get(name)
        data[name] = values if unit is None else u.Quantity(values, unit, copy=False)
    time = Time(np.asarray(columns["mjd"], dtype=np.float64), format="mjd", scale="utc")
    return TimeSeries(time=time, data=data, meta=dict(meta))


def _import_lightkurve() -> Any:
    try:
        with warnings.catch_warnings():
            # lightkurve warns at import about optional modules it lacks (e.g. oktopus); not ours to show.
            warnings.simplefilter("ignore")
            import lightkurve
    except ImportError as exc:
        raise ImportError(
            f"to_lightkurve needs lightkurve ({exc}); install it with: pip install 'hstlc[lightkurve]'"
        ) from exc
    return lightkurve


def to_lightkurve(source: str | os.PathLike[str] | TimeSeries | LightCurve) -> Any:
    """A lightkurve ``LightCurve`` of a product file, a ``TimeSeries`` or an hstlc ``LightCurve``.

    ``time`` as in :func:`read_timeseries`; ``flux``/``flux_err`` are FLUX/FLUX_ERROR (erg/s/cm²/Å)
    when the product's FLUXCAL says calibrated (see :func:`flux_is_calibrated`; a table without
    FLUXCAL is judged by its FLUX unit), else NET/NET_ERROR (ct/s) — the unity-sensitivity FLUX
    (NET / NPIXEL) is left out then. The other columns (times, bins, gross, background, counts, net,
    net_error, error, signal_to_noise, dataset) come along; ``meta`` is the product's plus
    ``FLUX_ORIGIN`` (``'flux'`` or ``'net'``) and ``LABEL`` (TARGNAME). A ``TimeSeries`` read by
    ``TimeSeries.read(path)`` (upper-case column names) works too. Needs lightkurve
    (``pip install 'hstlc[lightkurve]'``), else ``ImportError``.
    """
    lk = _import_lightkurve()
    if isinstance(source, LightCurve):
        series = _timeseries(source.columns(), source.meta)
    elif isinstance(source, (str, os.PathLike)):
        series = read_timeseries(source)
    else:
        series = source
    names = {str(name).lower(): name for name in series.colnames}
    meta = {str(k).upper(): v for k, v in series.meta.items()}

    def column(name: str) -> Any:
        if name == NET_ERROR and name not in names:
            values = net_error(column("error").value, column("bins").value)
            return u.Quantity(values, COLUMN_UNITS[NET_ERROR], copy=False)
        if name not in names:
            raise ValueError(f"to_lightkurve: the time series has no {name.upper()} column")
        values = series[names[name]]
        unit = getattr(values, "unit", None)
        if unit is None:
            unit = flux_unit(meta) if name in ("flux", "flux_error") else COLUMN_UNITS.get(name)
        data = np.asarray(getattr(values, "value", values))
        return data if unit is None else u.Quantity(data, unit, copy=False)

    if "FLUXCAL" in meta:
        calibrated = flux_is_calibrated(meta)
    else:
        flux_col = column("flux")
        calibrated = isinstance(flux_col, u.Quantity) and flux_col.unit.is_equivalent(FLUX_UNIT)
    flux, flux_err = (
        (column("flux"), column("flux_error")) if calibrated else (column("net"), column(NET_ERROR))
    )
    meta["FLUX_ORIGIN"] = "flux" if calibrated else "net"
    if "TARGNAME" in meta and "LABEL" not in meta:
        meta["LABEL"] = meta["TARGNAME"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", u.UnitsWarning)
        curve = lk.LightCurve(time=series.time, flux=flux, flux_err=flux_err, meta=meta)
    for name in ("times", "bins", "gross", "background", "counts", "net", NET_ERROR, "error",
                 "signal_to_noise", "dataset"):  # fmt: skip
        if name in names or name == NET_ERROR:
            curve[name] = column(name)
    return curve


def member_values(meta: Mapping[str, Any], key: str) -> list[Any]:
    """The per-member values of ``key`` in a composite's meta (``FILTER01``, ``FILTER02`` … for OPT_ELEM).

    For a product without numbered member keywords this is ``[value]`` (or ``[]`` if absent).
    """
    prefix = _MEMBER_PREFIX.get(key, key.replace("-", "_"))
    pattern = re.compile(rf"(?:{re.escape(prefix[:6])}(\d{{2}})|{re.escape(prefix[:5])}(\d{{3}}))")
    found: list[tuple[int, Any]] = []
    for meta_key, value in meta.items():
        match = pattern.fullmatch(meta_key)
        if match:
            found.append((int(match.group(1) or match.group(2)), value))
    if found:
        return [value for _, value in sorted(found, key=lambda item: item[0])]
    value = meta.get(key, meta.get("FILTER") if key == "OPT_ELEM" else None)
    return [] if value is None else [value]


__all__ = [
    "COLUMN_UNITS",
    "EXTNAME",
    "FLUX_UNIT",
    "NET_ERROR",
    "PRODUCT_COLUMNS",
    "TIME_COLUMN",
    "UNCALIBRATED_FLUX_UNIT",
    "composite_filename",
    "file_sha256",
    "flux_is_calibrated",
    "flux_unit",
    "individual_filename",
    "member_values",
    "net_error",
    "read_lightcurve",
    "read_timeseries",
    "to_lightkurve",
    "write_lightcurve",
]
