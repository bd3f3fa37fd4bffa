"""The binned-lightcurve simulator: extraction's column definitions, HST orbits, Poisson noise, composites."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hstlc.domain import LIGHTCURVE_COLUMNS, SECONDS_PER_DAY
from hstlc.products import read_lightcurve, write_lightcurve
from hstlc.science.binning import exposure_grid
from hstlc.science.lightcurve import ChannelSums, assemble
from hstlc.synthetic import signals
from hstlc.synthetic.binned import composite, orbit_gti, simulate_lightcurve, simulate_lightcurves
from hstlc.synthetic.signals import flare, sinusoid


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------------------------ columns
@pytest.mark.parametrize(
    ("rate", "background", "epsilon"), [(50.0, 0.0, 1.0), (0.5, 1.0, 1.3), (0.0, 0.2, 0.8)]
)
def test_columns_follow_the_assemble_definitions(rate: float, background: float, epsilon: float) -> None:
    scale = 0.4
    lc = simulate_lightcurve(
        rate=rate,
        background=background,
        step=2.0,
        orbits=2,
        visible=3301.0,
        background_scale=scale,
        epsilon=epsilon,
        rng=rng(1),
    )
    np.testing.assert_array_equal(lc.counts, lc.gross - lc.background)
    np.testing.assert_allclose(lc.net * lc.bins, lc.counts, rtol=1e-12, atol=1e-12)
    n_box = lc.gross / epsilon
    n_bkg = lc.background / (scale * epsilon)
    np.testing.assert_allclose(n_box, np.round(n_box), atol=1e-9)  # whole events, ε-weighted
    np.testing.assert_allclose(n_bkg, np.round(n_bkg), atol=1e-9)
    variance = epsilon**2 * np.where(n_box > 0, n_box, 1.0) + scale**2 * epsilon**2 * n_bkg
    np.testing.assert_allclose(lc.error**2, variance, rtol=1e-12)
    assert np.all(lc.error > 0)
    np.testing.assert_allclose(lc.signal_to_noise, lc.counts / lc.error, rtol=1e-12)
    np.testing.assert_allclose(lc.flux, 1e-14 * lc.net, rtol=1e-12)
    np.testing.assert_allclose(lc.flux_error, 1e-14 * lc.error / lc.bins, rtol=1e-12)
    np.testing.assert_allclose(lc.mjd, 56000.0 + lc.times / SECONDS_PER_DAY, rtol=0, atol=1e-12)
    assert lc.dataset.dtype == np.int32 and np.all(lc.dataset == 1)
    assert all(getattr(lc, c).dtype == np.float64 for c in LIGHTCURVE_COLUMNS if c != "dataset")
    assert lc.meta["STEPSIZE"] == 2.0 and lc.meta["TIMEDEL"] == 2.0
    assert lc.meta["BKGSCL_A"] == scale and lc.meta["EXPSTART"] == 56000.0


def test_columns_equal_what_assemble_makes_of_the_same_events() -> None:
    """Rebuild extraction's per-bin sums from the drawn event numbers and let ``assemble`` do the rest."""
    eps, scale, fscale = 1.2, 0.5, 1e-14
    lc = simulate_lightcurve(
        rate=0.3,
        background=0.4,
        step=2.0,
        orbits=2,
        visible=3301.0,
        epsilon=eps,
        background_scale=scale,
        rng=rng(2),
    )
    # A contiguous grid over the exposure: the bins plus zero-exposure bins filling the occultation gap.
    edges = np.unique(np.concatenate([lc.times, lc.times + lc.bins]))
    exposure = np.zeros(len(edges) - 1)
    row = np.searchsorted(edges, lc.times)
    exposure[row] = lc.bins
    n_box = np.zeros(len(exposure))
    n_bkg = np.zeros(len(exposure))
    n_box[row] = np.round(lc.gross / eps)
    n_bkg[row] = np.round(lc.background / (scale * eps))
    sums = ChannelSums(
        name="FUVA",
        gross=eps * n_box,
        gross_var=eps**2 * n_box,
        background=scale * eps * n_bkg,
        background_var=scale**2 * eps**2 * n_bkg,
        flux=fscale * eps * (n_box - scale * n_bkg),
        flux_var=fscale**2 * eps**2 * (n_box + scale**2 * n_bkg),
        n_columns=1,
        n_source=int(n_box.sum()),
        n_background=int(n_bkg.sum()),
        n_uncalibrated=0,
        wavelength_min=1100.0,
        wavelength_max=1400.0,
        column_mask=np.ones(1, dtype=bool),
        background_scale=scale,
        source_weight_mean=eps,
        flux_weight_mean=fscale * eps,
    )
    columns = assemble(edges, exposure, [sums])
    assert np.any(n_box[row] == 0)  # the empty-bin rule is exercised
    for name in (n for n in LIGHTCURVE_COLUMNS if n not in ("mjd", "dataset")):
        np.testing.assert_allclose(
            getattr(lc, name), getattr(columns, name), rtol=1e-12, atol=1e-30, err_msg=name
        )


