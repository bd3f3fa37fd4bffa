"""A Lomb–Scargle period search over one frequency grid, with a false-alarm probability for the whole search.

How a lightcurve is searched (:func:`search_periods`):

1. **One grid.** Frequencies regular in frequency, spacing ``1 / (oversample · baseline)``
   (``oversample`` samples per peak width), from the longest period the data constrain —
   ``min(10 h, baseline / 2)``: at least two cycles, so a drift over a visit is not fitted as a period —
   to the shortest, ``max(5 s, 2 × bin width)``. The original's three bands (short 5 s–10 min, med
   10 min–1 h, long 1–10 h) are *reporting* ranges cut out of that one grid, not separate searches: a
   period at 600 s or 3600 s is in the middle of the grid, not at the edge of a band.
2. **Power** in the *standard* normalisation (``1 − χ²/χ²₀`` of a floating-mean sinusoid, in [0, 1]),
   evaluated in O(N log N) with ``nifty-ls`` (FINUFFT, agreeing with the exact sums to ~1e-9) when
   installed, else astropy's ``fasper``; tiny problems (N · N_f ≤ :data:`EXACT_MAX_WORK`) use the exact
   sums.
3. **Distinct peaks**: grid points that are the highest within one resolution element (``±1 /
   baseline``) on either side — the ends of the grid included — so a broad peak is one peak, not every
   grid point above a line. The best counted peak (the period the verdict is about) is refined on a
   grid ten times finer around it and a parabola through the top three points, so its period is known
   to a small fraction of the grid step (P²/(oversample · baseline)) instead of to the step; other
   peaks are reported at their grid point.
4. **False-alarm probability** of each peak, for the **whole search**: Baluev's (2008, MNRAS 385,
   1279, eq. 6 with Table 1's standard normalisation) alias-free upper bound for the highest peak of a
   white-noise series over the peak's trial range (5–60 s, 1–10 min, 10–60 min, 1–10 h:
   :data:`TRIAL_RANGES`), combined over the ranges searched (``1 − (1 − p)^n``): the probability that
   noise makes a peak this high anywhere in the search. Fixed ranges keep the FAP of a 10-minute period
   nearly the same at 2 s and 30 s bins (n = 4 or 3); one bound over the whole grid would charge it for
   every 5–60 s trial the 2 s bins make (×12).
   It assumes independent Gaussian errors of the given relative sizes (Poisson counts summed over a bin
   qualify; red noise and trends do not).
5. **Peaks that are not the source.** A peak within a quarter of a resolution element of the HST
   orbital frequency or one of its harmonics up to the 20th (4.8 min) is marked ``window`` when the data
   hold consecutive orbits: gapped sampling turns orbital-phase systematics (thermal breathing,
   pointing) into a comb at the orbit's harmonics, which is not the source. The orbital period is read
   from the spacing of the visibility windows (:func:`orbit_period_range`). A peak at
   the long-period end of the grid is marked ``edge``: the power still rises there — a trend, or a
   period longer than the data constrain. Neither counts for a detection.
6. **One signal at a time.** When the best counted peak is significant, its sinusoid is subtracted
   and the grid searched again; every band's best peak (other than the band holding the signal) is
   then taken from that residual search, and the first search's other peaks are judged by the power
   left at their frequency, so a strong signal's aliases and leakage do not make another FAP tiny. A
   significant best peak of the residual search is reported as a second signal.

A composite's visits are first brought to a common level: each group's (``groups``, the product's
DATASET) weighted mean is subtracted before the search — a floating mean per dataset, applied as a
pre-whitening step — so the level differences between visits (the ~1–2 % flux repeatability of HST
spectrographs) do not appear as long-period power.

Times are seconds, periods seconds ascending. A search the data cannot support (too few bins, constant
data, a baseline too short for the shortest period) is *skipped with a reason*, never computed on noise.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from astropy.timeseries import LombScargle
from scipy.ndimage import maximum_filter1d
from scipy.optimize import brentq
from scipy.special import gammaln

FloatArray = npt.NDArray[np.float64]
Method = Literal["auto", "fast", "exact"]

HAVE_NIFTY = importlib.util.find_spec("nifty_ls") is not None

#: Below this many point × frequency evaluations the exact sums are used (cheap, no approximation).
#: nifty-ls is exact to ~1e-9 and faster from ~10⁵ evaluations on; astropy's approximation needs more
#: points to be accurate, so without nifty-ls the exact sums are kept up to a larger size.
EXACT_MAX_WORK = 50_000 if HAVE_NIFTY else 500_000
#: Frequencies in the grid at most (a composite spanning years would otherwise ask for ~10⁸); beyond
#: it the grid is coarser than ``oversample`` per peak width, and the search says so (``oversample``).
DEFAULT_MAX_FREQUENCIES = 1_000_000
#: Frequencies in the grid at least (a range barely wider than one peak still gets a resolved curve).
MIN_FREQUENCIES = 16
#: Samples per peak width 1/baseline.
DEFAULT_OVERSAMPLE = 5.0
#: Fewest bins a periodogram is computed from.
MIN_POINTS = 10
#: Default false-alarm probability below which a peak is significant.
DEFAULT_FAP_THRESHOLD = 1e-3
#: Shortest period searched (s), whatever the bin width; the original's short band started here.
SHORTEST_PERIOD = 5.0
#: Longest period searched (s): the original's long band ended at 10 h.
LONGEST_PERIOD = 36_000.0
#: Cycles the baseline must hold of the longest period searched (fewer, and a drift fits as well as a
#: sinusoid: a ramp over a visit is best fitted by a period of ~T/1.9).
MIN_CYCLES = 2.0
#: HST's orbital period over the mission (s): 94–97.3 min as the orbit decayed.
ORBIT_PERIOD_RANGE = (5640.0, 5840.0)
#: A gap in the sampling at least this long (s) is an Earth occultation (~35–40 min on HST).
ORBIT_GAP = 1200.0
#: Harmonics of the orbital frequency marked as the window (1 = the orbit itself; 20 = 4.8 min): gapped
#: sampling turns any orbital-phase systematic into a comb of harmonics falling off as ~1/k.
ORBIT_HARMONICS = 20
#: Consecutive visibility windows start this far apart (s) when they are one orbit apart.
ORBIT_SPACING = (5400.0, 6100.0)
#: Distinct peaks kept per band and overall, strongest first.
MAX_BAND_PEAKS = 5
MAX_PEAKS = 10
#: Points of the local refinement grid around a peak (spacing: a tenth of the grid step).
REFINE_POINTS = 21
#: The period ranges (s) whose trials a false-alarm probability counts: a peak's FAP is Baluev's over its
#: range, combined over all the ranges (Šidák). Fixed ranges, so the FAP of a 10-min period does not
#: depend on how far below it a finer bin width lets the search go.
TRIAL_RANGES: tuple[tuple[float, float], ...] = (
    (5.0, 60.0), (60.0, 600.0), (600.0, 3600.0), (3600.0, 36_000.0),
)


@dataclass(frozen=True)
class BandSpec:
    """A named period range in seconds, as the original defined them.

    Parameters
    ----------
    name : str
        Name of the band (``short``, ``med``, ``long``).
    period_min, period_max : float
        Shortest and longest period of the band (s).

    Examples
    --------
    >>> BandSpec("med", 600.0, 3600.0)
    BandSpec(name='med', period_min=600.0, period_max=3600.0)
    >>> [(band.name, band.period_min, band.period_max) for band in BANDS]
    [('short', 5.0, 600.0), ('med', 600.0, 3600.0), ('long', 3600.0, 36000.0)]
    """

    name: str
    period_min: float
    period_max: float


#: The original's bands: short (5 s – 10 min), med (10 min – 1 h), long (1 h – 10 h).
BANDS: tuple[BandSpec, ...] = (
    BandSpec("short", SHORTEST_PERIOD, 600.0),
    BandSpec("med", 600.0, 3600.0),
    BandSpec("long", 3600.0, LONGEST_PERIOD),
)


@dataclass(frozen=True)
class Peak:
    """One distinct periodogram peak: its period (s; ``refined`` for the best counted one, else the grid
    point), power and FAP (over the whole search).

    ``window``: at the HST orbital frequency or a harmonic; ``edge``: at the long-period end of the
    grid; ``band``: the reporting band it falls in. Neither a window nor an edge peak counts. When a
    significant signal was removed, every other peak of the first search gets ``residual_power``, the
    power left at its frequency, and its ``fap`` is that power's: an alias or sidelobe of the signal is
    then not significant.

    Parameters
    ----------
    period : float
        Period of the peak (s): refined for the best counted peak, else the grid point's.
    power : float
        Standard-normalised Lomb–Scargle power of the peak, in [0, 1].
    fap : float
        False-alarm probability of the peak over the whole search (that of ``residual_power`` when set).
    band : str or None, optional
        The reporting band the period falls in (default None).
    window : bool, optional
        At the HST orbital frequency or a harmonic (default False).
    edge : bool, optional
        At the long-period end of the grid (default False).
    refined : bool, optional
        Whether ``period`` and ``power`` were refined off the grid (default False).
    residual_power : float or None, optional
        The power left at the peak's frequency once a significant signal was removed (default None).

    Examples
    --------
    >>> peak = Peak(period=200.0, power=0.8, fap=1e-9, band="short")
    >>> peak.counted, Peak(period=5760.0, power=0.5, fap=1e-6, window=True).counted
    (True, False)
    >>> peak.summary()["band"], peak.summary()["residual_power"]
    ('short', None)
    """

    period: float
    power: float
    fap: float
    band: str | None = None
    window: bool = False
    edge: bool = False
    refined: bool = False
    residual_power: float | None = None

    @property
    def counted(self) -> bool:
        """True if the peak can stand for the source (not the orbit's window, not a trend)."""
        return not (self.window or self.edge)

    def summary(self) -> dict[str, Any]:
        """A JSON-safe summary of the peak (every field but ``refined``)."""
        return {
            "period": self.period,
            "power": self.power,
            "fap": self.fap,
            "band": self.band,
            "window": self.window,
            "edge": self.edge,
            "residual_power": self.residual_power,
        }


def _empty() -> FloatArray:
    return np.zeros(0, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class BandResult:
    """One reporting band of a search: its slice of the grid and its strongest distinct peaks.

    Parameters
    ----------
    name : str
        Name of the band.
    period_min, period_max : float
        The band as defined (s).
    searched_min, searched_max : float or None, optional
        The part of the band the grid covers (s; default None, as for a skipped band).
    periods : ndarray of float64, optional
        The band's grid periods, ascending (s; default none).
    power : ndarray of float64, optional
        Their standard-normalised power (from the search of the data as given).
    mean, std : float or None, optional
        Mean and standard deviation of the band's power (the original's mean + 3σ rule).
    threshold : float or None, optional
        The highest of the ``levels`` powers.
    levels : tuple of (float, float, float), optional
        ``(period_min, period_max, power)`` of the trial ranges in the band, the power whose FAP is the
        detection threshold.
    peaks : tuple of Peak, optional
        Up to :data:`MAX_BAND_PEAKS` distinct peaks, strongest first.
    best : Peak or None, optional
        The band's strongest counted peak — taken from the residual search when a significant signal
        elsewhere was removed first (``residual`` is then True).
    residual : bool, optional
        Whether ``best`` comes from the residual search (default False).
    skipped : str or None, optional
        Why the band was not searched (default None: it was).
    method : str, optional
        The engine that computed the power (``exact``, ``nifty-ls`` or ``astropy-fast``).

    Examples
    --------
    >>> peak = Peak(period=200.0, power=0.8, fap=1e-9, band="short")
    >>> band = BandResult("short", 5.0, 600.0, mean=0.01, std=0.01, peaks=(peak,), best=peak)
    >>> band.computed, band.best_period, band.fap
    (True, 200.0, 1e-09)
    >>> band.significant_peaks(1e-3) == (peak,), band.original_flag(0.3), band.original_flag(0.9)
    (True, True, False)
    >>> BandResult("long", 3600.0, 36000.0, skipped="no period is searchable").computed
    False
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
    levels: tuple[tuple[float, float, float], ...] = ()
    peaks: tuple[Peak, ...] = ()
    best: Peak | None = None
    residual: bool = False
    skipped: str | None = None
    method: str = ""

    @property
    def computed(self) -> bool:
        """True if the band was searched (not ``skipped``)."""
        return self.skipped is None

    @property
    def best_period(self) -> float | None:
        """The period (s) of :attr:`best`, or None without one."""
        return self.best.period if self.best is not None else None

    @property
    def best_power(self) -> float | None:
        """The power of :attr:`best`, or None without one."""
        return self.best.power if self.best is not None else None

    @property
    def fap(self) -> float | None:
        """The false-alarm probability (whole search) of :attr:`best`, or None without one."""
        return self.best.fap if self.best is not None else None

    def significant_peaks(self, fap_threshold: float) -> tuple[Peak, ...]:
        """The band's counted peaks with a FAP (whole search) below ``fap_threshold``.

        Parameters
        ----------
        fap_threshold : float
            False-alarm probability below which a peak is significant.

        Returns
        -------
        peaks : tuple of Peak
            Those of :attr:`peaks`, strongest first.
        """
        return tuple(p for p in self.peaks if p.counted and p.fap < fap_threshold)

    def original_flag(self, power_threshold: float) -> bool:
        """The original's rule: a peak above the band's mean + 3σ with power ≥ ``power_threshold``.

        Parameters
        ----------
        power_threshold : float
            Least power a flagged peak has.

        Returns
        -------
        flag : bool
            Whether one of :attr:`peaks` passes both tests (False without ``mean``/``std``).
        """
        if self.mean is None or self.std is None:
            return False
        line = self.mean + 3.0 * self.std
        return any(p.power > line and p.power >= power_threshold for p in self.peaks)

    def summary(self) -> dict[str, Any]:
        """A JSON-safe summary (no full arrays)."""
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
            "levels": [list(level) for level in self.levels],
            "best_period": self.best_period,
            "best_power": self.best_power,
            "fap": self.fap,
            "residual": self.residual,
            "peaks": [p.summary() for p in self.peaks],
            "skipped": self.skipped,
        }


@dataclass(frozen=True, eq=False)
class PeriodSearch:
    """The result of :func:`search_periods` (see the module docstring for each step).

    Parameters
    ----------
    periods, power : ndarray of float64, optional
        The whole grid, periods ascending (s), and their standard-normalised power.
    baseline : float, optional
        Time spanned by the bins (s): last time − first time + bin width.
    searched_min, searched_max : float or None, optional
        Shortest and longest period of the grid (s; None when skipped).
    n_points : int, optional
        Bins searched.
    oversample : float or None, optional
        Grid points per peak width actually used (below the request when the grid was capped).
    method : str, optional
        The engine that computed the power (``exact``, ``nifty-ls`` or ``astropy-fast``).
    fap_threshold : float, optional
        False-alarm probability below which a peak is significant.
    levels : tuple of (float, float, float), optional
        ``(period_min, period_max, power)`` per trial range, the power whose FAP is ``fap_threshold``.
    trial_ranges : tuple of (float, float), optional
        The period ranges (s) whose trials the FAPs count.
    peaks : tuple of Peak, optional
        Up to :data:`MAX_PEAKS` distinct peaks, strongest first.
    best : Peak or None, optional
        The strongest counted peak (refined), the period the verdict is about.
    signals : tuple of Peak, optional
        The significant signals found — the best, and the residual search's best when it is significant
        too (a second period).
    bands : tuple of BandResult, optional
        The reporting bands, in the order they were given.
    detrend : str, optional
        What was removed first (``mean``, or ``mean per dataset``).
    skipped : str or None, optional
        Why the search was not made (default None: it was).

    Examples
    --------
    >>> t = np.arange(200) * 5.0
    >>> rng = np.random.default_rng(3)
    >>> y = 10.0 + np.sin(2 * np.pi * t / 100.0) + rng.normal(0.0, 0.5, t.size)
    >>> search = search_periods(t, y, np.full(t.size, 0.5), bin_width=5.0)
    >>> search.computed, search.detected, round(search.best.period), len(search.signals)
    (True, True, 100, 1)
    >>> search.searched_min, search.searched_max
    (10.0, 500.0)
    >>> search.band("med").skipped
    'no period in 600–3600 s is searchable (searched 10–500 s)'
    >>> skipped_search("no counts").detected
    False
    """

    periods: FloatArray = field(default_factory=_empty)
    power: FloatArray = field(default_factory=_empty)
    baseline: float = 0.0
    searched_min: float | None = None
    searched_max: float | None = None
    n_points: int = 0
    oversample: float | None = None
    method: str = ""
    fap_threshold: float = DEFAULT_FAP_THRESHOLD
    levels: tuple[tuple[float, float, float], ...] = ()
    trial_ranges: tuple[tuple[float, float], ...] = ()
    peaks: tuple[Peak, ...] = ()
    best: Peak | None = None
    signals: tuple[Peak, ...] = ()
    bands: tuple[BandResult, ...] = ()
    detrend: str = "mean"
    skipped: str | None = None

    @property
    def computed(self) -> bool:
        """True if the search was made (not ``skipped``)."""
        return self.skipped is None

    @property
    def detected(self) -> bool:
        """True if the best counted peak's FAP (whole search) is below the threshold."""
        return self.best is not None and self.best.fap < self.fap_threshold

    def band(self, name: str) -> BandResult:
        """The reporting band called ``name``.

        Parameters
        ----------
        name : str
            Name of the band (``short``, ``med``, ``long`` for :data:`BANDS`).

        Returns
        -------
        band : BandResult
            The first of :attr:`bands` with that name.

        Raises
        ------
        KeyError
            If no band has that name.
        """
        for band in self.bands:
            if band.name == name:
                return band
        raise KeyError(name)

    def summary(self) -> dict[str, Any]:
        """A JSON-safe summary of the search (no full arrays)."""
        return {
            "searched_min": self.searched_min,
            "searched_max": self.searched_max,
            "n_frequencies": int(self.periods.size),
            "n_points": self.n_points,
            "baseline": self.baseline,
            "oversample": self.oversample,
            "method": self.method,
            "fap_threshold": self.fap_threshold,
            "trial_ranges": [list(r) for r in self.trial_ranges],
            "levels": [list(level) for level in self.levels],
            "detrend": self.detrend,
            "best": self.best.summary() if self.best is not None else None,
            "signals": [p.summary() for p in self.signals],
            "peaks": [p.summary() for p in self.peaks],
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

    Parameters
    ----------
    period_min, period_max : float
        Shortest and longest period of the grid (s), ``0 < period_min < period_max``.
    baseline : float
        Time spanned by the data (s), positive: a peak is ``1 / baseline`` wide.
    oversample : float, optional
        Grid points per peak width (default :data:`DEFAULT_OVERSAMPLE`).
    max_frequencies : int, optional
        Most frequencies in the grid, at least 2 (default :data:`DEFAULT_MAX_FREQUENCIES`).

    Returns
    -------
    f0 : float
        First frequency, ``1 / period_max`` (Hz).
    df : float
        Spacing (Hz); the last frequency ``f0 + df·(n − 1)`` is ``1 / period_min``.
    n : int
        Number of frequencies.

    Raises
    ------
    ValueError
        If the periods are not ``0 < period_min < period_max < inf``, ``baseline`` or ``oversample`` is
        not positive, or ``max_frequencies`` is below 2.

    Examples
    --------
    >>> f0, df, n = frequency_grid(10.0, 100.0, 1000.0)
    >>> f0, round(1.0 / (df * 1000.0), 2), n, round(f0 + df * (n - 1), 12)
    (0.01, 5.01, 452, 0.1)
    >>> frequency_grid(10.0, 100.0, 1000.0, max_frequencies=100)[2]
    100
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
    """The exact O(N·M) floating-mean Lomb–Scargle power (standard normalisation) at ``frequency`` (Hz).

    Parameters
    ----------
    t : array_like of float, shape (N,)
        Times (s).
    y, dy : array_like of float, shape (N,)
        Values and their uncertainties (positive).
    frequency : array_like of float, shape (M,)
        Frequencies (Hz).

    Returns
    -------
    power : ndarray of float64, shape (M,)
        Power at each frequency: ``1 − χ²/χ²₀`` of a floating-mean sinusoid.

    Raises
    ------
    ValueError
        If ``t``, ``y`` and ``dy`` are not one-dimensional arrays of equal length, not finite, or a ``dy``
        is not positive.

    Examples
    --------
    >>> t = np.arange(100) * 2.0
    >>> y = 3.0 + np.sin(2 * np.pi * t / 20.0)
    >>> np.round(exact_power(t, y, np.ones(100), [0.05, 0.0475, 0.0525]), 4).tolist()
    [1.0, 0.4236, 0.3885]
    """
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
    """O(N log N) power on the regular grid ``f0 + df·arange(n)``; returns ``(power, engine used)``.

    Parameters
    ----------
    t : array_like of float, shape (N,)
        Times (s).
    y, dy : array_like of float, shape (N,)
        Values and their uncertainties (positive).
    f0, df : float
        First frequency and spacing of the grid (Hz).
    n : int
        Number of frequencies.
    engine : {"auto", "nifty", "astropy"}, optional
        ``nifty-ls`` (FINUFFT, exact to ~1e-9), astropy's ``fasper`` (an approximation), or the first
        when it is installed (default ``auto``).

    Returns
    -------
    power : ndarray of float64, shape (n,)
        Standard-normalised power on the grid (not clipped to [0, 1]).
    engine : str
        The engine used: ``nifty-ls`` or ``astropy-fast``.

    Raises
    ------
    ValueError
        If the series is malformed (as :func:`exact_power`) or ``engine`` is unknown.
    ImportError
        If ``engine`` is ``nifty`` and nifty-ls is not installed.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.sort(rng.uniform(0.0, 2000.0, 500))
    >>> y = np.sin(2 * np.pi * t / 50.0) + rng.normal(0.0, 1.0, t.size)
    >>> power, engine = fast_power(t, y, np.ones(t.size), 0.001, 0.0001, 1000, engine="astropy")
    >>> engine, power.shape
    ('astropy-fast', (1000,))
    >>> exact = exact_power(t, y, np.ones(t.size), 0.001 + 0.0001 * np.arange(1000))
    >>> bool(np.abs(power - exact).max() < 0.01), int(np.argmax(power)) == int(np.argmax(exact)) == 190
    (True, True)
    """
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


def grid_power(
    t: FloatArray, y: FloatArray, dy: FloatArray, f0: float, df: float, n: int, *, method: Method = "auto"
) -> tuple[FloatArray, str]:
    """Power on ``f0 + df·arange(n)`` by the exact sums or the fast engine (``method``), clipped to [0, 1].

    Parameters
    ----------
    t : ndarray of float64, shape (N,)
        Times (s).
    y, dy : ndarray of float64, shape (N,)
        Values and their uncertainties (positive).
    f0, df : float
        First frequency and spacing of the grid (Hz).
    n : int
        Number of frequencies.
    method : {"auto", "fast", "exact"}, optional
        The exact sums, the fast engine (:func:`fast_power`), or the exact sums when ``N · n`` is at most
        :data:`EXACT_MAX_WORK` and the fast engine beyond (default ``auto``).

    Returns
    -------
    power : ndarray of float64, shape (n,)
        Standard-normalised power on the grid, in [0, 1].
    method : str
        What computed it: ``exact``, ``nifty-ls`` or ``astropy-fast``.

    Raises
    ------
    ValueError
        If the series is malformed (as :func:`exact_power`).

    Examples
    --------
    >>> t = np.arange(100) * 2.0
    >>> y = np.sin(2 * np.pi * t / 20.0)
    >>> power, used = grid_power(t, y, np.ones(100), 0.01, 0.01, 10)
    >>> np.round(power, 4).tolist(), used
    ([0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0], 'exact')
    """
    if method == "exact" or (method == "auto" and t.size * n <= EXACT_MAX_WORK):
        power, used = exact_power(t - t[0], y, dy, f0 + df * np.arange(n)), "exact"
    else:
        power, used = fast_power(t, y, dy, f0, df, n)
    return np.clip(power, 0.0, 1.0), used


@dataclass(frozen=True)
class BaluevBound:
    """Baluev's (2008) alias-free FAP of the highest peak over a frequency range of width ``bandwidth``.

    For the standard normalisation with a floating mean (Table 1): the single-frequency tail
    ``(1 − z)^((N−3)/2)`` and the Davies term ``τ = γ(N−1) · W · (1 − z)^((N−4)/2) · sqrt((N−1) z / 2)``
    with ``W = bandwidth · sqrt(4π · var_w(t))`` (the weighted variance of the times); the FAP is
    ``1 − (1 − fap_single) e^(−τ)``. An upper bound, tight for the small FAPs that matter.

    Parameters
    ----------
    n_points : int
        Number of points N of the series.
    w : float
        ``W = bandwidth · sqrt(4π · var_w(t))`` of the Davies term (:meth:`of` computes it).

    Examples
    --------
    >>> t = np.arange(1000) * 2.0
    >>> bound = BaluevBound.of(t, np.ones(1000), 1 / 5.0 - 1 / 60.0)
    >>> bound.n_points, round(bound.w, 1)
    (1000, 375.2)
    >>> np.round(bound.fap([0.0, 0.01, 0.02, 0.05]), 4).tolist()
    [1.0, 0.9964, 0.0494, 0.0]
    >>> level = bound.level(1e-3)
    >>> round(level, 4), round(float(bound.fap(level)[()]), 6)
    (0.028, 0.001)
    """

    n_points: int
    w: float

    @classmethod
    def of(cls, t: FloatArray, dy: FloatArray, bandwidth: float) -> BaluevBound:
        """The bound for a series sampled at ``t`` with errors ``dy`` over a frequency range.

        Parameters
        ----------
        t : ndarray of float64, shape (N,)
            Times (s).
        dy : ndarray of float64, shape (N,)
            Uncertainties (positive): the times' variance is weighted by ``1 / dy²``.
        bandwidth : float
            Width of the frequency range searched (Hz).

        Returns
        -------
        bound : BaluevBound
        """
        weight = 1.0 / dy**2
        tc = t - t[0]
        mean = float(np.sum(weight * tc) / np.sum(weight))
        var = float(np.sum(weight * (tc - mean) ** 2) / np.sum(weight))
        return cls(int(t.size), bandwidth * math.sqrt(4.0 * math.pi * var))

    def fap(self, power: npt.ArrayLike) -> FloatArray:
        """The false-alarm probability of a highest peak of power ``power``.

        Parameters
        ----------
        power : array_like of float
            Standard-normalised power (clipped to [0, 1]).

        Returns
        -------
        fap : ndarray of float64, same shape as ``power``
            Baluev's bound, in [0, 1].
        """
        z = np.clip(np.asarray(power, dtype=np.float64), 0.0, 1.0)
        nh, nk = self.n_points - 1, self.n_points - 3
        gamma = math.sqrt(2.0 / nh) * math.exp(gammaln(nh / 2.0) - gammaln((nh - 1) / 2.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            single = (1.0 - z) ** (0.5 * nk)
            tau = gamma * self.w * (1.0 - z) ** (0.5 * (nk - 1)) * np.sqrt(0.5 * nh * z)
        out = -np.expm1(-tau) + single * np.exp(-tau)
        return np.clip(np.nan_to_num(out, nan=1.0), 0.0, 1.0)

    def level(self, fap: float) -> float:
        """The power whose FAP is ``fap`` (the detection line).

        Parameters
        ----------
        fap : float
            False-alarm probability, in (0, 1).

        Returns
        -------
        power : float
            The power where :meth:`fap` equals ``fap`` (0.0 when a vanishing power's FAP is already at most
            ``fap``).

        Raises
        ------
        ValueError
            If ``fap`` is not in (0, 1).
        """
        if not 0 < fap < 1:
            raise ValueError(f"fap must be in (0, 1), got {fap}")
        if float(self.fap(1e-12)[()]) <= fap:
            return 0.0
        return float(brentq(lambda z: float(self.fap(z)[()]) - fap, 1e-12, 1.0 - 1e-15, xtol=1e-12))


@dataclass(frozen=True)
class TrialRanges:
    """The false-alarm probability of a peak over the whole search, counted by :data:`TRIAL_RANGES`.

    ``ranges`` are the searched parts (s) of the trial ranges, each with Baluev's bound for its frequency
    width; a peak's FAP is ``1 − (1 − FAP_range)^n`` with ``n`` (``n_ranges``) the number of ranges
    searched: the probability that white noise makes a peak this high in *any* of them. A period's FAP
    then depends on the bin width only through ``n`` (4 ranges at 2 s bins, 3 at 30 s: a factor of
    about 4/3 for small FAPs), where one bound over the whole grid would grow with every 5–60 s trial.

    Parameters
    ----------
    ranges : tuple of (float, float)
        The searched parts of the trial ranges (s), shortest periods first.
    bounds : tuple of BaluevBound
        Baluev's bound of each range, for its frequency width.
    n_ranges : int
        Number of ranges searched.

    Examples
    --------
    >>> t = np.arange(1000) * 2.0
    >>> trials = TrialRanges.of(t, np.ones(1000), 5.0, 1000.0)
    >>> trials.ranges, trials.n_ranges
    (((5.0, 60.0), (60.0, 600.0), (600.0, 1000.0)), 3)
    >>> round(trials.fap(30.0, 0.03), 6), round(trials.fap(300.0, 0.03), 6)
    (0.001125, 9.3e-05)
    >>> [round(power, 4) for _, _, power in trials.levels(1e-3)]
    [0.0302, 0.0252, 0.0192]
    """

    ranges: tuple[tuple[float, float], ...]
    bounds: tuple[BaluevBound, ...]
    n_ranges: int

    @classmethod
    def of(cls, t: FloatArray, dy: FloatArray, shortest: float, longest: float,
           limits: Sequence[tuple[float, float]] = TRIAL_RANGES) -> TrialRanges:
        """The trial ranges of a search from ``shortest`` to ``longest`` (s) of a series ``t``, ``dy``.

        The ends of the search belong to the nearest range; a search outside every range is one range.

        Parameters
        ----------
        t : ndarray of float64, shape (N,)
            Times (s).
        dy : ndarray of float64, shape (N,)
            Uncertainties (positive).
        shortest, longest : float
            Shortest and longest period searched (s).
        limits : sequence of (float, float), optional
            The trial ranges (s; default :data:`TRIAL_RANGES`).

        Returns
        -------
        trials : TrialRanges
        """
        ranges = []
        for lo, hi in limits:
            a, b = max(lo, shortest), min(hi, longest)
            if b > a:
                ranges.append((a, b))
        if not ranges:
            ranges = [(shortest, longest)]
        # the ends of the search belong to the nearest range
        ranges[0] = (shortest, ranges[0][1])
        ranges[-1] = (ranges[-1][0], longest)
        bounds = tuple(BaluevBound.of(t, dy, 1.0 / a - 1.0 / b) for a, b in ranges)
        return cls(tuple(ranges), bounds, len(ranges))

    def _index(self, period: float) -> int:
        for i, (_, hi) in enumerate(self.ranges):
            if period < hi:
                return i
        return len(self.ranges) - 1

    def fap(self, period: float, power: float) -> float:
        """The false-alarm probability over the whole search of a peak at ``period`` (s) of ``power``.

        Parameters
        ----------
        period : float
            Period of the peak (s): it picks the range whose bound is used.
        power : float
            Standard-normalised power of the peak.

        Returns
        -------
        fap : float
            ``1 − (1 − FAP_range)^n``, in [0, 1].
        """
        single = float(self.bounds[self._index(period)].fap(power)[()])
        if single >= 1:
            return 1.0
        return float(-np.expm1(self.n_ranges * np.log1p(-single)))

    def levels(self, fap: float) -> tuple[tuple[float, float, float], ...]:
        """``(period_min, period_max, power)`` per searched range: the power whose FAP is ``fap``.

        Parameters
        ----------
        fap : float
            False-alarm probability over the whole search, in (0, 1).

        Returns
        -------
        levels : tuple of (float, float, float)
            One per range of :attr:`ranges`.

        Raises
        ------
        ValueError
            If ``fap`` is not in (0, 1).
        """
        if not 0.0 < fap < 1.0:
            raise ValueError(f"fap must be in (0, 1), got {fap!r}")
        single = float(-np.expm1(np.log1p(-fap) / self.n_ranges))
        pairs = zip(self.ranges, self.bounds, strict=True)
        return tuple((a, b, bound.level(single)) for (a, b), bound in pairs)


def distinct_peaks(power: FloatArray, half_width: int) -> npt.NDArray[np.intp]:
    """Indices of grid points that are the highest within ``half_width`` points on either side (the ends
    of the grid included), strongest first. Equal neighbours give one peak (the first).

    Parameters
    ----------
    power : ndarray of float64, shape (n,)
        Power on a grid.
    half_width : int
        Grid points on either side a peak is the highest of (at least 1 is used): a resolution element.

    Returns
    -------
    index : ndarray of intp
        Grid indices of the distinct peaks, strongest first (none for an empty grid).

    Examples
    --------
    >>> power = np.array([0.1, 0.5, 0.2, 0.4, 0.1, 0.9, 0.4, 0.2])
    >>> distinct_peaks(power, 1).tolist(), distinct_peaks(power, 2).tolist()
    ([5, 1, 3], [5, 1])
    >>> distinct_peaks(np.array([0.6, 0.2, 0.7, 0.7, 0.1]), 1).tolist()
    [2, 0]
    """
    if power.size == 0:
        return np.zeros(0, dtype=np.intp)
    half_width = max(int(half_width), 1)
    top = maximum_filter1d(power, size=2 * half_width + 1, mode="constant", cval=-np.inf)
    candidates = np.flatnonzero(power >= top)
    if candidates.size > 1:  # a flat top: keep the first point of each run of equal maxima
        keep = np.ones(candidates.size, dtype=bool)
        keep[1:] = (np.diff(candidates) > half_width) | (power[candidates[1:]] != power[candidates[:-1]])
        candidates = candidates[keep]
    return candidates[np.argsort(power[candidates], kind="stable")[::-1]]


def orbit_period_range(t: npt.ArrayLike) -> tuple[float, float] | None:
    """The HST orbital period (s) the sampling shows, as a (low, high) range, or ``None`` without
    Earth-occultation gaps (:data:`ORBIT_GAP`).

    Visibility windows (runs of bins between gaps) start one orbit apart: the median spacing of
    consecutive starts within :data:`ORBIT_SPACING`, ± max(5 s, 60 s / their number) for the jitter of
    window starts. Without such pairs (visits of one orbit each, days apart) there is no orbital comb
    in the sampling: ``None``.

    Parameters
    ----------
    t : array_like of float, shape (n,)
        Bin times (s), sorted.

    Returns
    -------
    orbit : (float, float) or None
        Lowest and highest orbital period (s) the sampling allows.

    Examples
    --------
    >>> visit = np.arange(0.0, 3000.0, 10.0)  # 50 min of bins in each visibility window
    >>> orbit_period_range(np.concatenate([visit, visit + 5760.0, visit + 11520.0]))
    (5730.0, 5790.0)
    >>> orbit_period_range(np.concatenate([visit, visit + 5760.0]))
    (5700.0, 5820.0)
    >>> orbit_period_range(np.concatenate([visit, visit + 86400.0])) is None
    True
    """
    times = np.asarray(t, dtype=np.float64)
    gaps = np.flatnonzero(np.diff(times) >= ORBIT_GAP)
    if gaps.size == 0:
        return None
    spacing = np.diff(times[np.r_[0, gaps + 1]])
    spacing = spacing[(spacing > ORBIT_SPACING[0]) & (spacing < ORBIT_SPACING[1])]
    if spacing.size == 0:
        return None
    period = float(np.median(spacing))
    half = max(5.0, 60.0 / spacing.size)
    return period - half, period + half


def window_frequencies(baseline: float, orbit: tuple[float, float] | None = ORBIT_PERIOD_RANGE,
                       ) -> list[tuple[float, float]]:
    """The frequency intervals (Hz) of the HST orbit (period range ``orbit``, s) and its harmonics up to
    :data:`ORBIT_HARMONICS`, each widened by a quarter of a resolution element; none when the data span
    less than one orbit or show no orbit (``orbit`` None).

    Parameters
    ----------
    baseline : float
        Time spanned by the data (s): a resolution element is ``1 / baseline``.
    orbit : (float, float) or None, optional
        Lowest and highest orbital period (s; default :data:`ORBIT_PERIOD_RANGE`), e.g. from
        :func:`orbit_period_range`.

    Returns
    -------
    windows : list of (float, float)
        ``(low, high)`` frequency interval (Hz) of harmonic 1, 2, … :data:`ORBIT_HARMONICS`.

    Examples
    --------
    >>> windows = window_frequencies(20000.0, (5700.0, 5800.0))
    >>> len(windows), [round(1.0 / f, 1) for f in windows[0]]
    (20, [6253.4, 5320.9])
    >>> window_frequencies(5000.0), window_frequencies(20000.0, None)
    ([], [])
    """
    if orbit is None or baseline <= orbit[1]:
        return []
    slack = 0.25 / baseline
    return [(k / orbit[1] - slack, k / orbit[0] + slack) for k in range(1, ORBIT_HARMONICS + 1)]


def _in_windows(frequency: float, windows: Sequence[tuple[float, float]]) -> bool:
    return any(lo <= frequency <= hi for lo, hi in windows)


def _band_of(period: float, bands: Sequence[BandSpec]) -> str | None:
    for band in bands:
        if band.period_min <= period < band.period_max:
            return band.name
    if bands and period >= bands[-1].period_max:
        return bands[-1].name
    return bands[0].name if bands and period < bands[0].period_min else None


def refine_peak(
    t: FloatArray, y: FloatArray, dy: FloatArray, frequency: float, df: float, lo: float, hi: float,
    *, method: Method = "auto",
) -> tuple[float, float]:
    """``(frequency, power)`` of the maximum near ``frequency``: a grid ten times finer over ±1 grid step
    (kept inside ``[lo, hi]``), then a parabola through its three highest points.

    Parameters
    ----------
    t : ndarray of float64, shape (N,)
        Times (s).
    y, dy : ndarray of float64, shape (N,)
        Values and their uncertainties (positive).
    frequency : float
        The grid frequency of the peak (Hz).
    df : float
        The grid step (Hz).
    lo, hi : float
        Lowest and highest frequency of the grid (Hz).
    method : {"auto", "fast", "exact"}, optional
        How the finer grid's power is computed (:func:`grid_power`).

    Returns
    -------
    frequency : float
        Refined frequency of the maximum (Hz).
    power : float
        Its power (at most 1).

    Examples
    --------
    >>> t = np.arange(200) * 5.0
    >>> y = 2.0 + np.sin(2 * np.pi * t / 97.0)
    >>> round(float(exact_power(t, y, np.ones(200), [0.0102])[0]), 4)
    0.9615
    >>> f, power = refine_peak(t, y, np.ones(200), 0.0102, 0.0002, 0.002, 0.1)
    >>> round(1.0 / f, 2), round(power, 4)
    (97.0, 1.0)
    """
    start = max(lo, frequency - df)
    stop = min(hi, frequency + df)
    if not stop > start:
        return frequency, float(np.clip(exact_power(t - t[0], y, dy, [frequency])[0], 0.0, 1.0))
    step = (stop - start) / (REFINE_POINTS - 1)
    power, _ = grid_power(t, y, dy, start, step, REFINE_POINTS, method=method)
    k = int(np.argmax(power))
    f, top = start + step * k, float(power[k])
    if 0 < k < REFINE_POINTS - 1:
        a, b, c = (float(x) for x in power[k - 1 : k + 2])
        curvature = a - 2 * b + c
        if curvature < 0:
            shift = float(np.clip(0.5 * (a - c) / curvature, -0.5, 0.5))
            f += step * shift
            top = min(1.0, b - 0.25 * (a - c) * shift)
    return f, top


def _subtract_group_means(
    y: FloatArray, dy: FloatArray, groups: npt.ArrayLike | None
) -> tuple[FloatArray, str]:
    if groups is None:
        return y, "mean"
    g = np.asarray(groups)
    if g.shape != y.shape:
        raise ValueError("groups must have one entry per point")
    labels, index = np.unique(g, return_inverse=True)
    if labels.size < 2:
        return y, "mean"
    weight = 1.0 / dy**2
    means = np.bincount(index, weight * y) / np.bincount(index, weight)
    return y - means[index], "mean per dataset"


def _skipped(reason: str, bands: Sequence[BandSpec], fap_threshold: float, baseline: float,
             n: int) -> PeriodSearch:
    return PeriodSearch(
        baseline=baseline, n_points=n, fap_threshold=fap_threshold, skipped=reason,
        bands=tuple(BandResult(b.name, b.period_min, b.period_max, skipped=reason) for b in bands),
    )


@dataclass(frozen=True)
class _PeakRules:
    """How a grid's distinct peaks are found and labelled: the same for the first and the residual search."""

    half_width: int
    trials: TrialRanges
    windows: Sequence[tuple[float, float]]
    bands: Sequence[BandSpec]


def _grid_peaks(power: FloatArray, freq: FloatArray, rules: _PeakRules) -> list[Peak]:
    """The distinct peaks of one grid (frequency ascending) as :class:`Peak` objects, strongest first:
    the :data:`MAX_PEAKS` strongest overall, and each band's few strongest and strongest counted one."""
    trials, windows, bands = rules.trials, rules.windows, rules.bands
    index = distinct_peaks(power, rules.half_width)
    chosen: list[int] = list(index[:MAX_PEAKS])
    for band in bands:  # each band's few strongest, whatever their rank overall
        in_band = index[(freq[index] > 1.0 / band.period_max) & (freq[index] <= 1.0 / band.period_min)]
        chosen.extend(int(i) for i in in_band[:MAX_BAND_PEAKS] if i not in chosen)
        counted = next((int(i) for i in in_band if not (i == 0 or _in_windows(float(freq[i]), windows))),
                       None)
        if counted is not None and counted not in chosen:
            chosen.append(counted)
    peaks = []
    for i in chosen:
        f, p = float(freq[i]), float(power[i])
        peaks.append(Peak(
            period=1.0 / f, power=p, fap=trials.fap(1.0 / f, p), band=_band_of(1.0 / f, bands),
            window=_in_windows(f, windows), edge=bool(i == 0),
        ))
    peaks.sort(key=lambda pk: -pk.power)
    return peaks


def _refine_counted(
    peaks: list[Peak], t: FloatArray, y: FloatArray, dy: FloatArray, df: float, lo: float, hi: float,
    trials: TrialRanges, method: Method,
) -> Peak | None:
    """The strongest counted peak, refined if it was not yet."""
    best = next((p for p in peaks if p.counted), None)
    if best is None or best.refined:
        return best
    f, p = refine_peak(t, y, dy, 1.0 / best.period, df, lo, hi, method=method)
    return replace(best, period=1.0 / f, power=p, fap=trials.fap(1.0 / f, p), refined=True)


def _judged_by(peak: Peak, residual: FloatArray, f0: float, df: float, trials: TrialRanges) -> Peak:
    """``peak`` with the residual power at its frequency and that power's FAP."""
    index = int(np.clip(round((1.0 / peak.period - f0) / df), 0, residual.size - 1))
    left = float(residual[index])
    return replace(peak, residual_power=left, fap=trials.fap(peak.period, left))


def _with_best(peaks: list[Peak], best: Peak | None) -> list[Peak]:
    """``peaks`` with the refined ``best`` in place of the strongest counted grid peak it came from."""
    first = next((i for i, p in enumerate(peaks) if p.counted), None)
    if best is None or first is None:
        return peaks
    out = list(peaks)
    out[first] = best
    return sorted(out, key=lambda pk: -pk.power)


def search_periods(
    t: npt.ArrayLike,
    y: npt.ArrayLike,
    dy: npt.ArrayLike,
    *,
    bin_width: float,
    groups: npt.ArrayLike | None = None,
    bands: Sequence[BandSpec] = BANDS,
    fap_threshold: float = DEFAULT_FAP_THRESHOLD,
    oversample: float = DEFAULT_OVERSAMPLE,
    max_frequencies: int = DEFAULT_MAX_FREQUENCIES,
    method: Method = "auto",
    min_points: int = MIN_POINTS,
) -> PeriodSearch:
    """Search the series ``y ± dy`` at times ``t`` (s, sorted) for periods (see the module docstring).

    ``bin_width`` (s) sets the shortest period (``max(5 s, 2 × bin_width)``); ``groups`` (e.g. DATASET)
    have their weighted means subtracted first. Raises ``ValueError`` on malformed input.

    Parameters
    ----------
    t : array_like of float, shape (N,)
        Times (s), sorted.
    y, dy : array_like of float, shape (N,)
        Values (e.g. NET, counts/s) and their uncertainties (positive).
    bin_width : float
        Width of the bins (s), positive.
    groups : array_like, shape (N,), optional
        Group (e.g. DATASET) of each point; with two or more groups each group's weighted mean is
        subtracted first (default None: one mean).
    bands : sequence of BandSpec, optional
        The reporting bands (default :data:`BANDS`): the grid runs from the shortest of their periods
        (but at least ``2 × bin_width``) to the longest (but at most half the baseline: :data:`MIN_CYCLES`
        cycles).
    fap_threshold : float, optional
        False-alarm probability below which a peak is significant, in (0, 1) (default
        :data:`DEFAULT_FAP_THRESHOLD`).
    oversample : float, optional
        Grid points per peak width (default :data:`DEFAULT_OVERSAMPLE`).
    max_frequencies : int, optional
        Most frequencies in the grid (default :data:`DEFAULT_MAX_FREQUENCIES`).
    method : {"auto", "fast", "exact"}, optional
        How the power is computed (:func:`grid_power`; default ``auto``).
    min_points : int, optional
        Fewest points a search is made with, at least 5 (default :data:`MIN_POINTS`).

    Returns
    -------
    search : PeriodSearch
        The grid, its peaks, the best counted peak, the significant signals and the bands; a search the
        data cannot support (too few points, constant data, too short a baseline) is ``skipped`` with
        the reason.

    Raises
    ------
    ValueError
        If ``t``, ``y`` and ``dy`` are not finite one-dimensional arrays of equal length, ``t`` is not
        sorted, a ``dy`` or ``bin_width`` is not positive, ``method`` is unknown, ``fap_threshold`` is not
        in (0, 1), ``bands`` is empty, ``min_points`` is below 5, or ``groups`` does not have one entry
        per point.

    Examples
    --------
    >>> t = np.arange(300) * 10.0
    >>> rng = np.random.default_rng(1)
    >>> y = 1.0 + 0.5 * np.sin(2 * np.pi * t / 200.0) + rng.normal(0.0, 0.2, t.size)
    >>> search = search_periods(t, y, np.full(t.size, 0.2), bin_width=10.0)
    >>> search.detected, round(search.best.period, 1), search.best.band, round(search.best.power, 3)
    (True, 199.6, 'short', 0.792)
    >>> search.baseline, search.searched_min, search.searched_max, search.trial_ranges
    (3000.0, 20.0, 1500.0, ((20.0, 60.0), (60.0, 600.0), (600.0, 1500.0)))
    >>> noise = 1.0 + rng.normal(0.0, 0.2, t.size)
    >>> search_periods(t, noise, np.full(t.size, 0.2), bin_width=10.0).detected
    False
    >>> search_periods(t[:5], y[:5], np.full(5, 0.2), bin_width=10.0).skipped
    'only 5 bins (a periodogram needs at least 10)'
    >>> search_periods(t[::-1], y, np.full(t.size, 0.2), bin_width=10.0)
    Traceback (most recent call last):
    ...
    ValueError: t must be sorted
    """
    t_, y_, dy_ = _check_series(t, y, dy)
    if not (math.isfinite(bin_width) and bin_width > 0):
        raise ValueError(f"bin_width must be positive, got {bin_width}")
    if method not in ("auto", "fast", "exact"):
        raise ValueError(f"unknown method {method!r}")
    if not 0 < fap_threshold < 1:
        raise ValueError(f"fap_threshold must be in (0, 1), got {fap_threshold}")
    if t_.size > 1 and np.any(np.diff(t_) < 0):
        raise ValueError("t must be sorted")
    if not bands:
        raise ValueError("at least one band is needed")
    if min_points < 5:
        raise ValueError(f"min_points must be at least 5 (Baluev's bound needs N − 4 > 0), got {min_points}")
    y_, detrend = _subtract_group_means(y_, dy_, groups)
    n_points = int(t_.size)
    baseline = float(t_[-1] - t_[0] + bin_width) if n_points else 0.0
    shortest = max(min(b.period_min for b in bands), 2.0 * bin_width)
    longest = min(max(b.period_max for b in bands), baseline / MIN_CYCLES)

    reason = None
    if n_points < min_points:
        reason = f"only {n_points} bins (a periodogram needs at least {min_points})"
    elif np.ptp(y_) == 0:
        reason = "constant lightcurve"
    elif longest <= shortest:
        reason = (f"baseline {baseline:.6g} s holds fewer than {MIN_CYCLES:g} cycles of the shortest "
                  f"period searchable at {bin_width:g} s bins ({shortest:g} s)")
    if reason is not None:
        return _skipped(reason, bands, fap_threshold, baseline, n_points)

    f0, df, n = frequency_grid(shortest, longest, baseline, oversample=oversample,
                               max_frequencies=max_frequencies)
    freq = f0 + df * np.arange(n, dtype=np.float64)
    power, used = grid_power(t_, y_, dy_, f0, df, n, method=method)
    resolution = 1.0 / baseline
    half_width = max(1, round(resolution / df))
    trials = TrialRanges.of(t_, dy_, shortest, longest)
    windows = window_frequencies(baseline, orbit_period_range(t_))
    rules = _PeakRules(half_width=half_width, trials=trials, windows=windows, bands=bands)
    lo, hi = float(freq[0]), float(freq[-1])
    peaks = _grid_peaks(power, freq, rules)
    best = _refine_counted(peaks, t_, y_, dy_, df, lo, hi, trials, method)
    peaks = _with_best(peaks, best)

    # a significant best is removed and the grid searched again: the other bands' best peaks come from
    # that residual search, and the first search's other peaks are judged by what is left at their
    # frequency (a signal's aliases and sidelobes are then not significant)
    signals: list[Peak] = []
    residual_peaks: list[Peak] | None = None
    if best is not None and best.fap < fap_threshold:
        signals.append(best)
        fit = LombScargle(t_, y_, dy_, fit_mean=True, center_data=True)
        model = fit.model(t_, 1.0 / best.period)
        residual_y = y_ - model + float(np.average(model, weights=1.0 / dy_**2))
        residual_power, _ = grid_power(t_, residual_y, dy_, f0, df, n, method=method)
        residual_peaks = _grid_peaks(residual_power, freq, rules)
        second = _refine_counted(residual_peaks, t_, residual_y, dy_, df, lo, hi, trials, method)
        residual_peaks = _with_best(residual_peaks, second)
        peaks = [p if p is best else _judged_by(p, residual_power, f0, df, trials) for p in peaks]
        if second is not None and second.fap < fap_threshold:
            signals.append(second)  # a second period, found in the residuals (not removed in turn)

    levels = trials.levels(fap_threshold)
    periods = (1.0 / freq)[::-1].copy()
    ascending_power = power[::-1].copy()
    results = []
    for band in bands:
        inside = (periods >= band.period_min) & (periods <= band.period_max)
        if not np.any(inside):
            results.append(BandResult(
                band.name, band.period_min, band.period_max,
                skipped=(f"no period in {band.period_min:g}–{band.period_max:g} s is searchable "
                         f"(searched {shortest:.6g}–{longest:.6g} s)"),
            ))
            continue
        band_power = ascending_power[inside]
        mine = [p for p in peaks if p.band == band.name]
        band_best = next((p for p in mine if p.counted), None)
        from_residual = False
        if signals and residual_peaks is not None and signals[0].band != band.name:
            band_best = next((p for p in residual_peaks if p.band == band.name and p.counted), None)
            from_residual = True
        lo_p, hi_p = float(periods[inside][0]), float(periods[inside][-1])
        band_levels = tuple((max(a, lo_p), min(b, hi_p), z) for a, b, z in levels if a < hi_p and b > lo_p)
        results.append(BandResult(
            name=band.name,
            period_min=band.period_min,
            period_max=band.period_max,
            searched_min=lo_p,
            searched_max=hi_p,
            periods=periods[inside],
            power=band_power,
            mean=float(band_power.mean()),
            std=float(band_power.std()),
            threshold=max(z for _, _, z in band_levels) if band_levels else None,
            levels=band_levels,
            peaks=tuple(mine[:MAX_BAND_PEAKS]),
            best=band_best,
            residual=from_residual,
            method=used,
        ))
    return PeriodSearch(
        periods=periods,
        power=ascending_power,
        baseline=baseline,
        searched_min=float(periods[0]),
        searched_max=float(periods[-1]),
        n_points=n_points,
        oversample=float(resolution / df),
        method=used,
        fap_threshold=fap_threshold,
        levels=levels,
        trial_ranges=trials.ranges,
        peaks=tuple(peaks[:MAX_PEAKS]),
        best=best,
        signals=tuple(signals),
        bands=tuple(results),
        detrend=detrend,
    )


def skipped_search(reason: str, *, bands: Sequence[BandSpec] = BANDS,
                   fap_threshold: float = DEFAULT_FAP_THRESHOLD) -> PeriodSearch:
    """A search skipped for ``reason`` in every band (e.g. a lightcurve without counts).

    Parameters
    ----------
    reason : str
        Why the search was not made.
    bands : sequence of BandSpec, optional
        The reporting bands (default :data:`BANDS`).
    fap_threshold : float, optional
        The false-alarm threshold recorded (default :data:`DEFAULT_FAP_THRESHOLD`).

    Returns
    -------
    search : PeriodSearch
        No grid, no peaks; the search and each band ``skipped`` for ``reason``.

    Examples
    --------
    >>> search = skipped_search("no counts")
    >>> search.computed, search.detected, search.best, search.skipped
    (False, False, None, 'no counts')
    >>> [(band.name, band.skipped) for band in search.bands]
    [('short', 'no counts'), ('med', 'no counts'), ('long', 'no counts')]
    """
    return _skipped(reason, bands, fap_threshold, 0.0, 0)


__all__ = [
    "BANDS",
    "DEFAULT_FAP_THRESHOLD",
    "DEFAULT_MAX_FREQUENCIES",
    "DEFAULT_OVERSAMPLE",
    "EXACT_MAX_WORK",
    "HAVE_NIFTY",
    "MIN_POINTS",
    "ORBIT_GAP",
    "ORBIT_HARMONICS",
    "ORBIT_PERIOD_RANGE",
    "TRIAL_RANGES",
    "BaluevBound",
    "BandResult",
    "BandSpec",
    "Peak",
    "PeriodSearch",
    "TrialRanges",
    "distinct_peaks",
    "exact_power",
    "fast_power",
    "frequency_grid",
    "grid_power",
    "orbit_period_range",
    "refine_peak",
    "search_periods",
    "skipped_search",
    "window_frequencies",
]
