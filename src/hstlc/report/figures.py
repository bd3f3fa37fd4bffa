"""The report's static figures: a lightcurve (net rate, calibrated flux, the folded lightcurve) and a
periodogram (the reporting bands of one period search), as matplotlib ``Figure`` objects.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas: no pyplot, no global state, no
``show()``; they are safe to make in worker processes. :func:`lightcurve_figure` and
:func:`periodogram_figure` return a new figure each time. A :class:`FigureMaker` draws the same figures
into figures it keeps and reuses, one per layout (the report makes thousands: creating the axes and
their ticks is most of the cost of a small figure); a reused figure is reset to the state of a new one
first, so its PNG is the same byte for byte (tested). :func:`figure_png` renders a figure to a PNG with a
palette of 256 colours (a third of the size of an RGB PNG, and faster to compress).

Layouts are fixed, in inches (no layout engine: constrained layout draws every figure twice).

Every piece of header-derived text is drawn with ``parse_math=False``, so a target name containing ``$``
is shown as typed rather than parsed as mathtext; the figures' own text uses no mathtext either (it
costs a parse per label).
"""

from __future__ import annotations

import io
import itertools
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator, ScalarFormatter
from matplotlib.transforms import Bbox, offset_copy
from matplotlib.typing import RcKeyType
from PIL import Image

from hstlc.display import finite_float, format_fap, format_period
from hstlc.domain import SECONDS_PER_DAY, LightCurve
from hstlc.products import flux_is_calibrated
from hstlc.science.periodogram import DEFAULT_FAP_THRESHOLD
from hstlc.science.variability import infer_step

FIGURE_VERSION = 4
"""Bump when the figures' look changes: the report then regenerates every figure once."""

DATASET_COLOURS: tuple[str, ...] = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22",
)
"""Colour of DATASET 1, 2, … in a composite (cycled)."""

GAP_FACTOR = 1.5
"""Consecutive bins further apart than this many steps belong to different GTI runs (not connected)."""

VISIT_GAP = 6 * 3600.0
"""A gap longer than this (s) separates visits: each visit gets its own panel in a lightcurve figure."""

MAX_VISIT_PANELS = 6
"""More visits than this are drawn on one axis with the long gaps cut out."""

ERRORBAR_LIMIT = 5000
"""Above this many bins in one panel, errors are drawn as a shaded ±1σ band instead of error bars."""

MAX_MARKED_PEAKS = 25
"""The strongest peaks of a kind marked in a periodogram panel (all are counted in the legend)."""

ENVELOPE_POINTS = 1600
"""Points of a periodogram curve as drawn (:func:`envelope`): a minimum and a maximum for each of 800
chunks, more than the ~610 pixels of a panel — every peak keeps its height, the path draws faster."""

MAX_PHASE_BINS = 20
"""The folded lightcurve's mean is shown in at most this many phase bins per cycle."""

MJD_EPOCH = datetime(1858, 11, 17)
"""MJD 0 (UTC)."""

NICE_PERIODS: tuple[float, ...] = (
    1, 2, 5, 10, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 2700, 3600, 7200, 3 * 3600, 5 * 3600,
    10 * 3600, 20 * 3600, 86400, 2 * 86400, 5 * 86400, 10 * 86400,
)
"""Where a periodogram's period axis has its ticks (s), labelled in s, min, h or d."""

WIDTH = 10.0
"""Width of every figure (inches; 1000 pixels at :data:`DPI`)."""

DPI = 100

# lightcurve layout, inches
_LEFT, _RIGHT = 0.8, 0.2
_TITLE, _TOP_AXIS, _NET, _GAP, _FLUX, _BOTTOM = 0.35, 0.55, 2.3, 0.12, 1.6, 0.55
_FOLD_WIDTH, _FOLD_GAP = 2.45, 0.75
_PANEL_GAP = 0.08
# periodogram layout, inches
_BAND, _BAND_GAP, _LINE = 1.85, 0.55, 0.24


@dataclass(frozen=True)
class Fold:
    """The period a lightcurve figure is folded at (the best period, when it is significant)."""

    period: float
    fap: float | None = None

    @classmethod
    def of(cls, stats: Any) -> Fold | None:
        """The fold of a :class:`~hstlc.science.variability.LightCurveStats`: its best period when
        ``periodogram`` is set (a significant period), else ``None``."""
        period = finite_float(getattr(stats, "best_period", None))
        if not getattr(stats, "periodogram", False) or period is None or period <= 0:
            return None
        return cls(period, finite_float(getattr(stats, "fap", None)))


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def lightcurve_step(lc: LightCurve) -> float:
    """The bin width of ``lc`` in seconds, as the statistics take it
    (:func:`~hstlc.science.variability.infer_step`); 1 s for an empty product."""
    try:
        mjd, bins = np.asarray(lc.mjd, dtype=np.float64), np.asarray(lc.bins, dtype=np.float64)
        return infer_step(lc.meta, mjd, bins)
    except ValueError:
        return 1.0


def _time_axis(seconds: npt.NDArray[np.float64]) -> tuple[float, str]:
    """A divisor and axis label that keep the time axis readable for a span of ``seconds``."""
    span = float(seconds.max() - seconds.min()) if seconds.size else 0.0
    if span > 2 * SECONDS_PER_DAY:
        return SECONDS_PER_DAY, "d"
    if span > 3 * 3600.0:
        return 3600.0, "h"
    if span > 3000.0:
        return 60.0, "min"
    return 1.0, "s"


