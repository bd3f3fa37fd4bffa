"""Lomb–Scargle periodograms in the original pipeline's three period bands, made fast and honest.

The original (``get_periodogram_stats``) evaluated an exact Lomb–Scargle at M = N periods spaced linearly
in *period* — O(N·M) = O(N²), 30 s at N = 10⁴ and out of memory beyond. Here each band is searched on a
**regular frequency grid** (spacing ``1 / (oversample · baseline)``, i.e. ``oversample`` samples per
peak width) with an O(N log N) non-uniform-FFT evaluation:

* ``nifty-ls`` (FINUFFT, one thread) when installed — measured 3–5× faster than astropy's ``fast`` and
  agreeing with the exact sums to ~1e-9 in power (astropy's Press–Rybicki extirpolation: ~1e-4);
* otherwise astropy's ``LombScargle(...).power(method="fast")`` with the ``fasper`` algorithm.

Tiny problems (N · N_f below :data:`EXACT_MAX_WORK`) use the exact O(N·N_f) sums: they are then as
cheap and carry no approximation. Power uses the *standard* normalisation (``1 − χ²/χ²₀`` of a floating
mean sinusoid, in [0, 1]; the original's ``2/(N σ²)`` scaling of the classical periodogram is the same
normalisation without the floating mean). The false-alarm probability of the highest peak is Baluev's
(2008) analytic bound for the searched frequency range, as astropy computes it.

Times are seconds; periods are reported in seconds, ascending. A band is searched only where the data
constrain it: periods are clipped to ``[2 × bin width, baseline]`` and a band left empty by the clip (or
data too short or constant) is *skipped with a reason* instead of being computed on noise.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from astropy.timeseries import LombScargle

FloatArray = npt.NDArray[np.float64]
Method = Literal["auto", "fast", "exact"]

HAVE_NIFTY = importlib.util.find_spec("nifty_ls") is not None

#: Below this many point × frequency evaluations the exact sums are used (cheap, no approximation).
#: nifty-ls is exact to ~1e-9 and faster from ~10⁵ evaluations on; astropy's approximation needs more
#: points to be accurate, so without nifty-ls the exact sums are kept up to a larger size.
EXACT_MAX_WORK = 50_000 if HAVE_NIFTY else 500_000
#: Frequencies per band at most (a composite spanning years would otherwise ask for ~10⁸).
DEFAULT_MAX_FREQUENCIES = 400_000
#: Frequencies per band at least (a band barely wider than one peak still gets a resolved curve).
MIN_FREQUENCIES = 16
#: Samples per peak width 1/baseline.
DEFAULT_OVERSAMPLE = 5.0
#: Fewest bins a periodogram is computed from.
MIN_POINTS = 10
#: Largest number of significant peaks kept in a summary (strongest first).
SUMMARY_PEAKS = 25


@dataclass(frozen=True)
class BandSpec:
    """A named period band in seconds, as the original defined them."""

    name: str
    period_min: float
    period_max: float


#: The original's bands: short (max(step, 5 s) – 10 min), med (10 min – 1 h), long (1 h – 10 h).
BANDS: tuple[BandSpec, ...] = (
    BandSpec("short", 5.0, 600.0),
    BandSpec("med", 600.0, 3600.0),
    BandSpec("long", 3600.0, 36000.0),
)


class Peaks(NamedTuple):
    """Significant peaks of a band: local maxima above mean + 3σ (periods in s, ascending)."""

    periods: FloatArray
    powers: FloatArray


def _empty() -> FloatArray:
    return np.zeros(0, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class BandResult:
    """The periodogram of one band, or why it was skipped (``skipped`` is then the reason).

    ``period_min``/``period_max`` are the band as defined; ``searched_min``/``searched_max`` the periods
    actually searched after clipping to what the data constrain. ``periods`` ascend (s), ``power`` is
    standard-normalised; ``threshold`` = ``mean + 3 std`` of the power; ``fap`` is the Baluev false-alarm
    probability of ``best_power`` over the searched frequency range.
    """

    name: str
    period_min: float
    period_max: float
    searched_min: float | None = None
    searched_max: float | None = None
    periods: FloatArray = field(default_factory=_empty)
    power: FloatArray = field(default_factory=_empty)
    mean: float | None = None
    std: float | None = None
    threshold: float | None = None
    peaks: Peaks = field(default_factory=lambda: Peaks(_empty(), _empty()))
    best_period: float | None = None
    best_power: float | None = None
    fap: float | None = None
    skipped: str | None = None
    method: str = ""

    @property
    def computed(self) -> bool:
        return self.skipped is None

    def significant(self, power_threshold: float) -> bool:
        """True if a significant peak (above mean + 3σ) has power ≥ ``power_threshold``."""
        return bool(self.peaks.powers.size and float(self.peaks.powers.max()) >= power_threshold)

    def summary(self, *, max_peaks: int = SUMMARY_PEAKS) -> dict[str, Any]:
        """A JSON-safe summary (no full arrays; at most ``max_peaks`` strongest peaks)."""
        order = np.argsort(self.peaks.powers)[::-1][:max_peaks]
        return {
            "name": self.name,
            "period_min": self.period_min,
            "period_max": self.period_max,
            "searched_min": self.searched_min,
            "searched_max": self.searched_max,
            "n_frequencies": int(self.periods.size),
            "method": self.method,
            "mean": self.mean,
            "std": self.std,
            "threshold": self.threshold,
            "best_period": self.best_period,
            "best_power": self.best_power,
            "fap": self.fap,
            "n_peaks": int(self.peaks.powers.size),
            "peaks": [[float(self.peaks.periods[i]), float(self.peaks.powers[i])] for i in order],
            "skipped": self.skipped,
        }


def frequency_grid(
    period_min: float,
    period_max: float,
    baseline: float,
    *,
    oversample: float = DEFAULT_OVERSAMPLE,
    max_frequencies: int = DEFAULT_MAX_FREQUENCIES,
) -> tuple[float, float, int]:
    """``(f0, df, n)`` of a regular grid ``f0 + df·k`` covering ``[1/period_max, 1/period_min]`` (Hz).

    The spacing is ``1/(oversample · baseline)``; the count is kept within
    [:data:`MIN_FREQUENCIES`, ``max_frequencies``] (a coarser grid beyond the cap).
    """
    if not (0 < period_min < period_max) or not math.isfinite(period_max):
        raise ValueError(f"need 0 < period_min < period_max, got {period_min}, {period_max}")
    if baseline <= 0 or oversample <= 0 or max_frequencies < 2:
        raise ValueError("baseline and oversample must be positive, max_frequencies at least 2")
    fmin, fmax = 1.0 / period_max, 1.0 / period_min
    n = math.ceil((fmax - fmin) * oversample * baseline) + 1
    n = min(max(n, MIN_FREQUENCIES), max_frequencies)
    return fmin, (fmax - fmin) / (n - 1), n


def _check_series(t: npt.ArrayLike, y: npt.ArrayLike, dy: npt.ArrayLike) -> tuple[FloatArray, ...]:
    arrays = tuple(np.ascontiguousarray(a, dtype=np.float64) for a in (t, y, dy))
    if any(a.ndim != 1 or a.size != arrays[0].size for a in arrays):
        raise ValueError("t, y and dy must be one-dimensional arrays of equal length")
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ValueError("t, y and dy must be finite")
    if np.any(arrays[2] <= 0):
        raise ValueError("dy must be positive")
    return arrays


def exact_power(
    t: npt.ArrayLike, y: npt.ArrayLike, dy: npt.ArrayLike, frequency: npt.ArrayLike
) -> FloatArray:
    """The exact O(N·M) floating-mean Lomb–Scargle power (standard normalisation) at ``frequency`` (Hz)."""
    t_, y_, dy_ = _check_series(t, y, dy)
    f = np.asarray(frequency, dtype=np.float64)
    ls = LombScargle(t_, y_, dy_, fit_mean=True, center_data=True, normalization="standard")
    return np.asarray(ls.power(f, method="cython"), dtype=np.float64)


def fast_power(
    t: npt.ArrayLike,
    y: npt.ArrayLike,
    dy: npt.ArrayLike,
    f0: float,
    df: float,
    n: int,
    *,
    engine: Literal["auto", "nifty", "astropy"] = "auto",
) -> tuple[FloatArray, str]:
    """O(N log N) power on the regular grid ``f0 + df·arange(n)``; returns ``(power, engine used)``."""
    t_, y_, dy_ = _check_series(t, y, dy)
    if engine == "nifty" or (engine == "auto" and HAVE_NIFTY):
        import nifty_ls

        result = nifty_ls.lombscargle(
            t_ - t_[0], y_, dy_, fmin=f0, fmax=f0 + df * (n - 1), Nf=n,
            center_data=True, fit_mean=True, normalization="standard",
            nthreads=1,  # measured 3× faster than its all-cores default at N = 10⁵; no oversubscription
        )
        return np.asarray(result.power, dtype=np.float64), "nifty-ls"
    if engine not in ("auto", "astropy"):
        raise ValueError(f"unknown engine {engine!r}")
    ls = LombScargle(t_ - t_[0], y_, dy_, fit_mean=True, center_data=True, normalization="standard")
    power = ls.power(
        f0 + df * np.arange(n), method="fast", assume_regular_frequency=True,
        method_kwds={"algorithm": "fasper"},
    )
    return np.asarray(power, dtype=np.float64), "astropy-fast"


def baluev_fap(
    t: npt.ArrayLike, y: npt.ArrayLike, dy: npt.ArrayLike, power: float, fmin: float, fmax: float
) -> float:
    """Baluev's false-alarm probability of ``power`` (standard normalisation) over ``[fmin, fmax]`` Hz."""
    t_, y_, dy_ = _check_series(t, y, dy)
    ls = LombScargle(t_ - t_[0], y_, dy_, fit_mean=True, center_data=True, normalization="standard")
    fap = ls.false_alarm_probability(
        power, method="baluev", minimum_frequency=fmin, maximum_frequency=fmax
    )
    return float(np.clip(fap, 0.0, 1.0))


