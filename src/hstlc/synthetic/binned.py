"""Binned lightcurves on HST orbits, drawn directly (no event files): fast inputs for statistics work.

:func:`simulate_lightcurve` returns a :class:`~hstlc.domain.LightCurve` whose columns follow the
definitions of :func:`hstlc.science.lightcurve.assemble` exactly, as if an event list had been extracted:

* good time: ``orbits`` visibility windows of ``visible`` s, one per ``orbit_period`` (HST sees a target
  for ~55 of every ~96 minutes; the rest is Earth occultation), see :func:`orbit_gti`;
* bins of ``step`` s aligned at each window start (``align="window"``) or on one grid from the exposure
  start as extraction makes it (``align="exposure"``); a bin cut by a window edge is partial
  (BINS < step), as real products are at GTI edges. Only bins with exposure are rows;
* the source box collects ε-weighted events, ``N ~ Poisson((source + background) · BINS)`` and
  GROSS = ε N; the background regions are ``1 / background_scale`` times larger,
  ``N_b ~ Poisson(background / background_scale · BINS)`` and BACKGROUND = background_scale · ε N_b;
* COUNTS = GROSS − BACKGROUND, NET = COUNTS / BINS, ERROR = √(ε² N + background_scale² ε² N_b) with
  ε² for the Σε² of a bin without a source-box event (the variance of one mean-weight event),
  SIGNAL_TO_NOISE = COUNTS / ERROR, FLUX = ``flux_scale`` · NET and FLUX_ERROR = ``flux_scale`` ·
  ERROR / BINS (what a constant sensitivity gives).

The source rate is ``rate · level · m(t)``: a :class:`~hstlc.synthetic.signals.SignalSpec` ``m`` (from
:func:`~hstlc.synthetic.signals.sinusoid`, :func:`~hstlc.synthetic.signals.flare` …) is averaged exactly
over each bin's exposure, which is what binning events drawn from that rate gives (a 60 s sinusoid in
30 s bins keeps 2/π of its amplitude); a plain callable ``signal(t)`` is the relative modulation
``m(t) − 1``, sampled at the bin mid-times.

:func:`simulate_lightcurves` bins the same events at several widths (for paired comparisons of bin
widths); :func:`composite` stacks member curves as :func:`hstlc.extraction.make_composite` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

import numpy as np
import numpy.typing as npt

from hstlc.domain import MEMBER_KEYS, SECONDS_PER_DAY, GTIArray, LightCurve, stack_curves
from hstlc.synthetic.signals import SignalSpec

F64 = npt.NDArray[np.float64]
Signal = Callable[[F64], F64]
Align = Literal["window", "exposure"]
CompositeTimes = Literal["continuous", "restart"]

#: Rounding noise tolerated in ``visible / step`` before a partial last bin is made (as extraction).
_SPAN_TOLERANCE = 1e-9
#: Calibrated-looking flux of one count per second (erg/s/cm²/Å), the default ``flux_scale``.
FLUX_PER_COUNT_RATE = 1e-14


def orbit_gti(
    *,
    orbits: int = 1,
    visible: float = 3300.0,
    orbit_period: float = 5760.0,
    start_phase: float = 0.0,
    t0: float = 0.0,
) -> GTIArray:
    """The good time of an exposure of ``orbits`` HST orbits starting at ``t0``: an (N, 2) array.

    Orbital phase 0 is the start of a visibility window, which lasts ``visible`` of every
    ``orbit_period`` seconds. The exposure starts at phase ``start_phase`` (in [0, 1)) and spans
    ``orbits · orbit_period`` seconds; the good time is where the target is visible. With
    ``start_phase = 0`` the windows are ``[t0 + k·orbit_period, … + visible)``, k = 0 … orbits − 1; with
    another phase the first window is cut short (or absent) and the remainder is seen at the end, so the
    total good time is always ``orbits · visible``.
    """
    if orbits < 1:
        raise ValueError(f"orbits must be at least 1, got {orbits}")
    if not (math.isfinite(orbit_period) and orbit_period > 0):
        raise ValueError(f"orbit_period must be positive, got {orbit_period}")
    if not (math.isfinite(visible) and 0 < visible <= orbit_period):
        raise ValueError(f"visible must be in (0, orbit_period = {orbit_period}], got {visible}")
    if not (math.isfinite(start_phase) and 0.0 <= start_phase < 1.0):
        raise ValueError(f"start_phase must be in [0, 1), got {start_phase}")
    if not math.isfinite(t0):
        raise ValueError("t0 must be finite")
    shift = start_phase * orbit_period
    starts = t0 - shift + orbit_period * np.arange(orbits + 1, dtype=np.float64)
    lo = np.maximum(starts, t0)
    hi = np.minimum(starts + visible, t0 + orbits * orbit_period)
    keep = hi > lo
    gti = np.column_stack([lo[keep], hi[keep]])
    if visible == orbit_period and len(gti) > 1:  # always visible: one interval
        gti = np.array([[gti[0, 0], gti[-1, 1]]])
    return gti


@dataclass(frozen=True, eq=False)
class _Grid:
    """Bins overlapping the good time: starts, good-time starts, exposures, and where each bin lies
    (``window`` and ``index`` within it for window-aligned bins; ``index`` on the exposure grid else)."""

    times: F64
    lo: F64
    bins: F64
    window: npt.NDArray[np.int64]
    index: npt.NDArray[np.int64]


def _grid(gti: GTIArray, step: float, align: Align) -> _Grid:
    """The bins of width ``step`` over ``gti`` (vectorised over bins; a Python step per window at most)."""
    start, stop = gti[:, 0], gti[:, 1]
    if align == "window":
        n = np.maximum(np.ceil((stop - start) / step - _SPAN_TOLERANCE), 1).astype(np.int64)
        first = np.zeros(len(gti), dtype=np.int64)
    else:
        first = np.floor(start / step + _SPAN_TOLERANCE).astype(np.int64)
        last = np.ceil(stop / step - _SPAN_TOLERANCE).astype(np.int64)
        n = np.maximum(last - first, 1)
    window = np.repeat(np.arange(len(gti), dtype=np.int64), n)
    index = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n) + np.repeat(first, n)
    times = (start[window] if align == "window" else 0.0) + step * index
    lo = np.maximum(times, start[window])
    exposure = np.minimum(times + step, stop[window]) - lo
    if align == "exposure" and len(times) > 1 and np.any(np.diff(index) <= 0):
        # Two windows closer than a bin share it: one row with their summed exposure (as extraction).
        index, inverse = np.unique(index, return_inverse=True)
        times = step * index
        exposure = np.bincount(inverse, weights=exposure)
        merged_lo = np.full(len(index), np.inf)
        np.minimum.at(merged_lo, inverse, lo)
        first_window = np.full(len(index), len(gti), dtype=np.int64)
        np.minimum.at(first_window, inverse, window)
        lo, window = merged_lo, first_window
    keep = exposure > 0
    # numpy's stubs type a float times an int64 array as floating[Any]: it is float64
    return _Grid(cast(F64, times[keep]), lo[keep], exposure[keep], window[keep], index[keep])


def _modulation(signal: Signal | SignalSpec | None, lo: F64, hi: F64) -> F64:
    """Relative modulation of each bin with good time [lo, hi)."""
    if signal is None:
        return np.zeros(len(lo))
    if isinstance(signal, SignalSpec):
        return signal.mean(lo, hi) - 1.0
    values = np.asarray(signal(0.5 * (lo + hi)), dtype=np.float64)
    if values.shape != lo.shape:
        values = np.broadcast_to(values, lo.shape).astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("signal returned non-finite values")
    return values


def _coarsen(
    grid: _Grid, n_box: F64, n_bkg: F64, factor: int, step: float, align: Align, gti: GTIArray
) -> tuple[F64, F64, F64, F64]:
    """Sum the fine bins of ``grid`` into bins ``factor`` times wider on the same alignment: the bins a
    direct simulation at ``step`` makes, holding the same events."""
    coarse = grid.index // factor
    if align == "window":
        boundary = (grid.window[1:] != grid.window[:-1]) | (coarse[1:] != coarse[:-1])
    else:
        boundary = coarse[1:] != coarse[:-1]
    starts = np.flatnonzero(np.concatenate([[True], boundary]))
    if align == "window":
        times = gti[grid.window[starts], 0] + step * coarse[starts]
    else:
        times = step * coarse[starts].astype(np.float64)
    add = np.add.reduceat
    return times, add(grid.bins, starts), add(n_box, starts), add(n_bkg, starts)


class _CurveSettings(TypedDict):
    """The keywords of :func:`_curve` that are the same for every bin width of one simulation."""

    epsilon: float
    background_scale: float
    flux_scale: float
    mjd0: float
    dataset: int
    meta: dict[str, Any]


def _curve(
    times: F64,
    bins: F64,
    n_box: F64,
    n_bkg: F64,
    *,
    step: float,
    epsilon: float,
    background_scale: float,
    flux_scale: float,
    mjd0: float,
    dataset: int,
    meta: dict[str, Any],
) -> LightCurve:
    """The lightcurve columns of the event numbers per bin, by :func:`hstlc.science.lightcurve.assemble`'s
    definitions."""
    gross = epsilon * n_box
    bkg = background_scale * epsilon * n_bkg
    counts = gross - bkg
    gross_var = epsilon**2 * np.maximum(n_box, 1.0)  # an empty bin: the variance of one event
    error = np.sqrt(gross_var + background_scale**2 * epsilon**2 * n_bkg)
    net = counts / bins
    return LightCurve(
        times=times,
        mjd=mjd0 + times / SECONDS_PER_DAY,
        bins=bins,
        gross=gross,
        background=bkg,
        counts=counts,
        net=net,
        error=error,
        flux=flux_scale * net,
        flux_error=flux_scale * error / bins,
        signal_to_noise=counts / error,
        dataset=np.full(len(times), dataset, dtype=np.int32),
        meta={**meta, "STEPSIZE": float(step), "TIMEDEL": float(step)},
    )


def simulate_lightcurves(
    *,
    steps: Sequence[float],
    rate: float,
    background: float = 0.0,
    orbits: int = 1,
    visible: float = 3300.0,
    orbit_period: float = 5760.0,
    start_phase: float = 0.0,
    signal: Signal | SignalSpec | None = None,
    background_scale: float = 0.5,
    epsilon: float = 1.0,
    dataset: int = 1,
    level: float = 1.0,
    mjd0: float = 56000.0,
    t0: float = 0.0,
    align: Align = "window",
    flux_scale: float = FLUX_PER_COUNT_RATE,
    meta: Mapping[str, Any] | None = None,
    rng: np.random.Generator,
) -> tuple[LightCurve, ...]:
    """The same events binned at each of ``steps`` (s; each a whole multiple of the smallest): one
    lightcurve per step, in the order given. Events are drawn on the finest bins and summed into the
    wider ones, so the curves differ only by their binning (paired comparisons of bin widths). See
    :func:`simulate_lightcurve` for the other arguments.
    """
    for name, value in (("rate", rate), ("background", background), ("level", level)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    widths = [float(s) for s in steps]
    if not widths or not all(math.isfinite(s) and s > 0 for s in widths):
        raise ValueError(f"step must be positive, got {list(steps)}")
    fine = min(widths)
    factors = [round(s / fine) for s in widths]
    if any(abs(s / fine - f) > 1e-9 * f for s, f in zip(widths, factors, strict=True)):
        raise ValueError(f"every step must be a whole multiple of the smallest ({fine:g} s), got {widths}")
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    if not (math.isfinite(background_scale) and background_scale > 0):
        raise ValueError(f"background_scale must be positive, got {background_scale}")
    if not (math.isfinite(flux_scale) and flux_scale > 0):
        raise ValueError(f"flux_scale must be positive, got {flux_scale}")
    if align not in ("window", "exposure"):
        raise ValueError(f"align must be 'window' or 'exposure', got {align!r}")
    if not math.isfinite(mjd0):
        raise ValueError("mjd0 must be finite")

    gti = orbit_gti(orbits=orbits, visible=visible, orbit_period=orbit_period, start_phase=start_phase, t0=t0)
    grid = _grid(gti, fine, align)
    source = rate * level * np.maximum(1.0 + _modulation(signal, grid.lo, grid.lo + grid.bins), 0.0)
    n_box = rng.poisson((source + background) * grid.bins).astype(np.float64)
    n_bkg = rng.poisson(background / background_scale * grid.bins).astype(np.float64)

    info: dict[str, Any] = {
        "TELESCOP": "HST",
        "INSTRUME": "COS",
        "DETECTOR": "FUV",
        "TARGNAME": "SYNTHETIC",
        "OPT_ELEM": "G130M",
        "CENWAVE": 1291,
        "APERTURE": "PSA",
        "ROOTNAME": f"lsim{dataset:04d}q",
        "EXPSTART": float(mjd0),
        "EXPEND": float(mjd0) + float(gti[-1, 1]) / SECONDS_PER_DAY,
        "NPIXEL": 1,
        "AIRGLOW": True,
        "TIMEPIXR": 0.0,
        "BKGSCL_A": round(float(background_scale), 6),
        "FLUXCAL": "CALIBRATED",
        "FLUXNOTE": f"synthetic: FLUX = {flux_scale:g} x NET",
        "NOTE1": "simulated binned lightcurve (hstlc.synthetic.binned)",
    }
    info.update(meta or {})
    common: _CurveSettings = {
        "epsilon": epsilon,
        "background_scale": background_scale,
        "flux_scale": flux_scale,
        "mjd0": float(mjd0),
        "dataset": dataset,
        "meta": info,
    }
    curves = []
    for width, factor in zip(widths, factors, strict=True):
        if factor == 1:
            columns = (grid.times, grid.bins, n_box, n_bkg)
        else:
            columns = _coarsen(grid, n_box, n_bkg, factor, width, align, gti)
        curves.append(_curve(*columns, step=width, **common))
    return tuple(curves)


def simulate_lightcurve(
    *,
    rate: float,
    background: float = 0.0,
    step: float = 2.0,
    orbits: int = 1,
    visible: float = 3300.0,
    orbit_period: float = 5760.0,
    start_phase: float = 0.0,
    signal: Signal | SignalSpec | None = None,
    background_scale: float = 0.5,
    epsilon: float = 1.0,
    dataset: int = 1,
    level: float = 1.0,
    mjd0: float = 56000.0,
    t0: float = 0.0,
    align: Align = "window",
    flux_scale: float = FLUX_PER_COUNT_RATE,
    meta: Mapping[str, Any] | None = None,
    rng: np.random.Generator,
) -> LightCurve:
    """A binned lightcurve of a source of ``rate`` c/s on ``orbits`` HST orbits (module docstring).

    ``background`` is the background rate (c/s) inside the source box, ``background_scale`` the
    source-box / background-region size ratio (BKGSCL), ``epsilon`` the weight of every event, ``level``
    a multiplicative offset of the source (visit-to-visit calibration differences), ``signal`` the
    relative modulation (t in seconds since the exposure start; the rate is clipped at 0). TIMES are
    bin starts in seconds since the exposure start (MJD ``mjd0``); the good time is
    :func:`orbit_gti` of ``orbits``, ``visible``, ``orbit_period``, ``start_phase`` and ``t0``.
    ``flux_scale`` is FLUX per NET (erg/s/cm²/Å per count/s). ``meta`` entries are added to (and
    override) the extraction-like keywords.
    """
    return simulate_lightcurves(
        steps=(step,),
        rate=rate,
        background=background,
        orbits=orbits,
        visible=visible,
        orbit_period=orbit_period,
        start_phase=start_phase,
        signal=signal,
        background_scale=background_scale,
        epsilon=epsilon,
        dataset=dataset,
        level=level,
        mjd0=mjd0,
        t0=t0,
        align=align,
        flux_scale=flux_scale,
        meta=meta,
        rng=rng,
    )[0]


def _expstart(curve: LightCurve) -> float:
    value = curve.meta.get("EXPSTART")
    if value is not None:
        return float(value)
    if not len(curve):
        raise ValueError("a composite member without EXPSTART must have bins")
    return float(curve.mjd[0] - curve.times[0] / SECONDS_PER_DAY)


def composite(curves: Sequence[LightCurve], *, times: CompositeTimes = "continuous") -> LightCurve:
    """Stack ``curves`` as :func:`hstlc.extraction.make_composite` does: members in EXPSTART order,
    DATASET 1..k, MJD absolute, TIMES in seconds since the earliest EXPSTART (monotonic), the
    identity keywords as per-member lists, EXPSTART/EXPEND the extremes, NMEMBERS.

    ``times="restart"`` keeps each member's own TIMES instead (they restart at every dataset, as the
    original pipeline's composites and old products do; statistics must order by MJD).
    """
    if not curves:
        raise ValueError("a composite needs at least one member")
    if times not in ("continuous", "restart"):
        raise ValueError(f"times must be 'continuous' or 'restart', got {times!r}")
    steps = {float(c.meta["STEPSIZE"]) for c in curves if "STEPSIZE" in c.meta}
    if len(steps) > 1:
        raise ValueError(f"composite members must share one STEPSIZE, got {sorted(steps)}")
    order = sorted(range(len(curves)), key=lambda i: (_expstart(curves[i]), i))
    members = [curves[i] for i in order]
    first = _expstart(members[0])
    shifts = [(_expstart(c) - first) * SECONDS_PER_DAY if times == "continuous" else 0.0 for c in members]
    merged = stack_curves(members, shifts)

    metas = [c.meta for c in members]
    meta: dict[str, Any] = dict(metas[0])
    for key in list(meta):
        if key.startswith(("NOTE", "SRCFILE")):
            del meta[key]
    for key in MEMBER_KEYS:
        meta[key] = [m.get(key) for m in metas]
    meta["EXPSTART"] = min(_expstart(c) for c in members)
    ends = [float(m["EXPEND"]) for m in metas if "EXPEND" in m]
    if ends:
        meta["EXPEND"] = max(ends)
    if steps:
        meta["STEPSIZE"] = meta["TIMEDEL"] = steps.pop()
    meta["NMEMBERS"] = len(members)
    meta["FLUXCAL"] = "CALIBRATED" if all(m.get("FLUXCAL") == "CALIBRATED" for m in metas) else "UNCALIBRATED"
    return LightCurve(**merged, meta=meta)


__all__ = [
    "FLUX_PER_COUNT_RATE",
    "composite",
    "orbit_gti",
    "simulate_lightcurve",
    "simulate_lightcurves",
]
