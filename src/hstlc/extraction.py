"""The lightcurve extraction engine's library API (the I/O edge around :mod:`hstlc.science`).

:func:`extract_dataset` turns a :class:`~hstlc.domain.Dataset` (from :func:`hstlc.readers.read_dataset`)
into a :class:`~hstlc.domain.LightCurve`; :func:`extract_file` reads the dataset first;
:func:`make_composite` stacks several datasets of one configuration; :func:`group_key` is the composite
grouping key. Reference tables (COS FLUXTAB/TDSTAB, STIS PHOTTAB) are read here; the numerics are the
pure functions of :mod:`hstlc.science`. Every problem with the input raises
:class:`~hstlc.errors.ExtractionError` (or :class:`~hstlc.errors.InputFileError`) naming the file; every
calibration step that cannot be done is logged as a warning and recorded in ``LightCurve.meta``
(``FLUXCAL = 'UNCALIBRATED'`` and ``FLUXNOTE``) — never silently.

``LightCurve.meta`` keys (upper-case FITS keywords, consumed by :func:`hstlc.products.write_lightcurve`):
identity (TELESCOP, INSTRUME, DETECTOR, TARGNAME, RA_TARG, DEC_TARG, EQUINOX, OPT_ELEM, CENWAVE, APERTURE,
PROPOSID, ROOTNAME, EXPSTART, EXPEND, TARGORIG when the name was resolved), extraction parameters
(STEPSIZE, WMIN, WMAX, XMIN, XMAX, YMIN_x/YMAX_x per COS segment/stripe letter or YMIN/YMAX for STIS,
BKGSCL_x background scale factors, NPIXEL columns extracted, AIRGLOW, MAXSUNAL, SUNCUT), calibration
(FLUXCAL, FLUXNOTE, TDSCORR, FLUXTAB, TDSTAB or PHOTTAB used; STIS: TDSCORR = 'OMITTED' always, the STIS
TDSTAB format being undocumented), COS lamp flashes of TAGFLASH exposures (FLASHCUT = 'APPLIED' / 'NONE
FOUND' / 'NOT APPLIED', NFLASH flashes, FLASHEXP seconds of good time removed), TIMEPIXR = 0 (bin
starts), SRCFILEn, and NOTEn sentences on anything that could not be done as the data asked.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hstlc.domain import (
    LIGHTCURVE_COLUMNS,
    MEMBER_KEYS,
    SECONDS_PER_DAY,
    Dataset,
    LightCurve,
    Observation,
    Segment,
    finite_float,
    stack_curves,
)
from hstlc.errors import ExtractionError, HstlcError
from hstlc.readers import read_dataset, split_name
from hstlc.readers.reftables import (
    FluxTable,
    PhotTable,
    TdsTable,
    locate_reference,
    read_fluxtab,
    read_phottab,
    read_tdstab,
)
from hstlc.science.background import (
    exclude_intervals,
    excluded_time,
    find_lamp_flashes,
    keyword_flash_intervals,
)
from hstlc.science.binning import bin_index, exposure_grid, time_edges
from hstlc.science.calibration import (
    FluxCalibration,
    ResponseCurve,
    dispersion_at,
    stis_sensitivity,
    tds_factor,
)
from hstlc.science.gti import (
    exposure_per_bin,
    in_gti,
    intersect_gti,
    mask_to_gti,
    normalize_gti,
    total_exposure,
)
from hstlc.science.lightcurve import (
    CHUNK_EVENTS,
    Channel,
    ChannelSums,
    SegmentSpec,
    accumulate_segment,
    assemble,
    source_wavelength_range,
)
from hstlc.science.selection import (
    AIRGLOW_WINDOWS,
    DEFAULT_COS_SDQFLAGS,
    DEFAULT_STIS_SDQFLAGS,
    Band,
)

log = logging.getLogger(__name__)

#: Default wavelength limits (Å) per detector, as the original used them.
DEFAULT_WAVELENGTH_LIMITS: Mapping[str, tuple[float, float]] = {
    "FUV": (915.0, 1800.0),
    "NUV": (915.0, 3200.0),
    "STIS": (2.0, 10000.0),
}
#: COS detector geometry: (x size = spectral columns, y size, x of the detector middle).
COS_GEOMETRY: Mapping[str, tuple[int, int, float]] = {
    "FUV": (16384, 1024, 8192.0),
    "NUV": (1024, 1024, 512.0),
}
STIS_HIRES = 2048
NOT_EXTRACTED = -999.0
#: TAGFLASH values (primary header) meaning the lamp was not flashed [calcos calcosparam: NONE, AUTO,
#: UNIFORMLY SPACED]; a missing TAGFLASH also means no flashes.
TAGFLASH_OFF = frozenset({"", "NONE", "N/A", "NA"})
#: Bin width (s) of the count-rate search for lamp flashes.
FLASH_SEARCH_BIN = 1.0
#: Padding (s) of the LMP_ONi/LMPOFFi intervals: calcos measures them in 0.2 s bins.
FLASH_KEYWORD_PAD = 0.2
#: A flash cut that would remove more than this fraction of the good time is not applied (noted).
FLASH_MAX_FRACTION = 0.5


# ------------------------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class ExtractionParams:
    """What to extract: bin width ``step`` (s), wavelength limits (``None`` = detector default), whether
    to keep the airglow windows, and an optional SUN_ALT ceiling (degrees) applied as a GTI cut."""

    step: float = 2.0
    wmin: float | None = None
    wmax: float | None = None
    keep_airglow: bool = False
    max_sun_alt: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.step, int | float) and math.isfinite(self.step) and self.step > 0):
            raise ExtractionError(f"step must be a positive number of seconds, not {self.step!r}")
        for name in ("wmin", "wmax", "max_sun_alt"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ExtractionError(f"{name} must be a finite number, not {value!r}")
        if self.wmin is not None and self.wmax is not None and self.wmin >= self.wmax:
            raise ExtractionError(f"wmin ({self.wmin} Å) must be below wmax ({self.wmax} Å)")
        if self.max_sun_alt is not None and not -90.0 <= self.max_sun_alt <= 90.0:
            raise ExtractionError(f"max_sun_alt must lie between -90 and 90 degrees, not {self.max_sun_alt}")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> ExtractionParams:
        """Parameters from :class:`hstlc.config.Settings` (step, keep_airglow, max_sun_alt), with
        ``overrides`` (any field; ``None`` values are ignored) on top."""
        values: dict[str, Any] = {
            "step": float(settings.step),
            "keep_airglow": bool(settings.keep_airglow),
            "max_sun_alt": settings.max_sun_alt,
        }
        unknown = set(overrides) - {"step", "wmin", "wmax", "keep_airglow", "max_sun_alt"}
        if unknown:
            raise ExtractionError(f"unknown extraction parameter(s): {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def group_key(observation: Observation, targname: str | None = None) -> tuple[str, ...]:
    """Composite grouping key: (instrume, detector, targname, opt_elem, cenwave, aperture), upper case."""
    name = targname if targname else observation.targname
    return tuple(
        str(v).strip().upper()
        for v in (
            observation.instrume,
            observation.detector,
            name,
            observation.opt_elem,
            observation.cenwave,
            observation.aperture,
        )
    )


# ------------------------------------------------------------------------------------------- internals
@dataclass
class _Context:
    """Per-dataset bookkeeping while building the extraction: notes for the header and the log."""

    name: str
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    flux_problems: list[str] = field(default_factory=list)
    tds_problems: list[str] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)

    def note(self, text: str, *, warn: bool = True) -> None:
        if text not in self.notes:
            self.notes.append(text)
        (log.warning if warn else log.info)("%s: %s", self.name, text)


@dataclass(frozen=True)
class _Result:
    curve: LightCurve
    wavelength_min: float
    wavelength_max: float
    calibrated: bool
    n_source: int


def _kw(keywords: Mapping[str, Any], key: str) -> Any:
    value = keywords.get(key)
    if value is None:
        value = keywords.get(key.upper())
    return value


def _float_kw(keywords: Mapping[str, Any], key: str) -> float | None:
    return finite_float(_kw(keywords, key))


def _segment_label(segment: Segment) -> str:
    return Path(segment.source_file).name if segment.source_file else segment.name


def _limits(detector_family: str, params: ExtractionParams) -> tuple[float, float]:
    lo, hi = DEFAULT_WAVELENGTH_LIMITS[detector_family]
    wmin = lo if params.wmin is None else float(params.wmin)
    wmax = hi if params.wmax is None else float(params.wmax)
    if wmin >= wmax:
        raise ExtractionError(f"wavelength limits {wmin}–{wmax} Å are empty")
    return wmin, wmax


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
        ctx.tables[f"{key}_reason"] = f"{key} {found.value or ''}: {reason}".replace("  ", " ")
    else:
        try:
            table = reader(found.path)
        except HstlcError as exc:
            ctx.tables[f"{key}_reason"] = f"{key} unreadable: {exc}"
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
        ctx.flux_problems.append(ctx.tables.get("FLUXTAB_reason", "no FLUXTAB"))
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
        ctx.tds_problems.append(ctx.tables.get("TDSTAB_reason", "no TDSTAB"))
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


def _stis_calibration(
    ctx: _Context, dataset: Dataset, order: Mapping[str, Any], column_wl: np.ndarray
) -> FluxCalibration:
    obs = dataset.observation
    if "PHOTTAB" not in ctx.tables:
        path = dataset.extras.get("phottab")
        table = None
        if not path:
            ctx.tables["PHOTTAB_reason"] = "no PHOTTAB reference file found"
        else:
            try:
                table = read_phottab(path)
                ctx.meta["PHOTTAB"] = Path(path).name
            except HstlcError as exc:
                ctx.tables["PHOTTAB_reason"] = f"PHOTTAB unreadable: {exc}"
        ctx.tables["PHOTTAB"] = table
    phottab: PhotTable | None = ctx.tables["PHOTTAB"]
    if phottab is None:
        ctx.flux_problems.append(ctx.tables["PHOTTAB_reason"])
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
    ctx: _Context, dataset: Dataset, segment: Segment, params: ExtractionParams
) -> tuple[SegmentSpec, dict[str, Any]]:
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


def _sun_gti(ctx: _Context, segment: Segment, max_sun_alt: float, stop: float) -> np.ndarray | None:
    timeline = segment.timeline
    if not timeline or "time" not in timeline or "sun_alt" not in timeline:
        ctx.note(f"{_segment_label(segment)}: no TIMELINE SUN_ALT; the --max-sun-alt cut was not applied")
        return None
    t = np.asarray(timeline["time"], dtype=np.float64)
    alt = np.asarray(timeline["sun_alt"], dtype=np.float64)
    ok = np.isfinite(t)
    t, alt = t[ok], alt[ok]
    if len(t) == 0:
        ctx.note(f"{_segment_label(segment)}: TIMELINE is empty; the --max-sun-alt cut was not applied")
        return None
    good = np.isfinite(alt) & (alt <= max_sun_alt)
    return mask_to_gti(t, good, lower=min(0.0, float(t.min())), upper=max(stop, float(t.max())))


def _keyword_flashes(keywords: Mapping[str, Any]) -> np.ndarray:
    """Flash intervals from NUMFLASH and LMP_ONi/LMPOFFi (or LMPDURi) of one EVENTS header (its own
    clock): calcos writes the measured times of the first NUMFLASH flashes over the commanded ones."""
    on: list[float] = []
    off: list[float] = []
    for i in range(1, 100):
        start = _float_kw(keywords, f"LMP_ON{i}")
        stop = _float_kw(keywords, f"LMPOFF{i}")
        if stop is None and start is not None:
            duration = _float_kw(keywords, f"LMPDUR{i}")
            stop = None if duration is None else start + duration
        if start is None and stop is None:
            break
        if start is not None and stop is not None:
            on.append(start)
            off.append(stop)
    numflash = _float_kw(keywords, "NUMFLASH")
    if numflash is not None:
        n = max(int(numflash), 0)
        on, off = on[:n], off[:n]
    return keyword_flash_intervals(on, off, pad=FLASH_KEYWORD_PAD)


def _flash_counts(
    segment: Segment, spec: SegmentSpec, offset: float, gti: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per search bin: DQ-clean events in the good time outside every source band, and inside one."""
    ev = segment.events
    nbins = len(edges) - 1
    outside = np.zeros(nbins)
    inside = np.zeros(nbins)
    mask = int(spec.sdqflags) | int(spec.serious_dq)
    for lo in range(0, len(ev), CHUNK_EVENTS):
        sl = slice(lo, lo + CHUNK_EVENTS)
        x, y = ev.x[sl], ev.y[sl]
        in_src = np.zeros(len(x), dtype=bool)
        for channel in spec.channels:
            in_src |= channel.source.contains(x, y)
        t = ev.time[sl].astype(np.float64) + offset
        good = ((ev.dq[sl] & mask) == 0) & in_gti(t, gti)
        for total, pick in ((outside, good & ~in_src), (inside, good & in_src)):
            tp = t[pick]
            if len(tp) < 2 or bool(np.all(tp[1:] >= tp[:-1])):  # time-ordered (the normal case): no index
                total += np.diff(np.searchsorted(tp, edges, side="left"))
            else:
                k = bin_index(tp, edges)
                total += np.bincount(k[k >= 0], minlength=nbins)[:nbins]
    return outside, inside


