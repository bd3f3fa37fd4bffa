"""Write the COS-like STIS ``<rootname>_corrtag.fits`` from a ``_tag.fits`` (FORMATS.md §3.4, done right).

Columns (lower-case names, TFORM ``D`` except ``dq`` ``I``): time, rawx (DETAXIS1), rawy (AXIS2),
xcorr (AXIS1), ycorr (AXIS2), epsilon, wavelength, dq — calibrated by
:func:`hstlc.readers.stis.read_stis_tag` (EPSILON = 1/(P-flat × L-flat) interpolated to hi-res, DQ from
this OPT_ELEM's BPIXTAB rows, wavelengths from the x1d with the correct low-res column and echelle
order windows). Unlike the original, the GTI extension is kept and the ``_tag`` is never deleted.

The primary header is the tag's primary header plus provenance: ``HSTLCVER`` (hstlc version),
``SRCFILE``/``SRCSHA`` (the tag and its sha256), ``HSTLCCAL`` (calibration steps applied) and
``CALNOTEn`` (what could not be calibrated). No wall-clock date is written, so the same input, reference
files and version give a byte-identical file: re-running is a no-op, and a *different* file already at
the destination is never overwritten unless ``overwrite=True``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstlc.errors import FilingError, InputFileError
from hstlc.filing import open_new, sha256_of, write_atomically
from hstlc.readers.stis import read_stis_tag

log = logging.getLogger(__name__)

STRUCTURAL = frozenset({
    "XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT", "TFIELDS", "EXTEND", "SIMPLE",
    "EXTNAME", "EXTVER", "CHECKSUM", "DATASUM", "THEAP",
})
_COLUMN_CARD = ("TTYPE", "TFORM", "TUNIT", "TSCAL", "TZERO", "TNULL", "TDISP", "TDIM", "TCTYP", "TCRPX",
                "TCRVL", "TCDLT", "TCUNI", "TLMIN", "TLMAX")


def _copy_cards(source: fits.Header, target: fits.Header) -> None:
    for card in source.cards:
        key = card.keyword
        if key in STRUCTURAL or key.startswith(_COLUMN_CARD) or key in ("", "COMMENT", "HISTORY"):
            continue
        try:
            target.append(card.copy() if hasattr(card, "copy") else fits.Card(key, card.value, card.comment))
        except (ValueError, TypeError):  # a card astropy refuses to re-emit: keep going
            log.debug("skipping header card %s", key)


def corrtag_path_for(tag_path: Path) -> Path:
    """``<dir>/<rootname>_corrtag.fits`` for ``<dir>/<rootname>_tag.fits`` (or ``.fits.gz``/``.fits.bz2``:
    the derived corrtag is written uncompressed)."""
    name = tag_path.name
    lowered = name.lower()
    for suffix in ("_tag.fits", "_tag.fits.gz", "_tag.fits.bz2"):
        if lowered.endswith(suffix):
            return tag_path.with_name(f"{name[: -len(suffix)]}_corrtag.fits")
    return tag_path.with_name(f"{tag_path.stem}_corrtag.fits")


def write_stis_corrtag(
    tag_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str] | None = None,
    *,
    oref_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the calibrated STIS corrtag of ``tag_path`` (default: beside it) and return its path."""
    from hstlc import __version__

    tag = Path(tag_path)
    out = Path(out_path) if out_path is not None else corrtag_path_for(tag)
    if out.resolve() == tag.resolve():
        raise InputFileError(tag, "the corrtag would overwrite its own _tag file")
    data = read_stis_tag(tag, oref_dir=Path(oref_dir) if oref_dir is not None else None)
    cal = data.calibration

    primary = fits.PrimaryHDU()
    _copy_cards(data.primary_header, primary.header)
    primary.header["HSTLCVER"] = (__version__, "hstlc version that wrote this file")
    primary.header["SRCFILE"] = (tag.name, "STIS TIME-TAG file the events come from")
    primary.header["SRCSHA"] = sha256_of(tag)  # 64 characters: no room for a comment
    primary.header["HSTLCCAL"] = (",".join(cal.applied) or "NONE", "event calibration steps applied")
    for i, note in enumerate(data.extras.get("calibration_notes", ()), start=1):
        primary.header[f"CALNOTE{i}"] = note[:68]

    n = len(data.time)
    columns = [
        fits.Column(name="time", format="D", unit="second", array=data.time.astype(np.float64)),
        fits.Column(name="rawx", format="D", unit="pixel", array=data.detaxis1.astype(np.float64)),
        fits.Column(name="rawy", format="D", unit="pixel", array=data.axis2.astype(np.float64)),
        fits.Column(name="xcorr", format="D", unit="pixel", array=data.axis1.astype(np.float64)),
        fits.Column(name="ycorr", format="D", unit="pixel", array=data.axis2.astype(np.float64)),
        fits.Column(name="epsilon", format="D", unit="factor", array=cal.epsilon.astype(np.float64)),
        fits.Column(name="wavelength", format="D", unit="angstrom", array=cal.wavelength.astype(np.float64)),
        fits.Column(name="dq", format="I", array=cal.dq.astype(np.int16)),
    ]
    events = fits.BinTableHDU.from_columns(columns, nrows=n, name="EVENTS")
    _copy_cards(data.events_header, events.header)
    hdus: list[fits.hdu.base.ExtensionHDU] = [events]
    if data.has_gti:
        gti = fits.BinTableHDU.from_columns(
            [
                fits.Column(name="START", format="D", unit="second", array=data.gti[:, 0]),
                fits.Column(name="STOP", format="D", unit="second", array=data.gti[:, 1]),
            ],
            name="GTI",
        )
        gti.header["EXTVER"] = 1
        hdus.append(gti)

    hdulist = fits.HDUList([primary, *hdus])

    def write(temporary: Path) -> None:
        with open_new(temporary) as handle:
            hdulist.writeto(handle, output_verify="silentfix")

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # Byte-identical output for the same inputs: an identical file already there is "up to date";
        # a different one is replaced only with overwrite, and never if it appeared while writing.
        written = write_atomically(
            out, write, overwrite=overwrite, identical_ok=True,
            exists_message=f"{out}: a different file already exists; not overwritten "
                           "(use overwrite=True to replace)",
        )
    except OSError as exc:
        raise FilingError(f"{out}: could not be written ({exc.strerror or exc})") from exc
    if written:
        log.info("wrote %s (%d events; calibration: %s)", out, n, ",".join(cal.applied) or "none")
    else:
        log.info("%s is already up to date", out.name)
    return out


__all__ = ["corrtag_path_for", "write_stis_corrtag"]
