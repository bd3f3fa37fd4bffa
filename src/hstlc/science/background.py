"""Background: the scale between extraction bands, and the wavecal lamp flashes that contaminate it.

**Lamp flashes.** With COS ``TAGFLASH = 'AUTO'`` (or ``'UNIFORMLY SPACED'``; primary header [calcos
getinfo]) the wavecal lamp is flashed during the science exposure. Its spectrum falls on the detector
beside the science spectrum, and its wings raise the count rate in the background band by ~40 % during
each flash (FORMATS.md §9, seen in real data): harmless for a bright source, a bias of 0.4 × the
background for a faint one. The flash times are evidence in the file itself, in two forms:

- the EVENTS-header keywords ``NUMFLASH`` and ``LMP_ONi``/``LMPOFFi`` (seconds since EXPSTART, the TIME
  frame), which calcos overwrites with the on/off times it measures from the lamp's own count rate in
  0.2 s bins (calcos concurrent.py ``findFlash``/``updateHeader``; FORMATS.md does not list these keywords,
  so a reader must work without them). Only the first NUMFLASH pairs are actual flashes; calcos updates
  only the pairs already in the header, so NUMFLASH may exceed the pairs present.
  :func:`keyword_flash_intervals` turns them into intervals;
- the count rate itself: the lamp's events are kept in the corrtag (calcos finds the flashes from them),
  so the rate of events *outside the source bands* jumps during a flash. :func:`find_lamp_flashes`
  flags the time bins where it exceeds a running-median baseline by at least :data:`LAMP_MIN_RATE` and
  beyond the count a Poisson bin reaches with a ``false_alarm`` chance (below 10⁻⁷, by the Chernoff
  bound) — unless the source bands rose as much (a source flare leaking out of the extraction box is
  not a lamp).

No LAMPTAB or XTRACTAB is needed for either. :func:`exclude_intervals` removes the flagged time from the
good time (see hstlc.extraction.flashes for why the flash time is removed for source and background
alike).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hstlc.domain import GTIArray
from hstlc.science.gti import intersect_gti, normalize_gti, total_exposure

#: Smallest count rate calcos takes for a lamp that is on (counts/s in the wavecal region; below it the
#: lamp is assumed off) [calcos concurrent.py MIN_COUNT_RATE]. Used as the minimum excess flagged.
LAMP_MIN_RATE = 20.0


def background_scale(source_height: float, background_heights: Sequence[float]) -> float:
    """Factor that scales counts summed over the background bands to the source band's area.

    A background rate per cross-dispersion pixel r gives r·Σh_bkg counts in the bands and r·h_src in
    the source band, so the factor is h_src / Σh_bkg (for two equal bands h_src / (2 h_bkg)). The
    original used the inverse (h_bkg / (2 h_src)) and only the second band's height.

    Parameters
    ----------
    source_height : float
        Height of the source extraction band (cross-dispersion pixels), positive.
    background_heights : sequence of float
        Height of each background band (pixels), each positive.

    Returns
    -------
    scale : float
        h_src / Σh_bkg (dimensionless).

    Raises
    ------
    ValueError
        If a height is not a positive finite number, or there is no background band.

    Examples
    --------
    >>> background_scale(10.0, [20.0, 20.0])
    0.25
    >>> background_scale(10.0, [])
    Traceback (most recent call last):
    ...
    ValueError: need at least one background band
    """
    heights = np.asarray(list(background_heights), dtype=np.float64)
    if not np.isfinite(source_height) or source_height <= 0:
        raise ValueError(f"source height must be positive, not {source_height!r}")
    if len(heights) == 0:
        raise ValueError("need at least one background band")
    if np.any(~np.isfinite(heights)) or np.any(heights <= 0):
        raise ValueError(f"background heights must be positive, not {heights.tolist()}")
    return float(source_height / heights.sum())


def keyword_flash_intervals(
    lamp_on: npt.ArrayLike, lamp_off: npt.ArrayLike, *, pad: float = 0.0
) -> GTIArray:
    """Flash intervals ``[on − pad, off + pad)`` from per-flash on/off times (s since EXPSTART).

    Pairs that are not finite or do not have ``on < off`` are dropped; the result is normalised.

    Parameters
    ----------
    lamp_on, lamp_off : array_like of float, shape (n,)
        Lamp-on and lamp-off time of each flash (s since EXPSTART; the ``LMP_ONi``/``LMPOFFi`` keywords).
    pad : float, optional
        Time (s, non-negative) added on either side of each flash (default 0).

    Returns
    -------
    intervals : ndarray of float64, shape (M, 2)
        The normalised flash intervals (s).

    Raises
    ------
    ValueError
        If ``lamp_on`` and ``lamp_off`` differ in length or ``pad`` is negative or not finite.

    Examples
    --------
    >>> keyword_flash_intervals([100.0, 500.0, np.nan], [112.0, 512.0, 0.0], pad=1.0).tolist()
    [[99.0, 113.0], [499.0, 513.0]]
    """
    on = np.asarray(lamp_on, dtype=np.float64).ravel()
    off = np.asarray(lamp_off, dtype=np.float64).ravel()
    if on.shape != off.shape:
        raise ValueError("lamp_on and lamp_off need one entry per flash")
    if not (np.isfinite(pad) and pad >= 0):
        raise ValueError(f"pad must be a non-negative number of seconds, not {pad!r}")
    ok = np.isfinite(on) & np.isfinite(off) & (off > on)
    return normalize_gti(np.column_stack([on[ok] - pad, off[ok] + pad]))


@dataclass(frozen=True, eq=False)
class FlashSearch:
    """What :func:`find_lamp_flashes` found.

    Parameters
    ----------
    intervals : ndarray of float64, shape (N, 2)
        The flagged time (s since EXPSTART; padded, normalised).
    baseline : float
        Median count rate outside the source bands (counts/s).
    peak_excess : float
        The largest excess rate flagged (counts/s, 0 if none).
    n_bins : int
        Bins flagged.
    rejected : int
        Runs of excess that were not taken because the source bands rose at least as much (a source,
        not the lamp).

    Examples
    --------
    >>> found = find_lamp_flashes(np.arange(11.0), np.ones(10), np.full(10, 5.0))
    >>> found.intervals.shape, found.baseline, found.peak_excess, found.n_bins, found.rejected
    ((0, 2), 5.0, 0.0, 0, 0)
    """

    intervals: GTIArray
    baseline: float
    peak_excess: float
    n_bins: int
    rejected: int


def _baseline(rate: npt.NDArray[np.float64], window: int) -> npt.NDArray[np.float64]:
    """Centred running median over ``window`` values (odd; fewer if ``rate`` is shorter)."""
    size = max(1, min(window, len(rate)))
    size -= 1 - size % 2  # odd, centred
    half = size // 2
    # Mirrored ends: a flash at the very start (calcos flashes at the exposure start) is not repeated
    # into the padding, so it cannot become its own baseline.
    padded = np.pad(rate, half, mode="reflect") if half else rate
    windows = np.lib.stride_tricks.sliding_window_view(padded, size)
    out = np.empty(len(rate))
    rows = max(1, (1 << 20) // size)  # ~8 MB of window copies at a time
    for lo in range(0, len(rate), rows):
        out[lo : lo + rows] = np.median(windows[lo : lo + rows], axis=1)
    return out


def poisson_tail_bound(counts: npt.ArrayLike, mean: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Chernoff upper bound on P(X ≥ counts) for X ~ Poisson(mean): exp(−μ)·(eμ/c)^c for c > μ, else 1.

    Always at least the true tail probability, so a threshold on it keeps the false-alarm rate below
    the threshold (it flags slightly fewer bins than the exact tail would).

    Parameters
    ----------
    counts : array_like of float, any shape
        Observed counts c.
    mean : array_like of float, broadcastable to ``counts``
        Expected counts μ (values below 1e-300 are taken as 1e-300).

    Returns
    -------
    bound : ndarray of float64, the broadcast shape
        The bound, in (0, 1]; exactly 1 where ``counts <= mean``.

    Examples
    --------
    >>> [f"{p:.3g}" for p in poisson_tail_bound([5, 20, 40], 10.0)]
    ['1', '0.021', '8.84e-12']
    """
    c = np.asarray(counts, dtype=np.float64)
    mu = np.maximum(np.asarray(mean, dtype=np.float64), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_bound = c - mu + c * np.log(mu / np.where(c > 0, c, 1.0))
    return np.where(c > mu, np.exp(np.minimum(log_bound, 0.0)), 1.0)


def find_lamp_flashes(
    edges: npt.ArrayLike,
    exposure: npt.ArrayLike,
    counts: npt.ArrayLike,
    *,
    source_counts: npt.ArrayLike | None = None,
    min_excess: float = LAMP_MIN_RATE,
    false_alarm: float = 1e-7,
    window: int = 301,
    pad_bins: int = 1,
    min_exposure_fraction: float = 0.5,
) -> FlashSearch:
    """Find lamp flashes as short steps in the count rate of the events outside the source bands.

    ``counts`` are those events per bin of ``edges`` (inside the good time, DQ clean), ``exposure``
    each bin's good time; ``source_counts`` (optional) the source-band events per bin. A bin with at
    least ``min_exposure_fraction`` of its width in good time is flagged when its counts exceed the
    expectation μ = baseline × exposure (baseline: running median of the rate over ``window`` such
    bins) by more than ``min_excess`` × exposure and reach a count that a Poisson(μ) bin reaches with
    probability below ``false_alarm`` (:func:`poisson_tail_bound`; 10⁻⁷: a 10⁴-bin exposure has a 10⁻³
    chance of one spurious run, which would cost a few seconds of good time, never bias). Runs of
    flagged bins
    become intervals widened by ``pad_bins`` bins each side (the lamp turns on and off inside a bin).
    A run whose summed excess in the source bands is at least its excess outside is not a lamp
    flash (a source brightening seen through its profile wings) and is counted in ``rejected``.

    Parameters
    ----------
    edges : array_like of float, shape (n + 1,)
        Time bin edges (s since EXPSTART).
    exposure : array_like of float, shape (n,)
        Good time in each bin (s).
    counts : array_like of float, shape (n,)
        Events outside the source bands per bin (counts; inside the good time, DQ clean).
    source_counts : array_like of float, shape (n,), optional
        Source-band events per bin (counts); without them no run is rejected.
    min_excess : float, optional
        Smallest excess rate flagged (counts/s, default :data:`LAMP_MIN_RATE`).
    false_alarm : float, optional
        Poisson tail probability a flagged bin must lie below, in (0, 1) (default 1e-7).
    window : int, optional
        Usable bins in the running median (default 301; at least 1).
    pad_bins : int, optional
        Bins added on either side of each run (default 1; at least 0).
    min_exposure_fraction : float, optional
        Fraction of a bin's width that must be good time for it to be used (default 0.5).

    Returns
    -------
    FlashSearch
        The flagged intervals and the numbers behind them (no intervals when fewer than three bins are
        usable).

    Raises
    ------
    ValueError
        If the arrays' shapes do not match ``edges``, or a setting is out of range.

    Examples
    --------
    >>> counts = np.full(200, 10.0)
    >>> counts[50:55] = 60.0  # a 5 s flash adding 50 counts/s
    >>> found = find_lamp_flashes(np.arange(201.0), np.ones(200), counts)
    >>> found.intervals.tolist(), found.baseline, found.peak_excess, found.n_bins
    ([[49.0, 56.0]], 10.0, 50.0, 5)
    >>> source = np.full(200, 100.0)
    >>> source[50:55] = 400.0  # the source rose more: a flare, not the lamp
    >>> find_lamp_flashes(np.arange(201.0), np.ones(200), counts, source_counts=source).rejected
    1
    """
    e = np.asarray(edges, dtype=np.float64)
    exp = np.asarray(exposure, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    nbins = len(e) - 1
    if e.ndim != 1 or nbins < 1 or exp.shape != (nbins,) or c.shape != (nbins,):
        raise ValueError("need edges (n+1) and one exposure and count per bin (n)")
    src = None if source_counts is None else np.asarray(source_counts, dtype=np.float64)
    if src is not None and src.shape != (nbins,):
        raise ValueError("source_counts needs one entry per bin")
    if not (np.isfinite(min_excess) and min_excess >= 0):
        raise ValueError(f"min_excess must be a non-negative number, not {min_excess!r}")
    if not 0 < false_alarm < 1:
        raise ValueError(f"false_alarm must lie between 0 and 1, not {false_alarm!r}")
    if window < 1 or pad_bins < 0:
        raise ValueError("window must be >= 1 and pad_bins >= 0")
    width = np.diff(e)
    empty = FlashSearch(np.zeros((0, 2)), 0.0, 0.0, 0, 0)
    usable = np.flatnonzero((exp > 0) & (exp >= min_exposure_fraction * width))
    if len(usable) < 3:
        return empty
    eu = exp[usable]
    rate = c[usable] / eu
    mu = _baseline(rate, window) * eu
    excess = c[usable] - mu
    flagged = excess > min_excess * eu
    flagged[flagged] = poisson_tail_bound(c[usable][flagged], mu[flagged]) < false_alarm
    baseline_rate = float(np.median(rate))
    if not flagged.any():
        return FlashSearch(np.zeros((0, 2)), baseline_rate, 0.0, 0, 0)
    src_excess = None
    if src is not None:
        src_rate = src[usable] / eu
        src_excess = src[usable] - _baseline(src_rate, window) * eu
    # Runs of flagged bins that are neighbours in the original grid.
    idx = np.flatnonzero(flagged)
    breaks = np.flatnonzero(np.diff(usable[idx]) != 1) + 1
    intervals = []
    rejected = 0
    kept_bins = 0
    peak = 0.0
    for run in np.split(idx, breaks):
        if src_excess is not None and src_excess[run].sum() >= excess[run].sum():
            rejected += 1
            continue
        first, last = usable[run[0]], usable[run[-1]]
        lo = e[max(first - pad_bins, 0)]
        hi = e[min(last + 1 + pad_bins, nbins)]
        intervals.append((lo, hi))
        kept_bins += len(run)
        peak = max(peak, float(np.max(excess[run] / eu[run])))
    found = normalize_gti(intervals) if intervals else np.zeros((0, 2))
    return FlashSearch(found, baseline_rate, peak, kept_bins, rejected)


def exclude_intervals(gti: npt.ArrayLike, intervals: npt.ArrayLike) -> GTIArray:
    """``gti`` without the time covered by ``intervals`` (both normalised first).

    Parameters
    ----------
    gti : array_like of float, shape (N, 2)
        Good time intervals ``[start, stop)`` (s since EXPSTART).
    intervals : array_like of float, shape (M, 2)
        Time to remove (s), e.g. lamp flashes.

    Returns
    -------
    gti : ndarray of float64, shape (K, 2)
        The normalised remaining good time (s).

    Raises
    ------
    ValueError
        If a bound is not finite or an interval stops before it starts.

    Examples
    --------
    >>> exclude_intervals([[0, 100]], [[10, 20], [50, 60]]).tolist()
    [[0.0, 10.0], [20.0, 50.0], [60.0, 100.0]]
    """
    g = normalize_gti(gti)
    bad = normalize_gti(intervals)
    if len(g) == 0 or len(bad) == 0:
        return g
    lo = min(float(g[0, 0]), float(bad[0, 0]))
    hi = max(float(g[-1, 1]), float(bad[-1, 1]))
    starts = np.concatenate([[lo], bad[:, 1]])
    stops = np.concatenate([bad[:, 0], [hi]])
    return intersect_gti(g, np.column_stack([starts, stops]))


def excluded_time(gti: npt.ArrayLike, intervals: npt.ArrayLike) -> float:
    """Good time (s) that :func:`exclude_intervals` would remove.

    Parameters
    ----------
    gti : array_like of float, shape (N, 2)
        Good time intervals ``[start, stop)`` (s since EXPSTART).
    intervals : array_like of float, shape (M, 2)
        Time to remove (s); only its overlap with ``gti`` counts.

    Returns
    -------
    removed : float
        Seconds of good time inside ``intervals``.

    Raises
    ------
    ValueError
        If a bound is not finite or an interval stops before it starts.

    Examples
    --------
    >>> excluded_time([[0, 100]], [[10, 20], [95, 120]])
    15.0
    """
    return total_exposure(gti) - total_exposure(exclude_intervals(gti, intervals))


__all__ = [
    "LAMP_MIN_RATE",
    "FlashSearch",
    "background_scale",
    "exclude_intervals",
    "excluded_time",
    "find_lamp_flashes",
    "keyword_flash_intervals",
    "poisson_tail_bound",
]