def local_maxima(power: FloatArray) -> npt.NDArray[np.intp]:
    """Indices of strict interior local maxima (as scipy's ``argrelextrema(..., np.greater)``)."""
    if power.size < 3:
        return np.zeros(0, dtype=np.intp)
    inner = power[1:-1]
    return np.flatnonzero((inner > power[:-2]) & (inner > power[2:])) + 1


def band_periodogram(
    t: npt.ArrayLike,
    y: npt.ArrayLike,
    dy: npt.ArrayLike,
    band: BandSpec,
    *,
    bin_width: float,
    oversample: float = DEFAULT_OVERSAMPLE,
    max_frequencies: int = DEFAULT_MAX_FREQUENCIES,
    method: Method = "auto",
    min_points: int = MIN_POINTS,
) -> BandResult:
    """The periodogram of one band of the series ``y ± dy`` at times ``t`` (s, sorted).

    The band is clipped to periods in ``[2 · bin_width, baseline]`` (baseline = ``t[-1] − t[0] +
    bin_width``); it is skipped, with the reason in ``skipped``, if the clip leaves nothing, if there are
    fewer than ``min_points`` points, or if ``y`` is constant.
    """
    t_, y_, dy_ = _check_series(t, y, dy)
    if not bin_width > 0:
        raise ValueError(f"bin_width must be positive, got {bin_width}")
    if method not in ("auto", "fast", "exact"):
        raise ValueError(f"unknown method {method!r}")
    if t_.size > 1 and np.any(np.diff(t_) < 0):
        raise ValueError("t must be sorted")
    baseline = float(t_[-1] - t_[0] + bin_width) if t_.size else 0.0
    low = max(band.period_min, 2.0 * bin_width)
    high = min(band.period_max, baseline)

    reason = None
    if t_.size < min_points:
        reason = f"only {t_.size} bins (a periodogram needs at least {min_points})"
    elif np.ptp(y_) == 0:
        reason = "constant lightcurve"
    elif baseline <= band.period_min:
        reason = (f"baseline {baseline:.6g} s is not longer than the band's shortest period "
                  f"{band.period_min:g} s")
    elif 2.0 * bin_width >= band.period_max:
        reason = (f"bin width {bin_width:g} s: periods below {2 * bin_width:g} s are not constrained, "
                  f"the band ends at {band.period_max:g} s")
    elif low >= high:
        reason = (f"no period in {band.period_min:g}–{band.period_max:g} s lies between 2 × bin width "
                  "and the baseline")
    if reason is not None:
        return BandResult(band.name, band.period_min, band.period_max, skipped=reason)

    f0, df, n = frequency_grid(low, high, baseline, oversample=oversample, max_frequencies=max_frequencies)
    if method == "exact" or (method == "auto" and t_.size * n <= EXACT_MAX_WORK):
        power = exact_power(t_ - t_[0], y_, dy_, f0 + df * np.arange(n))
        used = "exact"
    else:
        power, used = fast_power(t_, y_, dy_, f0, df, n)
    power = np.clip(power, 0.0, 1.0)[::-1].copy()  # ascending periods
    periods = (1.0 / (f0 + df * np.arange(n)))[::-1].copy()

    mean, std = float(power.mean()), float(power.std())
    threshold = mean + 3.0 * std
    maxima = local_maxima(power)
    significant = maxima[power[maxima] > threshold]
    best = int(np.argmax(power))
    best_power = float(power[best])
    fap = baluev_fap(t_, y_, dy_, best_power, f0, f0 + df * (n - 1))
    return BandResult(
        name=band.name,
        period_min=band.period_min,
        period_max=band.period_max,
        searched_min=float(low),
        searched_max=float(high),
        periods=periods,
        power=power,
        mean=mean,
        std=std,
        threshold=threshold,
        peaks=Peaks(periods[significant], power[significant]),
        best_period=float(periods[best]),
        best_power=best_power,
        fap=fap,
        method=used,
    )


