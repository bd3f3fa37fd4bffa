"""The report's matplotlib figures: valid PNGs, gaps not bridged, a colour per dataset, periodogram panels."""

from __future__ import annotations

import io
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from hstlc.display import format_fap, format_period
from hstlc.domain import LightCurve
from hstlc.report.figures import (
    DATASET_COLOURS,
    ERRORBAR_LIMIT,
    MAX_VISIT_PANELS,
    VISIT_GAP,
    band_skip_reason,
    break_at_gaps,
    envelope,
    figure_png,
    lightcurve_figure,
    lightcurve_step,
    periodogram_figure,
    split_visits,
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


def test_lightcurve_figure_is_a_valid_png_with_gaps_unbridged() -> None:
    lc = make_lightcurve(n=400, gap=2000.0)
    fig = lightcurve_figure(lc, title="GD71 <b> $x_1$ 100%")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert fig.get_suptitle() == "GD71 <b> $x_1$ 100%"  # shown as typed, not parsed as mathtext
    connecting = [line for line in ax.lines if line.get_linestyle() == "-"]
    assert len(connecting) == 1
    xdata = np.asarray(connecting[0].get_xdata(), dtype=float)
    assert np.isnan(xdata).sum() == 1  # one GTI gap → the line is broken once
    image = _png_image(figure_png(fig))
    assert image.size == (1000, 400)
    assert np.asarray(image.convert("L")).std() > 5


def test_error_bars_are_rate_errors() -> None:
    lc = make_lightcurve(n=50, step=4.0)
    fig = lightcurve_figure(lc)
    container = fig.axes[0].containers[0]
    segments = container.lines[2][0].get_segments()
    half_heights = np.array([abs(s[1][1] - s[0][1]) / 2 for s in segments])
    np.testing.assert_allclose(np.sort(half_heights), np.sort(lc.error / lc.bins))


def test_dense_lightcurves_get_an_error_band() -> None:
    lc = make_lightcurve(n=ERRORBAR_LIMIT + 2, gap=5000.0)
    ax = lightcurve_figure(lc).axes[0]
    assert ax.containers == []  # no error bars ...
    assert len(ax.collections) == 1  # ... one ±1σ band
    line = ax.lines[0]
    assert np.isnan(np.asarray(line.get_xdata(), dtype=float)).sum() == 1  # the gap still breaks the line


def test_composite_has_one_colour_per_dataset() -> None:
    lc = make_lightcurve(n=600, datasets=3)
    fig = lightcurve_figure(lc)
    ax = fig.axes[0]
    colours = [c.lines[0].get_color() for c in ax.containers]
    assert colours == list(DATASET_COLOURS[:3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["dataset 1", "dataset 2", "dataset 3"]
    single = lightcurve_figure(make_lightcurve(n=100))
    assert single.axes[0].get_legend() is None


def _visits(offsets_days: list[float], n: int = 100, step: float = 2.0) -> LightCurve:
    parts = [make_lightcurve(n=n, step=step, gap=0.0, seed=i) for i in range(len(offsets_days))]
    columns = {k: np.concatenate([p.columns()[k] for p in parts]) for k in parts[0].columns()}
    columns["mjd"] = np.concatenate([p.mjd + off for p, off in zip(parts, offsets_days, strict=True)])
    columns["dataset"] = np.repeat(np.arange(1, len(parts) + 1, dtype=np.int32), n)
    return LightCurve(**columns, meta={"STEPSIZE": step})


def test_visits_days_apart_get_their_own_panels() -> None:
    lc = _visits([0.0, 2.5, 30.0])
    fig = lightcurve_figure(lc, title="three visits")
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["MJD 57000.0000", "MJD 57002.5000", "MJD 57030.0000"]
    # each visit's panel spans its own 200 s, not 30 days
    for ax in fig.axes:
        low, high = ax.get_xlim()
        assert high - low < 300
    colours = [ax.containers[0].lines[0].get_color() for ax in fig.axes]
    assert colours == list(DATASET_COLOURS[:3])  # one colour per dataset across panels
    assert fig.axes[0].get_legend() is not None
    _png_image(figure_png(fig))


def test_many_visits_share_one_axis_with_the_gaps_cut() -> None:
    lc = _visits([float(d) for d in range(MAX_VISIT_PANELS + 2)], n=20)
    fig = lightcurve_figure(lc)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    dotted = [line for line in ax.lines if line.get_linestyle() == ":"]
    assert len(dotted) == MAX_VISIT_PANELS + 1
    assert "gaps longer than 6 h cut out" in ax.get_xlabel()
    low, high = ax.get_xlim()
    assert high - low < 20 * 2.0 * (MAX_VISIT_PANELS + 2) * 1.5  # observing time, not 7 days
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
    _png_image(figure_png(lightcurve_figure(empty, title="empty")))


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
    assert len(fig.axes) == 3
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
    # the long band cannot be constrained by 40 minutes of data: its panel says why
    long_band = stats.band("long")
    assert band_skip_reason(long_band)
    texts = [t.get_text() for t in fig.axes[2].texts]
    assert any("skipped" in t and str(long_band.skipped) in t for t in texts)
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
    _png_image(figure_png(periodogram_figure([])))


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