def test_a_product_file_round_trips(tmp_path: Path) -> None:
    lc = simulate_lightcurve(rate=5.0, background=0.5, step=10.0, orbits=2, rng=rng(3))
    back = read_lightcurve(write_lightcurve(lc, tmp_path / "lsim0001q_curve.fits"))
    for name in LIGHTCURVE_COLUMNS:
        np.testing.assert_array_equal(getattr(back, name), getattr(lc, name), err_msg=name)
    assert back.meta["STEPSIZE"] == 10.0


# ------------------------------------------------------------------------------------- orbits, bins
def test_partial_bin_at_each_window_end() -> None:
    lc = simulate_lightcurve(rate=10.0, step=2.0, orbits=3, visible=3301.0, rng=rng())
    partial = lc.bins < 2.0
    assert np.count_nonzero(partial) == 3
    np.testing.assert_allclose(lc.bins[partial], 1.0)
    np.testing.assert_allclose(lc.times[partial], [3300.0, 5760.0 + 3300.0, 2 * 5760.0 + 3300.0])
    assert len(lc) == 3 * 1651 and lc.bins.sum() == pytest.approx(3 * 3301.0)
    whole = simulate_lightcurve(rate=10.0, step=2.0, orbits=3, visible=3300.0, rng=rng())
    assert np.all(whole.bins == 2.0) and len(whole) == 3 * 1650


@pytest.mark.parametrize("step", [1.0, 2.0, 7.0, 30.0, 120.0])
@pytest.mark.parametrize("start_phase", [0.0, 0.3, 0.7])
def test_no_bin_in_the_earth_occultation(step: float, start_phase: float) -> None:
    kw: dict[str, Any] = {
        "orbits": 3,
        "visible": 3300.0,
        "orbit_period": 5760.0,
        "start_phase": start_phase,
        "t0": 5.0,
    }
    gti = orbit_gti(**kw)
    lc = simulate_lightcurve(rate=1.0, step=step, rng=rng(), **kw)
    assert lc.bins.sum() == pytest.approx(3 * 3300.0)  # the same good time at any phase
    assert np.all(lc.bins > 0) and np.all(lc.bins <= step + 1e-9)
    assert np.all(np.diff(lc.times) > 0)
    window = np.searchsorted(gti[:, 0], lc.times, side="right") - 1
    assert np.all(window >= 0)
    assert np.all(lc.times >= gti[window, 0])
    assert np.all(lc.times + lc.bins <= gti[window, 1] + 1e-9)  # inside the window it starts in
    # every window is covered from its start to its stop, and bins start on the window's own grid
    for lo, hi in gti:
        inside = (lc.times >= lo) & (lc.times < hi)
        assert lc.times[inside][0] == lo
        assert lc.bins[inside].sum() == pytest.approx(hi - lo)
        np.testing.assert_allclose((lc.times[inside] - lo) / step, np.arange(np.count_nonzero(inside)))