def break_at_gaps(
    x: npt.NDArray[np.float64], *ys: npt.NDArray[np.float64], max_gap: float
) -> tuple[npt.NDArray[np.float64], ...]:
    """Insert a NaN row wherever consecutive ``x`` differ by more than ``max_gap``.

    Matplotlib does not draw a line through NaN, so runs separated by a GTI gap stay unconnected.
    ``x`` must be sorted. Returns the new ``x`` followed by each of ``ys``.
    """
    x = np.asarray(x, dtype=np.float64)
    where = np.flatnonzero(np.diff(x) > max_gap) + 1
    out = [np.insert(x, where, np.nan)]
    out.extend(np.insert(np.asarray(y, dtype=np.float64), where, np.nan) for y in ys)
    return tuple(out)


def error_segments(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], error: npt.NDArray[np.float64]
                   ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Vertical error bars ``y ± error`` at ``x`` as one polyline broken by NaN (``x, x, NaN`` …).

    One path draws many times faster than a collection of thousands of two-point segments (what
    ``Axes.errorbar`` makes), and looks the same.
    """
    n = len(x)
    xs = np.empty((n, 3))
    ys = np.empty((n, 3))
    xs[:, 0] = xs[:, 1] = x
    ys[:, 0] = y - error
    ys[:, 1] = y + error
    xs[:, 2] = ys[:, 2] = np.nan
    return xs.ravel(), ys.ravel()


def split_visits(seconds: npt.NDArray[np.float64], *, min_gap: float) -> list[slice]:
    """Slices of sorted ``seconds`` separated by gaps longer than ``min_gap`` (one per visit)."""
    cuts = np.flatnonzero(np.diff(seconds) > min_gap) + 1
    edges = [0, *cuts.tolist(), len(seconds)]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


def utc_of_mjd(mjd: float) -> datetime:
    """The UTC date and time of an MJD (to the second)."""
    return (MJD_EPOCH + timedelta(days=mjd)).replace(microsecond=0)


def period_label(seconds: float) -> str:
    """A period tick label: ``5 s``, ``2 min``, ``1.5 h``, ``2 d``."""
    for unit, size in (("d", SECONDS_PER_DAY), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def period_ticks(low: float, high: float) -> list[float]:
    """Ticks of a period axis from ``low`` to ``high`` (s): the :data:`NICE_PERIODS` inside, or the two
    ends when fewer than two are."""
    inside = [p for p in NICE_PERIODS if low * (1 - 1e-6) <= p <= high * (1 + 1e-6)]
    return inside if len(inside) >= 2 else sorted({low, high})


# ------------------------------------------------------------------------------------ reusable layouts


def _fix_label(axis: Any, fig: Figure, x: float, y: float, *, dx: float = 0.0, dy: float = 0.0) -> None:
    """Put an axis label at a fixed place — ``(x, y)`` in axes coordinates moved by ``(dx, dy)`` inches —
    instead of where the tick labels' extents would put it (measuring them is a good part of a draw). A
    y label's text ends there (it extends to the left), an x label's starts there (downwards)."""
    axis.set_label_coords(x, y, transform=offset_copy(axis.axes.transAxes, fig, x=dx, y=dy, units="inches"))


def _reset_axes(ax: Axes) -> None:
    """Put ``ax`` back in the state of a new axes with the same layout: no artists, no legend, no labels,
    data limits forgotten, autoscaling on."""
    for artist in (*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images):
        artist.remove()
    ax.containers.clear()
    legend = ax.get_legend()
    if legend is not None:
        legend.remove()
    for loc in ("center", "left", "right"):
        ax.set_title("", loc=loc)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.dataLim.set(Bbox.null())
    ax.ignore_existing_data_limits = True
    ax.autoscale(True)


@dataclass
class _Layout:
    """A figure and the parts a drawing fills in; :meth:`reset` empties them for the next product."""

    fig: Figure
    axes: list[Axes] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)

    def reset(self) -> None:
        for ax in self.axes:
            _reset_axes(ax)
            for child in ax.child_axes:
                child.set_xlabel("")
        for text in self.texts:
            text.set_text("")
        if self.fig.get_suptitle():
            self.fig.suptitle("")


@dataclass
class _LightcurveLayout(_Layout):
    net: list[Axes] = field(default_factory=list)
    flux: list[Axes] = field(default_factory=list)
    top: list[Any] = field(default_factory=list)
    fold: Axes | None = None
    xlabel: Text | None = None


@dataclass
class _PeriodogramLayout(_Layout):
    lines: list[Text] = field(default_factory=list)


def _lightcurve_layout(columns: int, flux: bool, fold: bool, title: bool) -> _LightcurveLayout:
    height = (_TITLE if title else 0.1) + _TOP_AXIS + _NET + (_GAP + _FLUX if flux else 0.0) + _BOTTOM
    fig = _new_figure(WIDTH, height)
    layout = _LightcurveLayout(fig)
    for i in range(columns):
        rect = (0.0, 0.0, 0.1, 0.1)  # placed per product (:func:`_place_panels`)
        net = fig.add_axes(rect, sharey=layout.net[0] if i else None, gid="net")
        layout.net.append(net)
        top = net.secondary_xaxis("top", functions=(lambda x: x, lambda x: x))
        top.xaxis.set_major_formatter(ScalarFormatter(useOffset=False))
        top.tick_params(axis="x", labelsize=8)
        _fix_label(top.xaxis, fig, 0.5, 1.0, dy=0.3)
        layout.top.append(top)
        if flux:
            axis = fig.add_axes(rect, sharex=net, sharey=layout.flux[0] if i else None, gid="flux")
            layout.flux.append(axis)
            net.tick_params(axis="x", labelbottom=False)
        if i:
            for ax in (net, *layout.flux[i:]):
                ax.tick_params(axis="y", left=False, labelleft=False)
    for ax in (*layout.net, *layout.flux):
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5 if ax in layout.net else 4))
        _fix_label(ax.yaxis, fig, 0.0, 0.5, dx=-0.45)
        ax.ticklabel_format(axis="x", useOffset=False)
        ax.grid(True, alpha=0.3)
        if columns > 1:
            ax.tick_params(axis="x", labelsize=8)
    if fold:
        bottom = _BOTTOM / height
        top_edge = 1.0 - ((_TITLE if title else 0.1) + _TOP_AXIS) / height
        left = (WIDTH - _RIGHT - _FOLD_WIDTH) / WIDTH
        layout.fold = fig.add_axes((left, bottom, _FOLD_WIDTH / WIDTH, top_edge - bottom), gid="fold")
        layout.fold.grid(True, alpha=0.3)
        layout.fold.xaxis.set_major_locator(FixedLocator([0.0, 0.5, 1.0, 1.5, 2.0]))
        layout.fold.yaxis.set_major_locator(MaxNLocator(nbins=5))
        _fix_label(layout.fold.xaxis, fig, 0.5, 0.0, dy=-0.3)
        _fix_label(layout.fold.yaxis, fig, 0.0, 0.5, dx=-0.45)
    layout.xlabel = fig.text(0.5, 0.12 / height, "", ha="center", va="bottom", fontsize=10)
    layout.axes = [*layout.net, *layout.flux, *([layout.fold] if layout.fold else [])]
    layout.texts = [layout.xlabel]
    return layout


def _place_panels(layout: _LightcurveLayout, ratios: Sequence[float]) -> list[float]:
    """Position the time panels side by side with widths proportional to ``ratios``; returns each
    panel's width in inches."""
    fig = layout.fig
    height = fig.get_figheight()
    right = WIDTH - _RIGHT - (_FOLD_WIDTH + _FOLD_GAP if layout.fold is not None else 0.0)
    usable = right - _LEFT - _PANEL_GAP * (len(ratios) - 1)
    total = float(sum(ratios))
    widths = [usable * r / total for r in ratios]
    net_bottom = _BOTTOM + (_GAP + _FLUX if layout.flux else 0.0)
    x = _LEFT
    for i, width in enumerate(widths):
        layout.net[i].set_position((x / WIDTH, net_bottom / height, width / WIDTH, _NET / height))
        if layout.flux:
            layout.flux[i].set_position((x / WIDTH, _BOTTOM / height, width / WIDTH, _FLUX / height))
        x += width + _PANEL_GAP
    if layout.xlabel is not None:
        layout.xlabel.set_x((_LEFT + (right - _LEFT) / 2) / WIDTH)
    return widths