def _lamp_flash_cut(
    ctx: _Context, built: Sequence[tuple[Segment, SegmentSpec]], offsets: Sequence[float], gti: np.ndarray
) -> np.ndarray:
    """``gti`` without the wavecal lamp flashes of a TAGFLASH exposure (COS).

    The flashes come from the file: the LMP_ONi/LMPOFFi keywords calcos measured, and a search of the
    count rate outside the source bands (:func:`hstlc.science.background.find_lamp_flashes`) for any
    the keywords do not cover. The flash time is removed from the good time of source and background
    alike: the lamp's wings raise the background band by ~40 % (FORMATS.md §9) and their share in the
    source box is unknown, so a flash-free background subtracted from a flash-lit box would leave a bias
    of unknown size; without the flash time both are unbiased, at the cost of the flashes' duty cycle.
    """
    values = [_kw(seg.keywords, "TAGFLASH") for seg, _ in built]
    tagflash = next((str(v).strip().upper() for v in values if v is not None), "")
    if tagflash in TAGFLASH_OFF:
        return gti
    found = []
    n_keyword = 0
    for (segment, _spec), offset in zip(built, offsets, strict=True):
        kw = _keyword_flashes(segment.keywords)
        n_keyword = max(n_keyword, len(kw))
        if len(kw):
            found.append(kw + offset)
    edges = time_edges(float(gti[-1, 1]), FLASH_SEARCH_BIN, start=float(gti[0, 0]))
    exposure = exposure_per_bin(edges, gti)
    n_rate = 0
    rejected = 0
    for (segment, spec), offset in zip(built, offsets, strict=True):
        outside, inside = _flash_counts(segment, spec, offset, gti, edges)
        search = find_lamp_flashes(edges, exposure, outside, source_counts=inside)
        rejected += search.rejected
        if len(search.intervals):
            n_rate = max(n_rate, len(search.intervals))
            found.append(search.intervals)
    if rejected:
        ctx.note(f"{rejected} count-rate excess(es) outside the source bands rose in the source bands too: "
                 "taken for the source, not the lamp", warn=False)
    flashes = normalize_gti(np.concatenate(found)) if found else np.zeros((0, 2))
    removed = excluded_time(gti, flashes) if len(flashes) else 0.0
    good = total_exposure(gti)
    if removed <= 0.0:
        ctx.meta["FLASHCUT"] = "NONE FOUND"
        ctx.note(f"TAGFLASH={tagflash} but no lamp flash found (no LMP_ON/LMPOFF keywords, no count-rate "
                 "step outside the source bands); background not corrected for flashes")
        return gti
    if removed > FLASH_MAX_FRACTION * good:
        ctx.meta["FLASHCUT"] = "NOT APPLIED"
        ctx.note(f"TAGFLASH={tagflash}: the lamp-flash intervals cover {removed:.1f} of {good:.1f} s of good "
                 "time; not removed (is this a wavecal?)")
        return gti
    kept = exclude_intervals(gti, flashes)
    n_flashes = int(np.count_nonzero(
        [len(intersect_gti(gti, [interval])) > 0 for interval in flashes]
    ))
    how = []
    if n_keyword:
        how.append("LMP_ON/LMPOFF keywords")
    if n_rate:
        how.append("count rate outside the source bands")
    ctx.meta.update({"FLASHCUT": "APPLIED", "NFLASH": n_flashes, "FLASHEXP": round(removed, 3)})
    ctx.note(f"TAGFLASH={tagflash}: {n_flashes} wavecal lamp flash(es) (from the {' and the '.join(how)}) "
             f"removed from the good time ({removed:.1f} s): the lamp raises the background band", warn=False)
    return kept


