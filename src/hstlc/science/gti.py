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
    """Sort ``intervals``, drop empty ones and merge those that overlap or touch.

    Parameters
    ----------
    intervals : array_like of float, shape (N, 2)
        Half-open intervals ``[start, stop)`` in seconds since EXPSTART, in any order (a flat sequence
        is read as start/stop pairs; an empty one gives no intervals).

    Returns
    -------
    gti : ndarray of float64, shape (M, 2)
        The normalised intervals (s), M <= N: sorted, non-overlapping, touching ones merged, zero-length
        ones dropped, C-contiguous.

    Raises
    ------
    ValueError
        If a bound is not finite or an interval stops before it starts.

    Examples
    --------
    >>> normalize_gti([[20, 30], [0, 10], [5, 15], [15, 18], [40, 40]]).tolist()
    [[0.0, 18.0], [20.0, 30.0]]
    >>> normalize_gti([]).shape
    (0, 2)
    """
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
    """Sum of the interval lengths of the normalised ``gti`` (seconds).

    Overlapping intervals are counted once (the GTI is normalised first).

    Parameters
    ----------
    gti : array_like of float, shape (N, 2)
        Good time intervals ``[start, stop)`` in seconds, in any order.

    Returns
    -------
    exposure : float
        Total good time in seconds (0.0 for no intervals).

    Raises
    ------
    ValueError
        If a bound is not finite or an interval stops before it starts.

    Examples
    --------
    >>> total_exposure([[0, 10], [5, 20], [30, 35]])
    25.0
    """
    g = normalize_gti(gti)
    return float(np.sum(g[:, 1] - g[:, 0]))


def intersect_gti(a: npt.ArrayLike, b: npt.ArrayLike) -> GTIArray:
    """Time that is good in both ``a`` and ``b``.

    Parameters
    ----------
    a, b : array_like of float, shape (N, 2) and (M, 2)
        Good time intervals ``[start, stop)`` in seconds, in any order.

    Returns
    -------
    gti : ndarray of float64, shape (K, 2)
        The normalised intersection (s); shape (0, 2) when either is empty or they do not overlap.

    Raises
    ------
    ValueError
        If a bound is not finite or an interval stops before it starts.

    Examples
    --------
    >>> intersect_gti([[0, 10], [20, 30]], [[5, 25]]).tolist()
    [[5.0, 10.0], [20.0, 25.0]]
    >>> intersect_gti([[0, 10]], [[10, 20]]).shape
    (0, 2)
    """
    ga, gb = normalize_gti(a), normalize_gti(b)
    if len(ga) == 0 or len(gb) == 0:
        return np.zeros((0, 2), dtype=np.float64)
    # Pairwise overlaps of two sorted disjoint lists: O(Na * Nb) memory is fine for GTI sizes (tens).
    starts = np.maximum(ga[:, None, 0], gb[None, :, 0]).ravel()
    stops = np.minimum(ga[:, None, 1], gb[None, :, 1]).ravel()
    keep = stops > starts
    return normalize_gti(np.column_stack([starts[keep], stops[keep]]))


def clip_gti(gti: npt.ArrayLike, start: float, stop: float) -> GTIArray:
    """``gti`` restricted to ``[start, stop)``.

    Parameters
    ----------
    gti : array_like of float, shape (N, 2)
        Good time intervals ``[start, stop)`` in seconds.
    start, stop : float
        The window kept (s).

    Returns
    -------
    gti : ndarray of float64, shape (M, 2)
        The normalised part of ``gti`` inside the window (s).

    Raises
    ------
    ValueError
        If a bound is not finite or an interval (the window included) stops before it starts.

    Examples
    --------
    >>> clip_gti([[0, 10], [20, 30]], 5, 22).tolist()
    [[5.0, 10.0], [20.0, 22.0]]
    """
    return intersect_gti(gti, [[start, stop]])


def in_gti(times: npt.ArrayLike, gti: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each time lies inside a good interval (``start <= t < stop``). Vectorised.

    Parameters
    ----------
    times : array_like of float, any shape
        Event or sample times in seconds since EXPSTART (need not be sorted).
    gti : array_like of float, shape (N, 2)
        Good time intervals ``[start, stop)`` in seconds.

    Returns
    -------
    inside : ndarray of bool, same shape as ``times``
        True where the time is in a good interval (all False for an empty ``gti``).

    Raises
    ------
    ValueError
        If a GTI bound is not finite or an interval stops before it starts.

    Examples
    --------
    >>> in_gti([0, 5, 10, 15, 20, 29.9, 30], [[0, 10], [20, 30]]).tolist()
    [True, True, False, False, True, True, False]
    """
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
    """Good time elapsed before each of ``times``: C(t) = |GTI ∩ (-inf, t)|, exact in float64.

    Parameters
    ----------
    times : array_like of float, any shape
        Times in seconds since EXPSTART.
    gti : array_like of float, shape (N, 2)
        Good time intervals ``[start, stop)`` in seconds.

    Returns
    -------
    elapsed : ndarray of float64, same shape as ``times``
        Good time (s) before each time: rising with slope 1 inside intervals, flat in the gaps.

    Raises
    ------
    ValueError
        If a GTI bound is not finite or an interval stops before it starts.

    Examples
    --------
    >>> cumulative_exposure([-5, 0, 5, 15, 25, 40], [[0, 10], [20, 30]]).tolist()
    [0.0, 0.0, 5.0, 10.0, 15.0, 20.0]
    """
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
    """Overlap of each bin ``[edges[i], edges[i+1])`` with the GTIs, in seconds (float64).

    Parameters
    ----------
    edges : array_like of float, shape (n + 1,)
        Non-decreasing bin edges in seconds since EXPSTART.
    gti : array_like of float, shape (N, 2)
        Good time intervals ``[start, stop)`` in seconds.

    Returns
    -------
    exposure : ndarray of float64, shape (n,)
        Good time (s) in each bin, between 0 and the bin width.

    Raises
    ------
    ValueError
        If ``edges`` is not one-dimensional with at least two entries, decreases somewhere, or a GTI
        bound is invalid.

    Examples
    --------
    >>> exposure_per_bin([0, 10, 20, 30], [[5, 25]]).tolist()
    [5.0, 10.0, 5.0]
    """
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

    Parameters
    ----------
    sample_times : array_like of float, shape (n,)
        Sample times in seconds since EXPSTART (finite, any order).
    good : array_like of bool, shape (n,)
        Whether each sample is good.
    lower, upper : float, optional
        Bounds (s) the first and last samples extend to (default unbounded: the most negative and
        most positive finite float64).

    Returns
    -------
    gti : ndarray of float64, shape (M, 2)
        The normalised good time intervals (s); shape (0, 2) for no samples.

    Raises
    ------
    ValueError
        If the arrays are not one-dimensional and of equal length, or a sample time is not finite.

    Examples
    --------
    >>> t = np.array([0.0, 10.0, 20.0, 30.0])
    >>> mask_to_gti(t, [True, True, False, True], lower=0.0, upper=35.0).tolist()
    [[0.0, 15.0], [25.0, 35.0]]
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