class FigureMaker:
    """Makes the report's figures, reusing one figure per layout (``reuse=True``).

    A figure returned by :meth:`lightcurve` or :meth:`periodogram` is only valid until the next call
    that needs the same layout: render it (:func:`figure_png`) first. ``keep`` bounds the figures kept
    (least recently used first out): each holds its canvas's pixel buffer, a few MB.
    """

    def __init__(self, *, reuse: bool = True, keep: int = 8) -> None:
        self.reuse = reuse
        self.keep = keep
        self._layouts: OrderedDict[tuple[Any, ...], _Layout] = OrderedDict()

    def _layout(self, key: tuple[Any, ...], build: Callable[[], _Layout]) -> Any:
        if not self.reuse:
            return build()
        layout = self._layouts.get(key)
        if layout is None:
            layout = build()
            self._layouts[key] = layout
            while len(self._layouts) > self.keep:
                self._layouts.popitem(last=False)
        else:
            self._layouts.move_to_end(key)
            layout.reset()
        return layout

    def lightcurve(self, lc: LightCurve, *, title: str = "", fold: Fold | None = None,
                   flux: bool | None = None) -> Figure:
        """See :func:`lightcurve_figure`."""
        data = _LightcurveData.of(lc, flux=flux)
        columns = len(data.visits) if 1 < len(data.visits) <= MAX_VISIT_PANELS else 1
        folded = fold is not None and data.n > 0
        key = ("lightcurve", columns, data.flux is not None, folded, bool(title))
        layout: _LightcurveLayout = self._layout(
            key, lambda: _lightcurve_layout(columns, data.flux is not None, folded, bool(title)))
        _draw_lightcurve(layout, data, title=title, fold=fold if folded else None)
        return layout.fig

    def periodogram(self, bands: Sequence[Any], *, title: str = "", fap_threshold: float | None = None,
                    flag_rule: str = "fap", power_threshold: float | None = None) -> Figure:
        """See :func:`periodogram_figure`."""
        if flag_rule not in ("fap", "original"):
            raise ValueError(f"flag_rule must be 'fap' or 'original', got {flag_rule!r}")
        drawn, notes = _split_bands(bands)
        key = ("periodogram", len(drawn), len(notes), bool(title))
        layout: _PeriodogramLayout = self._layout(
            key, lambda: _periodogram_layout(len(drawn), len(notes), bool(title)))
        threshold = DEFAULT_FAP_THRESHOLD if fap_threshold is None else float(fap_threshold)
        _draw_periodogram(layout, drawn, notes, title=title, fap_threshold=threshold, flag_rule=flag_rule,
                          power_threshold=power_threshold)
        return layout.fig


