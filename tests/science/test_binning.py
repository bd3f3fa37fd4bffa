"""GTI algebra and binning: unit tests and hypothesis property tests for the binning invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hstlc.science.binning import bin_index, exposure_grid, time_edges, weighted_histogram
from hstlc.science.gti import (
    cumulative_exposure,
    in_gti,
    intersect_gti,
    mask_to_gti,
    normalize_gti,
    total_exposure,
)
from hstlc.science.lightcurve import Channel, SegmentSpec, accumulate_segment, assemble
from hstlc.science.selection import Band

# --- GTI algebra --------------------------------------------------------------------------------------


def test_normalize_merges_sorts_and_drops_empty() -> None:
    g = normalize_gti([[150, 300], [0, 100], [290, 310], [100, 100], [100, 120]])
    np.testing.assert_array_equal(g, [[0, 120], [150, 310]])


def test_intersect_and_total() -> None:
    a = [[0, 100], [200, 300]]
    b = [[50, 250]]
    np.testing.assert_array_equal(intersect_gti(a, b), [[50, 100], [200, 250]])
    assert total_exposure(intersect_gti(a, b)) == 100.0
    assert intersect_gti(a, np.zeros((0, 2))).shape == (0, 2)


def test_in_gti_half_open() -> None:
    g = [[0, 10], [20, 30]]
    t = np.array([-1, 0, 9.999, 10, 15, 20, 29.9, 30, 31])
    np.testing.assert_array_equal(in_gti(t, g), [0, 1, 1, 0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(in_gti(t, [[0, 10]]), [0, 1, 1, 0, 0, 0, 0, 0, 0])


def test_cumulative_exposure() -> None:
    g = [[10, 20], [30, 50]]
    np.testing.assert_allclose(cumulative_exposure([0, 10, 15, 25, 40, 60], g), [0, 0, 5, 10, 20, 30])


def test_mask_to_gti_midpoints() -> None:
    t = np.arange(0.0, 10.0)
    good = t < 5  # samples 0..4 good
    np.testing.assert_allclose(mask_to_gti(t, good, lower=0.0, upper=10.0), [[0.0, 4.5]])
    g = mask_to_gti(t, ~good, lower=0.0, upper=10.0)
    np.testing.assert_allclose(g, [[4.5, 10.0]])


# --- time grid (defects 1, 2: true exposure, end at the last GTI stop, partial last bin) ------------------


def test_time_edges_partial_last_bin() -> None:
    edges = time_edges(25.0, 10.0)
    np.testing.assert_array_equal(edges, [0, 10, 20, 25])
    np.testing.assert_array_equal(time_edges(30.0, 10.0), [0, 10, 20, 30])


def test_grid_runs_to_last_gti_stop_not_exptime() -> None:
    # calcos EXPTIME = Σ GTI = 250 s here; the original stopped at 250 and lost the 300–400 s tail.
    gti = [[0, 150], [300, 400]]
    edges, exp = exposure_grid(gti, 40.0)
    assert edges[-1] == 400.0
    assert exp.sum() == pytest.approx(250.0)
    # The bin [280, 320) overlaps the GTI for 20 s only; [160, 200) not at all.
    assert exp[np.searchsorted(edges, 280.0)] == pytest.approx(20.0)
    assert exp[4] == 0.0
    # last bin [400?]: edges 0,40,...,360,400: last bin full 40 s of good time
    assert exp[-1] == pytest.approx(40.0)


def test_bin_index_edges_exact() -> None:
    edges = time_edges(1.0, 0.1)
    t = edges[:-1].copy()
    np.testing.assert_array_equal(bin_index(t, edges), np.arange(len(t)))
    assert bin_index(np.array([1.0, -0.01, np.nan]), edges).tolist() == [-1, -1, -1]


def test_float32_accumulation_defect_shown() -> None:
    # The original histogrammed float32 weights: the per-bin sum drifts. Ours is exact to float64.
    rng = np.random.default_rng(3)
    w = rng.uniform(0.8, 1.2, 3_000_000).astype(np.float32)
    exact = np.sum(w.astype(np.float64))
    f32 = np.cumsum(w, dtype=np.float32)[-1]
    assert abs(float(f32) - exact) > 1.0  # the float32 running sum is off by more than a count
    assert weighted_histogram(np.zeros(len(w), np.intp), w, 1)[0] == pytest.approx(exact, abs=1e-6)


# --- property tests ---------------------------------------------------------------------------------------

gti_strategy = st.lists(
    st.tuples(st.floats(0, 900, allow_nan=False), st.floats(0.5, 200, allow_nan=False)),
    min_size=1,
    max_size=6,
).map(lambda pairs: normalize_gti([[s, s + d] for s, d in pairs]))


def _events(seed: int, n: int, tmax: float):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, tmax, n)).astype(np.float32)
    x = rng.uniform(0, 100, n).astype(np.float32)
    y = rng.uniform(0, 30, n).astype(np.float32)
    lam = (1300 + x).astype(np.float32)
    eps = rng.uniform(0.5, 1.5, n).astype(np.float32)
    dq = np.where(rng.random(n) < 0.1, 8, 0).astype(np.int16)
    return t, x, y, lam, eps, dq


SPEC = SegmentSpec(
    channels=(Channel("S", Band(15.0, 10.0), (Band(4.0, 6.0), Band(26.0, 6.0))),),
    sdqflags=8,
    ncols=100,
    xmin=0,
    xmax=100,
    wmin=1000,
    wmax=2000,
)


@settings(max_examples=60, deadline=None)
@given(gti=gti_strategy, step=st.floats(0.3, 50), seed=st.integers(0, 2**16), n=st.integers(0, 3000))
def test_binning_invariants(gti: np.ndarray, step: float, seed: int, n: int) -> None:
    t, x, y, lam, eps, dq = _events(seed, n, 1100.0)
    edges, exp = exposure_grid(gti, step)
    sums = accumulate_segment(t, x, y, lam, eps, dq, spec=SPEC, gti=gti, edges=edges, chunk=997)
    curve = assemble(edges, exp, sums)
    # Exposure: Σ BINS = total GTI time; no emitted bin without exposure; bins lie inside the grid.
    assert curve.bins.sum() == pytest.approx(total_exposure(gti), rel=1e-12, abs=1e-9)
    assert np.all(curve.bins > 0)
    # No bin outside the GTIs: every emitted bin overlaps a GTI.
    right = np.minimum(curve.times + step, edges[-1])
    overlap = cumulative_exposure(right, gti) - cumulative_exposure(curve.times, gti)
    np.testing.assert_allclose(overlap, curve.bins, rtol=1e-9, atol=1e-9)
    assert np.all(overlap > 0)
    # Conservation: Σ GROSS = Σ ε of selected source events inside GTIs.
    sel = in_gti(t, gti) & SPEC.channels[0].source.contains(x, y) & ((dq & 8) == 0)
    expected = np.sum(eps[sel].astype(np.float64))
    assert curve.gross.sum() == pytest.approx(expected, rel=1e-12, abs=1e-9)
    # Nothing was lost into zero-exposure bins.
    assert sums[0].gross.sum() == pytest.approx(curve.gross.sum(), rel=1e-12, abs=1e-9)
    # rate × exposure = counts.
    np.testing.assert_allclose(curve.net * curve.bins, curve.counts, rtol=1e-12, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 2000), step=st.floats(0.5, 20))
def test_shuffle_invariance(seed: int, n: int, step: float) -> None:
    t, x, y, lam, eps, dq = _events(seed, n, 500.0)
    gti = [[0, 200], [260, 500]]
    edges, exp = exposure_grid(gti, step)
    perm = np.random.default_rng(seed + 1).permutation(n)
    a = assemble(edges, exp, accumulate_segment(t, x, y, lam, eps, dq, spec=SPEC, gti=gti, edges=edges))
    b = assemble(
        edges,
        exp,
        accumulate_segment(
            t[perm],
            x[perm],
            y[perm],
            lam[perm],
            eps[perm],
            dq[perm],
            spec=SPEC,
            gti=gti,
            edges=edges,
            chunk=333,
        ),
    )
    for name in ("gross", "background", "flux", "error"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(gti=gti_strategy, step=st.floats(0.5, 20))
def test_rebinning_preserves_totals(gti: np.ndarray, step: float) -> None:
    t, x, y, lam, eps, dq = _events(7, 2000, 1100.0)
    e1, x1 = exposure_grid(gti, step)
    e2, x2 = exposure_grid(gti, 3 * step)
    c1 = assemble(e1, x1, accumulate_segment(t, x, y, lam, eps, dq, spec=SPEC, gti=gti, edges=e1))
    c2 = assemble(e2, x2, accumulate_segment(t, x, y, lam, eps, dq, spec=SPEC, gti=gti, edges=e2))
    assert c1.gross.sum() == pytest.approx(c2.gross.sum())
    assert c1.background.sum() == pytest.approx(c2.background.sum())
    assert c1.bins.sum() == pytest.approx(c2.bins.sum())


def test_no_bin_inside_a_gap_and_partial_last_bin() -> None:
    gti = [[0, 100], [130, 205]]
    t, x, y, lam, eps, dq = _events(1, 5000, 205.0)
    edges, exp = exposure_grid(gti, 10.0)
    curve = assemble(edges, exp, accumulate_segment(t, x, y, lam, eps, dq, spec=SPEC, gti=gti, edges=edges))
    assert not np.any((curve.times >= 100) & (curve.times + 10 <= 130))  # 100–110, 110–120 dropped
    assert 120.0 not in curve.times  # no good time in [120, 130): not emitted (the original: a zero bin)
    assert curve.bins[curve.times == 90.0][0] == pytest.approx(10.0)
    assert curve.times[-1] == 200.0 and curve.bins[-1] == pytest.approx(5.0)
    assert curve.bins.sum() == pytest.approx(175.0)


def test_no_sliver_bin_at_a_gti_edge() -> None:
    # 3000 × 0.3 is 900.0000000000001 in floating point: without aligning that edge with the GTI start, a
    # bin of ~1e-13 s exposure would be emitted and an event at exactly 900 s would get an absurd rate.
    gti = [[900.0, 901.0]]
    edges, exp = exposure_grid(gti, 0.3)
    t = np.array([900.0, 900.0, 900.5], dtype=np.float32)
    x = np.full(3, 50.0, np.float32)
    y = np.full(3, 15.0, np.float32)
    lam = np.full(3, 1350.0, np.float32)
    curve = assemble(
        edges,
        exp,
        accumulate_segment(
            t, x, y, lam, np.ones(3, np.float32), np.zeros(3, np.int16), spec=SPEC, gti=gti, edges=edges
        ),
    )
    assert curve.bins.min() > 0.09
    assert curve.gross.sum() == 3.0
    assert np.all(np.isfinite(curve.net)) and curve.net.max() < 3 / 0.09


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(-50.0, 150.0, allow_nan=False), min_size=0, max_size=60),
    st.lists(st.tuples(st.floats(-20.0, 120.0, allow_nan=False), st.floats(0.0, 40.0, allow_nan=False)),
             min_size=0, max_size=4),
)
def test_sorted_gti_positions_are_those_in_gti_finds(
    times: list[float], intervals: list[tuple[float, float]]
) -> None:
    from hstlc.science.lightcurve import _in_gti_sorted

    t = np.sort(np.array(times, dtype=np.float64))
    gti = normalize_gti([[a, a + w] for a, w in intervals]) if intervals else np.zeros((0, 2))
    keep = _in_gti_sorted(t, gti)
    expected = np.flatnonzero(in_gti(t, gti))
    got = np.arange(len(t)) if keep is None else np.arange(len(t))[keep]
    np.testing.assert_array_equal(got, expected)
