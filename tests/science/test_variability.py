"""compute_stats: hand-computed values, unequal exposure, gaps, no counts, the flag and its false alarms."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hstlc.domain import SECONDS_PER_DAY, LightCurve
from hstlc.science.variability import STATS_VERSION, compute_stats, count_statistics, infer_step, pearson


def make_lc(net: np.ndarray, bins: np.ndarray, times: np.ndarray, *, error: np.ndarray | None = None,
            meta: dict[str, object] | None = None, mjd0: float = 56000.0) -> LightCurve:
    net = np.asarray(net, dtype=np.float64)
    bins = np.asarray(bins, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    counts = net * bins
    err = np.sqrt(np.abs(counts)) if error is None else np.asarray(error, dtype=np.float64)
    zeros = np.zeros(net.size)
    return LightCurve(
        times=times, mjd=mjd0 + times / SECONDS_PER_DAY, bins=bins, gross=counts, background=zeros,
        counts=counts, net=net, error=err, flux=zeros, flux_error=zeros, signal_to_noise=zeros,
        dataset=np.ones(net.size, dtype=np.int32), meta=meta if meta is not None else {"STEPSIZE": 2.0},
    )


def poisson_lc(n: int, *, rate: float, step: float = 2.0, seed: int = 0, period: float | None = None,
               amp: float = 0.0, exposure: np.ndarray | None = None) -> LightCurve:
    rng = np.random.default_rng(seed)
    times = np.arange(n) * step
    bins = np.full(n, step) if exposure is None else exposure
    model = rate + (amp * np.sin(2 * np.pi * times / period) if period else 0.0)
    counts = rng.poisson(model * bins).astype(np.float64)
    return make_lc(counts / bins, bins, times, meta={"STEPSIZE": step})


def test_hand_computed_equal_bins() -> None:
    # counts 4, 2, 8, 6 in 2 s bins: total 20, mean 5, std sqrt((1+9+9+1)/4) = sqrt(5)
    lc = make_lc(np.array([2.0, 1.0, 4.0, 3.0]), np.full(4, 2.0), np.array([0.0, 2.0, 4.0, 6.0]))
    s = compute_stats(lc)
    assert s.total == 20.0
    assert s.mean == pytest.approx(5.0)
    assert s.mu == pytest.approx(math.sqrt(5.0))
    assert s.stdev == pytest.approx(math.sqrt(5.0))
    assert s.poisson_factor == pytest.approx(1.0)
    # times 0,1,2,3 (scaled) vs counts: r = 6/sqrt(5·20) = 0.6; df 2 → p = 1 − t/sqrt(t² + 2) = 0.4
    assert s.pearson_r == pytest.approx(0.6)
    assert s.pearson_p == pytest.approx(0.4)
    assert s.n_bins == 4 and s.exposure == 8.0 and s.step == 2.0 and s.baseline == pytest.approx(8.0)
    assert not s.periodogram and not s.deliver  # 4 bins: too few to deliver (and to search)
    assert all(b.skipped == "only 4 bins (a periodogram needs at least 10)" for b in s.bands)


def test_equal_bins_reduce_to_the_original_definitions() -> None:
    lc = poisson_lc(500, rate=3.0, seed=1)
    s = compute_stats(lc)
    counts = lc.counts
    assert s.total == pytest.approx(counts.sum())
    assert s.mean == pytest.approx(np.mean(counts))
    assert s.stdev == pytest.approx(np.std(counts))
    assert s.poisson_factor == pytest.approx(np.std(counts) / np.sqrt(np.mean(counts)))


def test_hand_computed_unequal_exposure() -> None:
    net = np.array([3.0, 4.0, 2.0, 6.0])
    bins = np.array([2.0, 1.0, 2.0, 0.5])  # counts 6, 4, 4, 3 → total 17 over 5.5 s
    total, mean, mu, stdev, factor = count_statistics(net, bins, 2.0)
    assert total == 17.0
    assert mean == pytest.approx(17 / 5.5 * 2)
    m = 17 / 5.5 * 2
    expected = math.sqrt(
        (1 * (6 - m) ** 2 + 0.5 * (8 - m) ** 2 + 1 * (4 - m) ** 2 + 0.25 * (12 - m) ** 2) / 4
    )
    assert stdev == pytest.approx(expected)
    assert mu == pytest.approx(math.sqrt(m))
    assert factor == pytest.approx(expected / math.sqrt(m))


def test_poisson_factor_is_one_for_constant_source_with_partial_bins() -> None:
    rng = np.random.default_rng(2)
    exposure = np.where(rng.random(20000) < 0.3, rng.uniform(0.1, 2.0, 20000), 2.0)
    s = compute_stats(poisson_lc(20000, rate=5.0, seed=3, exposure=exposure))
    assert s.poisson_factor == pytest.approx(1.0, abs=0.02)
    counts = s.total  # the naive per-bin count scatter is inflated by the partial bins
    lc = poisson_lc(20000, rate=5.0, seed=3, exposure=exposure)
    naive = np.std(lc.counts) / np.sqrt(np.mean(lc.counts))
    assert naive > 1.1 and counts > 0


def test_variable_source_has_large_poisson_factor() -> None:
    s = compute_stats(poisson_lc(2000, rate=20.0, seed=4, period=300.0, amp=10.0))
    assert s.poisson_factor is not None and s.poisson_factor > 1.5


def test_gaps_are_gaps_not_zeros() -> None:
    lc = poisson_lc(3000, rate=4.0, seed=5)
    in_gti = (lc.times % 1000.0) < 600.0  # 400 s gaps every 1000 s
    gapped = make_lc(lc.net[in_gti], lc.bins[in_gti], lc.times[in_gti], error=lc.error[in_gti])
    zero_exposure = make_lc(lc.net * in_gti, np.where(in_gti, lc.bins, 0.0), lc.times,
                            error=lc.error * in_gti)
    a, b = compute_stats(gapped), compute_stats(zero_exposure)
    assert b.n_dropped == int((~in_gti).sum()) and a.n_bins == b.n_bins
    row_a, row_b = a.row(), b.row()
    row_a["details"].pop("n_dropped"), row_b["details"].pop("n_dropped")
    assert row_a == row_b
    assert a.poisson_factor == pytest.approx(1.0, abs=0.05)
    assert a.baseline == pytest.approx(5600.0, rel=1e-6)  # gaps inside the span count toward the baseline
    # zero-filling the gaps would have made a variable source of a constant one
    filled = compute_stats(make_lc(lc.net * in_gti, lc.bins, lc.times))
    assert filled.poisson_factor is not None and filled.poisson_factor > 1.5


def test_non_finite_rows_are_dropped() -> None:
    lc = poisson_lc(100, rate=4.0, seed=6)
    net = lc.net.copy()
    net[[3, 50]] = np.nan
    s = compute_stats(make_lc(net, lc.bins, lc.times, error=lc.error))
    assert s.n_bins == 98 and s.n_dropped == 2
    assert s.total == pytest.approx(np.nansum(net * lc.bins))


@pytest.mark.parametrize("rates", [np.zeros(50), np.full(50, -0.5), np.zeros(0)])
def test_no_counts(rates: np.ndarray) -> None:
    s = compute_stats(make_lc(rates, np.full(rates.size, 2.0), np.arange(rates.size) * 2.0))
    assert s.total == pytest.approx(rates.sum() * 2)
    assert (s.mean, s.mu, s.stdev, s.poisson_factor, s.pearson_r, s.pearson_p) == (None,) * 6
    assert not s.periodogram and not s.deliver
    assert [b.skipped for b in s.bands] == ["no counts"] * 3
    json.dumps(s.row())


def test_sinusoid_sets_the_flag_with_small_fap() -> None:
    s = compute_stats(poisson_lc(1800, rate=10.0, seed=7, period=240.0, amp=5.0))
    assert s.periodogram and s.deliver
    short = s.band("short")
    assert short.best_period == pytest.approx(240.0, rel=0.02)
    assert short.fap is not None and short.fap < 1e-3
    assert s.fap == short.fap and s.best_period == short.best_period
    assert s.verdict == "periodic" and s.variable
    row = s.row()
    assert row["periodogram"] is True and row["variable"] is True
    assert row["best_period"] == pytest.approx(240.0, rel=0.005) and row["fap"] < 1e-3
    assert row["method_version"] == STATS_VERSION
    details = json.loads(json.dumps(row["details"]))
    assert details["verdict"] == "periodic"
    assert details["bands"]["short"]["best_period"] == pytest.approx(240.0, rel=0.02)
    assert details["bands"]["long"]["skipped"].startswith("no period in 3600–36000 s")


def test_poisson_noise_rarely_flagged() -> None:
    """Pure Poisson noise is flagged in fewer than 2 of 100 seeded draws at the default settings,
    and its best-peak FAP is calibrated (FAP < 1 % in about 1 % of draws)."""
    flagged = small_fap = 0
    for seed in range(100):
        n = 60 + 5 * seed  # 2 to 19 minutes of low-count data
        s = compute_stats(poisson_lc(n, rate=2.0, seed=1000 + seed))
        flagged += s.periodogram
        small_fap += any(b.fap is not None and b.fap < 0.01 for b in s.bands)
    assert flagged < 2
    assert small_fap <= 4


def test_the_flag_catches_a_modest_signal() -> None:
    """The counterpart of the noise test: the same settings flag a 50 % modulation every time."""
    flagged = sum(
        compute_stats(poisson_lc(300, rate=5.0, seed=2000 + seed, period=60.0, amp=2.5)).periodogram
        for seed in range(20)
    )
    assert flagged == 20


def test_power_threshold_setting_of_the_original_rule() -> None:
    lc = poisson_lc(1800, rate=10.0, seed=8, period=240.0, amp=2.0)
    low = compute_stats(lc, flag_rule="original", power_threshold=0.01)
    high = compute_stats(lc, flag_rule="original", power_threshold=0.99)
    assert low.periodogram and not high.periodogram
    assert compute_stats(lc, power_threshold=0.99).periodogram  # the FAP rule does not read it
    assert high.details()["flag_rule"] == "original"
    with pytest.raises(ValueError, match="flag_rule"):
        compute_stats(lc, flag_rule="bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="power_threshold"):
        compute_stats(lc, power_threshold=0.0)


def test_error_weighting_and_exact_method() -> None:
    lc = poisson_lc(600, rate=10.0, seed=9, period=100.0, amp=4.0)
    by_error = compute_stats(lc, weighting="error", method="exact")
    by_exposure = compute_stats(lc, method="exact")
    assert by_error.weighting == "error"
    assert by_error.band("short").best_period == pytest.approx(100.0, rel=0.02)
    assert by_exposure.band("short").best_period == pytest.approx(100.0, rel=0.02)
    assert by_error.band("short").best_power != by_exposure.band("short").best_power
    with pytest.raises(ValueError, match="weighting"):
        compute_stats(lc, weighting="bogus")  # type: ignore[arg-type]


def test_infer_step() -> None:
    mjd = 56000 + np.arange(5) * 4.0 / SECONDS_PER_DAY
    bins = np.full(5, 3.0)
    assert infer_step({"STEPSIZE": 2.5}, mjd, bins) == 2.5
    assert infer_step({"TIMEDEL": "7"}, mjd, bins) == 7.0
    assert infer_step({"STEPSIZE": "n/a"}, mjd, bins) == pytest.approx(4.0)
    assert infer_step({}, mjd[:1], bins[:1]) == 3.0
    with pytest.raises(ValueError, match="cannot infer the bin width"):
        infer_step({}, mjd[:0], bins[:0])
    lc = poisson_lc(50, rate=4.0, step=5.0, seed=10)
    assert compute_stats(lc, step=None).step == 5.0
    assert compute_stats(lc, step=10.0).step == 10.0
    with pytest.raises(ValueError, match="step"):
        compute_stats(lc, step=-1.0)


def test_pearson_undefined_cases() -> None:
    assert pearson([1.0, 2.0], [3.0, 4.0]) == (None, None)
    assert pearson([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]) == (None, None)
    r, p = pearson([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 5.0])
    assert r == pytest.approx(0.8315218) and 0 < p < 1


def test_pearson_matches_scipy() -> None:
    from scipy.stats import pearsonr

    rng = np.random.default_rng(13)
    for n in (3, 10, 1000):
        x, y = np.sort(rng.random(n)) + 56000.0, rng.random(n)
        y += 0.3 * (x - 56000.0)
        expected = pearsonr(x, y)
        r, p = pearson(x, y)
        assert r == pytest.approx(expected.statistic, rel=1e-9)
        assert p == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    assert pearson([0.0, 1.0, 2.0], [1.0, 2.0, 3.0]) == (pytest.approx(1.0), 0.0)


def test_composite_times_are_taken_from_mjd() -> None:
    """A composite's TIMES restart per dataset; statistics follow MJD order (rows may come in any order)."""
    first = poisson_lc(400, rate=5.0, seed=11)
    second = poisson_lc(400, rate=5.0, seed=12)
    times = np.concatenate([second.times, first.times])  # restarts, and stacked out of time order
    lc = LightCurve(
        times=times,
        mjd=np.concatenate([second.mjd + 1.0, first.mjd]),
        **{k: np.concatenate([getattr(second, k), getattr(first, k)])
           for k in ("bins", "gross", "background", "counts", "net", "error", "flux", "flux_error",
                     "signal_to_noise")},
        dataset=np.repeat(np.array([2, 1], dtype=np.int32), 400),
        meta={"STEPSIZE": 2.0},
    )
    s = compute_stats(lc)
    assert s.baseline == pytest.approx(SECONDS_PER_DAY + 800.0, rel=1e-6)
    assert s.band("long").computed
    assert s.pearson_r is not None and abs(s.pearson_r) < 0.2
