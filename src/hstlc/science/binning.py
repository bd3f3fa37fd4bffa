"""Time grids and weighted event histograms.

Bins are ``step`` seconds wide, start at the exposure start (t = 0) and run to the last GTI stop; the
final bin may be partial (its right edge is the last GTI stop). All sums are float64 whatever the dtype
of the weights.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import numpy.typing as npt

from hstlc.science.gti import exposure_per_bin, normalize_gti

#: Distance to a bin edge (fraction of ``step``) below which a time is placed by an exact search on the
#: real edges rather than arithmetically (covers rounding, and the GTI-aligned edges of
#: :func:`exposure_grid`, which move by rounding amounts only).
_EDGE_TOLERANCE = 1e-5
#: Rounding noise tolerated in ``(stop - start) / step`` before a partial last bin is made.
_SPAN_TOLERANCE = 1e-9


def time_edges(stop: float, step: float, *, start: float = 0.0) -> npt.NDArray[np.float64]:
    """Bin edges ``start, start+step, …`` up to ``stop``; the last bin ends exactly at ``stop``.

    ``stop - start`` need not be a multiple of ``step``: the final, partial bin is kept.

    Parameters
    ----------
    stop : float
        End of the grid (s since EXPSTART), after ``start``.
    step : float
        Bin width (s), positive.
    start : float, optional
        Start of the grid (s; default 0, the exposure start).

    Returns
    -------
    edges : ndarray of float64, shape (n + 1,)
        The ``n >= 1`` bins' edges (s); uniform except for the last edge, which is ``stop``.

    Raises
    ------
    ValueError
        If ``step`` is not a positive finite number, ``start``/``stop`` are not finite, or
        ``stop <= start``.

    Examples
    --------
    >>> time_edges(25.0, 10.0).tolist()
    [0.0, 10.0, 20.0, 25.0]
    >>> time_edges(30.0, 10.0, start=10.0).tolist()
    [10.0, 20.0, 30.0]
    """
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive number of seconds, not {step!r}")
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ValueError("start and stop must be finite")
    if stop <= start:
        raise ValueError(f"stop ({stop}) must be after start ({start})")
    span = (stop - start) / step
    n = max(1, math.ceil(span - _SPAN_TOLERANCE))
    edges = start + step * np.arange(n + 1, dtype=np.float64)
    edges[-1] = stop
    return edges


def bin_index(times: npt.ArrayLike, edges: npt.NDArray[np.float64]) -> npt.NDArray[np.intp]:
    """Index of the bin ``[edges[i], edges[i+1])`` holding each time; -1 outside the grid.

    The grid must be uniform except for its last edge (as :func:`time_edges` makes). The index is
    computed arithmetically; the few times that land within rounding distance of an edge are then
    placed by a search on the real edges, so an event exactly on an edge always falls in the bin that
    starts there (fast and exact, no per-event search).

    Parameters
    ----------
    times : array_like of float, shape (m,)
        Event times in seconds since EXPSTART (any order; NaN counts as outside).
    edges : ndarray of float64, shape (n + 1,)
        Bin edges (s), uniform but for the last.

    Returns
    -------
    index : ndarray of intp, shape (m,)
        Bin index 0…n−1 of each time, -1 before the first or from the last edge on.

    Raises
    ------
    ValueError
        If ``edges`` holds fewer than two edges.

    Examples
    --------
    >>> edges = time_edges(25.0, 10.0)
    >>> bin_index([-1.0, 0.0, 9.99, 10.0, 24.9, 25.0, np.nan], edges).tolist()
    [-1, 0, 0, 1, 2, -1, -1]
    """
    t = np.asarray(times, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    nbins = len(e) - 1
    if nbins < 1:
        raise ValueError("need at least one bin")
    start = float(e[0])
    step = float(e[1] - e[0]) if nbins > 1 else max(float(e[1] - e[0]), 1.0)
    u = (t - start) / step
    k = np.floor(u)
    frac = u - k
    np.fmax(k, -1, out=k)  # fmax/fmin also send NaN to -1 (outside)
    np.fmin(k, nbins, out=k)
    k = k.astype(np.intp)
    near = (frac < _EDGE_TOLERANCE) | (frac > 1.0 - _EDGE_TOLERANCE)
    if nbins >= 1:
        # The last (possibly partial) bin and everything beyond the uniform part go through the search.
        near |= k >= nbins - 1
    if near.any():
        k[near] = np.searchsorted(e, t[near], side="right") - 1
    k[(k < 0) | (k >= nbins)] = -1
    return k


def weighted_histogram(
    index: npt.NDArray[np.intp], weights: npt.ArrayLike | None, nbins: int
) -> npt.NDArray[np.float64]:
    """Sum of ``weights`` (float64) per bin index; negative indices are ignored.

    Parameters
    ----------
    index : ndarray of intp, shape (m,)
        Bin index of each event (as :func:`bin_index` gives), -1 for events outside the grid.
    weights : array_like of float, shape (m,), or None
        Per-event weight (e.g. ε, counts); ``None`` counts each event once.
    nbins : int
        Number of bins.

    Returns
    -------
    sums : ndarray of float64, shape (nbins,)
        Sum of the weights of each bin's events (counts when the weights are counts).

    Raises
    ------
    ValueError
        If ``weights`` and ``index`` differ in shape.

    Examples
    --------
    >>> index = np.array([0, 0, 2, -1, 1])
    >>> weighted_histogram(index, None, 3).tolist()
    [2.0, 1.0, 1.0]
    >>> weighted_histogram(index, [1.0, 0.5, 2.0, 9.0, 1.5], 3).tolist()
    [1.5, 1.5, 2.0]
    """
    idx = np.asarray(index)
    ok = idx >= 0
    if weights is None:
        return np.bincount(idx[ok], minlength=nbins).astype(np.float64)[:nbins]
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != idx.shape:
        raise ValueError("weights and index must have the same shape")
    if not ok.all():
        idx, w = idx[ok], w[ok]
    # numpy's stub types every bincount as intp; with float weights it is float64
    return cast(npt.NDArray[np.float64], np.bincount(idx, weights=w, minlength=nbins)[:nbins])


def exposure_grid(
    gti: npt.ArrayLike, step: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Edges from 0 to the last GTI stop and each bin's exposure (its overlap with ``gti``).

    The grid starts at 0 (or at the first GTI start if that is earlier); interior edges within rounding
    distance of a GTI boundary are moved onto it, so no sliver bin appears next to a GTI edge.

    Parameters
    ----------
    gti : array_like of float, shape (N, 2)
        Good time intervals ``[start, stop)`` in seconds since EXPSTART.
    step : float
        Bin width (s), positive.

    Returns
    -------
    edges : ndarray of float64, shape (n + 1,)
        Bin edges (s); the last is the last GTI stop.
    exposure : ndarray of float64, shape (n,)
        Good time (s) in each bin.

    Raises
    ------
    ValueError
        If ``gti`` is empty, ends before the exposure start, or ``step`` is not positive.

    Examples
    --------
    >>> edges, exposure = exposure_grid([[0, 12], [18, 25]], 10.0)
    >>> edges.tolist(), exposure.tolist()
    ([0.0, 10.0, 20.0, 25.0], [10.0, 4.0, 5.0])
    """
    g = normalize_gti(gti)
    if len(g) == 0:
        raise ValueError("no good time: the GTI list is empty")
    stop = float(g[-1, 1])
    start = min(0.0, float(g[0, 0]))
    if stop <= start:
        raise ValueError("the last good time interval ends before the exposure start")
    edges = _snap(time_edges(stop, step, start=start), g.ravel(), step)
    return edges, exposure_per_bin(edges, g)


def _snap(
    edges: npt.NDArray[np.float64], marks: npt.NDArray[np.float64], step: float
) -> npt.NDArray[np.float64]:
    """Move interior bin edges that differ from a GTI boundary only by rounding (``k·step`` computed in
    floating point) onto it, so no sliver bin with a vanishing exposure (and an absurd rate) appears next
    to a GTI edge. Genuine offsets are left alone; the first and last edges never move."""
    if len(edges) < 3 or len(marks) == 0:
        return edges
    tol = 1e-13 * np.maximum(np.abs(marks), step)
    j = np.clip(np.searchsorted(edges, marks), 1, len(edges) - 1)
    for cand in (j - 1, j):
        close = (np.abs(edges[cand] - marks) <= tol) & (cand > 0) & (cand < len(edges) - 1)
        edges[cand[close]] = marks[close]
    return edges


__all__ = ["bin_index", "exposure_grid", "time_edges", "weighted_histogram"]