def _identity_meta(obs: Observation, targname: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "TELESCOP": obs.telescop or "HST",
        "INSTRUME": obs.instrume,
        "DETECTOR": obs.detector,
        "TARGNAME": targname or obs.targname,
        "RA_TARG": obs.ra_targ,
        "DEC_TARG": obs.dec_targ,
        "EQUINOX": obs.equinox,
        "OPT_ELEM": obs.opt_elem,
        "CENWAVE": obs.cenwave,
        "APERTURE": obs.aperture,
        "PROPOSID": obs.proposid,
        "ROOTNAME": obs.rootname,
        "EXPSTART": obs.expstart,
        "EXPEND": obs.expend,
    }
    if targname and targname != obs.targname:
        meta["TARGORIG"] = obs.targname
    for key in ("TARDESCR", "TARDESC2", "CAL_VER"):
        value = obs.header.get(key)
        if value not in (None, ""):
            meta[key] = value
    return {k: v for k, v in meta.items() if v is not None}


def _check_events(segment: Segment) -> None:
    ev = segment.events
    label = _segment_label(segment)
    if len(ev) == 0:
        raise ExtractionError(f"{label}: no events")
    if ev.time.dtype.kind == "f" and not np.isfinite(ev.time).all():
        bad = int(np.count_nonzero(~np.isfinite(ev.time)))
        raise ExtractionError(f"{label}: EVENTS TIME column has {bad} NaN or infinite value(s)")


