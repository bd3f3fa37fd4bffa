"""STIS event calibration (science/stis_events.py): flats divide, interpolate, BPIXTAB, wavelengths."""

from __future__ import annotations

import numpy as np
import pytest

from hstlc.science.stis_events import (
    bpix_dq_map,
    calibrate_events,
    event_wavelengths,
    flat_at,
    is_echelle,
    lowres_index,
    order_lookup,
    resample_flat,
)


def test_resample_constant_and_linear_any_shape() -> None:
    assert np.allclose(resample_flat(np.full((7, 13), 2.5)), 2.5)
    # A flat linear in x over the detector stays linear (between the outermost centres), whatever the shape.
    for n in (1024, 2048, 300, 1500):
        centres = (np.arange(n) + 0.5) / n  # fractional detector position of each flat pixel centre
        flat = np.tile(1.0 + centres, (4, 1))
        out = resample_flat(flat)
        hires_pos = (np.arange(2048) + 0.5) / 2048
        inside = (hires_pos >= centres[0]) & (hires_pos <= centres[-1])
        assert out.shape == (2048, 2048)
        assert np.allclose(out[0, inside], 1.0 + hires_pos[inside], atol=1e-12)


def test_resample_low_res_flat_is_not_pixel_repetition() -> None:
    flat = np.array([[1.0, 3.0]])  # two pixels: interpolation gives a ramp, repetition a step
    out = resample_flat(flat, shape=(1, 8))
    assert out[0, 0] == 1.0 and out[0, -1] == 3.0
    assert np.all(np.diff(out[0]) >= 0) and len(np.unique(out[0])) > 2


def test_epsilon_divides_by_both_flats() -> None:
    pflat = np.full((1024, 1024), 0.8)
    lflat = np.full((64, 64), 1.25)
    axis1 = np.array([1, 100, 2048])
    axis2 = np.array([1, 1000, 2048])
    cal = calibrate_events(axis1, axis2, pflat=pflat, lflat=lflat, imaging=True)
    assert np.allclose(cal.epsilon, 1.0 / (0.8 * 1.25))
    assert cal.applied == ("pflat", "lflat")
    assert not any("L-flat" in n for n in cal.notes)


def test_missing_lflat_still_applies_pflat_and_says_so() -> None:
    pflat = np.full((2048, 2048), 0.5)
    cal = calibrate_events(np.array([5]), np.array([5]), pflat=pflat, imaging=True)
    assert cal.epsilon[0] == pytest.approx(2.0)
    assert "no L-flat: EPSILON from the P-flat only" in cal.notes


def test_non_positive_flat_gives_zero_weight_and_dq() -> None:
    pflat = np.ones((1024, 1024))
    pflat[0, 0] = 0.0
    cal = calibrate_events(np.array([1, 2000]), np.array([1, 2000]), pflat=pflat, lflat=np.ones((8, 8)),
                           imaging=True)
    assert cal.epsilon[0] == 0.0 and cal.dq[0] & 4
    assert cal.epsilon[1] == pytest.approx(1.0) and cal.dq[1] == 0


def test_no_flats_unit_weights_with_notes() -> None:
    cal = calibrate_events(np.array([3, 4]), np.array([3, 4]), imaging=True)
    assert np.all(cal.epsilon == 1.0)
    assert any("P-flat" in n for n in cal.notes)


def test_bpix_map_one_indexed_along_both_axes() -> None:
    dq = bpix_dq_map([10, 1], [20, 5], [3, 2], [1, 2], [16, 256], shape=(1024, 1024))
    # PIX1=10, PIX2=20, LENGTH 3 along X → 0-indexed row 19, columns 9..11
    assert dq[19, 9] == 16 and dq[19, 11] == 16 and dq[19, 12] == 0 and dq[19, 8] == 0
    # PIX1=1, PIX2=5, LENGTH 2 along Y → column 0, rows 4..5
    assert dq[4, 0] == 256 and dq[5, 0] == 256 and dq[6, 0] == 0
    assert dq.sum() == 3 * 16 + 2 * 256


def test_bpix_values_or_together_and_off_image_ignored() -> None:
    dq = bpix_dq_map([1, 1, 1023], [1, 1, 1], [1, 1, 5], [1, 1, 1], [4, 16, 8], shape=(1024, 1024))
    assert dq[0, 0] == 20
    assert dq[0, 1022] == 8 and dq[0, 1023] == 8


def test_event_dq_from_its_low_res_pixel() -> None:
    dq_map = np.zeros((1024, 1024), dtype=np.int16)
    dq_map[0, 1] = 32  # low-res column 1 = hi-res AXIS1 3 and 4
    axis1 = np.array([1, 2, 3, 4, 5])
    axis2 = np.array([1, 2, 1, 2, 1])
    cal = calibrate_events(axis1, axis2, dq_map=dq_map, imaging=True)
    assert cal.dq.tolist() == [0, 0, 32, 32, 0]