def test_orbit_gti_phases() -> None:
    np.testing.assert_allclose(orbit_gti(orbits=2), [[0.0, 3300.0], [5760.0, 9060.0]])
    # a quarter of an orbit in: 1860 s of the first window left, the rest seen at the end
    np.testing.assert_allclose(
        orbit_gti(orbits=2, start_phase=0.25, t0=10.0), [[10.0, 1870.0], [4330.0, 7630.0], [10090.0, 11530.0]]
    )
    # starting in the occultation: the first window is the next one
    np.testing.assert_allclose(orbit_gti(orbits=1, start_phase=0.75), [[1440.0, 3300.0 + 1440.0]])
    np.testing.assert_allclose(orbit_gti(orbits=3, visible=100.0, orbit_period=100.0), [[0.0, 300.0]])
    with pytest.raises(ValueError, match="visible"):
        orbit_gti(visible=6000.0)
    with pytest.raises(ValueError, match="start_phase"):
        orbit_gti(start_phase=1.0)


@pytest.mark.parametrize("t0", [0.0, 3.0, 17.5])
def test_exposure_alignment_is_the_extraction_grid(t0: float) -> None:
    """``align='exposure'``: the rows extraction makes of the same GTIs (edges k·step from t = 0)."""
    gti = orbit_gti(orbits=3, visible=3301.0, start_phase=0.4, t0=t0)
    lc = simulate_lightcurve(
        rate=1.0, step=7.0, orbits=3, visible=3301.0, start_phase=0.4, t0=t0, align="exposure", rng=rng()
    )
    edges, exposure = exposure_grid(gti, 7.0)
    keep = exposure > 0
    np.testing.assert_allclose(lc.times, edges[:-1][keep], rtol=0, atol=1e-9)
    np.testing.assert_allclose(lc.bins, exposure[keep], rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------------------- the noise
def test_gross_and_background_are_poisson_with_the_model_mean() -> None:
    rate, background, scale = 3.0, 2.0, 0.5
    lc = simulate_lightcurve(
        rate=rate, background=background, step=2.0, orbits=20, background_scale=scale, rng=rng(4)
    )
    full = lc.bins == 2.0
    n_box = lc.gross[full]
    n_bkg = lc.background[full] / scale
    mean_box = (rate + background) * 2.0
    mean_bkg = background / scale * 2.0
    assert n_box.mean() == pytest.approx(mean_box, rel=0.02)
    assert n_box.var() == pytest.approx(mean_box, rel=0.04)
    assert n_bkg.mean() == pytest.approx(mean_bkg, rel=0.02)
    assert n_bkg.var() == pytest.approx(mean_bkg, rel=0.04)
    # the background-subtracted counts estimate the source alone
    assert lc.counts.sum() / lc.bins.sum() == pytest.approx(rate, rel=0.02)


def test_level_scales_the_source_only() -> None:
    base = simulate_lightcurve(rate=100.0, background=10.0, orbits=3, rng=rng(5))
    high = simulate_lightcurve(rate=100.0, background=10.0, orbits=3, level=1.03, rng=rng(5))
    ratio = high.net.mean() / base.net.mean()
    assert ratio == pytest.approx(1.03, abs=0.004)


def test_seeds_are_reproducible() -> None:
    kw: dict[str, Any] = {"rate": 2.0, "background": 1.0, "orbits": 2, "signal": sinusoid(600.0, 0.2)}
    a = simulate_lightcurve(**kw, rng=rng(7))
    b = simulate_lightcurve(**kw, rng=rng(7))
    c = simulate_lightcurve(**kw, rng=rng(8))
    for name in LIGHTCURVE_COLUMNS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.gross, c.gross)
    np.testing.assert_array_equal(a.times, c.times)


def test_a_hundred_thousand_bins_in_well_under_a_tenth_of_a_second() -> None:
    kw: dict[str, Any] = {
        "rate": 0.5,
        "background": 1.0,
        "step": 1.0,
        "orbits": 31,
        "signal": sinusoid(600.0, 0.1),
    }
    simulate_lightcurve(**kw, rng=rng())
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        lc = simulate_lightcurve(**kw, rng=rng())
        best = min(best, time.perf_counter() - start)
    assert len(lc) > 100_000
    assert best < 0.1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rate": -1.0}, "rate"),
        ({"rate": 1.0, "step": 0.0}, "step"),
        ({"rate": 1.0, "epsilon": 0.0}, "epsilon"),
        ({"rate": 1.0, "background_scale": 0.0}, "background_scale"),
        ({"rate": 1.0, "orbits": 0}, "orbits"),
        ({"rate": 1.0, "align": "grid"}, "align"),
        ({"rate": 1.0, "level": math.nan}, "level"),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        simulate_lightcurve(**kwargs, rng=rng())