@dataclass(frozen=True, eq=False)
class _Prepared:
    """What an extraction needs before it touches the events: the segments with their specs, their
    time offsets from EXPSTART, the common good time and its bin grid."""

    ctx: _Context
    instrument: str
    built: list[tuple[Segment, SegmentSpec]]
    segment_meta: dict[str, Any]
    offsets: list[float]
    calibrated: bool
    sun_cut: str
    gti: np.ndarray
    edges: np.ndarray
    exposure: np.ndarray

    def segment_times(self) -> Iterator[tuple[Segment, SegmentSpec, np.ndarray]]:
        """Each segment with its spec and its event times on the common (EXPSTART) clock."""
        for (segment, spec), offset in zip(self.built, self.offsets, strict=True):
            ev = segment.events
            yield segment, spec, ev.time if offset == 0.0 else ev.time.astype(np.float64) + offset

    def no_events(self) -> ExtractionError:
        where = ", ".join(_segment_label(seg) for seg, _ in self.built)
        return ExtractionError(
            f"{where}: no events in the extraction box pass the DQ, GTI and wavelength cuts"
        )


def _prepare(
    dataset: Dataset, params: ExtractionParams, *, lref_dir: Any, force_uncalibrated: bool = False
) -> _Prepared:
    obs = dataset.observation
    name = obs.rootname or obs.filename
    ctx = _Context(name)
    if not dataset.segments:
        raise ExtractionError(f"{obs.filename}: the dataset has no event segments")
    instrument = obs.instrume.upper()
    if instrument not in ("COS", "STIS"):
        raise ExtractionError(f"{obs.filename}: unsupported instrument {obs.instrume!r}")

    # Specs per segment; a COS FUV segment without extraction keywords is left out if the other remains.
    built: list[tuple[Segment, SegmentSpec]] = []
    segment_meta: dict[str, Any] = {}
    failures: list[str] = []
    for segment in dataset.segments:
        try:
            _check_events(segment)
            if instrument == "COS":
                spec, meta = _cos_spec(ctx, dataset, segment, params, lref_dir)
            else:
                spec, meta = _stis_spec(ctx, dataset, segment, params)
        except ExtractionError as exc:
            if len(dataset.segments) > 1:
                failures.append(str(exc))
                continue
            raise
        built.append((segment, spec))
        segment_meta.update(meta)
    if not built:
        raise ExtractionError("; ".join(failures))
    for text in failures:
        ctx.note(f"segment left out: {text}")

    calibrated = not ctx.flux_problems and not force_uncalibrated
    if not calibrated:
        # Never mix calibrated and unity-weighted channels in one FLUX column.
        built = [
            (
                seg,
                replace(
                    spec, channels=tuple(replace(ch, calibration=FluxCalibration()) for ch in spec.channels)
                ),
            )
            for seg, spec in built
        ]

    # Good time: the GTIs of every segment (a rate needs one exposure for all), and the SUN_ALT cut.
    offsets = []
    gti = None
    for segment, _spec in built:
        seg_start = _float_kw(segment.keywords, "EXPSTART")
        offset = (
            0.0 if seg_start is None or not obs.expstart else (seg_start - obs.expstart) * SECONDS_PER_DAY
        )
        offsets.append(offset)
        seg_gti = normalize_gti(segment.gti + offset)
        if gti is None:
            gti = seg_gti
        else:
            merged = intersect_gti(gti, seg_gti)
            lost = total_exposure(gti) + total_exposure(seg_gti) - 2 * total_exposure(merged)
            if lost > 1e-6:
                ctx.note(f"segment GTIs differ; {lost:.3f} s of single-segment time dropped", warn=False)
            gti = merged
    assert gti is not None
    if len(gti) == 0 or total_exposure(gti) <= 0:
        raise ExtractionError(f"{obs.filename}: no good time (the GTIs are empty)")
    sun_cut = "NONE"
    if params.max_sun_alt is not None:
        stop = float(gti[-1, 1])
        applied = False
        for (segment, _spec), offset in zip(built, offsets, strict=True):
            sg = _sun_gti(ctx, segment, float(params.max_sun_alt), stop - offset)
            if sg is not None:
                gti = intersect_gti(gti, sg + offset)
                applied = True
        sun_cut = "APPLIED" if applied else "NOT APPLIED (no TIMELINE)"
        if len(gti) == 0:
            raise ExtractionError(f"{obs.filename}: no good time left with SUN_ALT <= {params.max_sun_alt}°")
    if instrument == "COS":
        gti = _lamp_flash_cut(ctx, built, offsets, gti)

    edges, exposure = exposure_grid(gti, params.step)
    return _Prepared(ctx, instrument, built, segment_meta, offsets, calibrated, sun_cut, gti, edges, exposure)


