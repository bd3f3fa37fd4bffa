"""Selection, background scaling, sensitivity/TDS calibration and error propagation (pure science).

Each test names the FORMATS.md §6 defect of the original it shows fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hstlc.science.background import background_scale
from hstlc.science.binning import exposure_grid
from hstlc.science.calibration import (
    HC_ERG_ANGSTROM,
    HST_AREA_CM2,
    FluxCalibration,
    PiecewiseLinear,
    ResponseCurve,
    dispersion_at,
    stis_sensitivity,
    tds_factor,
    tds_interval,
)
from hstlc.science.lightcurve import Channel, SegmentSpec, accumulate_segment, assemble
from hstlc.science.selection import (
    AIRGLOW_WINDOWS,
    Band,
    column_index,
    dq_good,
    wavelength_good,
)

# --- selection ----------------------------------------------------------------------------------------


def test_odd_height_keeps_every_row() -> None:
    # Defect 5b: [LOC - HGT//2, LOC + HGT//2) gave 56 rows for HGT 57. Ours is exactly 57 rows tall.
    band = Band(center=500.0, height=57.0)
    rows = np.arange(400, 600) + 0.5  # one event per detector row, at the row centre
    inside = rows[band.contains(np.zeros_like(rows), rows)]
    assert len(inside) == 57
    original = rows[(rows >= 500 - 57 // 2) & (rows < 500 + 57 // 2)]
    assert len(original) == 56


def test_tilted_band_follows_slope() -> None:
    # Defect 11: SP_SLP was ignored. A trace rising 0.001 px/px crosses 16 px over the FUV detector.
    band = Band(center=500.0, height=10.0, slope=0.001, x_ref=8192.0)
    x = np.array([0.0, 8192.0, 16000.0])
    y = 500.0 + 0.001 * (x - 8192.0)
    assert band.contains(x, y).all()
    flat = Band(center=500.0, height=10.0)
    assert flat.contains(x, y).tolist() == [False, True, False]


def test_dq_rejects_sdqflags_and_serious_bits() -> None:
    dq = np.array([0, 8, 64, 512, 2048, 4, 1024], dtype=np.int16)
    assert dq_good(dq, 8).tolist() == [True, False, False, False, False, True, True]
    assert dq_good(dq, 8 | 1024).tolist()[-1] is False


def test_wavelength_window_and_airglow() -> None:
    lam = np.array([915.0, 916, 1208, 1216, 1225, 1226, 1298, 1305, 1312, 1313, 1800])
    ok = wavelength_good(lam, 915, 1800, exclude=AIRGLOW_WINDOWS)
    assert ok.tolist() == [False, True, False, False, False, True, False, False, False, True, False]
    assert wavelength_good(lam, 915, 1800).sum() == 9


def test_stis_column_index() -> None:
    # Defect 10: round(AXIS1)//2 puts hi-res pixel 1 in low-res 0 but 2 and 3 both in 1; (AXIS1-1)//2 pairs
    # them correctly: (1,2)->0, (3,4)->1, (2047,2048)->1023.
    axis1 = np.array([1, 2, 3, 4, 2047, 2048])
    assert column_index(axis1, offset=1, scale=2, ncols=1024).tolist() == [0, 0, 1, 1, 1023, 1023]
    assert (np.round(axis1) // 2).tolist() == [0, 1, 1, 2, 1023, 1024]


# --- background ----------------------------------------------------------------------------------------


def test_background_scale_is_source_over_total_background() -> None:
    # Defect 4: the original used h_bkg/(2 h_src) with only the second band's height.
    assert background_scale(30.0, [60.0, 60.0]) == pytest.approx(0.25)
    assert background_scale(30.0, [40.0, 80.0]) == pytest.approx(0.25)
    assert background_scale(57.0, [20.0, 30.0]) == pytest.approx(57 / 50)
    with pytest.raises(ValueError):
        background_scale(0.0, [1.0])


def test_flat_background_subtracts_to_zero_analytically() -> None:
    # Uniform background only: rate r per pixel row. Source band 30 rows, bands 20 and 70 rows.
    rng = np.random.default_rng(5)
    n = 400_000
    x = rng.uniform(0, 1000, n).astype(np.float32)
    y = rng.uniform(0, 400, n).astype(np.float32)
    t = rng.uniform(0, 100, n).astype(np.float32)
    lam = (1300 + x / 10).astype(np.float32)
    eps = np.ones(n, np.float32)
    dq = np.zeros(n, np.int16)
    ch = Channel("A", Band(200, 30), (Band(100, 20), Band(300, 70)))
    spec = SegmentSpec(channels=(ch,), sdqflags=0, ncols=1000, xmin=0, xmax=1000, wmin=1000, wmax=2000)
    edges, _exp = exposure_grid([[0, 100]], 100.0)
    s = accumulate_segment(t, x, y, lam, eps, dq, spec=spec, gti=[[0, 100]], edges=edges)[0]
    assert s.background_scale == pytest.approx(30 / 90)
    expected_src = n * 30 / 400
    assert s.gross.sum() == pytest.approx(expected_src, rel=0.02)
    assert s.background.sum() == pytest.approx(expected_src, rel=0.02)
    original_b_corr = (70 / 30) / 2  # ((bend - bstart)/(yend - ystart))/2 with the second band's height
    inverted = s.background.sum() / s.background_scale * original_b_corr
    assert abs(inverted - expected_src) > 0.3 * expected_src


# --- calibration ---------------------------------------------------------------------------------------


def test_per_event_sensitivity_matches_hand_computation() -> None:
    # Defect 3: source flux used the mean sensitivity of all events; ours divides each event by its own.
    curve = ResponseCurve.from_table([1000.0, 1500.0, 2000.0], [1e12, 3e12, 2e12])
    cal = FluxCalibration(sensitivity=curve)
    eps = np.array([1.0, 0.9, 1.1])
    lam = np.array([1250.0, 1500.0, 1750.0])
    w, bad = cal.flux_weights(eps, lam)
    hand = np.array([1.0 / 2e12, 0.9 / 3e12, 1.1 / 2.5e12])
    np.testing.assert_allclose(w, hand, rtol=1e-12)
    assert bad == 0
    mean_shortcut = eps.sum() / np.mean([2e12, 3e12, 2.5e12])
    assert abs(w.sum() - mean_shortcut) / w.sum() > 0.01
    # Outside the table the end values hold ("stretched" as the original and calcos do).
    np.testing.assert_allclose(curve(np.array([500.0, 3000.0])), [1e12, 2e12])


def test_non_positive_sensitivity_is_counted_not_divided() -> None:
    cal = FluxCalibration(sensitivity=ResponseCurve.from_table([1000.0, 2000.0], [0.0, 1.0]))
    w, bad = cal.flux_weights(np.ones(2), np.array([1000.0, 2000.0]))
    assert w.tolist() == [0.0, 1.0] and bad == 1


def _tds_table():
    wl = np.array([1100.0, 1400.0, 1800.0])
    times = np.array([55000.0, 56000.0, 57000.0])
    slope = np.array([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0], [-7.0, -8.0, -9.0]])
    intercept = np.array([[1.0, 1.0, 1.0], [0.99, 0.98, 0.97], [0.95, 0.94, 0.93]])
    return wl, times, slope, intercept


def test_tds_factor_formula_and_interval() -> None:
    wl, times, slope, intercept = _tds_table()
    t = 56500.0
    ref = 55000.0
    f = tds_factor(t, wavelength=wl, times=times, slope=slope, intercept=intercept, ref_time=ref)
    hand = (t - ref) / 365.25 * slope[1] / 100 + intercept[1]
    np.testing.assert_allclose(f.factor, hand)
    np.testing.assert_allclose(f(np.array([1250.0])), [np.interp(1250.0, wl, hand)])


def test_tds_before_first_time_extrapolates_not_crashes() -> None:
    # Defect 8: an observation before TIME[0] crashed the original (empty index).
    wl, times, slope, intercept = _tds_table()
    assert tds_interval(times, 50000.0) == 0
    assert tds_interval(times, 60000.0) == 2
    assert tds_interval(times, 56000.0) == 1
    f = tds_factor(50000.0, wavelength=wl, times=times, slope=slope, intercept=intercept, ref_time=55000.0)
    np.testing.assert_allclose(f.factor, (50000 - 55000) / 365.25 * slope[0] / 100 + intercept[0])


def test_tds_padded_arrays_are_trimmed_by_caller_shape() -> None:
    # Padding beyond NWL/NT (WAVELENGTH 1.0, TIME 0.0) must not enter: pass trimmed axes, padded matrices.
    wl, times, slope, intercept = _tds_table()
    pad_s = np.zeros((20, 60))
    pad_s[:3, :3] = slope
    pad_c = np.zeros((20, 60))
    pad_c[:3, :3] = intercept
    f = tds_factor(56500.0, wavelength=wl, times=times, slope=pad_s, intercept=pad_c, ref_time=55000.0)
    assert len(f.wavelength) == 3 and f.wavelength.min() == 1100.0


def test_stis_sensitivity_from_throughput() -> None:
    wl = np.array([1200.0, 1500.0])
    r = np.array([0.01, 0.02])
    disp = np.array([0.6, 0.6])
    s = stis_sensitivity(wl, r, disp)
    np.testing.assert_allclose(s.sensitivity, r * HST_AREA_CM2 * 0.6 * wl / HC_ERG_ANGSTROM)
    # A 1e-14 erg/s/cm²/Å source at 1500 Å gives NET = f · SENS counts/s per pixel.
    assert 1e-14 * s(np.array([1500.0]))[0] == pytest.approx(
        1e-14 * 0.02 * HST_AREA_CM2 * 0.6 * 1500 / HC_ERG_ANGSTROM
    )
    np.testing.assert_allclose(dispersion_at(np.linspace(1000, 1100, 11), [1050.0]), [10.0])


# --- errors and flux in the assembled curve ---------------------------------------------------------------


def _one_bin(eps: np.ndarray, bkg_eps: np.ndarray | None = None, cal: FluxCalibration | None = None):
    n = len(eps)
    t = np.full(n, 0.5, np.float32)
    x = np.linspace(10, 90, n).astype(np.float32)
    y = np.full(n, 50.0, np.float32)
    lam = (1300 + x).astype(np.float32)
    dq = np.zeros(n, np.int16)
    if bkg_eps is not None:
        m = len(bkg_eps)
        t = np.concatenate([t, np.full(m, 0.5, np.float32)])
        x = np.concatenate([x, np.linspace(10, 90, m).astype(np.float32)])
        y = np.concatenate([y, np.full(m, 10.0, np.float32)])
        lam = np.concatenate([lam, np.zeros(m, np.float32)])  # background events without wavelength
        eps = np.concatenate([eps, bkg_eps])
        dq = np.concatenate([dq, np.zeros(m, np.int16)])
    ch = Channel("A", Band(50, 20), (Band(10, 10), Band(90, 30)), cal or FluxCalibration())
    spec = SegmentSpec(channels=(ch,), sdqflags=0, ncols=100, xmin=0, xmax=100, wmin=1000, wmax=2000)
    edges, exp = exposure_grid([[0, 2]], 2.0)
    sums = accumulate_segment(t, x, y, lam, eps.astype(np.float32), dq, spec=spec, gti=[[0, 2]], edges=edges)
    return assemble(edges, exp, sums), sums[0]


def test_error_from_sum_of_squared_weights() -> None:
    # Defect 7: ERROR = √(GROSS + BKG) treats weighted sums as counts; ours = √(Σε² + b² Σε_b²).
    eps = np.full(100, 2.0, np.float32)
    bkg = np.full(40, 2.0, np.float32)
    curve, _s = _one_bin(eps, bkg)
    b = 20 / 40
    assert curve.gross[0] == pytest.approx(200.0)
    assert curve.background[0] == pytest.approx(b * 80.0)
    assert curve.error[0] == pytest.approx(np.sqrt(100 * 4.0 + b * b * 40 * 4.0))
    assert curve.error[0] != pytest.approx(np.sqrt(200 + 40))
    assert curve.signal_to_noise[0] == pytest.approx(curve.counts[0] / curve.error[0])
    assert curve.net[0] == pytest.approx(curve.counts[0] / 2.0)


def test_flux_error_finite_when_net_negative() -> None:
    curve, _ = _one_bin(np.ones(5, np.float32), np.ones(200, np.float32))
    assert curve.counts[0] < 0
    assert curve.flux[0] < 0
    assert np.isfinite(curve.flux_error[0]) and curve.flux_error[0] > 0
    assert curve.signal_to_noise[0] < 0


def test_pixels_counted_exclude_airglow_columns() -> None:
    # Defect 5a: n_pix spanned min..max XCORR including airglow/DQ-excluded columns → FLUX biased low.
    n = 2000
    x = np.linspace(0, 99.9, n).astype(np.float32)
    lam = (1200 + x).astype(np.float32)  # 1200..1300 Å: columns 8..25 are Lyα (1208–1225), 98..99 O I
    t = np.full(n, 0.5, np.float32)
    y = np.full(n, 50.0, np.float32)
    eps = np.ones(n, np.float32)
    dq = np.zeros(n, np.int16)
    dq[(x >= 50) & (x < 60)] = 16  # a dead strip
    ch = Channel("A", Band(50, 20))
    spec = SegmentSpec(
        channels=(ch,), sdqflags=16, ncols=100, xmin=0, xmax=100, wmin=915, wmax=1800, exclude=AIRGLOW_WINDOWS
    )
    edges, _exp = exposure_grid([[0, 1]], 1.0)
    s = accumulate_segment(t, x, y, lam, eps, dq, spec=spec, gti=[[0, 1]], edges=edges)[0]
    # Columns 0..99, minus 1208–1225 Å (cols 8–24, 25 has mean 1225.5), minus dead 50–59, minus 98–99 (1298+).
    assert s.n_columns == 100 - 17 - 10 - 2
    assert s.column_mask[30] and not s.column_mask[10] and not s.column_mask[55]


@settings(max_examples=200, deadline=None)
@given(
    knots=st.lists(st.floats(1000, 2000, allow_nan=False), min_size=1, max_size=80),
    seed=st.integers(0, 2**16),
    rounded=st.booleans(),
)
def test_piecewise_linear_equals_np_interp(knots: list[float], seed: int, rounded: bool) -> None:
    # The fast per-event curve evaluation must give np.interp's answer (end values held outside).
    rng = np.random.default_rng(seed)
    x = np.sort(np.round(knots) if rounded else np.asarray(knots))
    y = rng.normal(size=len(x)) * 1e12
    t = np.concatenate([rng.uniform(900, 2100, 2000), x, np.round(rng.uniform(990, 2010, 200), 1)])
    expected = np.interp(t, x, y)
    got = PiecewiseLinear(x, y)(t)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10 * np.abs(y).max())
