"""The variability verdict of one lightcurve: is it constant, does it vary, is it periodic?

Three questions, each answered by a test whose false-alarm rate is known (``compute_stats``):

* ``variable`` — **is the rate constant?** A χ² test of NET against a constant, with each bin's
  variance from the product's ERROR (Σε² + b²Σε_bkg²: event weights and the scaled background are in
  it). Details that make it honest at any count rate:

  - The variance of a constant source is that of the *expected* counts, so it is pooled per dataset:
    ``v = (Σ ERROR² − n₀ · e₀²) / Σ BINS`` per second of exposure, where ``n₀`` bins without a source
    event carry the one-event variance ``e₀²`` the extraction gives empty bins (taken back out: it is
    a floor for display, not a variance). A bin of exposure ``BINS_i`` then has variance ``v / BINS_i``
    (Pearson's χ², not Neyman's: a bin's own low count does not shrink its error).
  - The test is made at several time scales: the bin width and 4 s, 8 s … 2048 s (:data:`CHI2_SCALES`),
    bins grouped consecutively within each dataset into groups about that long, and never fewer than
    :data:`MIN_GROUP_COUNTS` gross counts a group (so the χ² distribution holds for faint sources). The
    scale where the rate is least consistent with a constant decides, its p-value multiplied by the
    number of scales tried: a χ² over many short bins dilutes a slow change or a short flare in
    degrees of freedom, one scale among several does not, and the answer does not depend on the bin
    width of the product.
  - A composite gets a floating mean per dataset (the level differences between exposures are not
    counted here), and a second test of the datasets' mean rates against one level, each given a
    :data:`DATASET_FLOOR` (2 %) systematic error for the flux repeatability of HST spectrographs; a
    change between exposures beyond that also makes the lightcurve variable.

  ``chi2_reduced`` is χ²/dof at the deciding scale and ``chi2_p`` its p-value corrected for the scales
  tried (the within-dataset test); ``variable`` is true when ``chi2_p``, or the between-dataset p-value,
  is below ``variable_p`` (default 1e-3).

* ``periodogram`` — **is there a period?** One Lomb–Scargle search over one frequency grid from
  ``max(5 s, 2 × bin width)`` to 10 h (:mod:`hstlc.science.periodogram`): the best distinct peak that is
  neither the HST orbit's window nor a trend, its period refined, its false-alarm probability Baluev's
  for the *whole* searched grid. ``periodogram`` is true when that FAP is below ``fap_threshold`` (default
  1e-3). ``flag_rule="original"`` applies the original catalog's rules instead (a band's peak above
  its mean + 3σ with power ≥ ``power_threshold``, and ``variable`` when
  ``poisson_factor > poisson_factor_threshold``) — on this search's bands, so close to, not identical
  with, the original's flags (its bands were searched separately, from max(bin width, 5 s), up to the
  baseline, with strict interior maxima). Those rules measure bin width and background as much as
  significance, and are kept for comparison with the original catalog only. The periodogram's
  inputs: NET (counts/s) against time from the first bin's MJD (composites are on one clock),
  exposure-weighted errors ``sqrt(v / BINS_i)``, and each dataset's weighted mean subtracted first.

* The original's count statistics, kept as the original defined them (hstlc bins end at GTI edges, so a
  bin may have less exposure than ``step``; with equal full bins these are exactly the original's):

  - ``total`` — Σ counts, with counts = NET · BINS (net, ε-weighted counts of the bins with exposure).
  - ``mean`` — counts per *full* bin: ``total / Σ BINS · step``.
  - ``stdev`` — the exposure-weighted scatter of the counts scaled to a full bin.
  - ``poisson_factor = stdev / sqrt(mean)`` — the original's variability index. It compares the scatter
    of *net* counts with the Poisson noise of the net counts alone, ignoring the background's variance and
    the event weights, so a faint source on a bright background has poisson_factor well above 1 while
    constant (0.5 c/s on 1 c/s of background: ~1.9). It is reported, not used for the verdict.
  - ``pearson_r``/``pearson_p`` — Pearson correlation (and two-sided p) of NET against MJD.
  - ``deliver`` — the product has counts and at least ``min_bins`` bins with exposure.

``verdict`` sums it up: ``periodic`` (a significant period), ``variable`` (not constant, no period),
``constant``, ``undetermined`` (too few bins or counts for the χ² test, ``variable`` None), or
``no counts``. A lightcurve with no counts (``total ≤ 0``) has ``total`` set and every
other statistic ``None``, and its period search skipped with reason ``"no counts"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import numpy as np
import numpy.typing as npt
from scipy.special import betainc
from scipy.stats import chi2 as chi2_distribution

from hstlc.domain import SECONDS_PER_DAY, LightCurve
from hstlc.science.periodogram import (
    BANDS,
    DEFAULT_FAP_THRESHOLD,
    DEFAULT_MAX_FREQUENCIES,
    DEFAULT_OVERSAMPLE,
    BandResult,
    Method,
    PeriodSearch,
    search_periods,
    skipped_search,
)
from hstlc.science.verdict import STATS_VERSION, VERDICTS, stale_reason, verdict_of

Weighting = Literal["exposure", "error"]
FlagRule = Literal["fap", "original"]
FLAG_RULES: tuple[str, ...] = ("fap", "original")

#: Fewest bins with exposure a delivered product has.
DEFAULT_MIN_BINS = 10
#: Default p-value below which the χ² test calls a lightcurve variable.
DEFAULT_VARIABLE_P = 1e-3
#: Gross counts a χ² group holds at least (bins are grouped until it does).
MIN_GROUP_COUNTS = 20.0
#: Time scales (s) of the χ² test beside the bin width itself: 4 s … 2048 s, doubling. The test is made
#: at each (groups of about that long) and the least consistent scale decides, its p-value multiplied by
#: the number of scales tried: short flares and slow changes are both seen, whatever the bin width.
CHI2_SCALES: tuple[float, ...] = tuple(float(2**k) for k in range(2, 12))
#: Fewest degrees of freedom a coarser scale must keep to be tried.
MIN_SCALE_DOF = 8
#: Relative systematic error of a dataset's mean rate in the between-dataset test (HST repeatability).
DATASET_FLOOR = 0.02
@dataclass(frozen=True)
class ConstancyTest:
    """χ² tests of a rate against a constant (per dataset) at several time scales, and of the datasets'
    levels against one.

    Parameters
    ----------
    chi2, dof : float, int
        χ² and degrees of freedom at the time scale ``scale`` where the rate is least consistent with a
        constant.
    p : float
        That scale's p-value times the ``n_scales`` scales tried (Bonferroni, at most 1).
    n_groups : int
        Groups at that scale.
    group_bins : float
        Mean bins per group at that scale (groups of about ``group_bins`` bins).
    n_datasets : int
        Datasets in the lightcurve.
    scale : float, optional
        The deciding time scale (s).
    n_scales : int, optional
        Time scales tried.
    scales : tuple of (float, float, int, float), optional
        ``(scale, chi2, dof, p)`` of each scale tried.
    between_chi2, between_dof, between_p : float, int, float, or None, optional
        The datasets' mean rates against one level with a ``floor`` relative systematic error each
        (``None`` for one dataset).
    floor : float, optional
        Relative systematic error of a dataset's mean rate (default :data:`DATASET_FLOOR`).

    Examples
    --------
    >>> test = ConstancyTest(chi2=30.0, dof=10, p=0.0009, n_groups=11, group_bins=4.0, n_datasets=1)
    >>> test.reduced, test.variable(1e-3), test.variable(1e-4)
    (3.0, True, False)
    >>> test.summary()["chi2_reduced"], test.summary()["between_datasets"] is None
    (3.0, True)
    """

    chi2: float
    dof: int
    p: float
    n_groups: int
    group_bins: float
    n_datasets: int
    scale: float = 0.0
    n_scales: int = 1
    scales: tuple[tuple[float, float, int, float], ...] = ()
    between_chi2: float | None = None
    between_dof: int | None = None
    between_p: float | None = None
    floor: float = DATASET_FLOOR

    @property
    def reduced(self) -> float:
        """χ²/dof at the deciding scale."""
        return self.chi2 / self.dof

    def variable(self, p_threshold: float) -> bool:
        """Whether either test rejects a constant rate at ``p_threshold``.

        Parameters
        ----------
        p_threshold : float
            p-value below which the rate is not constant.

        Returns
        -------
        variable : bool
            True when ``p`` or ``between_p`` is below ``p_threshold``.
        """
        return self.p < p_threshold or (self.between_p is not None and self.between_p < p_threshold)

    def summary(self) -> dict[str, Any]:
        """A JSON-safe summary of the tests (for ``stats.details``)."""
        return {
            "chi2": self.chi2,
            "dof": self.dof,
            "chi2_reduced": self.reduced,
            "p": self.p,
            "scale": self.scale,
            "n_scales": self.n_scales,
            "n_groups": self.n_groups,
            "group_bins": self.group_bins,
            "n_datasets": self.n_datasets,
            "scales": [list(row) for row in self.scales],
            "between_datasets": None if self.between_p is None else {
                "chi2": self.between_chi2, "dof": self.between_dof, "p": self.between_p, "floor": self.floor,
            },
        }


@dataclass(frozen=True, eq=False)
class LightCurveStats:
    """The statistics and verdict of one lightcurve (see the module docstring for what each means).

    Parameters
    ----------
    n_bins : int
        Bins used (with exposure and finite MJD/NET/BINS/ERROR/GROSS).
    n_dropped : int
        Rows left out.
    exposure : float
        Σ BINS of the bins used (s).
    step : float
        Bin width (s).
    baseline : float
        Time spanned by the bins (s): last bin start − first bin start + ``step``.
    total : float
        Σ counts (counts = NET · BINS).
    mean, mu, stdev, poisson_factor : float or None
        Counts per full bin, its square root, the scatter of the counts scaled to a full bin, and
        ``stdev / mu`` (None without counts).
    pearson_r, pearson_p : float or None
        Pearson correlation of NET against MJD and its two-sided p (None when undefined).
    search : PeriodSearch
        The period search (skipped without counts).
    constancy : ConstancyTest or None
        The χ² tests (None without counts or with too few groups).
    periodogram : bool
        The period flag (by ``flag_rule``).
    variable : bool or None
        The variability flag (by ``flag_rule``; None when constancy could not be tested).
    deliver : bool
        Whether the product has counts and at least ``min_bins`` bins with exposure.
    flag_rule, fap_threshold, variable_p, power_threshold, poisson_factor_threshold, weighting : optional
        The settings the lightcurve was judged by (:func:`compute_stats`).

    Examples
    --------
    >>> n, step = 300, 10.0
    >>> times = np.arange(n) * step
    >>> counts = np.random.default_rng(0).poisson(50.0, n).astype(float)
    >>> zeros = np.zeros(n)
    >>> lc = LightCurve(times=times, mjd=56000.0 + times / SECONDS_PER_DAY, bins=np.full(n, step),
    ...                 gross=counts, background=zeros, counts=counts, net=counts / step,
    ...                 error=np.sqrt(counts), flux=zeros, flux_error=zeros, signal_to_noise=zeros,
    ...                 dataset=np.ones(n, dtype=np.int32), meta={"STEPSIZE": step})
    >>> stats = compute_stats(lc)
    >>> stats.verdict, stats.periodogram, stats.variable, stats.deliver
    ('constant', False, False, True)
    >>> stats.n_bins, stats.exposure, stats.total, round(stats.mean, 2), round(stats.poisson_factor, 3)
    (300, 3000.0, 15303.0, 51.01, 1.028)
    >>> round(stats.chi2_reduced, 3), stats.chi2_p, round(stats.fap, 2)
    (1.059, 1.0, 0.38)
    >>> row = stats.row()
    >>> row["method_version"] == STATS_VERSION, row["details"]["verdict"], stats.band("long").computed
    (True, 'constant', False)
    """

    n_bins: int
    n_dropped: int
    exposure: float
    step: float
    baseline: float
    total: float
    mean: float | None
    mu: float | None
    stdev: float | None
    poisson_factor: float | None
    pearson_r: float | None
    pearson_p: float | None
    search: PeriodSearch
    constancy: ConstancyTest | None
    periodogram: bool
    variable: bool | None
    deliver: bool
    flag_rule: str = "fap"
    fap_threshold: float = DEFAULT_FAP_THRESHOLD
    variable_p: float = DEFAULT_VARIABLE_P
    power_threshold: float = 0.30
    poisson_factor_threshold: float = 1.5
    weighting: str = "exposure"

    @property
    def bands(self) -> tuple[BandResult, ...]:
        """The reporting bands of the period search."""
        return self.search.bands

    def band(self, name: str) -> BandResult:
        """The reporting band called ``name`` (see :meth:`PeriodSearch.band`; KeyError if none)."""
        return self.search.band(name)

    @property
    def best_period(self) -> float | None:
        """The period (s) of the best counted peak of the whole grid (whether significant or not)."""
        return self.search.best.period if self.search.best is not None else None

    @property
    def fap(self) -> float | None:
        """The false-alarm probability (over the whole search) of :attr:`best_period`."""
        return self.search.best.fap if self.search.best is not None else None

    @property
    def chi2_reduced(self) -> float | None:
        """χ²/dof at the deciding time scale (None without a constancy test)."""
        return self.constancy.reduced if self.constancy is not None else None

    @property
    def chi2_p(self) -> float | None:
        """The within-dataset p-value, corrected for the scales tried (None without a constancy test)."""
        return self.constancy.p if self.constancy is not None else None

    @property
    def verdict(self) -> str:
        """The verdict of the flags (see :func:`verdict_of`)."""
        return verdict_of(has_counts=self.mean is not None, periodogram=self.periodogram,
                          variable=self.variable)

    def details(self) -> dict[str, Any]:
        """JSON-safe details for the catalog's ``stats.details`` column."""
        return {
            "version": STATS_VERSION,
            "verdict": self.verdict,
            "n_bins": self.n_bins,
            "n_dropped": self.n_dropped,
            "exposure": self.exposure,
            "step": self.step,
            "baseline": self.baseline,
            "weighting": self.weighting,
            "flag_rule": self.flag_rule,
            "fap_threshold": self.fap_threshold,
            "variable_p": self.variable_p,
            "power_threshold": self.power_threshold,
            "poisson_factor_threshold": self.poisson_factor_threshold,
            "chi2": self.constancy.summary() if self.constancy is not None else None,
            "search": self.search.summary(),
            "bands": {band.name: band.summary() for band in self.bands},
        }

    def row(self) -> dict[str, Any]:
        """The values of the ``stats`` table's columns (plus ``details``)."""
        return {
            "total": self.total,
            "mean": self.mean,
            "mu": self.mu,
            "stdev": self.stdev,
            "poisson_factor": self.poisson_factor,
            "pearson_r": self.pearson_r,
            "pearson_p": self.pearson_p,
            "periodogram": self.periodogram,
            "deliver": self.deliver,
            "variable": self.variable,
            "best_period": self.best_period,
            "fap": self.fap,
            "chi2_reduced": self.chi2_reduced,
            "chi2_p": self.chi2_p,
            "method_version": STATS_VERSION,
            "details": self.details(),
        }


