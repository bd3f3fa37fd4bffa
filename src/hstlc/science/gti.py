"""Good-time-interval algebra: normalise, intersect, test membership, exposure per time bin.

A GTI array is ``(N, 2)`` float64 of half-open intervals ``[start, stop)`` in seconds since EXPSTART.
Every function here returns a *normalised* GTI (sorted, non-overlapping, touching intervals merged,
zero-length intervals dropped), so the results can be fed back in.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hstlc.domain import GTIArray, as_gti


def normalize_gti(intervals: npt.ArrayLike) -> GTIArray:
    """Sort ``intervals``, drop empty ones and merge those that overlap or touch."""
    gti = as_gti(intervals)
    gti = gti[gti[:, 1] > gti[:, 0]]
    if len(gti) <= 1:
        return np.ascontiguousarray(gti)
    gti = gti[np.argsort(gti[:, 0], kind="stable")]
    # An interval starts a new merged block when it begins after every earlier interval has ended.
    running_stop = np.maximum.accumulate(gti[:, 1])
    new_block = np.ones(len(gti), dtype=bool)
    new_block[1:] = gti[1:, 0] > running_stop[:-1]
    starts = gti[new_block, 0]
    block_id = np.cumsum(new_block) - 1
    stops = np.full(len(starts), -np.inf)
    np.maximum.at(stops, block_id, gti[:, 1])
    return np.ascontiguousarray(np.column_stack([starts, stops]))


def total_exposure(gti: npt.ArrayLike) -> float:
    """Sum of the interval lengths of the normalised ``gti`` (seconds)."""
    g = normalize_gti(gti)
    return float(np.sum(g[:, 1] - g[:, 0]))


def intersect_gti(a: npt.ArrayLike, b: npt.ArrayLike) -> GTIArray:
    """Time that is good in both ``a`` and ``b``."""
    ga, gb = normalize_gti(a), normalize_gti(b)
    if len(ga) == 0 or len(gb) == 0:
        return np.zeros((0, 2), dtype=np.float64)
    # Pairwise overlaps of two sorted disjoint lists: O(Na * Nb) memory is fine for GTI sizes (tens).
    starts = np.maximum(ga[:, None, 0], gb[None, :, 0]).ravel()
    stops = np.minimum(ga[:, None, 1], gb[None, :, 1]).ravel()
    keep = stops > starts
    return normalize_gti(np.column_stack([starts[keep], stops[keep]]))


def clip_gti(gti: npt.ArrayLike, start: float, stop: float) -> GTIArray:
    """``gti`` restricted to ``[start, stop)``."""
    return intersect_gti(gti, [[start, stop]])


def in_gti(times: npt.ArrayLike, gti: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each time lies inside a good interval (``start <= t < stop``). Vectorised."""
    g = normalize_gti(gti)
    t = np.asarray(times)
    if len(g) == 0:
        return np.zeros(t.shape, dtype=bool)
    if len(g) == 1:
        start, stop = float(g[0, 0]), float(g[0, 1])
        return (t >= start) & (t < stop)
    # Breakpoints start0, stop0, start1, ...: a time is inside when an odd number of them are <= t.
    flat = g.ravel()
    return (np.searchsorted(flat, t, side="right") & 1).astype(bool)


def cumulative_exposure(times: npt.ArrayLike, gti: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Good time elapsed before each of ``times``: C(t) = |GTI ∩ (-inf, t)|, exact in float64."""
    g = normalize_gti(gti)
    t = np.asarray(times, dtype=np.float64)
    if len(g) == 0:
        return np.zeros(t.shape, dtype=np.float64)
    durations = g[:, 1] - g[:, 0]
    before = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
    # C is piecewise linear: rising with slope 1 inside intervals, flat in gaps.
    xp = g.ravel()
    fp: npt.NDArray[np.float64] = np.column_stack([before, before + durations]).ravel()
    return np.interp(t, xp, fp, left=0.0, right=float(fp[-1]))


def exposure_per_bin(edges: npt.ArrayLike, gti: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Overlap of each bin ``[edges[i], edges[i+1])`` with the GTIs, in seconds (float64)."""
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or len(e) < 2:
        raise ValueError("edges must be a one-dimensional array of at least two bin edges")
    if np.any(np.diff(e) < 0):
        raise ValueError("bin edges must be non-decreasing")
    c = cumulative_exposure(e, gti)
    return np.maximum(np.diff(c), 0.0)


def mask_to_gti(
    sample_times: npt.ArrayLike, good: npt.ArrayLike, *, lower: float = -np.inf, upper: float = np.inf
) -> GTIArray:
    """Turn good/bad flags on a sampled time series (e.g. TIMELINE rows) into GTIs.

    Each sample speaks for the time from halfway after its predecessor to halfway before its
    successor; the first and last samples extend to ``lower`` and ``upper``.
    """
    t = np.asarray(sample_times, dtype=np.float64)
    ok = np.asarray(good, dtype=bool)
    if t.ndim != 1 or t.shape != ok.shape:
        raise ValueError("sample_times and good must be one-dimensional and of equal length")
    if len(t) == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if np.any(~np.isfinite(t)):
        raise ValueError("sample times must be finite")
    order = np.argsort(t, kind="stable")
    t, ok = t[order], ok[order]
    mid = 0.5 * (t[1:] + t[:-1])
    lo = np.concatenate([[lower], mid])
    hi = np.concatenate([mid, [upper]])
    lo, hi = np.maximum(lo, lower), np.minimum(hi, upper)
    finite_lo = np.where(np.isfinite(lo), lo, np.finfo(np.float64).min)
    finite_hi = np.where(np.isfinite(hi), hi, np.finfo(np.float64).max)
    return normalize_gti(np.column_stack([finite_lo[ok], finite_hi[ok]]))


__all__ = [
    "clip_gti",
    "cumulative_exposure",
    "exposure_per_bin",
    "in_gti",
    "intersect_gti",
    "mask_to_gti",
    "normalize_gti",
    "total_exposure",
]
