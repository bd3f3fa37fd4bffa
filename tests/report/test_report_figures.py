"""The report's matplotlib figures: valid PNGs, gaps not bridged, a colour per dataset, the MJD axis, the flux
and folded panels, periodogram panels and skipped bands, and reused figures drawing what new ones draw."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from hstlc.display import format_fap, format_period
from hstlc.domain import LightCurve
from hstlc.report.figures import (
    DATASET_COLOURS,
    ERRORBAR_LIMIT,
    MAX_PHASE_BINS,
    MAX_VISIT_PANELS,
    VISIT_GAP,
    FigureMaker,
    Fold,
    band_skip_reason,
    break_at_gaps,
    envelope,
    error_segments,
    figure_png,
    fold_phases,
    lightcurve_figure,
    lightcurve_step,
    period_label,
    period_ticks,
    periodogram_figure,
    phase_means,
    split_visits,
    utc_of_mjd,
)
from hstlc.science.periodogram import Peak
from hstlc.science.variability import compute_stats
from support.report import PNG_MAGIC, make_lightcurve


def _png_image(data: bytes) -> Image.Image:
    assert data[:8] == PNG_MAGIC
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_break_at_gaps_inserts_nan_only_at_gaps() -> None:
    x = np.array([0.0, 2.0, 4.0, 100.0, 102.0, 500.0])
    y = np.arange(6.0)
    bx, by = break_at_gaps(x, y, max_gap=3.0)
    assert np.isnan(bx).sum() == 2 and np.isnan(by).sum() == 2
    np.testing.assert_array_equal(bx[~np.isnan(bx)], x)
    np.testing.assert_array_equal(np.flatnonzero(np.isnan(bx)), [3, 6])
    cx, _ = break_at_gaps(x[:3], y[:3], max_gap=3.0)
    assert not np.isnan(cx).any()


def test_lightcurve_step_from_header_or_spacing() -> None:
    assert lightcurve_step(make_lightcurve(step=5.0)) == 5.0
    lc = make_lightcurve(step=3.0, meta={"STEPSIZE": None})
    object.__setattr__(lc, "meta", {})
    assert lightcurve_step(lc) == pytest.approx(3.0, rel=1e-6)


def _axes(fig: Figure, gid: str) -> list[Any]:
    return [ax for ax in fig.axes if ax.get_gid() == gid]


def _series(ax: Any) -> list[Any]:
    """The lines joining the bins of each GTI run (not the error bars)."""
    return [line for line in ax.lines if line.get_linestyle() == "-" and line.get_gid() != "errors"]


def test_lightcurve_figure_is_a_valid_png_with_gaps_unbridged() -> None:
    lc = make_lightcurve(n=400, gap=2000.0)
    fig = lightcurve_figure(lc, title="GD71 <b> $x_1$ 100%")
    assert isinstance(fig, Figure)
    ax = _axes(fig, "net")[0]
    assert fig.get_suptitle() == "GD71 <b> $x_1$ 100%"  # shown as typed, not parsed as mathtext
    connecting = _series(ax)
    assert len(connecting) == 1
    xdata = np.asarray(connecting[0].get_xdata(), dtype=float)
    assert np.isnan(xdata).sum() == 1  # one GTI gap → the line is broken once
    image = _png_image(figure_png(fig))
    assert image.size[0] == 1000 and image.size[1] >= 350
    assert image.mode == "P"  # a palette PNG
    assert np.asarray(image.convert("L")).std() > 5


def test_error_bars_are_rate_errors() -> None:
    lc = make_lightcurve(n=50, step=4.0)
    ax = _axes(lightcurve_figure(lc), "net")[0]
    errors = next(line for line in ax.lines if line.get_gid() == "errors")
    y = np.asarray(errors.get_ydata(), dtype=float).reshape(-1, 3)
    assert np.isnan(y[:, 2]).all()  # one polyline, broken after each bar
    np.testing.assert_allclose(np.sort((y[:, 1] - y[:, 0]) / 2), np.sort(lc.error / lc.bins))
    x = np.asarray(errors.get_xdata(), dtype=float).reshape(-1, 3)
    np.testing.assert_array_equal(x[:, 0], x[:, 1])
    xs, ys = error_segments(np.array([1.0, 2.0]), np.array([5.0, 6.0]), np.array([0.5, 1.0]))
    np.testing.assert_array_equal(ys, [4.5, 5.5, np.nan, 5.0, 7.0, np.nan])
    np.testing.assert_array_equal(xs, [1.0, 1.0, np.nan, 2.0, 2.0, np.nan])


def test_dense_lightcurves_get_an_error_band() -> None:
    lc = make_lightcurve(n=ERRORBAR_LIMIT + 2, gap=5000.0)
    ax = _axes(lightcurve_figure(lc), "net")[0]
    assert not any(line.get_gid() == "errors" for line in ax.lines)  # no error bars ...
    assert len(ax.collections) == 1  # ... one ±1σ band
    line = ax.lines[0]
    assert np.isnan(np.asarray(line.get_xdata(), dtype=float)).sum() == 1  # the gap still breaks the line


def _marker_colours(ax: Any) -> list[str]:
    return [line.get_color() for line in ax.lines if line.get_marker() == "o"]


def test_composite_has_one_colour_per_dataset() -> None:
    lc = make_lightcurve(n=600, datasets=3)
    fig = lightcurve_figure(lc)
    ax = _axes(fig, "net")[0]
    assert _marker_colours(ax) == list(DATASET_COLOURS[:3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["dataset 1", "dataset 2", "dataset 3"]
    single = lightcurve_figure(make_lightcurve(n=100))
    assert _axes(single, "net")[0].get_legend() is None


def _top(ax: Any) -> Any:
    """The absolute (MJD) axis above a time panel."""
    (top,) = ax.child_axes
    return top


def test_the_top_axis_is_mjd() -> None:
    lc = make_lightcurve(n=300, step=2.0, gap=0.0)
    fig = lightcurve_figure(lc)
    figure_png(fig)  # the secondary axis takes its limits from the panel when drawn
    net = _axes(fig, "net")[0]
    top = _top(net)
    assert top.get_xlabel() == "MJD (UTC; first bin 2014-12-09 00:00:00)"
    assert utc_of_mjd(57000.0) == datetime(2014, 12, 9) and utc_of_mjd(51544.5) == datetime(2000, 1, 1, 12)
    # the bottom axis is s since MJD 57000 (the first bin's start): both axes name the same instants
    assert net.get_xlabel() == "" and "time since MJD 57000.00000 (s)" in [t.get_text() for t in fig.texts]
    low, high = net.get_xlim()
    np.testing.assert_allclose(top.get_xlim(), (57000.0 + low / 86400.0, 57000.0 + high / 86400.0),
                               rtol=0, atol=1e-9)
    low, high = top.get_xlim()
    shown = [t for t in top.get_xticks() if low <= t <= high]
    assert len(shown) >= 4 and all(57000.0 <= t < 57000.01 for t in shown)


def test_flux_panel_only_when_calibrated() -> None:
    calibrated = make_lightcurve(n=200, meta={"FLUXCAL": "CALIBRATED"})
    fig = lightcurve_figure(calibrated)
    (flux,) = _axes(fig, "flux")
    assert 1e-14 < calibrated.flux.max() < 1e-13  # 20 c/s × 1e-15
    assert flux.get_ylabel() == "flux (10⁻¹⁴\nerg/s/cm²/Å)"
    marks = next(line for line in flux.lines if line.get_marker() == "o")
    np.testing.assert_allclose(np.sort(marks.get_ydata()), np.sort(calibrated.flux * 1e14))
    assert flux.get_shared_x_axes().joined(flux, _axes(fig, "net")[0])
    # the original's products have no FLUXCAL: their FLUX was calibrated
    assert len(_axes(lightcurve_figure(make_lightcurve(n=200)), "flux")) == 1
    uncalibrated = make_lightcurve(n=200, meta={"FLUXCAL": "UNCALIBRATED"})
    assert _axes(lightcurve_figure(uncalibrated), "flux") == []
    assert len(_axes(lightcurve_figure(uncalibrated, flux=True), "flux")) == 1
    zero = make_lightcurve(n=200, meta={"FLUXCAL": "CALIBRATED"})
    object.__setattr__(zero, "flux", np.zeros(200))
    assert _axes(lightcurve_figure(zero), "flux") == []
    taller = _png_image(figure_png(fig)).size[1]
    assert taller > _png_image(figure_png(lightcurve_figure(uncalibrated))).size[1]


def test_folded_panel_only_with_a_significant_period() -> None:
    periodic = make_lightcurve(n=1200, period=240.0, gap=0.0)
    stats = compute_stats(periodic)
    fold = Fold.of(stats)
    assert stats.periodogram and fold is not None
    assert fold.period == stats.best_period and fold.fap == stats.fap
    constant = compute_stats(make_lightcurve(n=1200, gap=0.0))
    assert not constant.periodogram and constant.best_period is not None and Fold.of(constant) is None
    assert _axes(lightcurve_figure(periodic), "fold") == []
    fig = lightcurve_figure(periodic, fold=fold)
    (ax,) = _axes(fig, "fold")
    assert ax.get_title() == f"folded at P = {format_period(stats.best_period)} (FAP <1e-16)"
    assert ax.get_xlim() == (0.0, 2.0)
    means = next(line for line in ax.lines if line.get_gid() == "phase means")
    x, y = np.asarray(means.get_xdata()), np.asarray(means.get_ydata())
    assert len(x) == 2 * MAX_PHASE_BINS and np.all(np.diff(x) > 0)
    # a 60 % modulation of 20 c/s at the period: the phase means swing from ~8 to ~32 c/s
    assert y.max() - y.min() > 18
    np.testing.assert_allclose(y[:MAX_PHASE_BINS], y[MAX_PHASE_BINS:])  # two cycles, the same
    # the time panel still leads, narrower
    assert _axes(fig, "net")[0].get_position().x1 < ax.get_position().x0


def test_phase_means_are_exposure_weighted() -> None:
    phase = fold_phases(np.array([0.0, 5.0, 10.0, 15.0, 20.0, 25.0]), 20.0)
    np.testing.assert_allclose(phase, [0.0, 0.25, 0.5, 0.75, 0.0, 0.25])
    counts = np.array([10.0, 4.0, 2.0, 2.0, 30.0, 4.0])
    bins = np.array([1.0, 2.0, 1.0, 1.0, 1.0, 2.0])
    error = np.sqrt(counts)
    centres, rate, err = phase_means(phase, counts, error, bins, 4)
    np.testing.assert_allclose(centres, [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(rate, [20.0, 2.0, 2.0, 2.0])
    np.testing.assert_allclose(err[0], np.sqrt(40.0) / 2.0)
    centres, rate, err = phase_means(phase, counts, error, bins, 8)
    assert np.isnan(rate[1]) and np.isnan(err[1])  # a phase bin without exposure


def _visits(offsets_days: list[float], n: int = 100, step: float = 2.0) -> LightCurve:
    parts = [make_lightcurve(n=n, step=step, gap=0.0, seed=i) for i in range(len(offsets_days))]
    columns = {k: np.concatenate([p.columns()[k] for p in parts]) for k in parts[0].columns()}
    columns["mjd"] = np.concatenate([p.mjd + off for p, off in zip(parts, offsets_days, strict=True)])
    columns["dataset"] = np.repeat(np.arange(1, len(parts) + 1, dtype=np.int32), n)
    return LightCurve(**columns, meta={"STEPSIZE": step})


def test_visits_days_apart_get_their_own_panels() -> None:
    lc = _visits([0.0, 2.5, 30.0])
    fig = lightcurve_figure(lc, title="three visits")
    net = _axes(fig, "net")
    assert len(net) == 3 and len(_axes(fig, "flux")) == 3
    figure_png(fig)
    # each panel's top axis is that visit's MJD
    for ax, day in zip(net, (57000.0, 57002.5, 57030.0), strict=True):
        low, high = _top(ax).get_xlim()
        assert low < day + 1e-4 and day < high < day + 0.01
    # each visit's panel spans its own 200 s, not 30 days
    for ax in net:
        low, high = ax.get_xlim()
        assert high - low < 300
    colours = [_marker_colours(ax)[0] for ax in net]
    assert colours == list(DATASET_COLOURS[:3])  # one colour per dataset across panels
    assert net[0].get_legend() is not None
    assert "time since each visit's start (s)" in [t.get_text() for t in fig.texts]
    _png_image(figure_png(fig))


def test_many_visits_share_one_axis_with_the_gaps_cut() -> None:
    lc = _visits([float(d) for d in range(MAX_VISIT_PANELS + 2)], n=20)
    fig = lightcurve_figure(lc)
    (ax,) = _axes(fig, "net")
    dotted = [line for line in ax.lines if line.get_linestyle() == ":"]
    assert len(dotted) == MAX_VISIT_PANELS + 1
    assert any("gaps longer than 6 h cut out" in t.get_text() for t in fig.texts)
    low, high = ax.get_xlim()
    assert high - low < 20 * 2.0 * (MAX_VISIT_PANELS + 2) * 1.5  # observing time, not 7 days
    # the top axis names each visit's starting MJD
    top = _top(ax)
    figure_png(fig)
    assert top.get_xlabel() == "MJD at each visit's start"
    labels = [t.get_text() for t in top.get_xticklabels()]
    assert labels == [f"{57000.0 + d:.2f}" for d in range(MAX_VISIT_PANELS + 2)]
    assert split_visits(np.array([0.0, 1.0, 1e5, 1e5 + 1]), min_gap=VISIT_GAP) == [slice(0, 2), slice(2, 4)]


def test_envelope_keeps_every_peak() -> None:
    rng = np.random.default_rng(4)
    x = np.linspace(1.0, 100.0, 200_001)
    y = rng.random(x.size) * 0.1
    y[[17, 99_999, 200_000]] = [0.9, 0.7, 0.8]
    ex, ey = envelope(x, y, points=4000)
    assert len(ex) <= 4002 and np.all(np.diff(ex) >= 0)
    for value in (0.9, 0.7, 0.8):
        assert value in ey
    assert ey.min() == y.min()
    small_x, small_y = envelope(x[:100], y[:100])
    assert np.array_equal(small_x, x[:100]) and np.array_equal(small_y, y[:100])


def test_empty_lightcurve_still_makes_a_figure() -> None:
    lc = make_lightcurve(n=10)
    empty = type(lc)(**{k: v[:0] for k, v in lc.columns().items()}, meta={})
    fig = lightcurve_figure(empty, title="empty", fold=Fold(100.0))
    assert [t.get_text() for t in _axes(fig, "net")[0].texts] == ["no bins with exposure"]
    assert _axes(fig, "fold") == [] and _axes(fig, "flux") == []
    _png_image(figure_png(fig))


def _labels(ax: object) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]  # type: ignore[attr-defined]


def _hlines(ax: object) -> list[float]:
    lines = ax.lines  # type: ignore[attr-defined]
    return [float(line.get_ydata()[0]) for line in lines
            if len(line.get_ydata()) == 2 and len(set(np.asarray(line.get_ydata(), dtype=float))) == 1]


def test_periodogram_figure_draws_the_fap_line_and_the_best_period() -> None:
    stats = compute_stats(make_lightcurve(n=1200, period=240.0, gap=0.0))
    assert stats.verdict == "periodic"
    fig = periodogram_figure(stats.bands, title="periodic", fap_threshold=1e-3)
    assert len(fig.axes) == 2  # the long band was not searched: no empty panel for it
    short, med = fig.axes[0], fig.axes[1]
    assert short.get_xscale() == "log"
    labels = _labels(short)
    assert "FAP = 0.001 (whole search)" in labels
    assert not any("mean + 3σ" in label for label in labels)  # the original's line only for its rule
    # the detection line is the power whose FAP (whole search) is the threshold, a step per trial range
    line = next(line for line in short.lines if line.get_label() == "FAP = 0.001 (whole search)")
    levels = stats.band("short").levels
    assert len(levels) >= 2  # 5 s – 10 min spans more than one trial range
    np.testing.assert_allclose(line.get_xdata(), [x for a, b, _ in levels for x in (a, b)])
    np.testing.assert_allclose(line.get_ydata(), [y for _, _, z in levels for y in (z, z)])
    assert max(line.get_ydata()) == pytest.approx(stats.band("short").threshold)
    assert "1 significant peak(s) (FAP < 0.001)" in labels
    marked = next(line for line in short.lines if line.get_marker() == "v")
    assert float(marked.get_xdata()[0]) == pytest.approx(240.0, rel=0.01)
    best = stats.band("short").best
    assert format_fap(best.fap) == "<1e-16"
    assert f"best P = {format_period(best.period)}, FAP <1e-16" in labels
    # med's best comes from the search with the 240 s signal removed, and says so
    assert stats.band("med").residual
    assert any(label.endswith("(after removing the signal)") for label in _labels(med))
    assert not any(label.endswith("(after removing the signal)") for label in labels)
    # the long band cannot be constrained by 40 minutes of data: a line of text says why
    long_band = stats.band("long")
    assert band_skip_reason(long_band)
    texts = [t.get_text() for t in fig.texts]
    assert f"long periods: not searched — {long_band.skipped}" in texts
    # the period axis is labelled in the units a person reads
    figure_png(fig)
    labels = [t.get_text() for t in short.get_xticklabels()]
    assert labels == ["5 s", "10 s", "20 s", "30 s", "1 min", "2 min", "3 min", "5 min", "10 min"]
    assert short.xaxis.get_minor_locator().tick_values(1, 1000) == []
    _png_image(figure_png(fig))


def test_period_ticks_and_labels() -> None:
    assert period_ticks(600.0, 3600.0) == [600, 900, 1200, 1800, 2700, 3600]
    assert period_ticks(610.0, 880.0) == [610.0, 880.0]  # no nice period inside: the ends
    assert [period_label(p) for p in (5, 90, 600, 5400, 86400 * 2)] == ["5 s", "1.5 min", "10 min", "1.5 h",
                                                                       "2 d"]


def test_a_periodogram_with_no_band_searched_is_text() -> None:
    stats = compute_stats(make_lightcurve(zero=True))
    fig = periodogram_figure(stats.bands, title="empty")
    assert fig.axes == []
    assert [t.get_text() for t in fig.texts if t.get_text().startswith(("short", "med", "long"))] == [
        f"{b.name} periods: not searched — {b.skipped}" for b in stats.bands]
    assert [t.get_text() for t in periodogram_figure([]).texts] == ["no periodogram"]
    _png_image(figure_png(fig))


def test_periodogram_figure_of_the_original_rule() -> None:
    stats = compute_stats(make_lightcurve(n=1200, period=240.0, gap=0.0), flag_rule="original")
    fig = periodogram_figure(stats.bands, fap_threshold=1e-3, flag_rule="original", power_threshold=0.3)
    short = fig.axes[0]
    band = stats.band("short")
    labels = _labels(short)
    line = band.mean + 3 * band.std
    assert f"mean + 3σ = {line:.3f}" in labels and "flag power 0.30" in labels
    assert not any(label.startswith("FAP =") for label in labels)
    levels = _hlines(short)
    assert any(np.isclose(y, line) for y in levels) and any(np.isclose(y, 0.3) for y in levels)
    assert "1 peak(s) above mean + 3σ and power ≥ 0.30" in labels
    with pytest.raises(ValueError, match="flag_rule"):
        periodogram_figure(stats.bands, flag_rule="poisson")


def _band(peaks: tuple[Peak, ...], **values: object) -> SimpleNamespace:
    periods = np.geomspace(600.0, 3600.0, 400)
    power = np.full(periods.size, 0.05)
    base: dict[str, object] = dict(name="med", periods=periods, power=power, mean=0.05, std=0.01,
                                   threshold=0.4, peaks=peaks, residual=False, skipped=None)
    counted = [p for p in peaks if p.counted]
    base["best"] = counted[0] if counted else None
    base.update(values)
    return SimpleNamespace(**base)


def test_window_and_edge_peaks_are_told_apart_from_the_source() -> None:
    orbit = Peak(period=5760.0 / 3, power=0.8, fap=1e-12, band="med", window=True)  # 3rd orbital harmonic
    trend = Peak(period=3600.0, power=0.6, fap=1e-8, band="med", edge=True)
    source = Peak(period=1000.0, power=0.5, fap=1e-6, band="med")
    weak = Peak(period=700.0, power=0.1, fap=0.9, band="med")
    ax = periodogram_figure([_band((orbit, trend, source, weak))], fap_threshold=1e-3).axes[0]
    labels = _labels(ax)
    assert 0.4 in _hlines(ax)  # no trial-range levels: one line at the band's threshold
    assert "1 HST orbit (window)" in labels and "1 trend (edge)" in labels
    assert "1 significant peak(s) (FAP < 0.001)" in labels
    by_marker = {line.get_marker(): line for line in ax.lines if line.get_marker() not in ("None", None, "")}
    assert set(by_marker) == {"v", "X", "s"}  # significant, window, edge: each its own marker
    assert list(by_marker["v"].get_xdata()) == [1000.0]  # the window and the trend are not the source
    assert list(by_marker["X"].get_xdata()) == [orbit.period]
    assert list(by_marker["s"].get_xdata()) == [3600.0]
    assert by_marker["X"].get_color() != by_marker["v"].get_color()
    # the best period is the source's, drawn as a vertical line
    assert "best P = 16.7 min, FAP = 1.0e-06" in labels
    vertical = [line for line in ax.lines if len(set(np.asarray(line.get_xdata(), dtype=float))) == 1
                and len(line.get_xdata()) == 2]
    assert [float(line.get_xdata()[0]) for line in vertical] == [1000.0]
    # a stricter threshold: the same peak is no longer significant
    strict = periodogram_figure([_band((orbit, trend, source, weak))], fap_threshold=1e-7).axes[0]
    assert not any(line.get_marker() == "v" for line in strict.lines)
    assert "FAP = 1e-07 (whole search)" in _labels(strict)
    _png_image(figure_png(periodogram_figure([_band((orbit, trend, source, weak))])))


def test_residual_band_and_no_counted_peak() -> None:
    alias = Peak(period=1200.0, power=0.7, fap=1e-9, band="med")
    residual_best = Peak(period=900.0, power=0.05, fap=0.6, band="med")
    ax = periodogram_figure([_band((alias,), best=residual_best, residual=True)]).axes[0]
    labels = _labels(ax)
    assert "best P = 15 min, FAP = 0.600\n(after removing the signal)" in labels
    assert "1 peak(s) above the line before the signal was removed" in labels
    hollow = next(line for line in ax.lines if line.get_marker() == "v")
    assert hollow.get_markerfacecolor() == "none"
    only_window = Peak(period=1920.0, power=0.9, fap=1e-20, band="med", window=True)
    ax = periodogram_figure([_band((only_window,))]).axes[0]
    assert "no peak that can be the source" in _labels(ax)
    ax = periodogram_figure([_band((only_window,), residual=True)]).axes[0]
    assert "no peak that can be the source\n(after removing the signal)" in _labels(ax)


def test_a_band_with_one_frequency_is_a_point() -> None:
    band = _band((), periods=np.array([3750.0]), power=np.array([0.01]))
    ax = periodogram_figure([band]).axes[0]  # no singular-limits warning (warnings are errors)
    low, high = ax.get_xlim()
    assert low < 3750.0 < high
    assert ax.lines[0].get_marker() == "o"
    assert "no peak that can be the source" in _labels(ax)


def test_many_peaks_are_capped_but_counted() -> None:
    periods = np.geomspace(600.0, 3600.0, 200)
    peaks = tuple(Peak(period=float(p), power=0.5 + i / 1000, fap=1e-6, band="med")
                  for i, p in enumerate(periods))
    ax = periodogram_figure([_band(peaks)]).axes[0]
    marked = next(line for line in ax.lines if line.get_marker() == "v")
    assert len(marked.get_xdata()) == 25
    assert min(marked.get_ydata()) == pytest.approx(sorted(p.power for p in peaks)[-25])
    assert "200 significant peak(s) (FAP < 0.001), strongest 25 marked" in _labels(ax)


@pytest.mark.slow
def test_a_reused_figure_draws_exactly_what_a_new_one_draws() -> None:
    """The report reuses one figure per layout: each PNG must be the one a new figure makes, whatever
    was drawn in it before (limits, legends, texts, scales, folds, top axes)."""
    periodic = make_lightcurve(n=1200, period=240.0, gap=0.0, meta={"FLUXCAL": "CALIBRATED"})
    stats = compute_stats(periodic)
    other = make_lightcurve(n=300, rate=500.0, step=10.0, gap=9000.0, datasets=2, seed=3)
    uncalibrated = make_lightcurve(n=80, meta={"FLUXCAL": "UNCALIBRATED"}, seed=4)
    empty = type(other)(**{k: v[:0] for k, v in other.columns().items()}, meta={})
    sequence: list[tuple[str, Any, dict[str, Any]]] = [
        ("lightcurve", periodic, {"title": "A", "fold": Fold.of(stats)}),
        ("lightcurve", other, {"title": "B"}),
        ("lightcurve", periodic, {"title": "A"}),
        ("lightcurve", uncalibrated, {"title": "C", "fold": Fold(37.0, 0.5)}),
        ("lightcurve", _visits([0.0, 2.5, 30.0]), {"title": "D"}),
        ("lightcurve", _visits([0.0, 1.5, 3.0]), {"title": "E"}),
        ("lightcurve", empty, {"title": "F"}),
        ("lightcurve", other, {"title": "B"}),
        ("periodogram", stats.bands, {"title": "A"}),
        ("periodogram", compute_stats(other).bands, {"title": "B", "flag_rule": "original",
                                                      "power_threshold": 0.3}),
        ("periodogram", stats.bands, {"title": "A"}),
    ]
    maker = FigureMaker(keep=3)
    for kind, data, options in sequence:
        reused = figure_png(getattr(maker, kind)(data, **options))
        fresh = figure_png(getattr(FigureMaker(reuse=False), kind)(data, **options))
        assert reused == fresh, (kind, options)


@pytest.mark.slow
def test_library_never_imports_pyplot() -> None:
    code = (
        "import sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from support.report import make_lightcurve\n"
        "from hstlc.report.figures import lightcurve_figure, figure_png\n"
        "import hstlc.report, hstlc.report.builder\n"
        "figure_png(lightcurve_figure(make_lightcurve(n=50)))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    from pathlib import Path

    root = Path(__file__).parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