# ------------------------------------------------------------------------------------------ signals
def test_sinusoid_bin_means() -> None:
    t = np.linspace(0.0, 1200.0, 97)
    np.testing.assert_allclose(sinusoid(600.0, 0.1).evaluate(t) - 1.0, 0.1 * np.sin(2 * np.pi * t / 600.0),
                               atol=1e-15)
    # the mean over a bin is the sinc-attenuated mid-time value
    s = sinusoid(60.0, 0.3)
    lo = np.arange(0.0, 600.0, 30.0)
    np.testing.assert_allclose(
        s.mean(lo, lo + 30.0) - 1.0, 0.3 * np.sin(2 * np.pi * (lo + 15.0) / 60.0) * np.sinc(0.5), atol=1e-9
    )


def test_flare_bin_means() -> None:
    f = flare(1000.0, 3.0, 60.0)
    t = np.linspace(0.0, 3000.0, 3001)
    y = f.evaluate(t) - 1.0
    assert np.all(np.diff(y[t < 1000.0]) >= 0) and np.all(np.diff(y[t >= 1000.0]) <= 0)
    # exact bin means: the excess integrates to amplitude · (rise + decay)
    lo = np.arange(0.0, 3300.0, 2.0)
    assert np.sum((f.mean(lo, lo + 2.0) - 1.0) * 2.0) == pytest.approx(3.0 * (6.0 + 60.0), rel=1e-9)


def test_a_flare_adds_its_integral_to_the_counts() -> None:
    quiet = simulate_lightcurve(rate=200.0, orbits=1, rng=rng(9))
    flaring = simulate_lightcurve(rate=200.0, orbits=1, signal=flare(1500.0, 1.0, 300.0), rng=rng(9))
    excess = flaring.counts.sum() - quiet.counts.sum()
    expected = 200.0 * 1.0 * (30.0 + 300.0)
    assert excess == pytest.approx(expected, abs=5 * math.sqrt(2 * 200.0 * 3300.0))
    peak_bin = np.argmax(np.convolve(flaring.net, np.ones(15), "same"))
    assert abs(flaring.times[peak_bin] - 1500.0) < 100.0


def test_signal_specs_and_plain_callables() -> None:
    spec = signals.sinusoid(600.0, 0.2)
    a = simulate_lightcurve(rate=5000.0, signal=spec, rng=rng(10))
    b = simulate_lightcurve(rate=5000.0, signal=lambda t: spec.evaluate(t) - 1.0, rng=rng(10))
    # a spec is averaged over each bin, a callable sampled at its middle: the same for 2 s bins of 600 s
    np.testing.assert_allclose(a.gross, b.gross, rtol=0.06)
    assert a.gross.max() > 1.15 * a.gross.min()  # the modulation is there
    # a plain callable is sampled at the bin mid-times; the rate is clipped at zero
    dark = simulate_lightcurve(
        rate=50.0, step=10.0, signal=lambda t: np.where(t < 1005.0, -2.0, 0.0), rng=rng(11)
    )
    assert np.all(dark.gross[dark.times < 1000.0] == 0.0)
    assert np.all(dark.gross[dark.times >= 1000.0] > 0.0)  # the 1000–1010 s bin's mid-time is 1005 s