# ------------------------------------------------------------------------------------------- lightcurve


@dataclass(frozen=True)
class _LightcurveData:
    """A lightcurve's columns sorted by time, in the units the figure draws."""

    n: int
    step: float
    mjd0: float
    seconds: npt.NDArray[np.float64]
    """Bin centres, s since ``mjd0`` (the first bin's start)."""
    net: npt.NDArray[np.float64]
    rate_error: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]
    error: npt.NDArray[np.float64]
    bins: npt.NDArray[np.float64]
    dataset: npt.NDArray[np.int64]
    flux: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], int] | None
    """FLUX and FLUX_ERROR divided by 10**exponent, and the exponent; None when not calibrated."""
    visits: list[slice]

    @classmethod
    def of(cls, lc: LightCurve, *, flux: bool | None) -> _LightcurveData:
        n = len(lc)
        step = lightcurve_step(lc)
        mjd = np.asarray(lc.mjd, dtype=np.float64)
        # products are written in time order: sort only when they are not
        order = np.arange(n) if np.all(mjd[1:] >= mjd[:-1]) else np.argsort(mjd, kind="stable")
        mjd0 = float(mjd[order[0]]) if n else 0.0
        seconds = (mjd[order] - mjd0) * SECONDS_PER_DAY + 0.5 * step
        net = np.asarray(lc.net, dtype=np.float64)[order]
        bins = np.asarray(lc.bins, dtype=np.float64)[order]
        error = np.asarray(lc.error, dtype=np.float64)[order]
        rate_error = np.divide(error, bins, out=np.full_like(error, np.nan), where=bins > 0)
        dataset = np.asarray(lc.dataset)[order].astype(np.int64)
        scaled = None
        if n and (flux_is_calibrated(lc.meta) if flux is None else flux):
            values = np.asarray(lc.flux, dtype=np.float64)[order]
            errors = np.asarray(lc.flux_error, dtype=np.float64)[order]
            finite = np.abs(values[np.isfinite(values)])
            if finite.size and finite.max() > 0:
                exponent = math.floor(math.log10(float(finite.max())))
                scale = 10.0 ** exponent
                scaled = (values / scale, errors / scale, exponent)
        visits = split_visits(seconds, min_gap=max(VISIT_GAP, GAP_FACTOR * step)) if n else []
        return cls(n, step, mjd0, seconds, net, rate_error, net * bins, error, bins, dataset, scaled, visits)


def _superscript(exponent: int) -> str:
    return str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _draw_series(ax: Axes, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64],
                 error: npt.NDArray[np.float64], dataset: npt.NDArray[Any], colours: dict[int, str],
                 *, max_gap: float, labels: bool) -> None:
    """One series per dataset: the values joined within GTI runs, with 1σ error bars (a ±1σ band above
    :data:`ERRORBAR_LIMIT` bins)."""
    dense = len(x) > ERRORBAR_LIMIT
    for ds, colour in colours.items():
        sel = dataset == ds
        if not sel.any():
            continue
        label = f"dataset {ds}" if labels else None
        bx, by, be = break_at_gaps(x[sel], y[sel], error[sel], max_gap=max_gap)
        if dense:  # a ±1σ band instead of 10⁴–10⁵ error bars: same information, a fraction of the time
            ax.fill_between(bx, by - be, by + be, color=colour, alpha=0.25, linewidth=0)
            ax.plot(bx, by, "-", color=colour, linewidth=0.6, label=label)
            continue
        ax.plot(bx, by, "-", color=colour, linewidth=0.6, alpha=0.6)
        ex, ey = error_segments(x[sel], y[sel], error[sel])
        ax.plot(ex, ey, "-", color=colour, linewidth=0.6, alpha=0.9, gid="errors")
        ax.plot(x[sel], y[sel], "o", markersize=2.5, color=colour, alpha=0.9, label=label)


