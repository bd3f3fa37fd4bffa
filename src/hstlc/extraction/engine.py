"""The extraction engine: one dataset → one :class:`~hstlc.domain.LightCurve`.

:func:`_prepare` builds each segment's :class:`~hstlc.science.lightcurve.SegmentSpec` through the
instrument registry :data:`INSTRUMENTS` (INSTRUME → :class:`~hstlc.extraction.context.Instrument`), and
the common good time: the GTIs of every segment, the SUN_ALT cut, and the instrument's own cut (COS: lamp
flashes). :func:`_extract` bins the events and writes the metadata (see :mod:`hstlc.extraction` for the
keywords); :func:`_window` is its selection pass without binning. The public entry points are
:func:`extract_dataset`, :func:`extract_with_window`, :func:`extract_file` and :func:`member_window`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from hstlc.domain import LIGHTCURVE_COLUMNS, SECONDS_PER_DAY, Dataset, LightCurve, Observation, Segment
from hstlc.errors import ExtractionError
from hstlc.extraction.context import Instrument, _Context, _float_kw, _segment_label
from hstlc.extraction.cos import COS
from hstlc.extraction.params import ExtractionParams
from hstlc.extraction.stis import STIS
from hstlc.readers import read_dataset
from hstlc.science.binning import exposure_grid
from hstlc.science.calibration import FluxCalibration
from hstlc.science.gti import intersect_gti, mask_to_gti, normalize_gti, total_exposure
from hstlc.science.lightcurve import (
    ChannelSums,
    SegmentSpec,
    accumulate_segment,
    assemble,
    source_wavelength_range,
)

#: INSTRUME (upper case) → what the engine asks of that instrument. A new instrument is one module and
#: one line here.
INSTRUMENTS: Mapping[str, Instrument] = {"COS": COS, "STIS": STIS}


@dataclass(frozen=True)
class _Result:
    curve: LightCurve
    wavelength_min: float
    wavelength_max: float
    calibrated: bool
    n_source: int


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
    instrument: Instrument
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
    instrument = INSTRUMENTS.get(obs.instrume.upper())
    if instrument is None:
        raise ExtractionError(f"{obs.filename}: unsupported instrument {obs.instrume!r}")

    # Specs per segment; a COS FUV segment without extraction keywords is left out if the other remains.
    built: list[tuple[Segment, SegmentSpec]] = []
    segment_meta: dict[str, Any] = {}
    failures: list[str] = []
    for segment in dataset.segments:
        try:
            _check_events(segment)
            spec, meta = instrument.build_spec(ctx, dataset, segment, params, lref_dir)
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
    if instrument.cut_good_time is not None:
        gti = instrument.cut_good_time(ctx, built, offsets, gti)

    edges, exposure = exposure_grid(gti, params.step)
    return _Prepared(ctx, instrument, built, segment_meta, offsets, calibrated, sun_cut, gti, edges, exposure)


def _window(dataset: Dataset, params: ExtractionParams, *, lref_dir: Any) -> tuple[float, float, bool]:
    """(lowest, highest wavelength of the selected source events, flux calibrated?) of a dataset: what
    :func:`_extract` would report, without binning anything (a composite's first look at a member)."""
    prep = _prepare(dataset, params, lref_dir=lref_dir)
    ranges: list[tuple[int, float, float]] = []
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
    targname: str | None,
    force_uncalibrated: bool = False,
) -> _Result:
    """Extract ``dataset``: its lightcurve with all its meta, and what a composite needs of it."""
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
    for s in sums:
        if s.background_scale:
            meta[instrument.background_key(s.name)] = round(s.background_scale, 6)
    if params.max_sun_alt is not None:
        meta["MAXSUNAL"] = float(params.max_sun_alt)
        meta["SUNCUT"] = sun_cut
    if calibrated:
        meta["FLUXCAL"] = "CALIBRATED"
        meta.update(instrument.calibrated_meta(ctx, dataset))
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


@dataclass(frozen=True)
class MemberWindow:
    """What a composite needs to know of a member before trimming: the wavelength range of its selected
    source events, whether its flux could be calibrated, and whether it is an IMAGING exposure."""

    wavelength_min: float
    wavelength_max: float
    calibrated: bool
    imaging: bool = False


def extract_dataset(
    dataset: Dataset,
    params: ExtractionParams,
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    targname: str | None = None,
) -> LightCurve:
    """The lightcurve of one exposure (all its segments summed); :mod:`hstlc.extraction` lists its meta.
    ``dataset`` comes from :func:`hstlc.readers.read_dataset` (which applied ``oref_dir``); ``lref_dir`` is
    where the COS FLUXTAB/TDSTAB the headers name are looked for."""
    return _extract(dataset, params, lref_dir=lref_dir, targname=targname).curve


def extract_with_window(
    dataset: Dataset,
    params: ExtractionParams,
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    targname: str | None = None,
) -> tuple[LightCurve, MemberWindow]:
    """:func:`extract_dataset` and the dataset's :class:`MemberWindow` (what a composite needs of it)."""
    result = _extract(dataset, params, lref_dir=lref_dir, targname=targname)
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
    return extract_dataset(dataset, params, lref_dir=lref_dir, targname=targname)


def member_window(dataset: Dataset, params: ExtractionParams, *, lref_dir: Any = None) -> MemberWindow:
    """The :class:`MemberWindow` of ``dataset`` under ``params`` (no binning: a selection pass)."""
    lo, hi, calibrated = _window(dataset, params, lref_dir=lref_dir)
    return MemberWindow(lo, hi, calibrated, dataset.observation.obstype.upper() == "IMAGING")