def _window(dataset: Dataset, params: ExtractionParams, *, lref_dir: Any) -> tuple[float, float, bool]:
    """(lowest, highest wavelength of the selected source events, flux calibrated?) of a dataset: what
    :func:`_extract` would report, without binning anything (a composite's first look at a member)."""
    prep = _prepare(dataset, params, lref_dir=lref_dir)
    ranges = []
    for segment, spec, time in prep.segment_times():
        ev = segment.events
        ranges.extend(source_wavelength_range(time, ev.x, ev.y, ev.wavelength, ev.dq, spec=spec,
                                              gti=prep.gti, edges=prep.edges))
    found = [(lo, hi) for n, lo, hi in ranges if n]
    if not found:
        raise prep.no_events()
    return min(lo for lo, _ in found), max(hi for _, hi in found), prep.calibrated


def _extract(
    dataset: Dataset,
    params: ExtractionParams,
    *,
    lref_dir: Any,
    oref_dir: Any,
    targname: str | None,
    force_uncalibrated: bool = False,
) -> _Result:
    del oref_dir  # STIS reference files were applied by the reader; PHOTTAB comes from Dataset.extras
    obs = dataset.observation
    prep = _prepare(dataset, params, lref_dir=lref_dir, force_uncalibrated=force_uncalibrated)
    ctx, instrument, built, calibrated = prep.ctx, prep.instrument, prep.built, prep.calibrated
    edges, exposure, segment_meta, sun_cut = prep.edges, prep.exposure, prep.segment_meta, prep.sun_cut
    sums: list[ChannelSums] = []
    for segment, spec, time in prep.segment_times():
        ev = segment.events
        sums.extend(
            accumulate_segment(
                time, ev.x, ev.y, ev.wavelength, ev.epsilon, ev.dq, spec=spec, gti=prep.gti, edges=edges
            )
        )
    n_source = sum(s.n_source for s in sums)
    if n_source == 0:
        raise prep.no_events()
    uncalibrated_events = sum(s.n_uncalibrated for s in sums)
    if calibrated and uncalibrated_events:
        ctx.note(f"{uncalibrated_events} event(s) at wavelengths with sensitivity <= 0 carry no flux")
    columns = assemble(edges, exposure, sums)

    # Metadata.
    meta = _identity_meta(obs, targname)
    meta.update(
        {
            "STEPSIZE": float(params.step),
            **segment_meta,
            "NPIXEL": columns.n_columns,
            "AIRGLOW": not params.keep_airglow,
            "TIMEPIXR": 0.0,
        }
    )
    if any(s.background_scale for s in sums):
        for s in sums:
            if s.background_scale:
                meta[f"BKGSCL_{s.name[-1]}" if instrument == "COS" else "BKGSCALE"] = round(
                    s.background_scale, 6
                )
    if params.max_sun_alt is not None:
        meta["MAXSUNAL"] = float(params.max_sun_alt)
        meta["SUNCUT"] = sun_cut
    if calibrated:
        meta["FLUXCAL"] = "CALIBRATED"
        if instrument == "COS":
            if ctx.tds_problems:
                meta["TDSCORR"] = "OMITTED"
                for problem in dict.fromkeys(ctx.tds_problems):
                    ctx.note(f"no TDS correction: {problem}")
                meta["FLUXNOTE"] = "no TDS correction: " + "; ".join(dict.fromkeys(ctx.tds_problems))
            else:
                meta["TDSCORR"] = "COMPLETE"
        else:
            meta["TDSCORR"] = "OMITTED"
            tds = _stis_tds_note(dataset)
            ctx.note(tds, warn=False)
            meta["FLUXNOTE"] = f"STIS PHOTTAB throughput; no APERTAB/PCTAB aperture correction; {tds}"
    else:
        reasons = list(dict.fromkeys(ctx.flux_problems)) or ["composite member uncalibrated"]
        for reason in reasons:
            ctx.note(f"flux uncalibrated (unity sensitivity): {reason}")
        meta["FLUXCAL"] = "UNCALIBRATED"
        meta["FLUXNOTE"] = "unity sensitivity, FLUX in counts/s/pixel: " + "; ".join(reasons)
    meta.update(ctx.meta)
    sources = [Path(seg.source_file).name for seg, _ in built if seg.source_file]
    for i, src in enumerate(sources, start=1):
        meta[f"SRCFILE{i}"] = src
    for i, text in enumerate(ctx.notes, start=1):
        meta[f"NOTE{i}"] = text

    n = len(columns.times)
    binned = {name: getattr(columns, name) for name in LIGHTCURVE_COLUMNS if hasattr(columns, name)}
    curve = LightCurve(
        **binned,
        mjd=obs.expstart + columns.times / SECONDS_PER_DAY,
        dataset=np.ones(n, dtype=np.int32),
        meta=meta,
    )
    lo = [s.wavelength_min for s in sums if s.n_source]
    hi = [s.wavelength_max for s in sums if s.n_source]
    return _Result(curve, min(lo), max(hi), calibrated, n_source)


