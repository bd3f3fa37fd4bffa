"""Event lists → binned, background-subtracted, flux-calibrated lightcurve columns.

One pass over the events in chunks (bounded memory): for each extraction *channel* (a COS FUV segment,
a COS NUV stripe, a STIS spectral order) the source-band events that pass the DQ, GTI, x and wavelength
cuts are histogrammed in time with weights ε (counts), ε² (count variance), ε/(TDS·SENS) (flux) and its
square; background-band events are kept compactly (column, bin, ε) until the extracted columns are
known, then weighted with the column's wavelength and scaled by h_src / (h_bkg1 + h_bkg2).

Every sum is float64. The result is a frozen :class:`ChannelSums`/:class:`CurveColumns`; nothing here
reads files or logs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import numpy.typing as npt

from hstlc.science.background import background_scale
from hstlc.science.binning import bin_index
from hstlc.science.calibration import FluxCalibration
from hstlc.science.gti import in_gti, normalize_gti
from hstlc.science.selection import (
    SERIOUS_DQ_BITS,
    Band,
    column_index,
    extracted_columns,
    interpolated_column_means,
    wavelength_good,
)

F64 = npt.NDArray[np.float64]

#: Events per chunk: ~1 MB temporaries stay in cache and are reused (fresh allocations page-fault).
CHUNK_EVENTS = 1 << 17


@dataclass(frozen=True, eq=False)
class Channel:
    """One extraction: a source band, its background bands and its flux calibration.

    ``column_wavelength`` (Å per column, NaN = none) is the known wavelength of each spectral column
    (STIS: the x1d row); when ``None`` it is the mean wavelength of the channel's selected source events
    in each column, interpolated across columns that have none.

    Parameters
    ----------
    name : str
        Name of the channel (``FUVA``, ``NUVB``, a STIS order …).
    source : Band
        The source extraction band (pixels).
    backgrounds : tuple of Band, optional
        The background bands (default none: no background subtracted).
    calibration : FluxCalibration, optional
        Sensitivity and TDS of the channel (default uncalibrated: flux weights are ε).
    column_wavelength : ndarray of float64, shape (ncols,), optional
        Known wavelength of each spectral column (Å, NaN = none).

    Examples
    --------
    >>> channel = Channel("FUVA", Band(500.0, 10.0), backgrounds=(Band(450.0, 20.0), Band(550.0, 20.0)))
    >>> channel.background_scale
    0.25
    >>> channel.calibration.calibrated
    False
    """

    name: str
    source: Band
    backgrounds: tuple[Band, ...] = ()
    calibration: FluxCalibration = field(default_factory=FluxCalibration)
    column_wavelength: F64 | None = None

    @property
    def background_scale(self) -> float:
        """h_src / Σ h_bkg (0 without background bands; see :func:`background_scale`)."""
        if not self.backgrounds:
            return 0.0
        return background_scale(self.source.height, [b.height for b in self.backgrounds])


@dataclass(frozen=True, eq=False)
class SegmentSpec:
    """How to select events of one event list (cuts shared by its channels).

    Parameters
    ----------
    channels : tuple of Channel
        The extractions of this event list (at least one); an event in several source bands belongs to
        the first.
    sdqflags : int
        DQ bits that reject an event (the file's SDQFLAGS).
    ncols : int
        Spectral columns of the detector (positive).
    xmin, xmax : float, optional
        Events are kept when ``xmin <= x < xmax`` (pixels; default unbounded).
    wmin, wmax : float, optional
        Exclusive wavelength limits of the source events (Å; default 0 and unbounded).
    exclude : tuple of (float, float), optional
        Wavelength windows left out (Å, inclusive), e.g. airglow.
    serious_dq : int, optional
        DQ bits that always reject an event (default :data:`~hstlc.science.selection.SERIOUS_DQ_BITS`).
    column_offset, column_scale : float, optional
        Column of an event: ``floor((x − column_offset) / column_scale)`` (pixels; default 0 and 1).
    wavelength_cut : bool, optional
        Whether wavelengths are cut (default True; False for IMAGING).

    Raises
    ------
    ValueError
        If there is no channel, ``ncols`` is not positive, or ``wmin >= wmax`` (with the wavelength
        cut) or ``xmin >= xmax``.

    Examples
    --------
    >>> spec = SegmentSpec((Channel("FUVA", Band(500.0, 10.0)),), sdqflags=184, ncols=16384,
    ...                    wmin=1100.0, wmax=1800.0)
    >>> spec.wavelength_cut, spec.sdqflags | spec.serious_dq
    (True, 2808)
    >>> SegmentSpec((), sdqflags=0, ncols=1)
    Traceback (most recent call last):
    ...
    ValueError: a segment needs at least one extraction channel
    """

    channels: tuple[Channel, ...]
    sdqflags: int
    ncols: int
    xmin: float = -np.inf
    xmax: float = np.inf
    wmin: float = 0.0
    wmax: float = np.inf
    exclude: tuple[tuple[float, float], ...] = ()
    serious_dq: int = SERIOUS_DQ_BITS
    column_offset: float = 0.0
    column_scale: float = 1.0
    wavelength_cut: bool = True
    """False for IMAGING: no wavelength, airglow or column-wavelength cuts; one 'column'."""

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError("a segment needs at least one extraction channel")
        if self.ncols < 1:
            raise ValueError("ncols must be positive")
        if self.wavelength_cut and not self.wmin < self.wmax:
            raise ValueError(f"wmin ({self.wmin}) must be below wmax ({self.wmax})")
        if not self.xmin < self.xmax:
            raise ValueError(f"xmin ({self.xmin}) must be below xmax ({self.xmax})")


@dataclass(frozen=True, eq=False)
class ChannelSums:
    """Per-bin float64 sums of one channel, and what was extracted.

    Every array has one entry per time bin, shape (n,).

    Parameters
    ----------
    name : str
        The channel's name.
    gross, gross_var : ndarray of float64
        Σε of the selected source events (counts) and Σε² (counts²).
    background, background_var : ndarray of float64
        Background-band Σε scaled to the source band's area (counts) and its variance (counts²).
    flux, flux_var : ndarray of float64
        Net Σ flux weights (erg cm⁻² Å⁻¹ pixel; not yet divided by exposure or columns) and its variance.
    n_columns : int
        Spectral columns extracted.
    n_source, n_background : int
        Source and background events used.
    n_uncalibrated : int
        Source events that could not be flux-calibrated (weight 0).
    wavelength_min, wavelength_max : float
        Wavelength range of the source events (Å; NaN without events).
    column_mask : ndarray of bool, shape (ncols,)
        The columns extracted.
    background_scale : float
        h_src / Σh_bkg (0 without background bands).
    source_weight_mean, flux_weight_mean : float
        Mean ε (counts; 1 without events) and mean flux weight (0 without events) of the source events.

    Examples
    --------
    >>> spec = SegmentSpec((Channel("A", Band(500.0, 10.0), (Band(520.0, 10.0),)),), sdqflags=0,
    ...                    ncols=32, wmin=1200.0, wmax=1400.0)
    >>> t = np.array([1.0, 2.0, 3.0, 12.0, 15.0, 25.0, 5.0, 22.0])
    >>> x = np.array([10.0, 11.0, 12.0, 10.0, 11.0, 12.0, 11.0, 11.0])
    >>> y, lam = np.array([500.0] * 6 + [520.0] * 2), np.array([1300.0] * 6 + [0.0] * 2)
    >>> (s,) = accumulate_segment(t, x, y, lam, np.ones(8), np.zeros(8, np.int16), spec=spec,
    ...                           gti=[[0.0, 30.0]], edges=np.array([0.0, 10.0, 20.0, 30.0]))
    >>> s.gross.tolist(), s.background.tolist(), s.n_columns, s.n_source, s.n_background
    ([3.0, 2.0, 1.0], [1.0, 0.0, 1.0], 3, 6, 2)
    """

    name: str
    gross: F64
    gross_var: F64
    background: F64
    background_var: F64
    flux: F64
    """Σ source flux weights − scale · Σ background flux weights (not yet / exposure / columns)."""
    flux_var: F64
    n_columns: int
    n_source: int
    n_background: int
    n_uncalibrated: int
    wavelength_min: float
    wavelength_max: float
    column_mask: npt.NDArray[np.bool_]
    background_scale: float
    source_weight_mean: float
    flux_weight_mean: float


@dataclass(frozen=True, eq=False)
class CurveColumns:
    """The lightcurve columns of the bins with exposure (see :func:`assemble`).

    Every array has one entry per bin kept, shape (m,).

    Parameters
    ----------
    times : ndarray of float64
        Bin starts (s since EXPSTART).
    bins : ndarray of float64
        Exposure of each bin (s).
    gross, background, counts : ndarray of float64
        Source-band, scaled background and net counts (ε-weighted counts).
    net : ndarray of float64
        Net count rate (counts/s).
    error : ndarray of float64
        Uncertainty of ``counts`` (counts).
    flux, flux_error : ndarray of float64
        Mean flux density over the columns and its uncertainty (erg s⁻¹ cm⁻² Å⁻¹; counts/s per column
        when uncalibrated).
    signal_to_noise : ndarray of float64
        ``counts / error`` (0 where the error is 0).
    n_columns : int
        Spectral columns extracted, all channels together.

    Examples
    --------
    >>> spec = SegmentSpec((Channel("A", Band(500.0, 10.0)),), sdqflags=0, ncols=32, wmin=1200.0,
    ...                    wmax=1400.0)
    >>> edges = np.array([0.0, 10.0, 20.0])
    >>> (s,) = accumulate_segment([1.0, 2.0, 12.0], [10.0, 11.0, 12.0], np.full(3, 500.0),
    ...                           np.full(3, 1300.0), np.ones(3), np.zeros(3, int), spec=spec,
    ...                           gti=[[0.0, 20.0]], edges=edges)
    >>> columns = assemble(edges, np.array([10.0, 5.0]), [s])
    >>> columns.times.tolist(), columns.net.tolist(), columns.error.round(4).tolist()
    ([0.0, 10.0], [0.2, 0.2], [1.4142, 1.0])
    """

    times: F64
    bins: F64
    gross: F64
    background: F64
    counts: F64
    net: F64
    error: F64
    flux: F64
    flux_error: F64
    signal_to_noise: F64
    n_columns: int


def _check_events(
    arrays: Sequence[npt.ArrayLike],
) -> tuple[np.ndarray, ...]:
    out = tuple(np.asarray(a) for a in arrays)
    n = len(out[0])
    for a in out:
        if a.ndim != 1 or len(a) != n:
            raise ValueError("event arrays must be one-dimensional and of equal length")
    return out


@dataclass(frozen=True, eq=False)
class _Selection:
    """The events of one chunk that some channel may use (``candidates``: inside a band, the x limits
    and a GTI), with what the channels need of them; every index below is into the candidates."""

    candidates: npt.NDArray[np.intp]
    bins: _ChunkBins
    col: npt.NDArray[np.intp]
    """Spectral column of each candidate (-1 outside the detector columns)."""
    lam: np.ndarray
    eps: np.ndarray | None
    good_dq: npt.NDArray[np.bool_]
    boxes: list[npt.NDArray[np.bool_]]
    """Per channel: candidates in its source band and in no earlier channel's (inside GTIs, any DQ)."""
    sources: list[npt.NDArray[np.intp]]
    """Per channel: the selected source events (DQ clean, good wavelength, in the time grid, a column)."""
    in_source: npt.NDArray[np.bool_]
    """Candidates in any channel's source band."""


def _selections(
    t_all: np.ndarray,
    x_all: np.ndarray,
    y_all: np.ndarray,
    lam_all: np.ndarray,
    eps_all: np.ndarray | None,
    dq_all: np.ndarray,
    spec: SegmentSpec,
    gti: F64,
    edges: F64,
    chunk: int,
) -> Iterator[tuple[_Selection, list[npt.NDArray[np.bool_] | None]]]:
    """The selection of every chunk of events holding a candidate, with each channel's background-band
    mask of the chunk's events (None for a channel without background bands). Without ``eps_all`` the
    selections carry no weights (``eps`` is None)."""
    dq_mask = int(spec.sdqflags) | int(spec.serious_dq)
    for lo in range(0, len(t_all), chunk):
        sl = slice(lo, lo + chunk)
        xx_c, yy_c = x_all[sl], y_all[sl]
        # Band membership first (cheap), then everything else only for events in some band.
        src_c = [ch.source.contains(xx_c, yy_c) for ch in spec.channels]
        bkg_c: list[np.ndarray | None] = []
        anyband = np.zeros(len(xx_c), dtype=bool)
        for i, ch in enumerate(spec.channels):
            anyband |= src_c[i]
            inb = None
            for band in ch.backgrounds:
                m = band.contains(xx_c, yy_c)
                inb = m if inb is None else (inb | m)
            if inb is not None:
                anyband |= inb
            bkg_c.append(inb)
        if np.isfinite(spec.xmin):
            anyband &= xx_c >= spec.xmin
        if np.isfinite(spec.xmax):
            anyband &= xx_c < spec.xmax
        idx = np.flatnonzero(anyband)
        if len(idx) == 0:
            continue
        t = t_all[sl].take(idx).astype(np.float64)  # once: GTI tests and bin search are exact in float64
        ordered = len(t) < 2 or bool(np.all(t[1:] >= t[:-1]))
        keep = _in_gti_sorted(t, gti) if ordered else np.flatnonzero(in_gti(t, gti))
        if keep is not None:  # None: every candidate is inside a GTI
            idx = idx.take(keep) if isinstance(keep, np.ndarray) else idx[keep]
            t = t.take(keep) if isinstance(keep, np.ndarray) else t[keep]
        if len(idx) == 0:
            continue
        xx, lam, dqq = xx_c.take(idx), lam_all[sl].take(idx), dq_all[sl].take(idx)
        eps = None if eps_all is None else eps_all[sl].take(idx)
        good_dq = (dqq & dq_mask) == 0 if dq_mask else np.ones(len(idx), dtype=bool)
        col = _columns(xx, spec)
        if spec.wavelength_cut:
            good_lam = wavelength_good(lam, spec.wmin, spec.wmax, exclude=spec.exclude)
        else:
            good_lam = np.ones(len(idx), dtype=bool)
        bins = _ChunkBins(t, edges, ordered=ordered)
        any_src = np.zeros(len(idx), dtype=bool)
        boxes, sources = [], []
        for i in range(len(spec.channels)):
            in_src = src_c[i].take(idx)
            box = in_src & ~any_src
            any_src |= in_src
            sel = bins.inside(np.flatnonzero(box & good_dq & good_lam))
            cs = col[sel]
            if len(cs) and cs.min() < 0:
                sel = sel[cs >= 0]
            boxes.append(box)
            sources.append(sel)
        selection = _Selection(idx, bins, col, lam, eps, good_dq, boxes, sources, any_src)
        yield selection, [None if m is None else m.take(idx) for m in bkg_c]


def _in_gti_sorted(t: F64, gti: F64) -> slice | npt.NDArray[np.intp] | None:
    """The positions of the sorted times ``t`` inside the (normalised) ``gti``, as :func:`in_gti` finds
    them: ``None`` when all are, one slice when one interval holds them, else their indices. Each
    interval ``[start, stop)`` holds ``t[searchsorted(t, start):searchsorted(t, stop)]``."""
    n = len(t)
    if n == 0 or len(gti) == 0:
        return slice(0, 0)
    bounds = np.searchsorted(t, gti.ravel(), side="left").reshape(-1, 2)
    spans = bounds[bounds[:, 1] > bounds[:, 0]]
    if len(spans) == 1:
        lo, hi = int(spans[0, 0]), int(spans[0, 1])
        return None if (lo, hi) == (0, n) else slice(lo, hi)
    if len(spans) == 0:
        return slice(0, 0)
    return np.concatenate([np.arange(lo, hi) for lo, hi in spans.tolist()])


def _check_arguments(arrays: Sequence[npt.ArrayLike], gti: npt.ArrayLike, edges: npt.ArrayLike,
                     chunk: int) -> tuple[tuple[np.ndarray, ...], F64, F64]:
    out = _check_events(arrays)
    if chunk < 1:
        raise ValueError("chunk must be positive")
    return out, normalize_gti(gti), np.asarray(edges, dtype=np.float64)


def source_wavelength_range(
    time: npt.ArrayLike, x: npt.ArrayLike, y: npt.ArrayLike, wavelength: npt.ArrayLike, dq: npt.ArrayLike,
    *, spec: SegmentSpec, gti: npt.ArrayLike, edges: F64, chunk: int = CHUNK_EVENTS,
) -> tuple[tuple[int, float, float], ...]:
    """Per channel of ``spec``: (number, lowest, highest wavelength) of the source events
    :func:`accumulate_segment` would select, without weighing or summing anything (NaN bounds when
    there are none).

    Parameters
    ----------
    time : array_like of float, shape (n,)
        Event times (s since EXPSTART).
    x, y : array_like of float, shape (n,)
        Dispersion and cross-dispersion positions (pixels).
    wavelength : array_like of float, shape (n,)
        Event wavelengths (Å).
    dq : array_like of int, shape (n,)
        Data-quality bits.
    spec : SegmentSpec
        The cuts and channels.
    gti : array_like of float, shape (N, 2)
        Good time intervals (s).
    edges : ndarray of float64, shape (nbins + 1,)
        Time bin edges (s); events outside them are not selected.
    chunk : int, optional
        Events processed at a time (positive; default :data:`CHUNK_EVENTS`).

    Returns
    -------
    ranges : tuple of (int, float, float)
        Per channel: the number of source events and their lowest and highest wavelength (Å).

    Raises
    ------
    ValueError
        If the event arrays are not 1-D and of equal length, or ``chunk`` is not positive.

    Examples
    --------
    >>> spec = SegmentSpec((Channel("A", Band(500.0, 10.0)),), sdqflags=0, ncols=32, wmin=1200.0,
    ...                    wmax=1400.0)
    >>> lam = np.array([1250.0, 1300.0, 1350.0, 1450.0])
    >>> source_wavelength_range([1.0, 2.0, 12.0, 13.0], [10.0, 11.0, 12.0, 13.0], np.full(4, 500.0), lam,
    ...                         np.zeros(4, int), spec=spec, gti=[[0.0, 20.0]], edges=np.array([0.0, 20.0]))
    ((3, 1250.0, 1350.0),)
    """
    (t, xx, yy, lam, dqq), g, e = _check_arguments((time, x, y, wavelength, dq), gti, edges, chunk)
    nch = len(spec.channels)
    count = [0] * nch
    lo = [np.inf] * nch
    hi = [-np.inf] * nch
    for selection, _ in _selections(t, xx, yy, lam, None, dqq, spec, g, e, chunk):
        for i, sel in enumerate(selection.sources):
            if len(sel):
                ls = selection.lam[sel]
                count[i] += len(sel)
                lo[i] = min(lo[i], float(ls.min()))
                hi[i] = max(hi[i], float(ls.max()))
    nan = float("nan")
    return tuple((n, a if n else nan, b if n else nan) for n, a, b in zip(count, lo, hi, strict=True))


def accumulate_segment(
    time: npt.ArrayLike,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    wavelength: npt.ArrayLike,
    epsilon: npt.ArrayLike,
    dq: npt.ArrayLike,
    *,
    spec: SegmentSpec,
    gti: npt.ArrayLike,
    edges: F64,
    chunk: int = CHUNK_EVENTS,
) -> tuple[ChannelSums, ...]:
    """Histogram one event list into ``edges`` for every channel of ``spec``.

    Source events: inside a GTI, DQ clean (``sdqflags`` | serious bits), ``xmin <= x < xmax``, in the
    channel's source band (not claimed by an earlier channel), wavelength inside (wmin, wmax) and outside
    the excluded windows. Background events: the same but in a background band, not in any source band,
    and in a column that is extracted (their own WAVELENGTH is not used: off-spectrum events may carry
    none); their flux weight uses the column's wavelength.

    Parameters
    ----------
    time : array_like of float, shape (n,)
        Event times (s since EXPSTART).
    x, y : array_like of float, shape (n,)
        Dispersion and cross-dispersion positions (pixels).
    wavelength : array_like of float, shape (n,)
        Event wavelengths (Å).
    epsilon : array_like of float, shape (n,)
        Event weights ε (counts per event).
    dq : array_like of int, shape (n,)
        Data-quality bits.
    spec : SegmentSpec
        The cuts and channels.
    gti : array_like of float, shape (N, 2)
        Good time intervals (s).
    edges : ndarray of float64, shape (nbins + 1,)
        Time bin edges (s).
    chunk : int, optional
        Events processed at a time (positive; default :data:`CHUNK_EVENTS`).

    Returns
    -------
    sums : tuple of ChannelSums
        One per channel of ``spec``, in order.

    Raises
    ------
    ValueError
        If the event arrays are not 1-D and of equal length, ``chunk`` is not positive, or a channel's
        ``column_wavelength`` does not have ``ncols`` entries.

    Examples
    --------
    >>> spec = SegmentSpec((Channel("A", Band(500.0, 10.0)),), sdqflags=0, ncols=32, wmin=1200.0,
    ...                    wmax=1400.0)
    >>> dq = np.array([0, 0, 0, 64])  # the last event is in a burst (a serious DQ bit)
    >>> (s,) = accumulate_segment([1.0, 2.0, 12.0, 13.0], [10.0, 11.0, 12.0, 12.0], np.full(4, 500.0),
    ...                           np.full(4, 1300.0), np.ones(4), dq, spec=spec, gti=[[0.0, 20.0]],
    ...                           edges=np.array([0.0, 10.0, 20.0]))
    >>> s.gross.tolist(), s.n_source, s.n_columns
    ([2.0, 1.0], 3, 3)
    """
    arrays, g, e = _check_arguments((time, x, y, wavelength, epsilon, dq), gti, edges, chunk)
    nbins = len(e) - 1
    nch = len(spec.channels)
    ncols = spec.ncols

    def z() -> F64:
        return np.zeros(nbins, dtype=np.float64)

    gross = [z() for _ in range(nch)]
    gross_var = [z() for _ in range(nch)]
    flux = [z() for _ in range(nch)]
    flux_var = [z() for _ in range(nch)]
    n_src = [0] * nch
    n_unc = [0] * nch
    lam_lo = [np.inf] * nch
    lam_hi = [-np.inf] * nch
    col_n = [np.zeros(ncols, np.int64) for _ in range(nch)]
    col_sel = [np.zeros(ncols, np.int64) for _ in range(nch)]
    col_lam = [np.zeros(ncols, np.float64) for _ in range(nch)]
    bkg_parts: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(nch)]

    t, xx, yy, lam_all, eps_all, dqq = arrays
    for selection, backgrounds in _selections(t, xx, yy, lam_all, eps_all, dqq, spec, g, e, chunk):
        col, lam, eps, bins = selection.col, selection.lam, selection.eps, selection.bins
        assert eps is not None
        for i, ch in enumerate(spec.channels):
            # Columns: events in the box per column (inside GTIs), and the selected events' wavelengths.
            cb = col[selection.boxes[i]]
            if len(cb) and cb.min() < 0:
                cb = cb[cb >= 0]
            col_n[i] += np.bincount(cb, minlength=ncols)[:ncols]
            # Source events.
            sel = selection.sources[i]
            if len(sel):
                cs = col[sel]
                w = eps[sel].astype(np.float64)
                ls = lam[sel].astype(np.float64)
                col_sel[i] += np.bincount(cs, minlength=ncols)[:ncols]
                col_lam[i] += np.bincount(cs, weights=ls, minlength=ncols)[:ncols]
                fw, bad = ch.calibration.flux_weights(w, ls)
                sums = bins.sums(sel, (w, w * w, fw, fw * fw))
                gross[i] += sums[0]
                gross_var[i] += sums[1]
                flux[i] += sums[2]
                flux_var[i] += sums[3]
                n_src[i] += len(sel)
                n_unc[i] += bad
                lam_lo[i] = min(lam_lo[i], float(ls.min()))
                lam_hi[i] = max(lam_hi[i], float(ls.max()))
        # Background candidates: in a background band, in no source band, DQ clean, inside a column.
        for i in range(nch):
            inb = backgrounds[i]
            if inb is None:
                continue
            sel = bins.inside(np.flatnonzero(inb & ~selection.in_source & selection.good_dq & (col >= 0)))
            if len(sel):
                bkg_parts[i].append(
                    (col[sel].astype(np.int32), bins.index(sel).astype(np.int32), eps[sel].astype(np.float64))
                )

    results = []
    for i, ch in enumerate(spec.channels):
        if ch.column_wavelength is not None:
            cw = np.asarray(ch.column_wavelength, dtype=np.float64)
            if cw.shape != (ncols,):
                raise ValueError(f"channel {ch.name}: column_wavelength must have {ncols} entries")
        else:
            cw = interpolated_column_means(col_lam[i], col_sel[i])
        # A column whose box events were all rejected (DQ, or wavelength at the window edges) is dead.
        dead = (col_n[i] > 0) & (col_sel[i] == 0)
        if spec.wavelength_cut:
            cmask = extracted_columns(cw, wmin=spec.wmin, wmax=spec.wmax, exclude=spec.exclude, dead=dead)
            # Columns the x limits exclude cannot contribute either.
            centers = spec.column_offset + spec.column_scale * (np.arange(ncols) + 0.5)
            cmask &= (centers >= spec.xmin) & (centers < spec.xmax)
            n_columns = int(np.count_nonzero(cmask))
        else:
            cmask = np.ones(ncols, dtype=bool)
            n_columns = 1
        scale = ch.background_scale
        bkg = np.zeros(nbins)
        bkg_var = np.zeros(nbins)
        bflux = np.zeros(nbins)
        bflux_var = np.zeros(nbins)
        n_bkg = 0
        for cols, k, w in bkg_parts[i]:
            keep = cmask[cols]
            cols, k, w = cols[keep], k[keep], w[keep]
            n_bkg += len(k)
            bkg += np.bincount(k, weights=w, minlength=nbins)[:nbins]
            bkg_var += np.bincount(k, weights=w * w, minlength=nbins)[:nbins]
            if spec.wavelength_cut:
                fw, _ = ch.calibration.flux_weights(w, cw[cols])
            else:
                fw, _ = ch.calibration.flux_weights(w, np.zeros(len(w)))
            bflux += np.bincount(k, weights=fw, minlength=nbins)[:nbins]
            bflux_var += np.bincount(k, weights=fw * fw, minlength=nbins)[:nbins]
        total_gross = float(gross[i].sum())
        results.append(
            ChannelSums(
                name=ch.name,
                gross=gross[i],
                gross_var=gross_var[i],
                background=scale * bkg,
                background_var=scale * scale * bkg_var,
                flux=flux[i] - scale * bflux,
                flux_var=flux_var[i] + scale * scale * bflux_var,
                n_columns=n_columns,
                n_source=n_src[i],
                n_background=n_bkg,
                n_uncalibrated=n_unc[i],
                wavelength_min=lam_lo[i] if n_src[i] else float("nan"),
                wavelength_max=lam_hi[i] if n_src[i] else float("nan"),
                column_mask=cmask,
                background_scale=scale,
                source_weight_mean=total_gross / n_src[i] if n_src[i] else 1.0,
                flux_weight_mean=float(flux[i].sum()) / n_src[i] if n_src[i] else 0.0,
            )
        )
    return tuple(results)