# ---------------------------------------------------------------------------------------- composites
def test_composite_numbers_members_in_time_order() -> None:
    days = [56010.0, 56000.0, 56003.5]
    members = [
        simulate_lightcurve(rate=10.0, step=2.0, orbits=o, mjd0=d, level=lvl, rng=rng(i))
        for i, (d, o, lvl) in enumerate(zip(days, (1, 2, 3), (1.0, 1.02, 0.97), strict=True))
    ]
    lc = composite(members)
    assert len(lc) == sum(len(m) for m in members)
    np.testing.assert_array_equal(np.unique(lc.dataset), [1, 2, 3])
    assert np.all(np.diff(lc.dataset) >= 0)
    assert np.all(np.diff(lc.mjd) > 0)
    np.testing.assert_array_equal(lc.mjd[lc.dataset == 1], members[1].mjd)  # the earliest visit
    np.testing.assert_array_equal(lc.gross[lc.dataset == 3], members[0].gross)
    # TIMES: seconds since the earliest EXPSTART, monotonic, as make_composite writes them
    assert np.all(np.diff(lc.times) > 0)
    np.testing.assert_allclose(lc.mjd, 56000.0 + lc.times / SECONDS_PER_DAY, rtol=0, atol=1e-9)
    assert lc.times[lc.dataset == 2][0] == pytest.approx(3.5 * SECONDS_PER_DAY)
    assert lc.meta["NMEMBERS"] == 3 and lc.meta["EXPSTART"] == 56000.0
    assert lc.meta["EXPEND"] == pytest.approx(members[0].meta["EXPEND"])
    assert lc.meta["ROOTNAME"] == ["lsim0001q"] * 3 and lc.meta["STEPSIZE"] == 2.0
    assert lc.dataset.dtype == np.int32


def test_composite_with_restarting_times() -> None:
    members = [simulate_lightcurve(rate=1.0, mjd0=d, rng=rng(i)) for i, d in enumerate((56002.0, 56000.0))]
    lc = composite(members, times="restart")
    np.testing.assert_array_equal(lc.times, np.concatenate([members[1].times, members[0].times]))
    assert np.all(np.diff(lc.mjd) > 0) and np.any(np.diff(lc.times) < 0)


def test_composite_product_round_trips(tmp_path: Path) -> None:
    members = [
        simulate_lightcurve(rate=3.0, mjd0=56000.0 + 2 * i, dataset=i + 1, rng=rng(i)) for i in range(2)
    ]
    back = read_lightcurve(write_lightcurve(composite(members), tmp_path / "composite.fits"))
    np.testing.assert_array_equal(back.dataset, np.repeat([1, 2], len(members[0])))
    np.testing.assert_allclose(back.mjd, composite(members).mjd, rtol=0, atol=1e-9)


def test_composite_rejects_mixed_steps_and_nothing() -> None:
    a = simulate_lightcurve(rate=1.0, step=2.0, rng=rng())
    b = simulate_lightcurve(rate=1.0, step=30.0, mjd0=56001.0, rng=rng())
    with pytest.raises(ValueError, match="STEPSIZE"):
        composite([a, b])
    with pytest.raises(ValueError, match="at least one"):
        composite([])


@pytest.mark.parametrize("align", ["window", "exposure"])
def test_the_same_events_at_several_bin_widths(align: str) -> None:
    kw: dict[str, Any] = {
        "rate": 2.0,
        "background": 0.5,
        "orbits": 3,
        "visible": 3301.0,
        "start_phase": 0.2,
        "t0": 3.0,
        "align": align,
        "signal": sinusoid(600.0, 0.3),
    }
    fine, wide, wider = simulate_lightcurves(steps=(2.0, 30.0, 120.0), **kw, rng=rng(12))
    direct = simulate_lightcurve(step=2.0, **kw, rng=rng(12))
    for name in LIGHTCURVE_COLUMNS:
        np.testing.assert_array_equal(getattr(fine, name), getattr(direct, name))
    for lc, step in ((wide, 30.0), (wider, 120.0)):
        grid = simulate_lightcurve(step=step, **kw, rng=rng(0))
        np.testing.assert_allclose(lc.times, grid.times, rtol=0, atol=1e-9)  # the rows a direct draw makes
        np.testing.assert_allclose(lc.bins, grid.bins, rtol=0, atol=1e-9)
        for name in ("gross", "background", "counts"):
            assert getattr(lc, name).sum() == pytest.approx(getattr(fine, name).sum(), rel=1e-12)
        n_box = lc.gross
        np.testing.assert_allclose(lc.error**2, np.maximum(n_box, 1.0) + 0.25 * lc.background / 0.5)
        assert lc.meta["STEPSIZE"] == step
    with pytest.raises(ValueError, match="whole multiple"):
        simulate_lightcurves(steps=(2.0, 3.0), rate=1.0, rng=rng())