# ------------------------------------------------------------------------------------------- public API
def extract_dataset(
    dataset: Dataset,
    params: ExtractionParams,
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
    targname: str | None = None,
) -> LightCurve:
    """The lightcurve of one exposure (all its segments summed), see the module docstring for meta."""
    return _extract(dataset, params, lref_dir=lref_dir, oref_dir=oref_dir, targname=targname).curve


def extract_with_window(
    dataset: Dataset,
    params: ExtractionParams,
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
    targname: str | None = None,
) -> tuple[LightCurve, MemberWindow]:
    """:func:`extract_dataset` and the dataset's :class:`MemberWindow` (what a composite needs of it)."""
    result = _extract(dataset, params, lref_dir=lref_dir, oref_dir=oref_dir, targname=targname)
    imaging = dataset.observation.obstype.upper() == "IMAGING"
    window = MemberWindow(result.wavelength_min, result.wavelength_max, result.calibrated, imaging)
    return result.curve, window


def extract_file(
    path: str | os.PathLike[str],
    params: ExtractionParams,
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
    targname: str | None = None,
) -> LightCurve:
    """Read the dataset ``path`` belongs to (an FUV file brings its other segment) and extract it."""
    dataset = read_dataset(path, lref_dir=lref_dir, oref_dir=oref_dir)
    return extract_dataset(dataset, params, lref_dir=lref_dir, oref_dir=oref_dir, targname=targname)


def _dataset_key(dataset: Dataset) -> str:
    return (dataset.observation.rootname or dataset.observation.filename).lower()


def load_datasets(
    items: Iterable[str | os.PathLike[str] | Dataset],
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
) -> tuple[list[Dataset], list[tuple[str, str]]]:
    """Read each distinct dataset once (an FUV pair named by both files is one); unreadable items are
    returned as (name, reason) pairs instead of raising."""
    datasets: list[Dataset] = []
    failed: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, Dataset):
            dataset = item
        else:
            try:
                dataset = read_dataset(item, lref_dir=lref_dir, oref_dir=oref_dir)
            except HstlcError as exc:
                failed.append((Path(item).name, str(exc)))
                continue
        key = _dataset_key(dataset)
        if key in seen:
            continue
        seen.add(key)
        datasets.append(dataset)
    return datasets, failed


@dataclass(frozen=True)
class MemberWindow:
    """What a composite needs to know of a member before trimming: the wavelength range of its selected
    source events, whether its flux could be calibrated, and whether it is an IMAGING exposure."""

    wavelength_min: float
    wavelength_max: float
    calibrated: bool
    imaging: bool = False


def member_window(dataset: Dataset, params: ExtractionParams, *, lref_dir: Any = None) -> MemberWindow:
    """The :class:`MemberWindow` of ``dataset`` under ``params`` (no binning: a selection pass)."""
    lo, hi, calibrated = _window(dataset, params, lref_dir=lref_dir)
    return MemberWindow(lo, hi, calibrated, dataset.observation.obstype.upper() == "IMAGING")


def _member_name(item: str | os.PathLike[str] | Dataset) -> str:
    if isinstance(item, Dataset):
        return _dataset_key(item)
    try:
        return split_name(item)[0].lower()
    except HstlcError:
        return Path(item).name


