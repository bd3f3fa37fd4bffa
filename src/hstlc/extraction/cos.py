"""COS: the extraction boxes of a corrtag's segments (FUV) or stripes (NUV) from their EVENTS header
keywords, the FLUXTAB sensitivity and TDSTAB correction per segment, and the :data:`COS`
:class:`~hstlc.extraction.context.Instrument` record (its good-time cut is the lamp-flash cut of
:mod:`hstlc.extraction.flashes`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hstlc.domain import SECONDS_PER_DAY, Dataset, Observation, Segment
from hstlc.errors import ExtractionError, HstlcError
from hstlc.extraction.context import Instrument, _Context, _float_kw, _kw, _segment_label
from hstlc.extraction.flashes import _lamp_flash_cut
from hstlc.extraction.params import ExtractionParams, _limits
from hstlc.readers.reftables import FluxTable, TdsTable, locate_reference, read_fluxtab, read_tdstab
from hstlc.science.calibration import FluxCalibration, ResponseCurve, tds_factor
from hstlc.science.lightcurve import Channel, SegmentSpec
from hstlc.science.selection import AIRGLOW_WINDOWS, DEFAULT_COS_SDQFLAGS, Band

#: COS detector geometry: (x size = spectral columns, y size, x of the detector middle).
COS_GEOMETRY: Mapping[str, tuple[int, int, float]] = {
    "FUV": (16384, 1024, 8192.0),
    "NUV": (1024, 1024, 512.0),
}
NOT_EXTRACTED = -999.0


def _cos_band(
    keywords: Mapping[str, Any], letter: str, x_ref: float, label: str
) -> tuple[Band, tuple[Band, ...]]:
    """Source and background bands of one COS segment/stripe from its extraction keywords."""
    names = (
        f"SP_LOC_{letter}",
        f"SP_HGT_{letter}",
        f"B_BKG1_{letter}",
        f"B_HGT1_{letter}",
        f"B_BKG2_{letter}",
        f"B_HGT2_{letter}",
    )
    values = {}
    for name in names:
        value = _float_kw(keywords, name)
        if value is None:
            raise ExtractionError(f"{label}: missing extraction keyword {name} in the EVENTS header")
        if value == NOT_EXTRACTED:
            raise ExtractionError(
                f"{label}: {name} is -999 (calcos did not extract this spectrum; no extraction box)"
            )
        values[name] = value
    slope = _float_kw(keywords, f"SP_SLP_{letter}")
    if slope is None or slope == NOT_EXTRACTED:
        slope = 0.0
    for name in (f"SP_HGT_{letter}", f"B_HGT1_{letter}", f"B_HGT2_{letter}"):
        if values[name] <= 0:
            raise ExtractionError(f"{label}: {name} = {values[name]:g} is not a positive height")
    source = Band(values[names[0]], values[names[1]], slope, x_ref)
    backgrounds = (
        Band(values[names[2]], values[names[3]], slope, x_ref),
        Band(values[names[4]], values[names[5]], slope, x_ref),
    )
    return source, backgrounds


def _reference_table(ctx: _Context, keywords: Mapping[str, Any], key: str, ref_dir: Any, reader: Any) -> Any:
    """Read the reference table the header keyword ``key`` names, once per dataset; None if unusable."""
    if key in ctx.tables:
        return ctx.tables[key]
    value = _kw(keywords, key)
    found = locate_reference(None if value is None else str(value), ref_dir)
    table = None
    if found.path is None:
        reason = found.reason or "not named in the header"
        if value is None:
            reason = f"no {key} keyword in the header"
        ctx.table_reasons[key] = f"{key} {found.value or ''}: {reason}".replace("  ", " ")
    else:
        try:
            table = reader(found.path)
        except HstlcError as exc:
            ctx.table_reasons[key] = f"{key} unreadable: {exc}"
        ctx.meta[key] = found.path.name
    ctx.tables[key] = table
    return table


def _first_row(
    ctx: _Context, problems: list[str], what: str, path: Path, rows: Sequence[Any], segment_name: str,
    observation: Observation,
) -> Any:
    """The row of a reference table to use: the first match (noted when several match); None, with the
    problem recorded, when none does."""
    if not rows:
        problems.append(
            f"{what} {path.name} has no row for {segment_name} {observation.opt_elem} "
            f"{observation.cenwave} {observation.aperture}"
        )
        return None
    if len(rows) > 1:
        ctx.note(f"{what} {path.name}: {len(rows)} rows match {segment_name}; using the first")
    return rows[0]


def _cos_calibration(
    ctx: _Context, observation: Observation, keywords: Mapping[str, Any], segment_name: str, lref_dir: Any
) -> FluxCalibration:
    """FLUXTAB sensitivity (row SEGMENT/OPT_ELEM/CENWAVE/APERTURE[/FPOFFSET]) and TDS at the midpoint."""
    fluxtab: FluxTable | None = _reference_table(ctx, keywords, "FLUXTAB", lref_dir, read_fluxtab)
    sensitivity = None
    if fluxtab is None:
        ctx.flux_problems.append(ctx.table_reasons.get("FLUXTAB", "no FLUXTAB"))
    else:
        fpoffset = observation.fppos - 3 if observation.fppos else None
        rows = fluxtab.match(
            segment=segment_name,
            opt_elem=observation.opt_elem,
            cenwave=observation.cenwave,
            aperture=observation.aperture,
            fpoffset=fpoffset,
        )
        flux_row = _first_row(ctx, ctx.flux_problems, "FLUXTAB", fluxtab.path, rows, segment_name,
                              observation)
        if flux_row is not None:
            try:
                sensitivity = ResponseCurve.from_table(flux_row.wavelength, flux_row.sensitivity)
            except ValueError as exc:
                ctx.flux_problems.append(f"FLUXTAB {fluxtab.path.name} row {segment_name}: {exc}")
    tds = None
    tdstab: TdsTable | None = _reference_table(ctx, keywords, "TDSTAB", lref_dir, read_tdstab)
    if tdstab is None:
        ctx.tds_problems.append(ctx.table_reasons.get("TDSTAB", "no TDSTAB"))
    else:
        rows_t = tdstab.match(
            opt_elem=observation.opt_elem,
            aperture=observation.aperture,
            segment=segment_name,
            cenwave=observation.cenwave,
        )
        rows_t = tuple(r for r in rows_t if r.pedigree != "DUMMY")
        row = _first_row(ctx, ctx.tds_problems, "TDSTAB", tdstab.path, rows_t, segment_name, observation)
        if row is not None:
            if tdstab.ref_time_missing:
                ctx.note(f"TDSTAB {tdstab.path.name} has no REF_TIME; 0 used as calcos does")
            midpoint = 0.5 * (observation.expstart + observation.expend)
            if not observation.expend or observation.expend < observation.expstart:
                midpoint = observation.expstart + observation.exptime / 2.0 / SECONDS_PER_DAY
            try:
                tds = tds_factor(
                    midpoint,
                    wavelength=row.wavelength,
                    times=row.time,
                    slope=row.slope,
                    intercept=row.intercept,
                    ref_time=tdstab.ref_time,
                )
            except ValueError as exc:
                ctx.tds_problems.append(f"TDSTAB {tdstab.path.name} row {segment_name}: {exc}")
    return FluxCalibration(sensitivity=sensitivity, tds=tds)


def _cos_spec(
    ctx: _Context, dataset: Dataset, segment: Segment, params: ExtractionParams, lref_dir: Any
) -> tuple[SegmentSpec, dict[str, Any]]:
    """The :class:`SegmentSpec` of one COS segment (FUV) or of the stripes of an NUV exposure, one
    channel each, with FLUXTAB/TDSTAB from ``lref_dir``, and its meta keywords."""
    obs = dataset.observation
    detector = obs.detector.upper()
    if detector not in COS_GEOMETRY:
        raise ExtractionError(f"{_segment_label(segment)}: unknown COS detector {obs.detector!r}")
    ncols, ny, x_ref = COS_GEOMETRY[detector]
    keywords = segment.keywords
    label = _segment_label(segment)
    sdq = _kw(keywords, "SDQFLAGS")
    if sdq is None:
        sdq = obs.sdqflags if obs.sdqflags is not None else None
    if sdq is None:
        ctx.note(f"{label}: no SDQFLAGS keyword; calcos' default {DEFAULT_COS_SDQFLAGS} used")
        sdq = DEFAULT_COS_SDQFLAGS
    meta: dict[str, Any] = {"XMIN": 0, "XMAX": ncols}
    if obs.obstype.upper() == "IMAGING":
        channel = Channel("IMAGE", Band(ny / 2.0, float(ny)))
        spec = SegmentSpec(
            channels=(channel,),
            sdqflags=int(sdq),
            ncols=ncols,
            xmin=0.0,
            xmax=float(ncols),
            wavelength_cut=False,
        )
        meta.update({"YMIN": 0, "YMAX": ny})
        ctx.flux_problems.append("IMAGING exposure: no spectroscopic flux calibration")
        return spec, meta
    if detector == "FUV":
        letters = [(segment.name[-1], segment.name)]
    else:
        stripes = ("A", "B") if obs.opt_elem.upper() == "G230L" else ("A", "B", "C")
        letters = [(s, f"NUV{s}") for s in stripes]
    wmin, wmax = _limits(detector, params)
    xtrctalg = str(_kw(keywords, "XTRCTALG") or "BOXCAR").upper()
    if xtrctalg == "TWOZONE":
        ctx.note(
            f"{label}: XTRCTALG=TWOZONE; the boxcar SP_HGT window is used (the two-zone profile is "
            "not in the corrtag)"
        )
    channels = []
    for letter, name in letters:
        try:
            source, backgrounds = _cos_band(keywords, letter, x_ref, label)
        except ExtractionError as exc:
            if detector == "NUV" and len(letters) > 1:
                ctx.note(f"stripe {name} left out: {exc}")
                continue
            raise
        calibration = _cos_calibration(ctx, obs, keywords, name, lref_dir)
        channels.append(Channel(name, source, backgrounds, calibration))
        meta[f"YMIN_{letter}"] = round(source.lower, 3)
        meta[f"YMAX_{letter}"] = round(source.upper, 3)
        if source.slope:
            meta[f"SLOPE_{letter}"] = source.slope
    if not channels:
        raise ExtractionError(f"{label}: no NUV stripe has extraction keywords")
    exclude = () if params.keep_airglow else AIRGLOW_WINDOWS
    spec = SegmentSpec(
        channels=tuple(channels),
        sdqflags=int(sdq),
        ncols=ncols,
        xmin=0.0,
        xmax=float(ncols),
        wmin=wmin,
        wmax=wmax,
        exclude=exclude,
    )
    meta.update({"WMIN": wmin, "WMAX": wmax})
    return spec, meta


def _cos_calibrated_meta(ctx: _Context, dataset: Dataset) -> dict[str, Any]:
    """TDSCORR (and FLUXNOTE when the TDS correction could not be made) of a flux-calibrated curve."""
    meta: dict[str, Any] = {}
    if ctx.tds_problems:
        meta["TDSCORR"] = "OMITTED"
        for problem in dict.fromkeys(ctx.tds_problems):
            ctx.note(f"no TDS correction: {problem}")
        meta["FLUXNOTE"] = "no TDS correction: " + "; ".join(dict.fromkeys(ctx.tds_problems))
    else:
        meta["TDSCORR"] = "COMPLETE"
    return meta


def _cos_background_key(channel: str) -> str:
    """BKGSCL_x: the background scale factor of segment/stripe letter x."""
    return f"BKGSCL_{channel[-1]}"


COS = Instrument(
    build_spec=_cos_spec,
    calibrated_meta=_cos_calibrated_meta,
    background_key=_cos_background_key,
    cut_good_time=_lamp_flash_cut,
)
