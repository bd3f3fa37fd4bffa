"""STIS MAMA TIME-TAG reader: ``_tag.fits`` (calibrated on reading) and the synthetic ``_corrtag.fits``.

A ``_tag`` file holds only TIME, AXIS1, AXIS2 (hi-res, 1-indexed) and DETAXIS1 (FORMATS.md §3.1). Its events
are calibrated here with :func:`hstlc.science.stis_events.calibrate_events`: EPSILON from PFLTFILE/LFLTFILE,
DQ from BPIXTAB rows of this OPT_ELEM, WAVELENGTH from the ``<rootname>_x1d.fits`` beside it (required for
spectroscopic data). Reference files are found with :func:`~hstlc.readers.reftables.resolve_reference`
in ``oref_dir`` or ``$oref``; a missing one is skipped and reported in the calibration notes.

What real archive files showed (FORMATS.md §9) and how this reader follows it:

- the x1d primary names PHOTTAB, APERTAB, PCTAB **and TDSTAB** (there is no FLUXTAB); whether a tag
  primary names them is unconfirmed, so each reference keyword is taken from the tag's headers and, when
  they lack it, from the x1d primary;
- SDQFLAGS (typically 31743) is confirmed in the x1d SCI header, its presence in the tag EVENTS header
  is not: the tag's value is used when present, else the x1d's (``extras["x1d_sdqflags"]``), else
  calstis' default 32767 (decided in :mod:`hstlc.extraction.stis`);
- an x1d can hold several SCI tables (one per readout): all are read and one is used for the extraction
  regions and wavelengths, as :func:`hstlc.readers.x1d.choose_extension` decides and notes;
- STIS TDS (time-dependent sensitivity): the TDSTAB is located (``extras["tdstab"]``) but not applied —
  FORMATS.md gives the format of the COS TDSTAB only (§5.2), not of calstis' table, and a guessed
  format would be a fake correction; the product's FLUXNOTE says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from astropy.io import fits

from hstlc.domain import Dataset, EventList, GTIArray, Observation, Segment
from hstlc.errors import InputFileError
from hstlc.readers.cos import check_times
from hstlc.readers.detect import ProductKind, classify
from hstlc.readers.files import companion_files
from hstlc.readers.hdus import (
    find_hdu,
    header_dict,
    open_fits,
    read_columns,
    read_gti,
    read_timeline,
    require_hdu,
)
from hstlc.readers.observation import build_observation
from hstlc.readers.reftables import locate_reference, read_bpixtab, read_flat
from hstlc.readers.x1d import choose_extension, read_x1d, stis_orders
from hstlc.science.stis_events import StisEventCalibration, bpix_dq_map, calibrate_events, is_echelle

log = logging.getLogger(__name__)

TAG_HINT = "(is this a STIS TIME-TAG file?)"


@dataclass(frozen=True, eq=False)
class StisTagData:
    """Everything read and derived from a STIS ``_tag`` file (used by the reader and the corrtag writer)."""

    path: Path
    observation: Observation
    time: npt.NDArray[np.float64]
    axis1: npt.NDArray[Any]
    axis2: npt.NDArray[Any]
    detaxis1: npt.NDArray[Any]
    gti: GTIArray
    has_gti: bool
    timeline: dict[str, npt.NDArray[Any]] | None
    primary_header: fits.Header
    events_header: fits.Header
    calibration: StisEventCalibration
    extras: dict[str, Any]


def _reference(
    observation: Observation,
    key: str,
    oref_dir: Path | None,
    extras: dict[str, Any],
    notes: list[str],
    fallback: Mapping[str, Any] | None = None,
) -> Path | None:
    value = observation.header.get(key)
    if value is None and fallback is not None:
        value = fallback.get(key)  # the x1d primary (FORMATS.md §9: it names PHOTTAB, APERTAB, PCTAB, TDSTAB)
    found = locate_reference(None if value is None else str(value), oref_dir)
    extras[key.lower()] = None if found.path is None else str(found.path)
    if found.path is None and value is not None and not found.reason.startswith("not applicable"):
        notes.append(f"{key} {found.value}: {found.reason}")
        log.warning("%s: %s %s: %s", observation.filename, key, found.value, found.reason)
    return found.path


def _sdqflags(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def x1d_extras(observation: Observation, x1d: Path | None, oref_dir: Path | None) -> dict[str, Any]:
    """The ``Dataset.extras`` of a STIS exposure (see :func:`read_stis_dataset`)."""
    extras: dict[str, Any] = {
        "x1d": None if x1d is None else str(x1d), "orders": (), "shifta2": None, "x1d_extver": None,
        "x1d_sdqflags": None,
    }
    notes: list[str] = []
    fallback: Mapping[str, Any] | None = None
    if x1d is not None:
        choice = choose_extension(read_x1d(x1d), expstart=observation.expstart, expend=observation.expend)
        spectrum = choice.spectrum
        extras["orders"] = stis_orders(spectrum)
        extras["x1d_extver"] = choice.extver
        shift = spectrum.sci.get("SHIFTA2", observation.header.get("SHIFTA2"))
        extras["shifta2"] = None if shift is None else float(shift)
        extras["x1d_sdqflags"] = _sdqflags(spectrum.sci.get("SDQFLAGS"))
        if choice.note:
            notes.append(choice.note)
        fallback = spectrum.primary
    for key in ("PHOTTAB", "APERTAB", "PCTAB"):
        _reference(observation, key, oref_dir, extras, notes, fallback)
    # TDSTAB: located, never applied (no documented format), so a missing one is not a problem to report.
    value = observation.header.get("TDSTAB")
    if value is None and fallback is not None:
        value = fallback.get("TDSTAB")
    found = locate_reference(None if value is None else str(value), oref_dir)
    extras["tdstab"] = None if found.path is None else str(found.path)
    extras["tdstab_value"] = None if value is None else str(value).strip()
    extras["reference_notes"] = tuple(notes)
    return extras


def read_stis_tag(path: Path, *, oref_dir: Path | None = None, x1d: Path | None = None) -> StisTagData:
    """Read and calibrate a STIS ``_tag`` file (``x1d`` defaults to the companion ``_x1d.fits``)."""
    with open_fits(path) as hdul:
        kind = classify(path, hdul)
        if kind is not ProductKind.STIS_TAG:
            raise InputFileError(path, f"expected a STIS _tag file, found a {kind.value} file")
        events = require_hdu(path, hdul, "EVENTS")
        primary = hdul[0].header.copy()
        events_header = events.header.copy()
        observation = build_observation(path, primary, events_header, instrument="STIS")
        cols = read_columns(path, events, ["TIME", "AXIS1", "AXIS2"], optional=["DETAXIS1"], hint=TAG_HINT)
        has_gti = find_hdu(hdul, "GTI") is not None
        gti = read_gti(path, hdul, observation.exptime)
        timeline = read_timeline(path, hdul)
    time = cols["TIME"].astype(np.float64, copy=False)
    check_times(path, time)
    axis1, axis2 = cols["AXIS1"], cols["AXIS2"]
    detaxis1 = cols.get("DETAXIS1", axis1)

    if x1d is None:
        x1d = companion_files(path).x1d
    imaging = observation.obstype == "IMAGING"
    if x1d is None and not imaging:
        raise InputFileError(
            path, f"STIS tag without its x1d ({observation.rootname}_x1d.fits): needed for wavelengths "
            "and the extraction region"
        )
    extras = x1d_extras(observation, None if imaging else x1d, oref_dir)
    ref_notes: list[str] = list(extras.pop("reference_notes"))

    pflat_path = _reference(observation, "PFLTFILE", oref_dir, extras, ref_notes)
    lflat_path = _reference(observation, "LFLTFILE", oref_dir, extras, ref_notes)
    bpix_path = _reference(observation, "BPIXTAB", oref_dir, extras, ref_notes)
    pflat = read_flat(pflat_path) if pflat_path else None
    lflat = read_flat(lflat_path) if lflat_path else None
    dq_map = None
    if bpix_path is not None:
        table = read_bpixtab(bpix_path).for_opt_elem(observation.opt_elem)
        dq_map = bpix_dq_map(table.pix1, table.pix2, table.length, table.axis, table.value, shape=table.shape)

    echelle = is_echelle(observation.opt_elem)
    orders = extras["orders"]
    wavelength = a2center = extrsize = None
    if orders and not imaging:
        if echelle and any(o["a2center"] is None or o["extrsize"] is None for o in orders):
            raise InputFileError(Path(extras["x1d"]), "echelle x1d without A2CENTER/EXTRSIZE columns")
        nelem = max(len(o["wavelength"]) for o in orders)
        wavelength = np.zeros((len(orders), nelem))
        for i, order in enumerate(orders):
            wavelength[i, : len(order["wavelength"])] = order["wavelength"]
        if echelle:
            a2center = np.array([o["a2center"] for o in orders])
            extrsize = np.array([o["extrsize"] for o in orders])
    calibration = calibrate_events(
        axis1, axis2, pflat=pflat, lflat=lflat, dq_map=dq_map, wavelength=wavelength,
        a2center=a2center, extrsize=extrsize, echelle=echelle, imaging=imaging,
    )
    notes = tuple(ref_notes) + calibration.notes
    extras["calibration_applied"] = calibration.applied
    extras["calibration_notes"] = notes
    for note in calibration.notes:
        log.info("%s: %s", path.name, note)
    return StisTagData(
        path=path, observation=observation, time=time, axis1=axis1, axis2=axis2, detaxis1=detaxis1,
        gti=gti, has_gti=has_gti, timeline=timeline, primary_header=primary, events_header=events_header,
        calibration=calibration, extras=extras,
    )


def _read_stis_corrtag(
    path: Path, oref_dir: Path | None, x1d: Path | None
) -> tuple[Observation, Segment, dict[str, Any]]:
    with open_fits(path) as hdul:
        events = require_hdu(path, hdul, "EVENTS")
        primary = hdul[0].header
        observation = build_observation(path, primary, events.header, instrument="STIS")
        cols = read_columns(path, events, ["TIME", "XCORR", "YCORR", "WAVELENGTH", "EPSILON", "DQ"])
        gti = read_gti(path, hdul, observation.exptime)
        timeline = read_timeline(path, hdul)
        keywords = header_dict(primary, events.header)
    check_times(path, cols["TIME"])
    extras = x1d_extras(observation, x1d, oref_dir)
    notes = list(extras.pop("reference_notes"))
    calnote = observation.header.get("HSTLCCAL")
    extras["calibration_applied"] = tuple(str(calnote).split(",")) if calnote else ()
    extras["calibration_notes"] = tuple(notes) + tuple(
        str(v) for k, v in sorted(observation.header.items()) if k.startswith("CALNOTE")
    )
    segment = Segment(
        name="STIS",
        events=EventList(
            time=cols["TIME"], x=cols["XCORR"], y=cols["YCORR"], wavelength=cols["WAVELENGTH"],
            epsilon=cols["EPSILON"], dq=cols["DQ"],
        ),
        gti=gti, exptime=observation.exptime, keywords=keywords, timeline=timeline, source_file=str(path),
    )
    return observation, segment, extras


def read_stis_dataset(
    path: Path, *, lref_dir: Path | None = None, oref_dir: Path | None = None, x1d: Path | None = None
) -> Dataset:
    """The STIS exposure of a ``_tag`` (calibrated here) or ``_corrtag`` file, one Segment ``STIS``.

    ``x1d`` is the companion x1d (default: ``<rootname>_x1d.fits`` beside ``path``; ingest passes it for a
    corrtag derived into its staging folder, away from the x1d).

    ``Dataset.extras`` keys:

    - ``x1d``: path of the companion x1d (``None`` if absent; IMAGING needs none);
    - ``orders``: tuple of dicts, one per spectral order sorted by SPORDER, with ``sporder`` (int),
      ``a2center``, ``extrsize``, ``bk1size``, ``bk2size``, ``bk1offst``, ``bk2offst`` (floats in the x1d's
      **low-res, 1-indexed** pixels, ``None`` if absent; hi-res coordinate h ↔ low-res (h + 0.5)/2) and
      ``wavelength`` (float64 array over low-res columns 0…NELEM−1);
    - ``shifta2``: SHIFTA2 of the x1d SCI header (``None`` if absent; whether A2CENTER includes it is
      unconfirmed, so it is not applied);
    - ``x1d_extver``: EXTVER of the x1d SCI table the orders come from (several: one per readout);
    - ``x1d_sdqflags``: SDQFLAGS of that SCI header (``None`` if absent);
    - ``phottab``, ``apertab``, ``pctab``, ``pfltfile``, ``lfltfile``, ``bpixtab``: resolved reference-file
      paths (str) or ``None`` (pfltfile/lfltfile/bpixtab only for ``_tag`` input), named by the tag's
      headers or else the x1d primary;
    - ``tdstab``: the STIS TDSTAB found (str) or ``None``, and ``tdstab_value`` the header value — located
      only: STIS TDS is not applied (no documented format);
    - ``calibration_applied``: steps done on the events (``pflat``, ``lflat``, ``bpixtab``, ``wavelength``);
    - ``calibration_notes``: sentences on what could not be calibrated (for the product header).
    """
    del lref_dir
    with open_fits(path) as hdul:
        kind = classify(path, hdul)
    files = companion_files(path)
    if x1d is not None:
        files = replace(files, x1d=x1d)
    if kind is ProductKind.STIS_CORRTAG:
        observation, segment, extras = _read_stis_corrtag(path, oref_dir, files.x1d)
    elif kind is ProductKind.STIS_TAG:
        data = read_stis_tag(path, oref_dir=oref_dir, x1d=files.x1d)
        cal = data.calibration
        segment = Segment(
            name="STIS",
            events=EventList(
                time=data.time,
                x=data.axis1.astype(np.float32),
                y=data.axis2.astype(np.float32),
                wavelength=cal.wavelength,
                epsilon=cal.epsilon,
                dq=cal.dq,
            ),
            gti=data.gti,
            exptime=data.observation.exptime,
            keywords=header_dict(data.primary_header, data.events_header),
            timeline=data.timeline,
            source_file=str(path),
        )
        observation, extras = data.observation, data.extras
    else:
        raise InputFileError(path, f"expected a STIS event file, found a {kind.value} file")
    return Dataset(
        observation=observation,
        segments=(segment,),
        files=tuple(str(f) for f in files.files),
        extras=extras,
    )


__all__ = ["StisTagData", "read_stis_dataset", "read_stis_tag", "x1d_extras"]
