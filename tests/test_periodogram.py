"""Band periodograms: fast grid vs exact sums, bands clipped or skipped, peaks and FAP."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import argrelextrema

from hstlc.science import periodogram as pg
from hstlc.science.periodogram import BANDS, BandSpec, band_periodogram, periodogram_bands

SHORT, MED, LONG = BANDS


def _series(n: int, step: float = 2.0, *, seed: int = 0, period: float | None = None, amp: float = 0.0,
            rate: float = 20.0, gaps: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson rates in bins of ``step`` s; with ``gaps`` HST-like orbits (55 min on, 41 min off)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * step
    if gaps:
        t = t[(t % 5760.0) < 3300.0]
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


def test_local_maxima_match_scipy() -> None:
    power = np.random.default_rng(3).random(500)
    power[10] = power[11]  # a plateau is no strict maximum
    expected = argrelextrema(power, np.greater, order=1)[0]
    np.testing.assert_array_equal(pg.local_maxima(power), expected)
    assert pg.local_maxima(np.array([1.0, 2.0])).size == 0


ENGINES = ["astropy"] + (["nifty"] if pg.HAVE_NIFTY else [])


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


def test_fast_and_exact_bands_agree() -> None:
    t, y, dy = _series(1500, seed=4, period=250.0, amp=2.0)
    fast = band_periodogram(t, y, dy, SHORT, bin_width=2.0, method="fast")
    exact = band_periodogram(t, y, dy, SHORT, bin_width=2.0, method="exact")
    assert exact.method == "exact" and fast.method in ("nifty-ls", "astropy-fast")
    tiny = band_periodogram(t[:40], y[:40], dy[:40], SHORT, bin_width=2.0)  # "auto": exact when cheap
    assert tiny.method == "exact" and tiny.computed
    np.testing.assert_allclose(fast.periods, exact.periods)
    np.testing.assert_allclose(fast.power, exact.power, atol=1e-3)
    assert fast.best_period == exact.best_period
    assert fast.fap == pytest.approx(exact.fap, rel=1e-2)


@pytest.mark.parametrize(
    ("period", "band", "n", "gaps"),
    [(137.0, "short", 1800, False), (1500.0, "med", 3600, False), (2.5 * 3600, "long", 18000, True)],
)
def test_sinusoid_found_in_its_band(period: float, band: str, n: int, gaps: bool) -> None:
    t, y, dy = _series(n, seed=5, period=period, amp=4.0, gaps=gaps)
    results = {b.name: b for b in periodogram_bands(t, y, dy, bin_width=2.0)}
    hit = results[band]
    assert hit.computed
    assert hit.best_period == pytest.approx(period, rel=0.03)
    assert hit.fap is not None and hit.fap < 1e-3
    assert hit.best_period in hit.peaks.periods
    for other in results.values():
        if other.name != band and other.computed:
            assert other.fap is not None and other.best_power is not None
            assert other.best_power < hit.best_power


def test_band_result_invariants() -> None:
    t, y, dy = _series(3000, seed=6, period=90.0, amp=3.0)
    result = band_periodogram(t, y, dy, SHORT, bin_width=2.0)
    assert np.all(np.diff(result.periods) > 0)
    assert result.periods[0] == pytest.approx(5.0) and result.periods[-1] == pytest.approx(600.0)
    assert np.all((result.power >= 0) & (result.power <= 1))
    assert result.mean == pytest.approx(result.power.mean())
    assert result.std == pytest.approx(result.power.std())
    assert result.threshold == pytest.approx(result.mean + 3 * result.std)
    maxima = set(pg.local_maxima(result.power))
    idx = np.searchsorted(result.periods, result.peaks.periods)
    assert set(idx) <= maxima
    assert np.all(result.power[idx] > result.threshold)
    above = [i for i in maxima if result.power[i] > result.threshold]
    assert len(above) == result.peaks.periods.size
    summary = result.summary(max_peaks=3)
    assert summary["n_peaks"] == result.peaks.periods.size and len(summary["peaks"]) <= 3
    assert summary["peaks"][0][1] == pytest.approx(result.best_power)


def test_baluev_fap_decreases_with_power() -> None:
    t, y, dy = _series(500, seed=7)
    faps = [pg.baluev_fap(t, y, dy, p, 1 / 600, 1 / 5) for p in (0.01, 0.05, 0.1, 0.3)]
    assert all(0 <= f <= 1 for f in faps)
    assert faps == sorted(faps, reverse=True)
    assert faps[0] == pytest.approx(1.0) and faps[-1] < 1e-20


def test_baseline_clips_a_band() -> None:
    t, y, dy = _series(1000, seed=8)  # 2000 s
    med = band_periodogram(t, y, dy, MED, bin_width=2.0)
    assert med.computed
    assert (med.searched_min, med.searched_max) == (600.0, pytest.approx(2000.0))
    assert med.periods[-1] == pytest.approx(2000.0)


def test_skipped_bands_have_reasons() -> None:
    t, y, dy = _series(1000, seed=9)  # 2000 s baseline, 2 s bins
    long = band_periodogram(t, y, dy, LONG, bin_width=2.0)
    assert not long.computed and long.periods.size == 0 and long.fap is None
    assert long.skipped == "baseline 2000 s is not longer than the band's shortest period 3600 s"

    coarse = np.arange(40) * 400.0
    rng = np.random.default_rng(0)
    yc, dyc = rng.poisson(4000, 40) / 400.0, np.full(40, 0.16)
    short = band_periodogram(coarse, yc, dyc, SHORT, bin_width=400.0)
    assert short.skipped == "bin width 400 s: periods below 800 s are not constrained, the band ends at 600 s"
    med = band_periodogram(coarse, yc, dyc, MED, bin_width=400.0)
    assert med.computed and med.searched_min == 800.0

    few = band_periodogram(t[:5], y[:5], dy[:5], SHORT, bin_width=2.0)
    assert few.skipped == "only 5 bins (a periodogram needs at least 10)"
    flat = band_periodogram(t, np.full(t.size, 3.0), dy, SHORT, bin_width=2.0)
    assert flat.skipped == "constant lightcurve"
    assert not flat.significant(0.3)

    narrow = band_periodogram(t[:200], y[:200], dy[:200], BandSpec("x", 400.0, 3000.0), bin_width=2.0)
    assert narrow.skipped == "baseline 400 s is not longer than the band's shortest period 400 s"


def test_short_band_starts_at_bin_width_or_5s() -> None:
    t, y, dy = _series(1000, step=3.0, seed=10)
    short = periodogram_bands(t, y, dy, bin_width=3.0)[0]
    assert short.period_min == 5.0 and short.searched_min == 6.0  # 2 × bin width
    skipped = pg.skipped_bands("no counts", bin_width=8.0)
    assert [b.period_min for b in skipped] == [8.0, 600.0, 3600.0]
    assert all(b.skipped == "no counts" for b in skipped)


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
        band_periodogram(np.array(t), np.array(y), np.array(dy), SHORT, bin_width=2.0)
