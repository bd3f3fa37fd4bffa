"""Variability statistics of one lightcurve: the original ``stats`` table, exposure-aware, plus periodograms.

What the numbers mean (the original computed them on the COUNTS column, assuming every bin had the same
width; hstlc bins end at GTI edges, so a bin may have less exposure than ``step``):

* ``total`` — Σ counts, with counts = NET · BINS (net, ε-weighted counts of the bins that have exposure).
* ``mean`` — counts per *full* bin: ``total / Σ BINS · step`` (the exposure-weighted mean rate × step).
* ``stdev`` — the scatter of the counts scaled to a full bin, ``x_i = NET_i · step``, each weighted by the
  fraction of a full bin it was measured over, ``w_i = BINS_i / step``:
  ``stdev² = Σ w_i (x_i − mean)² / n``. A partial bin's count scatters more (its variance is
  ``mean · step / BINS_i`` for a constant Poisson source) and the weight undoes exactly that, so
* ``poisson_factor = stdev / mu`` with ``mu = sqrt(mean)`` stays ≈ 1 for a constant Poisson source whatever
  the exposures, and is > 1 for a variable one.
  With equal full bins all of this reduces to the original: ``mean(counts)``, ``std(counts)`` (ddof 0).
* ``pearson_r``/``pearson_p`` — Pearson correlation (and two-sided p) of the rates NET against MJD
  (for equal bins the same as the original's counts against MJD).
* ``bands`` — periodograms of NET (counts/s) against time (s from the first bin, taken from MJD so that
  composites, whose TIMES restart per dataset, are in one clock). GTI gaps are gaps: only bins with
  exposure are used, nothing is zero-filled. Weights: ``weighting="exposure"`` (default) gives each bin
  the rate uncertainty ``sqrt(v / BINS_i)`` with ``v = Σ ERROR² / Σ BINS`` — what ERROR/BINS estimates for
  a constant source, without weighting each bin by its own observed counts (a bin with 0 counts would get
  an infinite weight and low bins would pull the fit down); ``weighting="error"`` uses each bin's
  ``max(ERROR, 1 count) / BINS`` as is.
* ``periodogram`` — the original's flag: a significant peak (local maximum above mean + 3σ) with power ≥
  ``power_threshold`` in any band. The FAP of each band's best peak is reported beside it.
* ``deliver`` — the product is worth delivering: it has counts (``total > 0``) and at least
  ``min_bins`` bins with exposure.

A lightcurve with no counts (``total ≤ 0``) has ``total`` set and every other statistic ``None``, and all
bands skipped with reason ``"no counts"`` (the original stopped there too).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.special import betainc

from hstlc.domain import SECONDS_PER_DAY, LightCurve
from hstlc.science.periodogram import (
    BANDS,
    DEFAULT_MAX_FREQUENCIES,
    DEFAULT_OVERSAMPLE,
    BandResult,
    Method,
    periodogram_bands,
    skipped_bands,
)

Weighting = Literal["exposure", "error"]

#: Fewest bins with exposure a delivered product has.
DEFAULT_MIN_BINS = 10
STATS_VERSION = 1
"""Bumped when the meaning of a statistic changes (stored in ``details``)."""


@dataclass(frozen=True, eq=False)
class LightCurveStats:
    """The statistics of one lightcurve (see the module docstring for what each means)."""

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
    bands: tuple[BandResult, ...]
    periodogram: bool
    deliver: bool
    power_threshold: float
    weighting: str = "exposure"

    def band(self, name: str) -> BandResult:
        for band in self.bands:
            if band.name == name:
                return band
        raise KeyError(name)

    @property
    def min_fap(self) -> float | None:
        """The smallest FAP of any computed band (``None`` if no band was computed)."""
        faps = [b.fap for b in self.bands if b.fap is not None]
        return min(faps) if faps else None

    def details(self) -> dict[str, Any]:
        """JSON-safe details for the catalog's ``stats.details`` column."""
        return {
            "version": STATS_VERSION,
            "n_bins": self.n_bins,
            "n_dropped": self.n_dropped,
            "exposure": self.exposure,
            "step": self.step,
            "baseline": self.baseline,
            "weighting": self.weighting,
            "power_threshold": self.power_threshold,
            "min_fap": self.min_fap,
            "bands": {band.name: band.summary() for band in self.bands},
        }

    def row(self) -> dict[str, Any]:
        """The values of the ``stats`` table's statistic columns (plus ``details``)."""
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
            "details": self.details(),
        }