def _draw_lightcurve(layout: _LightcurveLayout, data: _LightcurveData, *, title: str,
                     fold: Fold | None) -> None:
    fig = layout.fig
    if title:
        fig.suptitle(title, parse_math=False, fontsize=10, y=1.0 - 0.08 / fig.get_figheight(), va="top")
    if data.n == 0:
        _place_panels(layout, [1.0])
        ax = layout.net[0]
        ax.text(0.5, 0.5, "no bins with exposure", transform=ax.transAxes, ha="center", va="center")
        layout.top[0].set_xlabel("MJD")
        assert layout.xlabel is not None
        layout.xlabel.set_text("time")
        return
    unique = [int(d) for d in np.unique(data.dataset)]
    colours = {d: DATASET_COLOURS[i % len(DATASET_COLOURS)] for i, d in enumerate(unique)}
    labels = len(unique) > 1
    step, seconds, visits = data.step, data.seconds, data.visits
    max_gap = GAP_FACTOR * step
    rows: list[tuple[list[Axes], npt.NDArray[np.float64], npt.NDArray[np.float64]]] = [
        (layout.net, data.net, data.rate_error)]
    if data.flux is not None:
        rows.append((layout.flux, data.flux[0], data.flux[1]))
    assert layout.xlabel is not None

    if len(visits) == 1 or len(visits) > MAX_VISIT_PANELS:
        _place_panels(layout, [1.0])
        if len(visits) == 1:
            x = seconds
            scale, unit = _time_axis(seconds)
            label = f"time since MJD {data.mjd0:.5f} ({unit})"
        else:  # too many visits for panels: cut the long gaps out of one axis
            shift = np.zeros(len(seconds))
            boundaries: list[float] = []
            removed = 0.0
            for previous, visit in itertools.pairwise(visits):
                removed += float(seconds[visit.start] - seconds[previous.stop - 1]) - 2 * step
                shift[visit.start:visit.stop] = removed
                boundaries.append(float(seconds[visit.start] - removed) - step)
            x = seconds - shift
            scale, unit = _time_axis(x)
            label = (f"observing time since MJD {data.mjd0:.5f}, {len(visits) - 1} gaps longer than "
                     f"{VISIT_GAP / 3600:g} h cut out (dotted) ({unit})")
        for axes, y, err in rows:
            _draw_series(axes[0], x / scale, y, err, data.dataset, colours, max_gap=max_gap / scale,
                         labels=labels and axes is layout.net)
        if len(visits) == 1:
            _absolute_axis(layout.top[0], data.mjd0, 0.0, scale, nbins=8)
            layout.top[0].set_xlabel(f"MJD (UTC; first bin {utc_of_mjd(data.mjd0):%Y-%m-%d %H:%M:%S})",
                                     fontsize=9)
        else:
            for axes, _, _ in rows:
                for b in boundaries:
                    axes[0].axvline(b / scale, color="#7f7f7f", linestyle=":", linewidth=0.8)
            starts = [float(x[v.start] - 0.5 * step) for v in visits]
            mjds = [data.mjd0 + float(seconds[v.start] - 0.5 * step) / SECONDS_PER_DAY for v in visits]
            keep = np.unique(np.linspace(0, len(visits) - 1, min(len(visits), 8)).round().astype(int))
            top = layout.top[0]
            top.set_functions((lambda v: v, lambda v: v))
            top.set_xticks([starts[i] / scale for i in keep], labels=[f"{mjds[i]:.2f}" for i in keep])
            top.set_xlabel("MJD at each visit's start", fontsize=9)
        layout.xlabel.set_text(label)
    else:
        durations = [float(seconds[v][-1] - seconds[v][0]) + step for v in visits]
        ratios = [max(d, 0.15 * max(durations)) for d in durations]
        widths = _place_panels(layout, ratios)
        scale, unit = _time_axis(np.array([0.0, max(durations)]))
        for i, visit in enumerate(visits):
            start = float(seconds[visit][0]) - 0.5 * step
            x = (seconds[visit] - start) / scale
            for axes, y, err in rows:
                _draw_series(axes[i], x, y[visit], err[visit], data.dataset[visit], colours,
                             max_gap=max_gap / scale, labels=labels and axes is layout.net)
            # the last tick of a panel would touch the first of the next: pruned, but in the last panel
            _absolute_axis(layout.top[i], data.mjd0, start, scale, nbins=max(1, int(widths[i] / 1.5)),
                           prune="upper" if i < len(visits) - 1 else None)
        layout.top[0].set_xlabel("MJD (UTC)", fontsize=9)
        layout.xlabel.set_text(f"time since each visit's start ({unit})")

    layout.net[0].set_ylabel("net rate (counts/s)")
    if data.flux is not None:
        layout.flux[0].set_ylabel(f"flux (10{_superscript(data.flux[2])}\nerg/s/cm²/Å)", fontsize=9)
    if labels:  # one entry per dataset, whichever panels it appears in
        handles: dict[str, Any] = {}
        for ax in layout.net:
            for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(text, handle)
        layout.net[0].legend(list(handles.values()), list(handles), loc="upper right", fontsize=8,
                             ncols=min(len(unique), 5))
    if fold is not None and layout.fold is not None:
        _draw_fold(layout.fold, data, fold)


def _absolute_axis(top: Any, mjd0: float, start: float, scale: float, *, nbins: int,
                   prune: str | None = None) -> None:
    """The secondary (top) axis of a time panel in MJD: panel ``x`` is ``(t - start) / scale`` s since
    ``mjd0``."""
    offset = mjd0 + start / SECONDS_PER_DAY
    factor = scale / SECONDS_PER_DAY
    top.set_functions((lambda x: offset + x * factor, lambda m: (m - offset) / factor))
    top.xaxis.set_major_locator(MaxNLocator(nbins=nbins, prune=prune))
    top.xaxis.set_major_formatter(ScalarFormatter(useOffset=False))


def fold_phases(seconds: npt.NDArray[np.float64], period: float) -> npt.NDArray[np.float64]:
    """Phase in [0, 1) of times ``seconds`` (since the epoch) at ``period``."""
    return np.mod(np.asarray(seconds, dtype=np.float64) / period, 1.0)