def make_composite(
    paths_or_datasets: Sequence[str | os.PathLike[str] | Dataset],
    params: ExtractionParams,
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
    targname: str | None = None,
    windows: Mapping[str, MemberWindow] | None = None,
) -> LightCurve:
    """Stack several datasets into one lightcurve (DATASET 1..n in time order).

    The wavelength range is trimmed to what every member's extraction boxes share (each member's
    selected source events, not the whole detector); members that cannot be read or have no valid
    events are left out with a logged reason. TIMES are seconds since the earliest member's EXPSTART
    (monotonic); identity keywords are per-member lists (the product writer turns differing values into
    ``MULTI`` plus numbered keywords).

    Members given as paths are read one at a time (once for their window, once to extract), so a
    composite of many long exposures needs the memory of one. ``windows`` maps a member path (as given)
    to its :class:`MemberWindow` from an extraction with the same ``params`` (ingest knows it from the
    member's own lightcurve): such a member is read only once.
    """
    known = {str(k): v for k, v in (windows or {}).items()}
    failed: list[tuple[str, str]] = []
    first_pass: list[tuple[str | os.PathLike[str] | Dataset, MemberWindow]] = []
    seen: set[str] = set()
    for item in paths_or_datasets:
        window = None if isinstance(item, Dataset) else known.get(str(item))
        if window is not None:
            name = _member_name(item)
        else:
            loaded, problems = load_datasets([item], lref_dir=lref_dir, oref_dir=oref_dir)
            if problems:
                log.warning("composite: %s left out: %s", *problems[0])
                failed.extend(problems)
                continue
            name = _dataset_key(loaded[0])
            if name in seen:
                continue
            try:
                window = member_window(loaded[0], params, lref_dir=lref_dir)
            except HstlcError as exc:
                log.warning("composite: %s left out: %s", name, exc)
                failed.append((name, str(exc)))
                seen.add(name)
                continue
            del loaded  # a path is read again to extract: one member in memory at a time
        if name in seen:
            continue
        seen.add(name)
        first_pass.append((item, window))
    if not first_pass:
        detail = "; ".join(f"{n}: {r}" for n, r in failed) or "no datasets given"
        raise ExtractionError(f"composite: no member has valid events ({detail})")

    spectroscopic = [w for _, w in first_pass if not w.imaging]
    wmin = wmax = None
    if spectroscopic:
        wmin = max(w.wavelength_min for w in spectroscopic)
        wmax = min(w.wavelength_max for w in spectroscopic)
        if params.wmin is not None:
            wmin = max(wmin, params.wmin)
        if params.wmax is not None:
            wmax = min(wmax, params.wmax)
        if not wmin < wmax:
            raise ExtractionError(
                f"composite: the members share no wavelength range (common window {wmin:.2f}–{wmax:.2f} Å)"
            )
    trimmed = replace(params, wmin=wmin, wmax=wmax) if spectroscopic else params
    force_uncal = not all(w.calibrated for _, w in first_pass)
    members: list[tuple[Observation, LightCurve]] = []
    for item, _ in first_pass:
        name = _member_name(item)
        try:
            dataset = item if isinstance(item, Dataset) else read_dataset(item, lref_dir=lref_dir,
                                                                          oref_dir=oref_dir)
            name = _dataset_key(dataset)
            final = _extract(
                dataset,
                trimmed,
                lref_dir=lref_dir,
                oref_dir=oref_dir,
                targname=targname,
                force_uncalibrated=force_uncal,
            )
        except HstlcError as exc:
            log.warning("composite: %s left out after trimming to %s–%s Å: %s", name, wmin, wmax, exc)
            continue
        members.append((dataset.observation, final.curve))
        del dataset
    if not members:
        raise ExtractionError("composite: no member has valid events in the common wavelength range")
    members.sort(key=lambda m: (m[0].expstart, (m[0].rootname or m[0].filename).lower()))
    t0 = members[0][0].expstart

    merged = stack_curves([curve for _, curve in members],
                          [(observation.expstart - t0) * SECONDS_PER_DAY for observation, _ in members])

    metas = [curve.meta for _, curve in members]
    obs0 = members[0][0]
    meta: dict[str, Any] = _identity_meta(obs0, targname)
    for key in MEMBER_KEYS:
        meta[key] = [m.get(key) for m in metas]
    meta["EXPSTART"] = min(o.expstart for o, _ in members)
    meta["EXPEND"] = max(o.expend for o, _ in members)
    meta["STEPSIZE"] = float(params.step)
    if wmin is not None and wmax is not None:
        meta["WMIN"], meta["WMAX"] = float(wmin), float(wmax)
    meta["AIRGLOW"] = not params.keep_airglow
    if params.max_sun_alt is not None:
        meta["MAXSUNAL"] = float(params.max_sun_alt)
    meta["TIMEPIXR"] = 0.0
    meta["NMEMBERS"] = len(members)
    if all(m.get("FLUXCAL") == "CALIBRATED" for m in metas):
        meta["FLUXCAL"] = "CALIBRATED"
        notes = [str(m["FLUXNOTE"]) for m in metas if m.get("FLUXNOTE")]
        if notes:
            meta["FLUXNOTE"] = "; ".join(dict.fromkeys(notes))
    else:
        meta["FLUXCAL"] = "UNCALIBRATED"
        reasons = [f"{m.get('ROOTNAME')}: {m.get('FLUXNOTE')}" for m in metas if m.get("FLUXNOTE")]
        meta["FLUXNOTE"] = "unity sensitivity for all members; " + "; ".join(dict.fromkeys(reasons))
    sources = [s for m in metas for k, s in sorted(m.items()) if k.startswith("SRCFILE")]
    for i, src in enumerate(sources, start=1):
        meta[f"SRCFILE{i}"] = src
    left_out = [name for name, _ in failed]
    if left_out:
        meta["NOTE1"] = "left out: " + ", ".join(left_out)
    return LightCurve(**merged, meta=meta)