def infer_step(meta: Mapping[str, Any], mjd: npt.NDArray[np.float64], bins: npt.NDArray[np.float64]) -> float:
    """The bin width (s): header STEPSIZE or TIMEDEL, else the median spacing of the bins, else their
    median exposure."""
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
    constant series)."""
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


def compute_stats(
    lc: LightCurve,
    *,
    step: float | None = None,
    power_threshold: float = 0.30,
    weighting: Weighting = "exposure",
    oversample: float = DEFAULT_OVERSAMPLE,
    max_frequencies: int = DEFAULT_MAX_FREQUENCIES,
    method: Method = "auto",
    min_bins: int = DEFAULT_MIN_BINS,
) -> LightCurveStats:
    """The variability statistics and three-band periodograms of ``lc`` (pure; see the module docstring).

    ``step`` is the bin width in seconds (default: the product's STEPSIZE/TIMEDEL, else inferred from the
    bins). Rows without exposure or with non-finite MJD/NET/BINS/ERROR are left out (counted in
    ``n_dropped``).
    """
    if not 0 < power_threshold <= 1:
        raise ValueError(f"power_threshold must be in (0, 1], got {power_threshold}")
    if weighting not in ("exposure", "error"):
        raise ValueError(f"unknown weighting {weighting!r}")
    mjd = np.asarray(lc.mjd, dtype=np.float64)
    bins = np.asarray(lc.bins, dtype=np.float64)
    net = np.asarray(lc.net, dtype=np.float64)
    error = np.asarray(lc.error, dtype=np.float64)
    if step is None:
        step = infer_step(lc.meta, mjd, bins)
    elif not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be positive, got {step}")

    good = np.isfinite(mjd) & np.isfinite(bins) & np.isfinite(net) & np.isfinite(error) & (bins > 0)
    order = np.argsort(mjd[good], kind="stable")
    mjd, bins, net, error = (a[good][order] for a in (mjd, bins, net, error))
    n = int(mjd.size)
    t = (mjd - mjd[0]) * SECONDS_PER_DAY if n else mjd
    baseline = float(t[-1] - t[0] + step) if n else 0.0
    exposure = float(np.sum(bins, dtype=np.float64))

    total, mean, mu, stdev, poisson_factor = count_statistics(net, bins, step)
    common = {
        "n_bins": n,
        "n_dropped": len(lc) - n,
        "exposure": exposure,
        "step": float(step),
        "baseline": baseline,
        "total": total,
        "power_threshold": power_threshold,
        "weighting": weighting,
    }
    if mean is None:
        return LightCurveStats(
            **common, mean=None, mu=None, stdev=None, poisson_factor=None, pearson_r=None, pearson_p=None,
            bands=skipped_bands("no counts", bin_width=step), periodogram=False, deliver=False,
        )

    pearson_r, pearson_p = pearson(mjd, net)
    if weighting == "exposure":
        variance = float(np.sum(error**2, dtype=np.float64)) / exposure
        dy = np.sqrt((variance if variance > 0 else 1.0) / bins)
    else:
        dy = np.maximum(error, 1.0) / bins
    bands = periodogram_bands(
        t, net, dy, bin_width=float(step), bands=BANDS, oversample=oversample,
        max_frequencies=max_frequencies, method=method,
    )
    flag = any(band.significant(power_threshold) for band in bands)
    return LightCurveStats(
        **common, mean=mean, mu=mu, stdev=stdev, poisson_factor=poisson_factor, pearson_r=pearson_r,
        pearson_p=pearson_p, bands=bands, periodogram=flag, deliver=n >= min_bins,
    )


__all__ = [
    "DEFAULT_MIN_BINS",
    "STATS_VERSION",
    "LightCurveStats",
    "compute_stats",
    "count_statistics",
    "infer_step",
    "pearson",
]
