"""The report's static figures: a lightcurve, and a periodogram (the three reporting bands of one period
search), as matplotlib ``Figure`` objects.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas: no pyplot, no global state, no
``show()``; they are safe to make in worker processes and are freed when they go out of scope. The caller
saves them (:func:`figure_png`).

Every piece of header-derived text is drawn with ``parse_math=False``, so a target name containing ``$``
is shown as typed rather than parsed as mathtext.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hstlc.display import finite_float, format_fap, format_period
from hstlc.domain import SECONDS_PER_DAY, LightCurve
from hstlc.science.periodogram import DEFAULT_FAP_THRESHOLD

FIGURE_VERSION = 3
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


class BandLike(Protocol):
    """What a periodogram panel needs from one band (:class:`~hstlc.science.periodogram.BandResult`)."""

    name: str
    periods: Any
    power: Any
    threshold: float | None
    levels: Sequence[tuple[float, float, float]]
    mean: float | None
    std: float | None
    peaks: Sequence[Any]
    best: Any
    residual: bool
    skipped: str | None


def _new_figure(width: float, height: float) -> Figure:
    # fixed margins, not the constrained layout engine: it draws every figure twice (half the cost)
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def lightcurve_step(lc: LightCurve) -> float:
    """The bin width of ``lc`` in seconds: TIMEDEL/STEPSIZE from its headers, else the smallest spacing."""
    for key in ("TIMEDEL", "STEPSIZE", "timedel", "stepsize"):
        value = lc.meta.get(key)
        try:
            step = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if np.isfinite(step) and step > 0:
            return step
    if len(lc) > 1:
        diffs = np.diff(np.sort(np.asarray(lc.mjd, dtype=np.float64))) * SECONDS_PER_DAY
        diffs = diffs[diffs > 0]
        if diffs.size:
            return float(diffs.min())
    return float(np.max(lc.bins)) if len(lc) else 1.0


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


def split_visits(seconds: npt.NDArray[np.float64], *, min_gap: float) -> list[slice]:
    """Slices of sorted ``seconds`` separated by gaps longer than ``min_gap`` (one per visit)."""
    cuts = np.flatnonzero(np.diff(seconds) > min_gap) + 1
    edges = [0, *cuts.tolist(), len(seconds)]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


def _draw_series(ax: Any, x: npt.NDArray[np.float64], net: npt.NDArray[np.float64],
                 rate_error: npt.NDArray[np.float64], dataset: npt.NDArray[Any], colours: dict[int, str],
                 *, max_gap: float, labels: bool) -> None:
    dense = len(x) > ERRORBAR_LIMIT
    for ds, colour in colours.items():
        sel = dataset == ds
        if not sel.any():
            continue
        bx, by, be = break_at_gaps(x[sel], net[sel], rate_error[sel], max_gap=max_gap)
        if dense:  # a ±1σ band instead of 10⁴–10⁵ error bars: same information, a fraction of the time
            ax.fill_between(bx, by - be, by + be, color=colour, alpha=0.25, linewidth=0)
            ax.plot(bx, by, "-", color=colour, linewidth=0.6, label=f"dataset {ds}" if labels else None)
            continue
        ax.plot(bx, by, "-", color=colour, linewidth=0.6, alpha=0.6)
        ax.errorbar(
            x[sel], net[sel], yerr=rate_error[sel], fmt="o", markersize=2.5, color=colour, ecolor=colour,
            elinewidth=0.6, capsize=0, alpha=0.9, label=f"dataset {ds}" if labels else None,
        )
    ax.grid(True, alpha=0.3)
    ax.ticklabel_format(axis="x", useOffset=False)


def lightcurve_figure(lc: LightCurve, *, title: str = "", width: float = 10.0, height: float = 4.0) -> Figure:
    """Net count rate against time, with 1σ error bars (``ERROR/BINS``), one colour per DATASET.

    Bins in one GTI run are joined by a thin line; runs separated by more than ``GAP_FACTOR`` steps are
    not, so gaps are visible. Above :data:`ERRORBAR_LIMIT` bins the errors become a shaded ±1σ band.
    Time is the bin centre in s, min, h or d, whichever keeps the numbers readable. Observations further
    apart than :data:`VISIT_GAP` (composites of visits days or years apart) would be squeezed into
    vertical lines on one axis, so each visit gets its own panel (a broken time axis, widths proportional
    to duration) — up to :data:`MAX_VISIT_PANELS`; beyond that the long gaps are cut out of one axis and
    marked with dotted lines.
    """
    fig = _new_figure(width, height)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.9 if title else 0.96)
    if title:
        fig.suptitle(title, parse_math=False, fontsize=10)
    if len(lc) == 0:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no bins with exposure", transform=ax.transAxes, ha="center", va="center")
        ax.set_xlabel("time")
        return fig

    step = lightcurve_step(lc)
    mjd = np.asarray(lc.mjd, dtype=np.float64)
    order = np.argsort(mjd, kind="stable")
    mjd0 = float(mjd[order[0]])
    seconds = (mjd[order] - mjd0) * SECONDS_PER_DAY + 0.5 * step
    net = np.asarray(lc.net, dtype=np.float64)[order]
    bins = np.asarray(lc.bins, dtype=np.float64)[order]
    error = np.asarray(lc.error, dtype=np.float64)[order]
    rate_error = np.divide(error, bins, out=np.full_like(error, np.nan), where=bins > 0)
    dataset = np.asarray(lc.dataset)[order].astype(np.int64)
    unique = [int(d) for d in np.unique(dataset)]
    colours = {d: DATASET_COLOURS[i % len(DATASET_COLOURS)] for i, d in enumerate(unique)}
    labels = len(unique) > 1
    max_gap = GAP_FACTOR * step
    visits = split_visits(seconds, min_gap=max(VISIT_GAP, max_gap))

    if len(visits) == 1:
        ax = fig.add_subplot(1, 1, 1)
        scale, unit = _time_axis(seconds)
        _draw_series(ax, seconds / scale, net, rate_error, dataset, colours, max_gap=max_gap / scale,
                     labels=labels)
        ax.set_xlabel(f"time since MJD {mjd0:.5f} ({unit})")
        axes = [ax]
    elif len(visits) <= MAX_VISIT_PANELS:
        durations = [float(seconds[v][-1] - seconds[v][0]) + step for v in visits]
        ratios = [max(d, 0.15 * max(durations)) for d in durations]
        scale, unit = _time_axis(np.array([0.0, max(durations)]))
        axes = list(fig.subplots(1, len(visits), sharey=True, gridspec_kw={"width_ratios": ratios,
                                                                             "wspace": 0.06}))
        for ax, visit in zip(axes, visits, strict=True):
            start = float(seconds[visit][0]) - 0.5 * step
            x = (seconds[visit] - start) / scale
            _draw_series(ax, x, net[visit], rate_error[visit], dataset[visit], colours,
                         max_gap=max_gap / scale, labels=labels)
            ax.set_title(f"MJD {mjd0 + start / SECONDS_PER_DAY:.4f}", fontsize=8)
            ax.tick_params(axis="x", labelsize=8)
        for ax in axes[1:]:
            ax.tick_params(axis="y", left=False)
        fig.supxlabel(f"time since each visit's start ({unit})", fontsize=10)
        fig.subplots_adjust(top=0.86 if title else 0.92)
    else:
        # too many visits for panels: cut the long gaps out of one axis
        shift = np.zeros(len(seconds))
        boundaries = []
        removed = 0.0
        for previous, visit in itertools.pairwise(visits):
            gap = float(seconds[visit.start] - seconds[previous.stop - 1]) - 2 * step
            removed += gap
            shift[visit.start:visit.stop] = removed
            boundaries.append(float(seconds[visit.start] - removed) - step)
        x = seconds - shift
        scale, unit = _time_axis(x)
        ax = fig.add_subplot(1, 1, 1)
        _draw_series(ax, x / scale, net, rate_error, dataset, colours, max_gap=max_gap / scale, labels=labels)
        for b in boundaries:
            ax.axvline(b / scale, color="#7f7f7f", linestyle=":", linewidth=0.8)
        ax.set_xlabel(f"observing time since MJD {mjd0:.5f}, {len(visits) - 1} gaps longer than "
                      f"{VISIT_GAP / 3600:g} h cut out (dotted) ({unit})")
        axes = [ax]
    axes[0].set_ylabel("net rate (counts/s)")
    if labels:  # one entry per dataset, whichever panels it appears in
        handles: dict[str, Any] = {}
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, handle)
        axes[0].legend(list(handles.values()), list(handles), loc="best", fontsize=8,
                       ncols=min(len(unique), 5))
    return fig


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


def _mark(ax: Any, peaks: Sequence[Any], marker: str, label: str, **style: Any) -> None:
    """Mark the strongest :data:`MAX_MARKED_PEAKS` of ``peaks`` (all of them counted in the label)."""
    if not peaks:
        return
    strongest = sorted(peaks, key=lambda p: -float(p.power))[:MAX_MARKED_PEAKS]
    text = f"{len(peaks)} {label}"
    if len(peaks) > MAX_MARKED_PEAKS:
        text += f", strongest {MAX_MARKED_PEAKS} marked"
    ax.plot([float(p.period) for p in strongest], [float(p.power) for p in strongest], marker,
            linestyle="none", label=text, clip_on=False, **style)


def _rule_lines(ax: Any, band: Any, *, fap_threshold: float, flag_rule: str,
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


def periodogram_figure(
    bands: Sequence[Any],
    *,
    title: str = "",
    fap_threshold: float | None = None,
    flag_rule: str = "fap",
    power_threshold: float | None = None,
    width: float = 10.0,
    height_per_band: float = 2.4,
) -> Figure:
    """One panel per reporting band of the one period search: Lomb–Scargle power against period (log axis).

    ``bands`` are :class:`~hstlc.science.periodogram.BandResult` objects (or anything with their
    attributes: ``name``, ``periods`` in s, ``power``, ``levels``, ``threshold``, ``mean``, ``std``,
    ``peaks`` (each a ``Peak``), ``best``, ``residual``, ``skipped``). Each panel shows the detection
    line of ``flag_rule`` — for ``"fap"`` the power whose false-alarm probability (whole search) is
    ``fap_threshold`` (``band.levels``: a step per trial range the band spans; else ``band.threshold``);
    for ``"original"`` the band's mean + 3σ and the flag ``power_threshold`` — the peaks that make a
    detection by that rule (triangles), peaks at the HST orbit (the window: the sampling, not the
    source) and at the long-period end (a trend) with their own markers, and the best period and its
    FAP (a dotted vertical line; "after removing the signal" when that band's best was taken from the
    search with a significant signal elsewhere subtracted — the curve drawn is the search before). A
    band the data cannot constrain says why.
    """
    threshold_fap = DEFAULT_FAP_THRESHOLD if fap_threshold is None else float(fap_threshold)
    if flag_rule not in ("fap", "original"):
        raise ValueError(f"flag_rule must be 'fap' or 'original', got {flag_rule!r}")
    n = max(len(bands), 1)
    height = height_per_band * n + (0.4 if title else 0.0) + 0.5
    fig = _new_figure(width, height)
    if title:
        fig.suptitle(title, fontsize=10, parse_math=False)
    top = 1.0 - (0.75 if title else 0.35) / height
    fig.subplots_adjust(left=0.07, right=0.68, bottom=0.55 / height, top=top, hspace=0.45)
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    if not bands:
        axes[0].text(0.5, 0.5, "no periodogram", transform=axes[0].transAxes, ha="center", va="center")
        return fig
    for ax, band in zip(axes, bands, strict=True):
        name = str(getattr(band, "name", "band"))
        reason = band_skip_reason(band)
        periods = np.asarray(getattr(band, "periods", ()), dtype=np.float64).ravel()
        power = np.asarray(getattr(band, "power", ()), dtype=np.float64).ravel()
        if reason or periods.size == 0 or power.size != periods.size:
            ax.text(
                0.5, 0.5, f"{name}: skipped — {reason or 'no periods'}", transform=ax.transAxes,
                ha="center", va="center", fontsize=9, parse_math=False,
            )
            ax.set_yticks([])
            ax.set_xticks([])
            continue
        order = np.argsort(periods)
        px, py = envelope(periods[order], power[order])
        # a band the grid barely reaches may hold a single frequency: a point, not a line
        ax.plot(px, py, "-" if periods.size > 1 else "o", color="#1f77b4", linewidth=0.8, label="power")
        line = _rule_lines(ax, band, fap_threshold=threshold_fap, flag_rule=flag_rule,
                           power_threshold=power_threshold)
        peaks = list(getattr(band, "peaks", ()) or ())
        window = [p for p in peaks if getattr(p, "window", False)]
        edge = [p for p in peaks if getattr(p, "edge", False) and not getattr(p, "window", False)]
        chosen, label = _significant(peaks, fap_threshold=threshold_fap, flag_rule=flag_rule,
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
        ax.set_xscale("log")
        low, high = float(periods.min()), float(periods.max())
        ax.set_xlim(*((low, high) if high > low else (low / 1.25, high * 1.25)))
        ax.set_ylim(bottom=0.0)
        ax.set_title(f"{name} periods", fontsize=9, loc="left")
        ax.set_ylabel("power")
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, borderaxespad=0.0)
    axes[-1].set_xlabel("period (s)")
    return fig


def figure_png(fig: Figure, *, dpi: int = 100) -> bytes:
    """The PNG bytes of ``fig`` (rendered with Agg, no metadata that changes between runs)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


__all__ = [
    "DATASET_COLOURS",
    "ERRORBAR_LIMIT",
    "FIGURE_VERSION",
    "MAX_VISIT_PANELS",
    "VISIT_GAP",
    "BandLike",
    "band_skip_reason",
    "break_at_gaps",
    "envelope",
    "figure_png",
    "lightcurve_figure",
    "lightcurve_step",
    "periodogram_figure",
    "split_visits",
]