def infer_step(meta: Mapping[str, Any], mjd: npt.NDArray[np.float64], bins: npt.NDArray[np.float64]) -> float:
    """The bin width (s): header STEPSIZE or TIMEDEL, else the median spacing of the bins, else their
    median exposure.

    Parameters
    ----------
    meta : mapping
        Header keywords of the product (``STEPSIZE``/``TIMEDEL``, either case; a missing, non-numeric or
        non-positive value is passed over).
    mjd : ndarray of float64, shape (n,)
        Bin starts (MJD).
    bins : ndarray of float64, shape (n,)
        Exposure of each bin (s).

    Returns
    -------
    step : float
        The bin width (s), positive.

    Raises
    ------
    ValueError
        If neither the header, the spacing nor the exposures give a positive width.

    Examples
    --------
    >>> infer_step({"STEPSIZE": 30.0}, np.array([56000.0]), np.array([30.0]))
    30.0
    >>> mjd = 56000.0 + np.arange(4) * 10.0 / SECONDS_PER_DAY
    >>> round(infer_step({"STEPSIZE": "n/a"}, mjd, np.full(4, 10.0)), 3)
    10.0
    >>> infer_step({}, np.array([56000.0]), np.array([8.0]))
    8.0
    """
    for key in ("STEPSIZE", "TIMEDEL", "stepsize", "timedel"):
        value = meta.get(key)
        try:
            step = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if math.isfinite(step) and step > 0:
            return step
    if mjd.size > 1:
        spacing = np.diff(np.sort(mjd)) * SECONDS_PER_DAY
        spacing = spacing[spacing > 0]
        if spacing.size:
            return float(np.median(spacing))
    positive = bins[bins > 0]
    if positive.size:
        return float(np.median(positive))
    raise ValueError("cannot infer the bin width: no STEPSIZE/TIMEDEL and no bins")


