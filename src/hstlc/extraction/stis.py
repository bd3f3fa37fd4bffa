"""STIS: the extraction boxes of a TIME-TAG exposure's spectral orders from its x1d (A2CENTER, EXTRSIZE,
BK1/BK2 geometry, converted to the hi-res pixels of the events), the PHOTTAB sensitivity per order, why no
TDS correction is made, and the :data:`STIS` :class:`~hstlc.extraction.context.Instrument` record.

The reader (:mod:`hstlc.readers.stis`) found the x1d and the reference files (``Dataset.extras``); nothing
here reads a header keyword naming a folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hstlc.domain import Dataset, Segment
from hstlc.errors import ExtractionError, HstlcError
from hstlc.extraction.context import Instrument, _Context, _kw, _segment_label
from hstlc.extraction.params import ExtractionParams, _limits
from hstlc.readers.reftables import PhotTable, read_phottab
from hstlc.science.calibration import FluxCalibration, dispersion_at, stis_sensitivity
from hstlc.science.lightcurve import Channel, SegmentSpec
from hstlc.science.selection import AIRGLOW_WINDOWS, DEFAULT_STIS_SDQFLAGS, Band

STIS_HIRES = 2048


def _stis_calibration(
    ctx: _Context, dataset: Dataset, order: Mapping[str, Any], column_wl: np.ndarray
) -> FluxCalibration:
    obs = dataset.observation
    if "PHOTTAB" not in ctx.tables:
        path = dataset.extras.get("phottab")
        table = None
        if not path:
            ctx.table_reasons["PHOTTAB"] = "no PHOTTAB reference file found"
        else:
            try:
                table = read_phottab(path)
                ctx.meta["PHOTTAB"] = Path(path).name
            except HstlcError as exc:
                ctx.table_reasons["PHOTTAB"] = f"PHOTTAB unreadable: {exc}"
        ctx.tables["PHOTTAB"] = table
    phottab: PhotTable | None = ctx.tables["PHOTTAB"]
    if phottab is None:
        ctx.flux_problems.append(ctx.table_reasons["PHOTTAB"])
        return FluxCalibration()
    rows = phottab.match(opt_elem=obs.opt_elem, cenwave=obs.cenwave, sporder=int(order["sporder"]))
    if not rows:
        ctx.flux_problems.append(
            f"PHOTTAB {phottab.path.name} has no row for {obs.opt_elem} {obs.cenwave} "
            f"order {order['sporder']}"
        )
        return FluxCalibration()
    row = rows[0]
    try:
        dispersion = dispersion_at(column_wl, row.wavelength)
        return FluxCalibration(sensitivity=stis_sensitivity(row.wavelength, row.throughput, dispersion))
    except ValueError as exc:
        ctx.flux_problems.append(f"PHOTTAB {phottab.path.name} order {order['sporder']}: {exc}")
        return FluxCalibration()


def _stis_tds_note(dataset: Dataset) -> str:
    """Why STIS fluxes carry no TDS correction, naming the TDSTAB and whether it was found."""
    value = dataset.extras.get("tdstab_value")
    found = dataset.extras.get("tdstab")
    if found:
        where = f"TDSTAB {Path(found).name} found but not applied"
    elif value and str(value).upper() not in ("N/A", "NONE", ""):
        where = f"TDSTAB {value} not found"
    else:
        where = "no TDSTAB named"
    return f"no TDS (time-dependent sensitivity) correction: {where} (STIS TDSTAB format not documented)"


def _stis_spec(
    ctx: _Context, dataset: Dataset, segment: Segment, params: ExtractionParams, lref_dir: Any
) -> tuple[SegmentSpec, dict[str, Any]]:
    """The :class:`SegmentSpec` of a STIS exposure (one channel per x1d order) and its meta keywords.
    ``lref_dir`` is not used: the reader located PHOTTAB/APERTAB (``Dataset.extras``)."""
    obs = dataset.observation
    keywords = segment.keywords
    label = _segment_label(segment)
    sdq = _kw(keywords, "SDQFLAGS")
    if sdq is None and dataset.extras.get("x1d_sdqflags") is not None:
        # FORMATS.md §9: SDQFLAGS is confirmed in the x1d SCI header (typically 31743), not in the tag.
        sdq = int(dataset.extras["x1d_sdqflags"])
        ctx.note(f"{label}: no SDQFLAGS keyword; the x1d SCI header's {sdq} used", warn=False)
    if sdq is None:
        ctx.note(f"{label}: no SDQFLAGS keyword; calstis' default {DEFAULT_STIS_SDQFLAGS} used", warn=False)
        sdq = DEFAULT_STIS_SDQFLAGS
    for text in dataset.extras.get("calibration_notes", ()) or ():
        ctx.note(str(text), warn=False)
    meta: dict[str, Any] = {"XMIN": 1, "XMAX": STIS_HIRES}
    if obs.obstype.upper() == "IMAGING":
        channel = Channel("IMAGE", Band(STIS_HIRES / 2.0 + 0.5, float(STIS_HIRES)))
        spec = SegmentSpec(
            channels=(channel,),
            sdqflags=int(sdq),
            ncols=STIS_HIRES // 2,
            xmin=1.0,
            xmax=STIS_HIRES + 0.5,
            column_offset=1.0,
            column_scale=2.0,
            wavelength_cut=False,
        )
        meta.update({"YMIN": 1, "YMAX": STIS_HIRES})
        ctx.flux_problems.append("IMAGING exposure: no spectroscopic flux calibration")
        return spec, meta
    orders = dataset.extras.get("orders") or ()
    if not orders:
        raise ExtractionError(f"{label}: no x1d spectral orders (the x1d gives the extraction region)")
    ncols = max(len(o["wavelength"]) for o in orders)
    channels = []
    lows, highs = [], []
    for order in orders:
        a2c, size = order.get("a2center"), order.get("extrsize")
        if a2c is None or size is None or not size > 0:
            raise ExtractionError(
                f"{label}: x1d order {order['sporder']} has no A2CENTER/EXTRSIZE "
                "(cannot place the extraction box)"
            )
        # Low-res 1-indexed coordinate L ↔ hi-res h: L = (h + 0.5) / 2, so h = 2L − 0.5; heights double.
        source = Band(2.0 * a2c - 0.5, 2.0 * size)
        backgrounds = []
        for off_key, size_key in (("bk1offst", "bk1size"), ("bk2offst", "bk2size")):
            off, bsize = order.get(off_key), order.get(size_key)
            if off is not None and bsize is not None and bsize > 0:
                backgrounds.append(Band(2.0 * (a2c + off) - 0.5, 2.0 * bsize))
        if not backgrounds:
            ctx.note(
                f"{label}: x1d order {order['sporder']} has no BK1/BK2 geometry; no background subtracted"
            )
        column_wl = np.full(ncols, np.nan)
        wl = np.asarray(order["wavelength"], dtype=np.float64)
        column_wl[: len(wl)] = np.where(wl > 0, wl, np.nan)
        calibration = _stis_calibration(ctx, dataset, order, column_wl[: len(wl)])
        channels.append(
            Channel(f"ORDER{order['sporder']}", source, tuple(backgrounds), calibration, column_wl)
        )
        lows.append(source.lower)
        highs.append(source.upper)
    if ctx.meta.get("PHOTTAB") and not dataset.extras.get("apertab"):
        ctx.note("STIS flux assumes aperture throughput 1 (no APERTAB) and no PCTAB correction", warn=False)
    elif ctx.meta.get("PHOTTAB"):
        ctx.note(
            "STIS flux: APERTAB/PCTAB aperture corrections not applied (infinite-aperture flux)", warn=False
        )
    wmin, wmax = _limits("STIS", params)
    exclude = () if params.keep_airglow else AIRGLOW_WINDOWS
    spec = SegmentSpec(
        channels=tuple(channels),
        sdqflags=int(sdq),
        ncols=ncols,
        xmin=1.0,
        xmax=STIS_HIRES + 0.5,
        wmin=wmin,
        wmax=wmax,
        exclude=exclude,
        column_offset=1.0,
        column_scale=2.0,
    )
    meta.update({"WMIN": wmin, "WMAX": wmax, "YMIN": round(min(lows), 3), "YMAX": round(max(highs), 3)})
    return spec, meta


def _stis_calibrated_meta(ctx: _Context, dataset: Dataset) -> dict[str, Any]:
    """TDSCORR = 'OMITTED' always (the STIS TDSTAB format is undocumented) and the FLUXNOTE saying so."""
    tds = _stis_tds_note(dataset)
    ctx.note(tds, warn=False)
    return {
        "TDSCORR": "OMITTED",
        "FLUXNOTE": f"STIS PHOTTAB throughput; no APERTAB/PCTAB aperture correction; {tds}",
    }


def _stis_background_key(channel: str) -> str:
    """BKGSCALE: one keyword for the exposure (of several orders, the last one's factor is written)."""
    return "BKGSCALE"


STIS = Instrument(
    build_spec=_stis_spec,
    calibrated_meta=_stis_calibrated_meta,
    background_key=_stis_background_key,
)