def phase_means(phase: npt.NDArray[np.float64], counts: npt.NDArray[np.float64],
                error: npt.NDArray[np.float64], bins: npt.NDArray[np.float64], n: int
                ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The rate in ``n`` equal phase bins: centres, Σ counts / Σ exposure, and its error √Σ ERROR² /
    Σ exposure (NaN where a phase bin has no exposure)."""
    index = np.minimum((phase * n).astype(np.int64), n - 1)
    exposure = np.bincount(index, weights=bins, minlength=n)
    total = np.bincount(index, weights=counts, minlength=n)
    variance = np.bincount(index, weights=error**2, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(exposure > 0, total / exposure, np.nan)
        err = np.where(exposure > 0, np.sqrt(variance) / exposure, np.nan)
    return (np.arange(n) + 0.5) / n, rate, err


def _draw_fold(ax: Axes, data: _LightcurveData, fold: Fold) -> None:
    """Net rate against phase at the fold's period, two cycles: every bin (grey) and the mean rate in
    phase bins with its error (black). Phase 0 is the first bin's start."""
    use = data.bins > 0
    phase = fold_phases(data.seconds[use], fold.period)
    net = data.net[use]
    ax.plot(np.concatenate([phase, phase + 1.0]), np.concatenate([net, net]), ".", markersize=1.5,
            color="#9aa4ae", alpha=0.6)
    n = int(min(MAX_PHASE_BINS, max(2, fold.period // data.step)))
    centres, rate, err = phase_means(phase, data.counts[use], data.error[use], data.bins[use], n)
    cx, cy, ce = (np.concatenate([v, v]) for v in (centres, rate, err))
    cx[n:] += 1.0
    ex, ey = error_segments(cx, cy, ce)
    ax.plot(ex, ey, "-", color="black", linewidth=0.8, gid="errors")
    ax.plot(cx, cy, "o", color="black", markersize=3.5, gid="phase means")
    ax.set_xlim(0.0, 2.0)
    ax.set_title(f"folded at P = {format_period(fold.period)} (FAP {format_fap(fold.fap)})", fontsize=9,
                 y=1.0)
    ax.set_xlabel(f"phase (two cycles; 0 at MJD {data.mjd0:.5f})", fontsize=9)
    ax.set_ylabel("net rate (counts/s)", fontsize=9)


def lightcurve_figure(lc: LightCurve, *, title: str = "", fold: Fold | None = None,
                      flux: bool | None = None) -> Figure:
    """Net count rate against time with 1σ error bars (``ERROR/BINS``), one colour per DATASET; the
    calibrated flux below it; the lightcurve folded at ``fold`` beside them.

    * **Time**: the bin centre in s, min, h or d since the first bin (bottom axis), and in MJD (top axis).
      Bins in one GTI run are joined by a thin line; runs separated by more than ``GAP_FACTOR`` steps are
      not, so gaps are visible. Above :data:`ERRORBAR_LIMIT` bins the errors become a shaded ±1σ band.
      Observations further apart than :data:`VISIT_GAP` (composites of visits days or years apart) get a
      panel each (a broken time axis, widths proportional to duration; the top axis gives each panel's
      MJD) — up to :data:`MAX_VISIT_PANELS`; beyond that the long gaps are cut out of one axis, marked
      with dotted lines, and the top axis gives each visit's starting MJD.
    * **Flux**: FLUX with FLUX_ERROR, in a panel of its own under the rate, when ``flux`` (default: when
      the product's FLUXCAL says calibrated, :func:`hstlc.products.flux_is_calibrated`) and FLUX is not
      all zero.
    * **Folded** (``fold`` given; the report passes :meth:`Fold.of` the stats, i.e. the best period when
      ``periodogram`` is set): every bin's rate against phase, two cycles, and the mean rate in up to
      :data:`MAX_PHASE_BINS` phase bins.
    """
    return FigureMaker(reuse=False).lightcurve(lc, title=title, fold=fold, flux=flux)


# ------------------------------------------------------------------------------------------ periodogram


def envelope(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], *, points: int = 4000
             ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """At most ~``points`` points that draw like ``(x, y)``: per chunk its minimum and maximum, in order.

    A periodogram of a long baseline has 10⁵–10⁶ frequencies for a panel a few hundred pixels wide;
    keeping each chunk's extremes preserves every peak's height while drawing a hundred times faster.
    """
    n = len(x)
    if n <= points:
        return x, y
    size = int(np.ceil(n / (points // 2)))
    chunks = int(np.ceil(n / size))
    pad = chunks * size - n
    yp = np.concatenate([y, np.full(pad, y[-1])]).reshape(chunks, size)
    xp = np.concatenate([x, np.full(pad, x[-1])]).reshape(chunks, size)
    rows = np.arange(chunks)
    lo, hi = np.argmin(yp, axis=1), np.argmax(yp, axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    ex = np.column_stack([xp[rows, first], xp[rows, second]]).ravel()
    ey = np.column_stack([yp[rows, first], yp[rows, second]]).ravel()
    return ex, ey


def band_skip_reason(band: Any) -> str | None:
    """Why a band was not computed (``None`` when it was)."""
    value = getattr(band, "skipped", None)
    return str(value) if value else None


def _split_bands(bands: Sequence[Any]) -> tuple[list[tuple[Any, npt.NDArray[np.float64],
                                                            npt.NDArray[np.float64]]], list[str]]:
    """The bands that get a panel (with their periods and power) and a line of text for each other."""
    drawn = []
    notes = []
    for band in bands:
        name = str(getattr(band, "name", "band"))
        reason = band_skip_reason(band)
        periods = np.asarray(getattr(band, "periods", ()), dtype=np.float64).ravel()
        power = np.asarray(getattr(band, "power", ()), dtype=np.float64).ravel()
        if reason or periods.size == 0 or power.size != periods.size:
            notes.append(f"{name} periods: not searched — {reason or 'no periods'}")
        else:
            drawn.append((band, periods, power))
    if not bands:
        notes.append("no periodogram")
    return drawn, notes


def _periodogram_layout(panels: int, lines: int, title: bool) -> _PeriodogramLayout:
    top = 0.4 if title else 0.15
    bottom = (0.55 if panels else 0.1) + lines * _LINE
    height = top + panels * _BAND + max(panels - 1, 0) * _BAND_GAP + bottom + (0.25 if panels else 0.0)
    fig = _new_figure(WIDTH, height)
    layout = _PeriodogramLayout(fig)
    y = height - top - 0.25
    for _ in range(panels):
        y -= _BAND
        ax = fig.add_axes((0.07, y / height, 0.61, _BAND / height), gid="band")
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, pos: period_label(value)))
        ax.grid(True, alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        _fix_label(ax.xaxis, fig, 0.5, 0.0, dy=-0.3)
        _fix_label(ax.yaxis, fig, 0.0, 0.5, dx=-0.5)
        layout.axes.append(ax)
        y -= _BAND_GAP
    for i in range(lines):
        layout.lines.append(fig.text(0.07, (0.12 + (lines - 1 - i) * _LINE) / height, "", fontsize=9,
                                     va="bottom", parse_math=False))
    layout.texts = list(layout.lines)
    return layout


def _mark(ax: Axes, peaks: Sequence[Any], marker: str, label: str, **style: Any) -> None:
    """Mark the strongest :data:`MAX_MARKED_PEAKS` of ``peaks`` (all of them counted in the label)."""
    if not peaks:
        return
    strongest = sorted(peaks, key=lambda p: -float(p.power))[:MAX_MARKED_PEAKS]
    text = f"{len(peaks)} {label}"
    if len(peaks) > MAX_MARKED_PEAKS:
        text += f", strongest {MAX_MARKED_PEAKS} marked"
    ax.plot([float(p.period) for p in strongest], [float(p.power) for p in strongest], marker,
            linestyle="none", label=text, clip_on=False, **style)


def _rule_lines(ax: Axes, band: Any, *, fap_threshold: float, flag_rule: str,
                power_threshold: float | None) -> float | None:
    """Draw the detection line(s) of ``flag_rule``; returns the original's mean + 3σ (``None`` otherwise)."""
    if flag_rule != "original":
        label = f"FAP = {fap_threshold:g} (whole search)"
        levels = [(float(a), float(b), float(z)) for a, b, z in getattr(band, "levels", ()) or ()]
        if levels:  # the power at the threshold differs between the trial ranges a band spans: a step
            xs = [x for a, b, _ in levels for x in (a, b)]
            ys = [y for _, _, z in levels for y in (z, z)]
            ax.plot(xs, ys, "-", color="#2ca02c", linewidth=1.0, label=label)
        else:
            threshold = finite_float(getattr(band, "threshold", None))
            if threshold is not None:
                ax.axhline(threshold, color="#2ca02c", linewidth=1.0, label=label)
        return None
    mean, std = finite_float(getattr(band, "mean", None)), finite_float(getattr(band, "std", None))
    line = None
    if mean is not None:
        ax.axhline(mean, color="#d62728", linewidth=0.8, alpha=0.7, label="mean")
        if std is not None:
            line = mean + 3.0 * std
            ax.axhline(line, color="#2ca02c", linewidth=1.0, label=f"mean + 3σ = {line:.3f}")
    if power_threshold is not None:
        ax.axhline(power_threshold, color="#7f7f7f", linestyle=":", linewidth=0.8,
                   label=f"flag power {power_threshold:.2f}")
    return line


def _significant(peaks: Sequence[Any], *, fap_threshold: float, flag_rule: str,
                 power_threshold: float | None, line: float | None) -> tuple[list[Any], str]:
    """The peaks that make the rule's detection in this band, and what to call them."""
    if flag_rule == "original":  # the original's rule: above mean + 3σ with power ≥ the flag power
        if line is None:
            return [], ""
        least = power_threshold if power_threshold is not None else -np.inf
        chosen = [p for p in peaks if float(p.power) > line and float(p.power) >= least]
        return chosen, "peak(s) above mean + 3σ" + (f" and power ≥ {power_threshold:.2f}"
                                                       if power_threshold is not None else "")
    chosen = [p for p in peaks if getattr(p, "counted", True) and float(p.fap) < fap_threshold]
    return chosen, f"significant peak(s) (FAP < {fap_threshold:g})"


def _best_label(band: Any) -> str:
    best = getattr(band, "best", None)
    if best is None:
        text = "no peak that can be the source"
    else:
        fap = format_fap(finite_float(best.fap))
        relation = "" if fap.startswith("<") else "= "  # "FAP <1e-16", "FAP = 0.012"
        text = f"best P = {format_period(finite_float(best.period))}, FAP {relation}{fap}"
    if getattr(band, "residual", False):
        text += "\n(after removing the signal)"
    return text


def _draw_periodogram(layout: _PeriodogramLayout, drawn: Sequence[tuple[Any, npt.NDArray[np.float64],
                                                                         npt.NDArray[np.float64]]],
                      notes: Sequence[str], *, title: str, fap_threshold: float, flag_rule: str,
                      power_threshold: float | None) -> None:
    fig = layout.fig
    if title:
        fig.suptitle(title, fontsize=10, parse_math=False, y=1.0 - 0.1 / fig.get_figheight(), va="top")
    for text, note in zip(layout.lines, notes, strict=True):
        text.set_text(note)
    for ax, (band, periods, power) in zip(layout.axes, drawn, strict=True):
        name = str(getattr(band, "name", "band"))
        if np.all(periods[1:] >= periods[:-1]):  # a band's grid is ascending: no sort of 10⁵–10⁶ periods
            px, py = envelope(periods, power, points=ENVELOPE_POINTS)
        else:
            order = np.argsort(periods)
            px, py = envelope(periods[order], power[order], points=ENVELOPE_POINTS)
        # a band the grid barely reaches may hold a single frequency: a point, not a line
        # the curve is the panel's y axis ("power"): no legend entry of its own
        ax.plot(px, py, "-" if periods.size > 1 else "o", color="#1f77b4", linewidth=0.8)
        line = _rule_lines(ax, band, fap_threshold=fap_threshold, flag_rule=flag_rule,
                           power_threshold=power_threshold)
        peaks = list(getattr(band, "peaks", ()) or ())
        window = [p for p in peaks if getattr(p, "window", False)]
        edge = [p for p in peaks if getattr(p, "edge", False) and not getattr(p, "window", False)]
        chosen, label = _significant(peaks, fap_threshold=fap_threshold, flag_rule=flag_rule,
                                     power_threshold=power_threshold, line=line)
        if flag_rule == "fap" and getattr(band, "residual", False):
            # this band's verdict is the residual search's; its peaks above the line are the signal's
            _mark(ax, chosen, "v", "peak(s) above the line before the signal was removed",
                  color="#7f7f7f", markerfacecolor="none", markersize=6)
        else:
            _mark(ax, chosen, "v", label, color="black", markersize=6)
        _mark(ax, window, "X", "HST orbit (window)", color="#ff7f0e", markersize=7)
        _mark(ax, edge, "s", "trend (edge)", color="#9467bd", markersize=5)
        best = getattr(band, "best", None)
        best_period = finite_float(best.period) if best is not None else None
        if best_period is not None:
            ax.axvline(best_period, color="#d62728", linestyle=":", linewidth=1.0, label=_best_label(band))
        else:
            ax.plot([], [], " ", label=_best_label(band))
        low, high = float(periods.min()), float(periods.max())
        low, high = (low, high) if high > low else (low / 1.25, high * 1.25)
        ax.set_xlim(low, high)
        ax.xaxis.set_major_locator(FixedLocator(period_ticks(low, high)))
        ax.set_ylim(bottom=0.0)
        ax.set_title(f"{name} periods", fontsize=9, loc="left", y=1.0)
        ax.set_ylabel("power")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, borderaxespad=0.0)
    if layout.axes:
        layout.axes[-1].set_xlabel("period")


def periodogram_figure(
    bands: Sequence[Any],
    *,
    title: str = "",
    fap_threshold: float | None = None,
    flag_rule: str = "fap",
    power_threshold: float | None = None,
) -> Figure:
    """One panel per searched reporting band of the one period search: Lomb–Scargle power against period
    (log axis, ticks in s, min, h); a line of text, not an empty panel, for a band that was not searched.

    ``bands`` are :class:`~hstlc.science.periodogram.BandResult` objects (or anything with their
    attributes: ``name``, ``periods`` in s, ``power``, ``levels``, ``threshold``, ``mean``, ``std``,
    ``peaks`` (each a ``Peak``), ``best``, ``residual``, ``skipped``). Each panel shows the detection
    line of ``flag_rule`` — for ``"fap"`` the power whose false-alarm probability (whole search) is
    ``fap_threshold`` (``band.levels``: a step per trial range the band spans; else ``band.threshold``);
    for ``"original"`` the band's mean + 3σ and the flag ``power_threshold`` — the peaks that make a
    detection by that rule (triangles), peaks at the HST orbit (the window: the sampling, not the
    source) and at the long-period end (a trend) with their own markers, and the best period and its
    FAP (a dotted vertical line; "after removing the signal" when that band's best was taken from the
    search with a significant signal elsewhere subtracted — the curve drawn is the search before).
    """
    return FigureMaker(reuse=False).periodogram(bands, title=title, fap_threshold=fap_threshold,
                                                flag_rule=flag_rule, power_threshold=power_threshold)


# ------------------------------------------------------------------------------------------------- PNG

PNG_COMPRESS_LEVEL = 6
"""zlib level of the figures' PNGs (of palette images: a few ms)."""

RENDER_RC: dict[RcKeyType, Any] = {"text.hinting": "no_hinting"}
"""Matplotlib settings while a figure is rendered (:func:`figure_png`, restored after): text without
FreeType's hinting draws about a fifth faster (text is half of a figure's drawing) and looks the same at
this size."""


def figure_png(fig: Figure) -> bytes:
    """The PNG bytes of ``fig``, rendered with Agg and stored with a palette of at most 256 colours (no
    metadata that changes between runs).

    A figure has a few hundred distinct colours, nearly all of them antialiasing shades; the palette
    keeps its look at a third of the size of an RGB PNG, and compresses in a quarter of the time. Drawn
    with :data:`RENDER_RC`.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    with rc_context(RENDER_RC):
        canvas.draw()
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    palette.save(buffer, format="png", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


__all__ = [
    "DATASET_COLOURS",
    "ENVELOPE_POINTS",
    "ERRORBAR_LIMIT",
    "FIGURE_VERSION",
    "MAX_PHASE_BINS",
    "MAX_VISIT_PANELS",
    "VISIT_GAP",
    "FigureMaker",
    "Fold",
    "band_skip_reason",
    "break_at_gaps",
    "envelope",
    "error_segments",
    "figure_png",
    "fold_phases",
    "lightcurve_figure",
    "lightcurve_step",
    "period_label",
    "period_ticks",
    "periodogram_figure",
    "phase_means",
    "split_visits",
    "utc_of_mjd",
]