def count_statistics(
    net: npt.ArrayLike, bins: npt.ArrayLike, step: float
) -> tuple[float, float | None, float | None, float | None, float | None]:
    """``(total, mean, mu, stdev, poisson_factor)`` of rates ``net`` over exposures ``bins`` (s).

    ``mean`` and ``stdev`` are per full bin of width ``step`` (module docstring); all but ``total`` are
    ``None`` when ``total ≤ 0``.

    Parameters
    ----------
    net : array_like of float, shape (n,)
        Net count rate of each bin (counts/s).
    bins : array_like of float, shape (n,)
        Exposure of each bin (s), positive.
    step : float
        Width of a full bin (s), positive.

    Returns
    -------
    total : float
        Σ NET · BINS (counts).
    mean : float or None
        Counts per full bin, ``total / Σ BINS · step``.
    mu : float or None
        ``sqrt(mean)``.
    stdev : float or None
        The exposure-weighted scatter of the counts scaled to a full bin.
    poisson_factor : float or None
        ``stdev / mu``.

    Raises
    ------
    ValueError
        If ``net`` and ``bins`` are not one-dimensional arrays of equal length, ``step`` is not positive,
        or a bin has no exposure.

    Examples
    --------
    >>> count_statistics([2.0, 1.0, 4.0, 3.0], [2.0, 2.0, 2.0, 2.0], 2.0)
    (20.0, 5.0, 2.23606797749979, 2.23606797749979, 1.0)
    >>> total, mean, mu, stdev, factor = count_statistics([3.0, 4.0, 2.0, 6.0], [2.0, 1.0, 2.0, 0.5], 2.0)
    >>> total, round(mean, 4), round(stdev, 4), round(factor, 4)
    (17.0, 6.1818, 1.9306, 0.7765)
    >>> count_statistics([0.0, 0.0], [2.0, 2.0], 2.0)
    (0.0, None, None, None, None)
    """
    rate = np.asarray(net, dtype=np.float64)
    exposure = np.asarray(bins, dtype=np.float64)
    if rate.shape != exposure.shape or rate.ndim != 1:
        raise ValueError("net and bins must be one-dimensional arrays of equal length")
    if not step > 0:
        raise ValueError(f"step must be positive, got {step}")
    if np.any(exposure <= 0):
        raise ValueError("every bin must have positive exposure")
    total = float(np.sum(rate * exposure, dtype=np.float64))
    if rate.size == 0 or not total > 0:
        return total, None, None, None, None
    mean = total / float(np.sum(exposure, dtype=np.float64)) * step
    weight = exposure / step
    stdev = math.sqrt(float(np.sum(weight * (rate * step - mean) ** 2, dtype=np.float64)) / rate.size)
    mu = math.sqrt(mean)
    return total, mean, mu, stdev, stdev / mu