def periodogram_bands(
    t: npt.ArrayLike,
    y: npt.ArrayLike,
    dy: npt.ArrayLike,
    *,
    bin_width: float,
    bands: Sequence[BandSpec] = BANDS,
    oversample: float = DEFAULT_OVERSAMPLE,
    max_frequencies: int = DEFAULT_MAX_FREQUENCIES,
    method: Method = "auto",
    min_points: int = MIN_POINTS,
) -> tuple[BandResult, ...]:
    """:func:`band_periodogram` for each band (the short band starts at ``max(bin_width, 5 s)``)."""
    results = []
    for band in bands:
        spec = band
        if band.name == "short":
            spec = BandSpec(band.name, max(bin_width, band.period_min), band.period_max)
        results.append(
            band_periodogram(
                t, y, dy, spec, bin_width=bin_width, oversample=oversample,
                max_frequencies=max_frequencies, method=method, min_points=min_points,
            )
        )
    return tuple(results)


def skipped_bands(reason: str, *, bin_width: float | None = None,
                  bands: Sequence[BandSpec] = BANDS) -> tuple[BandResult, ...]:
    """Every band skipped for the same ``reason`` (e.g. a lightcurve without counts)."""
    out = []
    for band in bands:
        low = max(bin_width, band.period_min) if (band.name == "short" and bin_width) else band.period_min
        out.append(BandResult(band.name, low, band.period_max, skipped=reason))
    return tuple(out)


__all__ = [
    "BANDS",
    "DEFAULT_MAX_FREQUENCIES",
    "DEFAULT_OVERSAMPLE",
    "EXACT_MAX_WORK",
    "HAVE_NIFTY",
    "MIN_POINTS",
    "BandResult",
    "BandSpec",
    "Peaks",
    "baluev_fap",
    "band_periodogram",
    "exact_power",
    "fast_power",
    "frequency_grid",
    "local_maxima",
    "periodogram_bands",
    "skipped_bands",
]