class _ChunkBins:
    """Which time bin each event of a chunk falls in, for the events selected from it.

    Event lists are almost always in time order; then the bin boundaries are found once by a search of
    the edges in the times (O(bins · log n)) and per-bin sums are contiguous segment sums — no per-event
    bin index at all. Unsorted input falls back to :func:`bin_index` and ``np.bincount``. Both place an
    event exactly on an edge in the bin that starts there.
    """

    def __init__(self, t: F64, edges: F64, *, ordered: bool | None = None) -> None:
        self.nbins = len(edges) - 1
        self.pos: npt.NDArray[np.intp] | None
        self.k: npt.NDArray[np.intp] | None
        self.ordered = (len(t) < 2 or bool(np.all(t[1:] >= t[:-1]))) if ordered is None else ordered
        if self.ordered:
            self.pos = np.searchsorted(t, edges, side="left")
            self.k = None
        else:
            self.pos = None
            self.k = bin_index(t, edges)

    def inside(self, sel: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """``sel`` (increasing event indices) without the events outside the time grid."""
        if self.pos is not None:
            lo, hi = np.searchsorted(sel, (self.pos[0], self.pos[-1]))
            return sel[lo:hi]
        assert self.k is not None
        return sel[self.k[sel] >= 0]

    def index(self, sel: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """Bin index of each selected event (all inside the grid)."""
        if self.pos is not None:
            return np.searchsorted(self.pos, sel, side="right") - 1
        assert self.k is not None
        return self.k[sel]

    def sums(self, sel: npt.NDArray[np.intp], weights: Sequence[F64]) -> list[F64]:
        """Per-bin float64 sums of each weight array (one value per selected event)."""
        nbins = self.nbins
        if self.pos is None:
            k = self.index(sel)
            # numpy's stub types every bincount as intp; with float weights it is float64
            return [cast(F64, np.bincount(k, weights=w, minlength=nbins)[:nbins]) for w in weights]
        q = np.searchsorted(sel, self.pos)  # segment boundaries of the bins among the selected events
        filled = q[:-1] < q[1:]
        # reduceat over the starts of the non-empty bins only: each sum runs to the next non-empty bin's
        # start (the bins between are empty) and the last to the end (every event is inside the grid).
        starts = q[:-1][filled]
        out = []
        for w in weights:
            total = np.zeros(nbins)
            if len(starts):
                total[filled] = np.add.reduceat(w, starts)
            out.append(total)
        return out


def _columns(x: np.ndarray, spec: SegmentSpec) -> npt.NDArray[np.intp]:
    """Spectral column of events already inside [xmin, xmax): ``floor((x − offset) / scale)``, -1 outside.

    When the x limits keep ``x − offset`` non-negative, truncation is the floor and a cast suffices
    (the common case: 3 passes instead of the general :func:`column_index`'s 10)."""
    if spec.xmin - spec.column_offset >= 0 and np.isfinite(spec.xmax):
        c = x - np.float32(spec.column_offset) if x.dtype == np.float32 else x - spec.column_offset
        if spec.column_scale != 1.0:
            c = c / spec.column_scale
        col = c.astype(np.intp)
        col[col >= spec.ncols] = -1
        return col
    return column_index(x, offset=spec.column_offset, scale=spec.column_scale, ncols=spec.ncols)


def assemble(
    edges: F64,
    exposure: F64,
    sums: Sequence[ChannelSums],
    *,
    min_exposure: float = 0.0,
) -> CurveColumns:
    """Combine the channels' sums into lightcurve columns for the bins with exposure > ``min_exposure``.

    COUNTS = GROSS − BACKGROUND; NET = COUNTS / BINS; ERROR = √(Σε² + b² Σε_bkg²), and a bin without
    any source event still gets the variance of one mean-weight event (a zero count is not a zero
    uncertainty); FLUX = (Σ flux weights − b Σ background flux weights) / BINS / n_columns with
    FLUX_ERROR from the same variance (finite for any sign of the net); SIGNAL_TO_NOISE = COUNTS / ERROR.

    Parameters
    ----------
    edges : ndarray of float64, shape (n + 1,)
        Time bin edges (s since EXPSTART).
    exposure : ndarray of float64, shape (n,)
        Good time in each bin (s).
    sums : sequence of ChannelSums
        The channels' sums on these bins (at least one); they are added together.
    min_exposure : float, optional
        Bins with at most this exposure (s) are left out (default 0).

    Returns
    -------
    CurveColumns
        The columns of the bins kept.

    Raises
    ------
    ValueError
        If ``exposure`` does not have one entry per bin, or ``sums`` is empty.

    Examples
    --------
    >>> spec = SegmentSpec((Channel("A", Band(500.0, 10.0)),), sdqflags=0, ncols=32, wmin=1200.0,
    ...                    wmax=1400.0)
    >>> edges = np.array([0.0, 10.0, 20.0])
    >>> (s,) = accumulate_segment([1.0, 2.0, 12.0], [10.0, 11.0, 12.0], np.full(3, 500.0),
    ...                           np.full(3, 1300.0), np.ones(3), np.zeros(3, int), spec=spec,
    ...                           gti=[[0.0, 20.0]], edges=edges)
    >>> columns = assemble(edges, np.array([10.0, 5.0]), [s], min_exposure=6.0)
    >>> columns.times.tolist(), columns.counts.tolist(), columns.net.tolist(), columns.n_columns
    ([0.0], [2.0], [0.2], 3)
    """
    e = np.asarray(edges, dtype=np.float64)
    exp = np.asarray(exposure, dtype=np.float64)
    nbins = len(e) - 1
    if exp.shape != (nbins,):
        raise ValueError("exposure must have one entry per bin")
    if not sums:
        raise ValueError("no channel sums to assemble")
    gross = np.zeros(nbins)
    gross_var = np.zeros(nbins)
    background = np.zeros(nbins)
    background_var = np.zeros(nbins)
    flux = np.zeros(nbins)
    flux_var = np.zeros(nbins)
    n_src = 0
    w_sum = 0.0
    fw_sum = 0.0
    n_columns = 0
    for s in sums:
        gross += s.gross
        gross_var += s.gross_var
        background += s.background
        background_var += s.background_var
        flux += s.flux
        flux_var += s.flux_var
        n_src += s.n_source
        w_sum += s.source_weight_mean * s.n_source
        fw_sum += s.flux_weight_mean * s.n_source
        n_columns += s.n_columns
    keep = exp > min_exposure
    mean_w = w_sum / n_src if n_src else 1.0
    mean_fw = fw_sum / n_src if n_src else 0.0
    empty = gross_var == 0
    gross_var = np.where(empty, mean_w**2, gross_var)
    flux_var = np.where(empty, mean_fw**2 + flux_var, flux_var)
    ncol = max(n_columns, 1)

    bins = exp[keep]
    g, b = gross[keep], background[keep]
    counts = g - b
    error = np.sqrt(gross_var[keep] + background_var[keep])
    net = counts / bins
    fl = flux[keep] / bins / ncol
    fl_err = np.sqrt(flux_var[keep]) / bins / ncol
    snr = np.divide(counts, error, out=np.zeros_like(counts), where=error > 0)
    return CurveColumns(
        times=e[:-1][keep].copy(),
        bins=bins,
        gross=g,
        background=b,
        counts=counts,
        net=net,
        error=error,
        flux=fl,
        flux_error=fl_err,
        signal_to_noise=snr,
        n_columns=n_columns,
    )


__all__ = [
    "CHUNK_EVENTS",
    "Channel",
    "ChannelSums",
    "CurveColumns",
    "SegmentSpec",
    "accumulate_segment",
    "assemble",
    "source_wavelength_range",
]