def pearson(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[float | None, float | None]:
    """Pearson r and two-sided p of ``y`` against ``x``; ``(None, None)`` if undefined (< 3 points or a
    constant series).

    Parameters
    ----------
    x, y : array_like of float, shape (n,)
        The two series (e.g. MJD and NET).

    Returns
    -------
    r : float or None
        Pearson's correlation coefficient, in [-1, 1].
    p : float or None
        Two-sided p-value of Student's t with n − 2 degrees of freedom.

    Examples
    --------
    >>> r, p = pearson([0, 1, 2, 3], [4, 2, 8, 6])
    >>> round(r, 4), round(p, 4)
    (0.6, 0.4)
    >>> pearson([0, 1, 2], [5, 5, 5]), pearson([0, 1], [1, 2])
    ((None, None), (None, None))
    """
    x_ = np.asarray(x, dtype=np.float64)
    y_ = np.asarray(y, dtype=np.float64)
    if x_.size < 3 or np.ptp(x_) == 0 or np.ptp(y_) == 0:
        return None, None
    dx = x_ - x_.mean()
    dy = y_ - y_.mean()
    r = float(np.clip(np.dot(dx, dy) / math.sqrt(float(np.dot(dx, dx)) * float(np.dot(dy, dy))), -1.0, 1.0))
    # two-sided p of Student's t with n − 2 degrees of freedom: I_{1−r²}((n−2)/2, 1/2)
    p = float(betainc((x_.size - 2) / 2.0, 0.5, 1.0 - r * r))
    if not (math.isfinite(r) and math.isfinite(p)):
        return None, None
    return r, p


def rate_variance(
    error: npt.ArrayLike, bins: npt.ArrayLike, gross: npt.ArrayLike, index: npt.ArrayLike, n_groups: int
) -> npt.NDArray[np.float64]:
    """The variance per second of exposure of a constant source, for each of ``n_groups`` datasets.

    ``index`` (0..n_groups−1) names each bin's dataset. ``v = (Σ ERROR² − n₀ e₀²) / Σ BINS``: bins with
    no source event (GROSS = 0) carry the extraction's one-event floor ``e₀²`` (the smallest ERROR² among
    them: a bin with neither source nor background events holds exactly that), which is taken back out.

    Parameters
    ----------
    error : array_like of float, shape (n,)
        ERROR of each bin (counts).
    bins : array_like of float, shape (n,)
        Exposure of each bin (s).
    gross : array_like of float, shape (n,)
        GROSS of each bin (counts).
    index : array_like of int, shape (n,)
        Dataset of each bin, 0..n_groups−1.
    n_groups : int
        Number of datasets.

    Returns
    -------
    variance : ndarray of float64, shape (n_groups,)
        Variance of the rate per second of exposure (counts²/s) of each dataset, positive: without a
        positive estimate, that of all datasets together (or 1).

    Examples
    --------
    >>> error, bins = [2.0, 2.0, 1.0, 3.0], [10.0, 10.0, 10.0, 10.0]
    >>> rate_variance(error, bins, [4.0, 4.0, 0.0, 9.0], [0, 0, 1, 1], 2).tolist()
    [0.4, 0.45]
    """
    err2 = np.asarray(error, dtype=np.float64) ** 2
    exposure = np.asarray(bins, dtype=np.float64)
    empty = np.asarray(gross, dtype=np.float64) == 0
    idx = np.asarray(index, dtype=np.intp)
    total = np.bincount(idx, err2, minlength=n_groups)
    seconds = np.bincount(idx, exposure, minlength=n_groups)
    floor = np.full(n_groups, np.inf)
    np.minimum.at(floor, idx[empty], err2[empty])
    n_empty = np.bincount(idx[empty], minlength=n_groups)
    corrected = total - np.where(n_empty > 0, n_empty * np.where(np.isfinite(floor), floor, 0.0), 0.0)
    variance = np.where(corrected > 0, corrected, total) / np.where(seconds > 0, seconds, 1.0)
    fallback = float(np.sum(total) / max(float(np.sum(seconds)), 1e-300))
    return np.where(variance > 0, variance, fallback if fallback > 0 else 1.0)


def _groups(index: npt.NDArray[np.intp], size: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Group labels 0, 1, …: consecutive runs of ``size[d]`` bins within each dataset ``d`` (bins ordered
    by dataset, then time); a dataset's last run shorter than half a group joins the run before it."""
    n = index.size
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    lengths = np.diff(np.r_[starts, n])
    block_size = size[index[starts]]
    position = np.arange(n) - np.repeat(starts, lengths)
    local = position // np.repeat(block_size, lengths)
    last = (lengths - 1) // block_size
    short = (lengths - last * block_size) * 2 < block_size
    merge = np.repeat(short & (last > 0), lengths) & (local == np.repeat(last, lengths))
    local = np.where(merge, local - 1, local)
    first = np.r_[True, (index[1:] != index[:-1]) | (local[1:] != local[:-1])]
    return np.cumsum(first) - 1


def constancy_test(
    net: npt.ArrayLike,
    bins: npt.ArrayLike,
    error: npt.ArrayLike,
    gross: npt.ArrayLike,
    dataset: npt.ArrayLike,
    *,
    step: float,
    min_group_counts: float = MIN_GROUP_COUNTS,
    scales: tuple[float, ...] = CHI2_SCALES,
    floor: float = DATASET_FLOOR,
    variance: npt.ArrayLike | None = None,
) -> ConstancyTest | None:
    """The χ² tests of the module docstring for bins in time order; ``None`` with too few groups.

    ``net`` (c/s), ``bins`` (s), ``error`` (counts), ``gross`` (counts) and ``dataset`` per bin. At each
    time scale of ``scales`` (s) no shorter than ``step``, bins are grouped consecutively within each
    dataset into groups of ``max(scale / step, bins for min_group_counts gross counts)`` bins.
    ``variance``: :func:`rate_variance` per dataset (sorted dataset labels), when already computed.

    Parameters
    ----------
    net : array_like of float, shape (n,)
        Net count rate of each bin (c/s).
    bins : array_like of float, shape (n,)
        Exposure of each bin (s).
    error, gross : array_like of float, shape (n,)
        ERROR and GROSS of each bin (counts).
    dataset : array_like, shape (n,)
        Dataset of each bin.
    step : float
        Bin width (s), the first time scale.
    min_group_counts : float, optional
        Gross counts a group holds at least (default :data:`MIN_GROUP_COUNTS`).
    scales : tuple of float, optional
        Time scales (s) tried beside ``step`` (default :data:`CHI2_SCALES`); a scale is tried while it
        keeps at least ``MIN_SCALE_DOF`` degrees of freedom.
    floor : float, optional
        Relative systematic error of a dataset's mean rate in the between-dataset test (default
        :data:`DATASET_FLOOR`).
    variance : array_like of float, shape (n_datasets,), optional
        Variance per second of exposure of each dataset (default: computed by :func:`rate_variance`).

    Returns
    -------
    test : ConstancyTest or None
        The tests at the deciding scale, and between datasets for two or more; None without bins or
        when even ``step`` leaves no degree of freedom.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> gross = rng.poisson(40.0, 200).astype(float)
    >>> gross[100:] = rng.poisson(48.0, 100)  # the rate rises by 20 % halfway
    >>> bins = np.full(200, 10.0)
    >>> test = constancy_test(gross / bins, bins, np.sqrt(gross), gross, np.ones(200), step=10.0)
    >>> test.variable(1e-3), [row[0] for row in test.scales], test.scale, test.dof
    (True, [10.0, 20.0, 30.0, 60.0, 130.0], 130.0, 14)
    >>> two = constancy_test(gross / bins, bins, np.sqrt(gross), gross, np.repeat([1, 2], 100), step=10.0)
    >>> two.n_datasets, round(two.p, 2), two.between_dof, two.variable(1e-3)
    (2, 0.89, 1, True)
    >>> constancy_test([1.0], [10.0], [3.0], [10.0], [1], step=10.0) is None
    True
    """
    rate = np.asarray(net, dtype=np.float64)
    exposure = np.asarray(bins, dtype=np.float64)
    g = np.asarray(gross, dtype=np.float64)
    labels, index = np.unique(np.asarray(dataset), return_inverse=True)
    k = int(labels.size)
    if rate.size == 0:
        return None
    order = np.argsort(index, kind="stable")  # by dataset, keeping time order within each
    rate, exposure, g, index = rate[order], exposure[order], g[order], index[order]
    err = np.asarray(error, dtype=np.float64)[order]
    if variance is None:
        v = rate_variance(err, exposure, g, index, k)
    else:
        v = np.asarray(variance, dtype=np.float64)
    seconds = np.bincount(index, exposure, minlength=k)
    per_second = np.where(seconds > 0, seconds, 1.0)
    level = np.bincount(index, rate * exposure, minlength=k) / per_second
    per_bin = np.bincount(index, g, minlength=k) / per_second * step
    counted = np.where(per_bin > 0, np.ceil(min_group_counts / np.where(per_bin > 0, per_bin, 1.0)), 1)
    counted = np.maximum(counted, 1).astype(np.intp)

    tried: list[tuple[float, float, int, float, int]] = []
    seen: set[tuple[int, ...]] = set()
    for scale in (float(step), *(x for x in scales if x > step)):
        size = np.maximum(counted, max(1, round(scale / step)))
        key = tuple(int(x) for x in size)
        if key in seen:
            continue
        seen.add(key)
        label = _groups(index, size)
        n_groups = int(label[-1]) + 1
        dof = n_groups - k
        if dof < MIN_SCALE_DOF and tried:
            break
        if dof < 1:
            break
        group_seconds = np.bincount(label, exposure)
        group_counts = np.bincount(label, rate * exposure)
        gd = index[np.r_[0, np.flatnonzero(np.diff(label)) + 1]]  # each group's dataset
        residual = group_counts / group_seconds - level[gd]
        chi2 = float(np.sum(residual**2 * group_seconds / v[gd]))
        tried.append((float(np.median(size)) * step, chi2, dof, float(chi2_distribution.sf(chi2, dof)),
                      n_groups))
    if not tried:
        return None
    best = min(range(len(tried)), key=lambda i: (tried[i][3], -tried[i][1] / tried[i][2]))
    scale, chi2, dof, p_best, n_groups = tried[best]
    between: dict[str, Any] = {}
    if k > 1:
        stat_var = v / per_second
        w0 = 1.0 / stat_var
        centre = float(np.sum(w0 * level) / np.sum(w0))
        weight = 1.0 / (stat_var + (floor * centre) ** 2)
        centre = float(np.sum(weight * level) / np.sum(weight))
        between_chi2 = float(np.sum(weight * (level - centre) ** 2))
        between = {"between_chi2": between_chi2, "between_dof": k - 1,
                   "between_p": float(chi2_distribution.sf(between_chi2, k - 1))}
    return ConstancyTest(
        chi2=chi2, dof=dof, p=min(1.0, p_best * len(tried)), n_groups=n_groups,
        group_bins=rate.size / n_groups, n_datasets=k, scale=scale, n_scales=len(tried),
        scales=tuple(row[:4] for row in tried), floor=floor, **between,
    )


class _SearchFacts(TypedDict):
    """The :class:`LightCurveStats` fields every outcome of :func:`compute_stats` has (the facts of the
    lightcurve and the settings it was judged by), whether or not it has counts."""

    n_bins: int
    n_dropped: int
    exposure: float
    step: float
    baseline: float
    total: float
    flag_rule: str
    fap_threshold: float
    variable_p: float
    power_threshold: float
    poisson_factor_threshold: float
    weighting: str


def compute_stats(
    lc: LightCurve,
    *,
    step: float | None = None,
    flag_rule: FlagRule = "fap",
    fap_threshold: float = DEFAULT_FAP_THRESHOLD,
    variable_p: float = DEFAULT_VARIABLE_P,
    power_threshold: float = 0.30,
    poisson_factor_threshold: float = 1.5,
    weighting: Weighting = "exposure",
    oversample: float = DEFAULT_OVERSAMPLE,
    max_frequencies: int = DEFAULT_MAX_FREQUENCIES,
    method: Method = "auto",
    min_bins: int = DEFAULT_MIN_BINS,
) -> LightCurveStats:
    """The variability verdict and statistics of ``lc`` (pure; see the module docstring).

    ``step`` is the bin width in seconds (default: the product's STEPSIZE/TIMEDEL, else inferred from the
    bins). Rows without exposure or with non-finite MJD/NET/BINS/ERROR are left out (counted in
    ``n_dropped``).

    Parameters
    ----------
    lc : LightCurve
        The lightcurve (any row order: it is sorted by MJD).
    step : float or None, optional
        Bin width (s), positive (default None: :func:`infer_step`).
    flag_rule : {"fap", "original"}, optional
        The false-alarm probability and χ² rules, or the original catalog's (default ``fap``).
    fap_threshold : float, optional
        False-alarm probability below which a period is significant, in (0, 1) (default
        :data:`~hstlc.science.periodogram.DEFAULT_FAP_THRESHOLD`).
    variable_p : float, optional
        p-value below which the rate is not constant, in (0, 1) (default :data:`DEFAULT_VARIABLE_P`).
    power_threshold : float, optional
        Least power of a flagged peak under the original rule, in (0, 1] (default 0.30).
    poisson_factor_threshold : float, optional
        ``poisson_factor`` above which the original rule calls the lightcurve variable (default 1.5).
    weighting : {"exposure", "error"}, optional
        Errors of the period search: ``sqrt(v / BINS_i)`` of a constant source, or each bin's own
        ``max(ERROR, 1) / BINS`` (default ``exposure``).
    oversample, max_frequencies, method : optional
        Passed to :func:`~hstlc.science.periodogram.search_periods`.
    min_bins : int, optional
        Fewest bins with exposure a delivered product has (default :data:`DEFAULT_MIN_BINS`).

    Returns
    -------
    stats : LightCurveStats
        The statistics, the tests and the verdict.

    Raises
    ------
    ValueError
        If a setting is out of range or unknown, ``step`` is not positive, or the bin width cannot be
        inferred.

    Examples
    --------
    >>> n, step = 300, 10.0
    >>> times = np.arange(n) * step
    >>> rate = 5.0 + 2.0 * np.sin(2 * np.pi * times / 500.0)
    >>> counts = np.random.default_rng(1).poisson(rate * step).astype(float)
    >>> zeros = np.zeros(n)
    >>> lc = LightCurve(times=times, mjd=56000.0 + times / SECONDS_PER_DAY, bins=np.full(n, step),
    ...                 gross=counts, background=zeros, counts=counts, net=counts / step,
    ...                 error=np.sqrt(counts), flux=zeros, flux_error=zeros, signal_to_noise=zeros,
    ...                 dataset=np.ones(n, dtype=np.int32), meta={"STEPSIZE": step})
    >>> stats = compute_stats(lc)
    >>> stats.verdict, stats.step, round(stats.best_period), stats.fap < 1e-3, stats.variable
    ('periodic', 10.0, 498, True, True)
    >>> compute_stats(lc, flag_rule="original").periodogram
    True
    >>> silent = compute_stats(LightCurve(**{**lc.columns(), "net": zeros}, meta=lc.meta))
    >>> silent.verdict, silent.total, silent.mean, silent.search.skipped
    ('no counts', 0.0, None, 'no counts')
    >>> compute_stats(lc, fap_threshold=2.0)
    Traceback (most recent call last):
    ...
    ValueError: fap_threshold must be in (0, 1), got 2.0
    """
    if flag_rule not in FLAG_RULES:
        raise ValueError(f"flag_rule must be one of {', '.join(FLAG_RULES)}, got {flag_rule!r}")
    if not 0 < fap_threshold < 1:
        raise ValueError(f"fap_threshold must be in (0, 1), got {fap_threshold}")
    if not 0 < variable_p < 1:
        raise ValueError(f"variable_p must be in (0, 1), got {variable_p}")
    if not 0 < power_threshold <= 1:
        raise ValueError(f"power_threshold must be in (0, 1], got {power_threshold}")
    if weighting not in ("exposure", "error"):
        raise ValueError(f"unknown weighting {weighting!r}")
    mjd = np.asarray(lc.mjd, dtype=np.float64)
    bins = np.asarray(lc.bins, dtype=np.float64)
    net = np.asarray(lc.net, dtype=np.float64)
    error = np.asarray(lc.error, dtype=np.float64)
    gross = np.asarray(lc.gross, dtype=np.float64)
    dataset = np.asarray(lc.dataset)
    if step is None:
        step = infer_step(lc.meta, mjd, bins)
    elif not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be positive, got {step}")

    good = (np.isfinite(mjd) & np.isfinite(bins) & np.isfinite(net) & np.isfinite(error)
            & np.isfinite(gross) & (bins > 0))
    order = np.argsort(mjd[good], kind="stable")
    mjd, bins, net, error, gross = (a[good][order] for a in (mjd, bins, net, error, gross))
    dataset = dataset[good][order]
    n = int(mjd.size)
    t = (mjd - mjd[0]) * SECONDS_PER_DAY if n else mjd
    baseline = float(t[-1] - t[0] + step) if n else 0.0
    exposure = float(np.sum(bins, dtype=np.float64))

    total, mean, mu, stdev, poisson_factor = count_statistics(net, bins, step)
    common: _SearchFacts = {
        "n_bins": n,
        "n_dropped": len(lc) - n,
        "exposure": exposure,
        "step": float(step),
        "baseline": baseline,
        "total": total,
        "flag_rule": flag_rule,
        "fap_threshold": fap_threshold,
        "variable_p": variable_p,
        "power_threshold": power_threshold,
        "poisson_factor_threshold": poisson_factor_threshold,
        "weighting": weighting,
    }
    if mean is None:
        return LightCurveStats(
            **common, mean=None, mu=None, stdev=None, poisson_factor=None, pearson_r=None, pearson_p=None,
            search=skipped_search("no counts", fap_threshold=fap_threshold), constancy=None,
            periodogram=False, variable=None, deliver=False,
        )

    pearson_r, pearson_p = pearson(mjd, net)
    labels, index = np.unique(dataset, return_inverse=True)
    variance = rate_variance(error, bins, gross, index, int(labels.size))
    constancy = constancy_test(net, bins, error, gross, dataset, step=float(step), variance=variance)
    # exposure weighting: what ERROR/BINS estimates for a constant source, not each bin's own count
    dy = np.sqrt(variance[index] / bins) if weighting == "exposure" else np.maximum(error, 1.0) / bins
    search = search_periods(
        t, net, dy, bin_width=float(step), groups=dataset, bands=BANDS, fap_threshold=fap_threshold,
        oversample=oversample, max_frequencies=max_frequencies, method=method,
    )
    variable: bool | None
    if flag_rule == "original":
        flag = any(band.original_flag(power_threshold) for band in search.bands)
        variable = bool(poisson_factor is not None and poisson_factor > poisson_factor_threshold)
    else:
        flag = search.detected
        variable = constancy.variable(variable_p) if constancy is not None else None
    return LightCurveStats(
        **common, mean=mean, mu=mu, stdev=stdev, poisson_factor=poisson_factor, pearson_r=pearson_r,
        pearson_p=pearson_p, search=search, constancy=constancy, periodogram=flag, variable=variable,
        deliver=n >= min_bins,
    )


__all__ = [
    "CHI2_SCALES",
    "DATASET_FLOOR",
    "DEFAULT_MIN_BINS",
    "DEFAULT_VARIABLE_P",
    "FLAG_RULES",
    "MIN_GROUP_COUNTS",
    "STATS_VERSION",
    "VERDICTS",
    "ConstancyTest",
    "LightCurveStats",
    "compute_stats",
    "constancy_test",
    "count_statistics",
    "infer_step",
    "pearson",
    "rate_variance",
    "stale_reason",
    "verdict_of",
]
