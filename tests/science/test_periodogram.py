"""The period search: one grid, distinct peaks, refined periods, FAP over the whole search, windows, bands."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.timeseries import LombScargle

from hstlc.science import periodogram as pg
from hstlc.science.periodogram import BANDS, BandSpec, TrialRanges, search_periods

ORBIT = 5760.0


def _series(n: int, step: float = 2.0, *, seed: int = 0, period: float | None = None, amp: float = 0.0,
            rate: float = 20.0, gaps: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson rates in bins of ``step`` s; with ``gaps`` HST-like orbits (55 min on, 41 min off)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * step
    if gaps:
        t = t[(t % ORBIT) < 3300.0]
    model = rate + (amp * np.sin(2 * np.pi * t / period) if period else np.zeros(t.size))
    y = rng.poisson(model * step) / step
    dy = np.full(t.size, np.sqrt(rate / step))
    return t, y, dy


def test_frequency_grid_spacing_and_limits() -> None:
    f0, df, n = pg.frequency_grid(10.0, 100.0, 1000.0, oversample=5)
    assert f0 == pytest.approx(0.01)
    assert f0 + df * (n - 1) == pytest.approx(0.1)
    assert df == pytest.approx(1 / 5000, rel=0.01)  # 1/(oversample · baseline), rounded to fit exactly
    assert pg.frequency_grid(10.0, 11.0, 100.0)[2] == pg.MIN_FREQUENCIES
    assert pg.frequency_grid(1.0, 1e5, 1e9, max_frequencies=1000)[2] == 1000
    with pytest.raises(ValueError):
        pg.frequency_grid(100.0, 10.0, 1000.0)
    with pytest.raises(ValueError):
        pg.frequency_grid(1.0, 10.0, 0.0)


def test_distinct_peaks_are_maxima_of_a_resolution_element_edges_included() -> None:
    power = np.array([0.9, 0.5, 0.1, 0.2, 0.3, 0.2, 0.1, 0.6, 0.61, 0.1, 0.05, 0.4])
    # half width 1: every local maximum, the ends too; strongest first
    assert list(pg.distinct_peaks(power, 1)) == [0, 8, 11, 4]
    # half width 3: 0.6/0.61, 0.4 and 0.3 are within a resolution element of a higher point
    assert list(pg.distinct_peaks(power, 3)) == [0, 8]
    flat = np.array([0.1, 0.5, 0.5, 0.5, 0.1])
    assert list(pg.distinct_peaks(flat, 1)) == [1]  # a flat top is one peak
    assert pg.distinct_peaks(np.zeros(0), 2).size == 0


ENGINES = ["astropy"] + (["nifty"] if pg.HAVE_NIFTY else [])


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("n", "gaps", "seed"), [(300, False, 1), (2000, False, 2), (4000, True, 3)])
def test_fast_power_agrees_with_exact(engine: str, n: int, gaps: bool, seed: int) -> None:
    t, y, dy = _series(n, seed=seed, period=130.0, amp=3.0, gaps=gaps)
    dy = dy * np.random.default_rng(seed).uniform(0.8, 1.5, t.size)  # unequal weights
    f0, df, nf = pg.frequency_grid(5.0, 600.0, t[-1] - t[0] + 2.0)
    fast, used = pg.fast_power(t, y, dy, f0, df, nf, engine=engine)  # type: ignore[arg-type]
    exact = pg.exact_power(t - t[0], y, dy, f0 + df * np.arange(nf))
    tolerance = 1e-6 if engine == "nifty" else 1e-3
    assert used == ("nifty-ls" if engine == "nifty" else "astropy-fast")
    assert np.max(np.abs(fast - exact)) < tolerance
    assert np.argmax(fast) == np.argmax(exact)


def test_fast_and_exact_searches_agree() -> None:
    t, y, dy = _series(1500, seed=4, period=250.0, amp=2.0)
    fast = search_periods(t, y, dy, bin_width=2.0, method="fast")
    exact = search_periods(t, y, dy, bin_width=2.0, method="exact")
    assert exact.method == "exact" and fast.method in ("nifty-ls", "astropy-fast")
    tiny = search_periods(t[:40], y[:40], dy[:40], bin_width=2.0)  # "auto": exact when cheap
    assert tiny.method == "exact" and tiny.computed
    np.testing.assert_allclose(fast.periods, exact.periods)
    np.testing.assert_allclose(fast.power, exact.power, atol=1e-3)
    assert fast.best is not None and exact.best is not None
    assert fast.best.period == pytest.approx(exact.best.period, rel=1e-4)
    assert fast.best.fap == pytest.approx(exact.best.fap, rel=1e-2, abs=1e-300)


def test_baluev_bound_matches_astropy_and_is_monotonic() -> None:
    t, y, dy = _series(500, seed=7)
    ls = LombScargle(t, y, dy, normalization="standard")
    fmax = 1 / 5.0
    bound = pg.BaluevBound.of(t, dy, fmax)  # astropy's bound is for the range [0, fmax]
    powers = np.array([0.01, 0.03, 0.05, 0.1, 0.3])
    ours = bound.fap(powers)
    theirs = ls.false_alarm_probability(powers, method="baluev", maximum_frequency=fmax)
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-300)
    assert np.all(np.diff(ours) <= 0) and ours[0] == pytest.approx(1.0) and ours[-1] < 1e-20
    level = bound.level(1e-3)
    assert float(bound.fap(level)[()]) == pytest.approx(1e-3, rel=1e-6)
    with pytest.raises(ValueError):
        bound.level(0.0)


def test_trial_ranges_keep_the_fap_of_a_period_independent_of_the_bin_width() -> None:
    """The FAP of a 20-min peak counts its own range's trials, combined over the ranges searched, so it
    moves only by that count (3 vs 2 here) when a finer bin width lets the search go down to 5 s
    instead of 60 s; a bound over the whole grid would grow by the 5–60 s trials (×12 here)."""
    t, _, dy = _series(3000, seed=8)
    fine, coarse = pg.TrialRanges.of(t, dy, 5.0, 3000.0), pg.TrialRanges.of(t, dy, 60.0, 3000.0)
    assert fine.ranges == ((5.0, 60.0), (60.0, 600.0), (600.0, 3000.0))
    assert coarse.ranges == ((60.0, 600.0), (600.0, 3000.0))
    assert (fine.n_ranges, coarse.n_ranges) == (3, 2)
    z = 0.009
    assert fine.fap(1200.0, z) == pytest.approx(coarse.fap(1200.0, z) * 3 / 2, rel=1e-3)
    whole_fine = float(pg.BaluevBound.of(t, dy, 1 / 5 - 1 / 3000).fap(z)[()])
    whole_coarse = float(pg.BaluevBound.of(t, dy, 1 / 60 - 1 / 3000).fap(z)[()])
    assert whole_fine > 10 * whole_coarse
    assert fine.fap(1200.0, z) < 1e-3 < whole_fine  # significant, where the whole-grid bound says not
    levels = fine.levels(1e-3)
    assert [r[:2] for r in levels] == list(fine.ranges)
    assert fine.fap(1200.0, levels[2][2]) == pytest.approx(1e-3, rel=1e-4)


def test_the_fap_counts_the_whole_grid() -> None:
    """A wider searched range means more trials: the same power has a larger FAP."""
    t, _, dy = _series(3000, seed=8)
    narrow = pg.BaluevBound.of(t, dy, 1 / 600 - 1 / 3600)
    whole = pg.BaluevBound.of(t, dy, 1 / 5 - 1 / 3600)
    assert float(whole.fap(0.01)[()]) > 10 * float(narrow.fap(0.01)[()])


@pytest.mark.parametrize(
    ("period", "band", "n", "gaps"),
    [(137.0, "short", 1800, False), (590.0, "short", 3600, False), (1500.0, "med", 3600, False),
     (3500.0, "med", 30000, True), (2.5 * 3600, "long", 18000, True)],
)
def test_sinusoid_found_at_its_period_and_band(period: float, band: str, n: int, gaps: bool) -> None:
    t, y, dy = _series(n, seed=5, period=period, amp=4.0, gaps=gaps)
    search = search_periods(t, y, dy, bin_width=2.0)
    assert search.detected and search.best is not None
    assert search.best.period == pytest.approx(period, rel=0.005)
    assert search.best.band == band and search.best.refined
    hit = search.band(band)
    assert hit.best is search.best and hit.fap is not None and hit.fap < 1e-3
    assert search.signals[0] is search.best
    # its aliases and sidelobes are judged by what is left at their frequency once it is removed
    others = [p for p in search.peaks if p is not search.best]
    assert others and all(p.residual_power is not None for p in others)
    assert all(p.fap > 1e-3 for p in others)
    for other in search.bands:
        if other.name != band and other.computed and other.best is not None:
            assert other.residual  # taken after the signal was removed: its aliases are gone
            assert other.best.power < search.best.power


def test_band_edge_periods_are_found() -> None:
    """Periods at 600 s and 3600 s were the first/last grid point of two bands and never flagged."""
    for period, n in ((600.0, 4000), (3600.0, 30000)):
        t, y, dy = _series(n, seed=11, period=period, amp=2.0, gaps=True)
        search = search_periods(t, y, dy, bin_width=2.0)
        assert search.detected, period
        assert search.best is not None and search.best.period == pytest.approx(period, rel=0.01)


def test_search_result_invariants() -> None:
    t, y, dy = _series(3000, seed=6, period=90.0, amp=3.0)
    search = search_periods(t, y, dy, bin_width=2.0)
    assert np.all(np.diff(search.periods) > 0)
    assert search.searched_min == pytest.approx(5.0)
    assert search.searched_max == pytest.approx((6000.0) / pg.MIN_CYCLES)
    assert search.oversample == pytest.approx(pg.DEFAULT_OVERSAMPLE, rel=0.01)
    assert np.all((search.power >= 0) & (search.power <= 1))
    assert len(search.peaks) <= pg.MAX_PEAKS
    powers = [p.power for p in search.peaks]
    assert powers == sorted(powers, reverse=True)
    short = search.band("short")
    assert short.mean == pytest.approx(short.power.mean()) and short.std == pytest.approx(short.power.std())
    assert short.threshold == pytest.approx(max(z for _, _, z in short.levels))
    assert [(a, b) for a, b, _ in search.levels] == list(search.trial_ranges)
    first, last = search.trial_ranges[0], search.trial_ranges[-1]
    assert first[0] == pytest.approx(5.0) and last[1] == pytest.approx(3000.0)
    assert len(short.peaks) <= pg.MAX_BAND_PEAKS and all(p.band == "short" for p in short.peaks)
    # peaks are a resolution element apart
    freqs = np.sort([1 / p.period for p in search.peaks])
    assert np.all(np.diff(freqs) > 0.9 / search.baseline)
    summary = search.summary()
    assert summary["best"]["period"] == pytest.approx(90.0, rel=0.005)
    assert summary["n_frequencies"] == search.periods.size


def test_a_constant_source_has_a_handful_of_peaks_not_thousands() -> None:
    t, y, dy = _series(40000, seed=12, gaps=True)
    search = search_periods(t, y, dy, bin_width=2.0)
    assert not search.detected
    for band in search.bands:
        assert len(band.peaks) <= pg.MAX_BAND_PEAKS
        assert band.significant_peaks(1e-3) == ()


def test_orbital_window_peaks_do_not_count() -> None:
    """Orbital-phase level changes (thermal breathing, pointing) put power at the orbit, not the source."""
    rng = np.random.default_rng(13)
    t = np.arange(0, 8 * ORBIT, 2.0)
    t = t[(t % ORBIT) < 3300.0]
    orbit_phase = (t % ORBIT) / 3300.0
    y = rng.poisson(2 * 50.0 * (1 + 0.05 * np.cos(2 * np.pi * orbit_phase) + 0.03 * (t // ORBIT % 2))) / 2.0
    dy = np.full(t.size, 5.0)
    search = search_periods(t, y, dy, bin_width=2.0)
    strongest = search.peaks[0]
    assert strongest.window and not strongest.counted
    orbit = pg.orbit_period_range(t)
    assert orbit is not None and orbit[0] < ORBIT < orbit[1] and orbit[1] - orbit[0] <= 20.0
    assert any(lo <= 1 / strongest.period <= hi for lo, hi in pg.window_frequencies(search.baseline, orbit))
    assert search.best is None or not search.best.window
    # a single orbit, or data without occultation gaps: nothing is a window
    assert pg.window_frequencies(3300.0) == []
    assert pg.orbit_period_range(np.arange(0.0, 20000.0, 2.0)) is None
    assert pg.window_frequencies(50000.0, None) == []
    # one orbit per visit, visits days apart: no orbital comb in the sampling
    visits = np.r_[np.arange(0.0, 3300.0, 2.0), 86400 + np.arange(0.0, 3300.0, 2.0)]
    assert pg.orbit_period_range(visits) is None


def test_a_trend_is_an_edge_not_a_period() -> None:
    t, y, dy = _series(3000, seed=14)
    y = y + np.linspace(0, 3.0, t.size)  # a 15 % drift over the visit
    search = search_periods(t, y, dy, bin_width=2.0)
    assert search.peaks[0].edge
    assert search.best is None or not search.best.edge


def test_group_means_are_removed_before_the_search() -> None:
    """Three visits a day apart, ±3 % in level: a 'period' fitting the levels unless each visit's mean
    is removed first."""
    parts = [_series(1650, seed=15 + k, rate=50.0) for k in range(3)]
    t = np.concatenate([p[0] + k * 86400.0 for k, p in enumerate(parts)])
    y = np.concatenate([p[1] * level for p, level in zip(parts, (1.0, 1.03, 0.97), strict=True)])
    dy = np.concatenate([p[2] for p in parts])
    groups = np.repeat([1, 2, 3], 1650)
    plain = search_periods(t, y, dy, bin_width=2.0)
    floating = search_periods(t, y, dy, bin_width=2.0, groups=groups)
    assert plain.detected and plain.best is not None and plain.best.period > 3600.0
    assert floating.detrend == "mean per dataset" and plain.detrend == "mean"
    assert not floating.detected


def test_refined_period_beats_the_grid_step() -> None:
    """Long periods were known only to the grid step P²/(5T): 10 800 s came out as 11 059 s."""
    t, y, dy = _series(14000, seed=17, period=10800.0, amp=4.0, gaps=True)
    search = search_periods(t, y, dy, bin_width=2.0)
    assert search.best is not None
    step = 10800.0**2 / (pg.DEFAULT_OVERSAMPLE * search.baseline)
    assert abs(search.best.period - 10800.0) < 0.2 * step
    assert search.best.period == pytest.approx(10800.0, rel=0.005)


def test_skipped_searches_have_reasons() -> None:
    t, y, dy = _series(1000, seed=9)
    few = search_periods(t[:5], y[:5], dy[:5], bin_width=2.0)
    assert few.skipped == "only 5 bins (a periodogram needs at least 10)" and not few.detected
    assert all(b.skipped == few.skipped for b in few.bands)
    flat = search_periods(t, np.full(t.size, 3.0), dy, bin_width=2.0)
    assert flat.skipped == "constant lightcurve"
    dense = np.arange(12) * 10.0  # 210 s of 100 s bins: no period of ≥ 200 s fits twice
    rng = np.random.default_rng(0)
    short = search_periods(dense, rng.poisson(4000, 12) / 400.0, np.full(12, 0.16), bin_width=100.0)
    assert short.skipped is not None and "fewer than 2 cycles" in short.skipped
    # a 2000 s visit: the long band is outside the searched range
    search = search_periods(t, y, dy, bin_width=2.0)
    long = search.band("long")
    assert not long.computed and long.skipped is not None and long.skipped.startswith("no period in 3600")
    assert pg.skipped_search("no counts").bands[0].skipped == "no counts"


def test_custom_bands_and_short_band_start() -> None:
    t, y, dy = _series(1000, step=3.0, seed=10)
    search = search_periods(t, y, dy, bin_width=3.0)
    assert search.searched_min == pytest.approx(6.0)  # 2 × bin width
    assert search.band("short").period_min == 5.0
    custom = search_periods(t, y, dy, bin_width=3.0, bands=(BandSpec("all", 10.0, 1000.0),))
    assert [b.name for b in custom.bands] == ["all"] and custom.searched_min == pytest.approx(10.0)
    assert BANDS[1].period_min == 600.0


@pytest.mark.parametrize(
    ("t", "y", "dy", "message"),
    [
        ([2.0, 1.0] * 10, [1.0] * 20, [1.0] * 20, "t must be sorted"),
        ([1.0, 2.0], [1.0, np.nan], [1.0, 1.0], "t, y and dy must be finite"),
        ([1.0, 2.0], [1.0, 2.0], [1.0, 0.0], "dy must be positive"),
        ([1.0, 2.0], [1.0], [1.0, 1.0], "t, y and dy must be one-dimensional arrays of equal length"),
    ],
)
def test_bad_input_raises(t: list[float], y: list[float], dy: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        search_periods(np.array(t), np.array(y), np.array(dy), bin_width=2.0)
    with pytest.raises(ValueError, match="fap_threshold"):
        search_periods(np.arange(20.0), np.arange(20.0), np.ones(20), bin_width=1.0, fap_threshold=0.0)
    with pytest.raises(ValueError, match="min_points must be at least 5"):
        search_periods(np.zeros(0), np.zeros(0), np.zeros(0), bin_width=1.0, min_points=0)


@pytest.mark.parametrize("fap", [0.0, 1.0, 1.5, -0.1])
def test_trial_levels_refuse_a_fap_outside_the_open_unit_interval(fap: float) -> None:
    trials = TrialRanges.of(np.arange(1000) * 2.0, np.ones(1000), 5.0, 1000.0)
    with pytest.raises(ValueError, match=r"fap must be in \(0, 1\)"):  # and no RuntimeWarning before it
        trials.levels(fap)
