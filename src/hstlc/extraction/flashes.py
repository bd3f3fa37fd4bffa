"""The COS wavecal lamp-flash cut of TAGFLASH exposures: the flashes from the LMP_ONi/LMPOFFi keywords and
a count-rate search outside the source bands, removed from the good time (FLASHCUT, NFLASH, FLASHEXP and a
NOTE say what was done)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hstlc.domain import Segment
from hstlc.extraction.context import _Context, _float_kw, _kw
from hstlc.science.background import (
    exclude_intervals,
    excluded_time,
    find_lamp_flashes,
    keyword_flash_intervals,
)
from hstlc.science.binning import bin_index, time_edges
from hstlc.science.gti import exposure_per_bin, in_gti, intersect_gti, normalize_gti, total_exposure
from hstlc.science.lightcurve import CHUNK_EVENTS, SegmentSpec

#: TAGFLASH values (primary header) meaning the lamp was not flashed [calcos calcosparam: NONE, AUTO,
#: UNIFORMLY SPACED]; a missing TAGFLASH also means no flashes.
TAGFLASH_OFF = frozenset({"", "NONE", "N/A", "NA"})
#: Bin width (s) of the count-rate search for lamp flashes.
FLASH_SEARCH_BIN = 1.0
#: Padding (s) of the LMP_ONi/LMPOFFi intervals: calcos measures them in 0.2 s bins.
FLASH_KEYWORD_PAD = 0.2
#: A flash cut that would remove more than this fraction of the good time is not applied (noted).
FLASH_MAX_FRACTION = 0.5


def _keyword_flashes(keywords: Mapping[str, Any]) -> np.ndarray:
    """Flash intervals from NUMFLASH and LMP_ONi/LMPOFFi (or LMPDURi) of one EVENTS header (its own
    clock): calcos writes the measured times of the first NUMFLASH flashes over the commanded ones."""
    on: list[float] = []
    off: list[float] = []
    for i in range(1, 100):
        start = _float_kw(keywords, f"LMP_ON{i}")
        stop = _float_kw(keywords, f"LMPOFF{i}")
        if stop is None and start is not None:
            duration = _float_kw(keywords, f"LMPDUR{i}")
            stop = None if duration is None else start + duration
        if start is None and stop is None:
            break
        if start is not None and stop is not None:
            on.append(start)
            off.append(stop)
    numflash = _float_kw(keywords, "NUMFLASH")
    if numflash is not None:
        n = max(int(numflash), 0)
        on, off = on[:n], off[:n]
    return keyword_flash_intervals(on, off, pad=FLASH_KEYWORD_PAD)


def _flash_counts(
    segment: Segment, spec: SegmentSpec, offset: float, gti: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per search bin: DQ-clean events in the good time outside every source band, and inside one."""
    ev = segment.events
    nbins = len(edges) - 1
    outside = np.zeros(nbins)
    inside = np.zeros(nbins)
    mask = int(spec.sdqflags) | int(spec.serious_dq)
    for lo in range(0, len(ev), CHUNK_EVENTS):
        sl = slice(lo, lo + CHUNK_EVENTS)
        x, y = ev.x[sl], ev.y[sl]
        in_src = np.zeros(len(x), dtype=bool)
        for channel in spec.channels:
            in_src |= channel.source.contains(x, y)
        t = ev.time[sl].astype(np.float64) + offset
        good = ((ev.dq[sl] & mask) == 0) & in_gti(t, gti)
        for total, pick in ((outside, good & ~in_src), (inside, good & in_src)):
            tp = t[pick]
            if len(tp) < 2 or bool(np.all(tp[1:] >= tp[:-1])):  # time-ordered (the normal case): no index
                total += np.diff(np.searchsorted(tp, edges, side="left"))
            else:
                k = bin_index(tp, edges)
                total += np.bincount(k[k >= 0], minlength=nbins)[:nbins]
    return outside, inside


def _lamp_flash_cut(
    ctx: _Context, built: Sequence[tuple[Segment, SegmentSpec]], offsets: Sequence[float], gti: np.ndarray
) -> np.ndarray:
    """``gti`` without the wavecal lamp flashes of a TAGFLASH exposure (COS).

    The flashes come from the file: the LMP_ONi/LMPOFFi keywords calcos measured, and a search of the
    count rate outside the source bands (:func:`hstlc.science.background.find_lamp_flashes`) for any
    the keywords do not cover. The flash time is removed from the good time of source and background
    alike: the lamp's wings raise the background band by ~40 % (FORMATS.md §9) and their share in the
    source box is unknown, so a flash-free background subtracted from a flash-lit box would leave a bias
    of unknown size; without the flash time both are unbiased, at the cost of the flashes' duty cycle.
    """
    values = [_kw(seg.keywords, "TAGFLASH") for seg, _ in built]
    tagflash = next((str(v).strip().upper() for v in values if v is not None), "")
    if tagflash in TAGFLASH_OFF:
        return gti
    found = []
    n_keyword = 0
    for (segment, _spec), offset in zip(built, offsets, strict=True):
        kw = _keyword_flashes(segment.keywords)
        n_keyword = max(n_keyword, len(kw))
        if len(kw):
            found.append(kw + offset)
    edges = time_edges(float(gti[-1, 1]), FLASH_SEARCH_BIN, start=float(gti[0, 0]))
    exposure = exposure_per_bin(edges, gti)
    n_rate = 0
    rejected = 0
    for (segment, spec), offset in zip(built, offsets, strict=True):
        outside, inside = _flash_counts(segment, spec, offset, gti, edges)
        search = find_lamp_flashes(edges, exposure, outside, source_counts=inside)
        rejected += search.rejected
        if len(search.intervals):
            n_rate = max(n_rate, len(search.intervals))
            found.append(search.intervals)
    if rejected:
        ctx.note(f"{rejected} count-rate excess(es) outside the source bands rose in the source bands too: "
                 "taken for the source, not the lamp", warn=False)
    flashes = normalize_gti(np.concatenate(found)) if found else np.zeros((0, 2))
    removed = excluded_time(gti, flashes) if len(flashes) else 0.0
    good = total_exposure(gti)
    if removed <= 0.0:
        ctx.meta["FLASHCUT"] = "NONE FOUND"
        ctx.note(f"TAGFLASH={tagflash} but no lamp flash found (no LMP_ON/LMPOFF keywords, no count-rate "
                 "step outside the source bands); background not corrected for flashes")
        return gti
    if removed > FLASH_MAX_FRACTION * good:
        ctx.meta["FLASHCUT"] = "NOT APPLIED"
        ctx.note(f"TAGFLASH={tagflash}: the lamp-flash intervals cover {removed:.1f} of {good:.1f} s of good "
                 "time; not removed (is this a wavecal?)")
        return gti
    kept = exclude_intervals(gti, flashes)
    n_flashes = int(np.count_nonzero(
        [len(intersect_gti(gti, [interval])) > 0 for interval in flashes]
    ))
    how = []
    if n_keyword:
        how.append("LMP_ON/LMPOFF keywords")
    if n_rate:
        how.append("count rate outside the source bands")
    ctx.meta.update({"FLASHCUT": "APPLIED", "NFLASH": n_flashes, "FLASHEXP": round(removed, 3)})
    ctx.note(f"TAGFLASH={tagflash}: {n_flashes} wavecal lamp flash(es) (from the {' and the '.join(how)}) "
             f"removed from the good time ({removed:.1f} s): the lamp raises the background band", warn=False)
    return kept