def test_events_outside_the_grid_are_flagged() -> None:
    cal = calibrate_events(np.array([0, 1, 2049]), np.array([1, 1, 1]), imaging=True)
    assert cal.dq.tolist() == [4, 0, 4]


def test_first_order_wavelength_uses_axis_minus_one_half() -> None:
    wave = np.arange(1024, dtype=float) + 1000.0  # column j → 1000 + j
    axis1 = np.array([1, 2, 3, 4, 2048])
    got = event_wavelengths(axis1, np.ones(5, dtype=int), wave)
    assert got.tolist() == [1000.0, 1000.0, 1001.0, 1001.0, 2023.0]
    assert lowres_index(np.array([1, 2, 3])).tolist() == [0, 0, 1]


def test_echelle_orders_window_half_height_in_low_res() -> None:
    # order centres at low-res rows 100 and 110 with EXTRSIZE 7 (±3.5 low-res rows)
    lookup = order_lookup([100.0, 110.0], [7.0, 7.0])
    lowres_pos = lambda h: (h + 0.5) / 2  # noqa: E731
    for h in range(1, 2049):
        pos = lowres_pos(h)
        expected = 0 if abs(pos - 100) <= 3.5 else 1 if abs(pos - 110) <= 3.5 else -1
        assert lookup[h - 1] == expected, h
    # hi-res row 199 = low-res 99.75 → order 0; row 209 = 104.75 → none (between the ±3.5 windows)
    assert lookup[199 - 1] == 0 and lookup[209 - 1] == -1


def test_echelle_overlap_nearest_centre_wins() -> None:
    lookup = order_lookup([100.0, 104.0], [10.0, 10.0])
    h = np.arange(1, 2049)
    pos = (h + 0.5) / 2
    assert np.all(lookup[(pos > 96) & (pos < 101.9)] == 0)
    assert np.all(lookup[(pos > 102.1) & (pos < 108)] == 1)


def test_echelle_wavelengths_per_order_and_zero_outside() -> None:
    waves = np.vstack([np.full(1024, 1500.0), np.full(1024, 1400.0)])
    waves[1, 10] = 1410.0
    axis2 = np.array([2 * 100, 2 * 110, 2 * 105, 2 * 110])
    axis1 = np.array([5, 5, 5, 21])
    got = event_wavelengths(axis1, axis2, waves, a2center=[100.0, 110.0], extrsize=[7.0, 7.0], echelle=True)
    assert got.tolist() == [1500.0, 1400.0, 0.0, 1410.0]


def test_imaging_wavelength_zero() -> None:
    cal = calibrate_events(np.array([10]), np.array([10]), wavelength=np.ones((1, 1024)), imaging=True)
    assert cal.wavelength.tolist() == [0.0]


def test_is_echelle() -> None:
    assert is_echelle("E140M") and is_echelle(" e230h ") and not is_echelle("G140L")


def test_validation_errors() -> None:
    with pytest.raises(ValueError):
        resample_flat(np.ones(5))
    with pytest.raises(ValueError):
        bpix_dq_map([1], [1], [1], [3], [1])
    with pytest.raises(ValueError):
        calibrate_events(np.ones(3), np.ones(2))
    with pytest.raises(ValueError):
        event_wavelengths(np.ones(2), np.ones(2), np.ones((2, 10)), echelle=True)


def test_vectorised_speed_million_events() -> None:
    rng = np.random.default_rng(0)
    axis1 = rng.integers(1, 2049, 1_000_000)
    axis2 = rng.integers(1, 2049, 1_000_000)
    cal = calibrate_events(axis1, axis2, pflat=np.ones((1024, 1024)), lflat=np.ones((50, 60)),
                           dq_map=np.zeros((1024, 1024), dtype=np.int16),
                           wavelength=np.vstack([np.arange(1024.0)] * 3), a2center=[100.0, 500.0, 900.0],
                           extrsize=[11.0, 11.0, 11.0], echelle=True)
    assert len(cal.epsilon) == 1_000_000 and np.allclose(cal.epsilon, 1.0)
    in_order = cal.wavelength > 0
    assert 0 < in_order.mean() < 0.05


def test_flat_at_events_equals_full_resample() -> None:
    rng = np.random.default_rng(4)
    flat = rng.uniform(0.5, 1.5, (37, 53))
    row = rng.integers(0, 2048, 5000)
    col = rng.integers(0, 2048, 5000)
    np.testing.assert_allclose(flat_at(flat, row, col), resample_flat(flat)[row, col], rtol=1e-12)