# ------------------------------------------------------------------------------------------- batch
@dataclass(frozen=True)
class ExtractOutcome:
    """One dataset (or the composite) of an :func:`extract_paths` run: its product or its error."""

    name: str
    product: Path | None = None
    bins: int = 0
    total_counts: float = 0.0
    mean_rate: float = 0.0
    flux_calibrated: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ExtractReport:
    """Everything :func:`extract_paths` did: per-dataset outcomes and the composite's (if asked)."""

    outcomes: tuple[ExtractOutcome, ...]
    composite: ExtractOutcome | None = None

    @property
    def failed(self) -> tuple[ExtractOutcome, ...]:
        done = [*self.outcomes, *([self.composite] if self.composite else [])]
        return tuple(o for o in done if not o.ok)


def _outcome(name: str, curve: LightCurve, product: Path | None) -> ExtractOutcome:
    exposure = float(np.sum(curve.bins))
    counts = float(np.sum(curve.counts))
    return ExtractOutcome(
        name=name,
        product=product,
        bins=len(curve),
        total_counts=counts,
        mean_rate=counts / exposure if exposure > 0 else 0.0,
        flux_calibrated=curve.meta.get("FLUXCAL") == "CALIBRATED",
    )


def extract_paths(
    paths: Sequence[str | os.PathLike[str]],
    params: ExtractionParams,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    composite: str | os.PathLike[str] | None = None,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    progress: Any = None,
) -> ExtractReport:
    """``hstlc extract``: each distinct dataset among ``paths`` → ``<output_dir>/<rootname>_curve.fits``
    (when ``output_dir`` is given) and, with ``composite``, all of them stacked into that file (a folder
    gets the HLSP composite name). A file that fails is reported in its outcome; the others go on.
    ``progress`` (optional) is called with each finished outcome."""
    from hstlc.products import composite_filename, individual_filename, write_lightcurve

    outcomes: list[ExtractOutcome] = []

    def done(outcome: ExtractOutcome) -> None:
        outcomes.append(outcome)
        if outcome.error:
            log.info("%s", outcome.error)  # the caller reports failures (the CLI prints one Error: line)
        if progress is not None:
            progress(outcome)

    seen: set[str] = set()
    good: list[Dataset] = []
    for path in paths:
        name = Path(path).name
        try:
            dataset = read_dataset(path, lref_dir=lref_dir, oref_dir=oref_dir)
        except HstlcError as exc:
            done(ExtractOutcome(name=name, error=str(exc)))
            continue
        key = _dataset_key(dataset)
        if key in seen:
            continue
        seen.add(key)
        if output_dir is None:
            good.append(dataset)
            continue
        try:
            curve = extract_dataset(dataset, params, lref_dir=lref_dir, oref_dir=oref_dir)
            target = Path(output_dir) / individual_filename(dataset.observation.rootname or key)
            product = write_lightcurve(curve, target, overwrite=overwrite)
        except HstlcError as exc:
            done(ExtractOutcome(name=dataset.observation.rootname or name, error=str(exc)))
            continue
        good.append(dataset)
        done(_outcome(dataset.observation.rootname or name, curve, product))
        del curve

    composite_outcome = None
    if composite is not None:
        try:
            if not good:
                raise ExtractionError("composite: none of the given files could be read")
            curve = make_composite(good, params, lref_dir=lref_dir, oref_dir=oref_dir)
            target = Path(composite)
            if target.is_dir():
                m = curve.meta

                def first(key: str) -> Any:
                    value = m.get(key)
                    if isinstance(value, list | tuple):
                        return value[0] if len(set(map(str, value))) == 1 else "multi"
                    return value

                target = target / composite_filename(
                    first("INSTRUME"), first("DETECTOR"), str(m.get("TARGNAME", "")), first("OPT_ELEM"),
                    first("CENWAVE"), first("APERTURE"),
                )
            product = write_lightcurve(curve, target, overwrite=overwrite)
            label = f"composite ({curve.meta.get('NMEMBERS', 0)} datasets)"
            composite_outcome = _outcome(label, curve, product)
        except HstlcError as exc:
            composite_outcome = ExtractOutcome(name="composite", error=str(exc))
            log.info("%s", exc)  # reported by the caller through the outcome
        if progress is not None:
            progress(composite_outcome)
    return ExtractReport(tuple(outcomes), composite_outcome)


__all__ = [
    "DEFAULT_WAVELENGTH_LIMITS",
    "ExtractOutcome",
    "ExtractReport",
    "ExtractionParams",
    "MemberWindow",
    "extract_dataset",
    "extract_file",
    "extract_paths",
    "extract_with_window",
    "group_key",
    "load_datasets",
    "make_composite",
    "member_window",
]
