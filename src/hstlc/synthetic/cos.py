"""Synthetic COS TIME-TAG data: FUV ``_corrtag_a/_b`` pairs, NUV ``_corrtag`` and optional ``_x1d``.

Formats follow FORMATS.md §1–§2 and §4.1 to the letter (column names, TFORMs, TUNITs, which header
holds which keyword). Events are a source spectrum along each trace (Gaussian cross-dispersion
profile truncated inside the SP_HGT box, following SP_SLP), a flat background over the whole detector
(``background_rate`` events/s per cross-dispersion pixel), optional geocoronal airglow lines filling
the slit height, optional DQ-flagged events, and optional wavecal lamp flashes (TAGFLASH).

Facts of real archive files (FORMATS.md §9) the generator follows: typical FUV ``SDQFLAGS = 8346``
(:data:`DEFAULT_SDQFLAGS`; NUV keeps calcos' 184 of §2.6, the §9 value being from an FUV set); a calcos
3.3.4 x1d (``cal_ver="3.3.4"``) without ERROR_LOWER/VARIANCE_* columns; x1d SCI headers with LIVETM_x,
CHI_SQ_x, NDF_x, NGOODPIX, GOODMEAN, GOODMAX; ``TAGFLASH='AUTO'`` exposures whose background bands rise
by ~40 % during each lamp flash.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hstlc.synthetic.dataset import SyntheticDataset
from hstlc.synthetic.events import (
    ORBIT_SECONDS,
    TIMELINE_UNITS,
    dq_flags,
    is_rejected,
    mjd_to_date_time,
    poisson_times,
    sample_pixels,
    timeline_columns,
    truncated_normal,
)
from hstlc.synthetic.exposure import Exposure, break_monotonic, make_exposure
from hstlc.synthetic.fitsfile import Col, apply_header, primary_hdu, table_hdu, write_hdus
from hstlc.synthetic.optics import (
    COS_FUV_SIZE,
    COS_NUV_SIZE,
    COS_NUV_STRIPE_LOC,
    LinearSolution,
    cos_fuv_solution,
    cos_nuv_solution,
)
from hstlc.synthetic.reference import (
    cos_sensitivity,
    cos_tds_factor,
    lref_name,
    make_cos_reference_files,
)
from hstlc.synthetic.signals import SignalSpec, constant

F64 = npt.NDArray[np.float64]

NOT_EXTRACTED = -999.0
"""Value of the extraction keywords of a segment/stripe that was not extracted."""

AIRGLOW_LINES: Mapping[float, float] = {1215.67: 20.0, 1302.17: 1.0, 1304.86: 1.0, 1306.03: 1.0}
"""Default geocoronal lines (Å) and their count rates (counts/s) used with ``airglow=True``."""

AIRGLOW_WINDOWS: tuple[tuple[float, float], ...] = ((1208.0, 1225.0), (1298.0, 1312.0))
"""Wavelength windows (Å, inclusive) the original extraction drops by default (FORMATS §6)."""

DEFAULT_SDQFLAGS = 8346
"""The typical FUV SDQFLAGS of real calcos 3.3.4 corrtags (FORMATS.md §9): 2 + 8 + 16 + 128 + 8192."""

LAMP_WING_EXCESS = 0.4
"""Fractional rise of the background-band rate during a lamp flash (FORMATS.md §9: ~40 %)."""
LAMP_RATE = 300.0
"""Count rate (counts/s) of the synthetic wavecal stripe while the lamp is on. Illustrative: calcos only
says a lamp is on above 20 counts/s in the wavecal region (concurrent.py MIN_COUNT_RATE)."""
LAMP_Y: Mapping[str, float] = {"FUVA": 640.0, "FUVB": 700.0, "NUV": 850.0}
"""YCORR of the synthetic wavecal (WCA) stripe, clear of the default source and background bands. The
real position is the WCA row of XTRACTAB, not part of the corrtag; FORMATS.md gives none."""
LAMP_SIGMA = 3.0
"""Cross-dispersion σ (pixels) of the synthetic wavecal stripe."""
NEW_X1D_ERRORS = (3, 4)
"""calcos version from which the x1d has ERROR_LOWER and VARIANCE_* columns: the calcos 3.3.4 x1d of
real files has neither (FORMATS.md §9); later versions write them (FORMATS.md §4.1)."""


@dataclass(frozen=True)
class _Lamp:
    """Wavecal lamp flashes of one corrtag: intervals (s since EXPSTART), stripe position and rates."""

    intervals: F64
    y: float
    rate: float
    wing_excess: float


def _intersect(a: F64, b: F64) -> F64:
    """Overlap of two sorted, disjoint (N, 2) interval lists."""
    starts = np.maximum(a[:, None, 0], b[None, :, 0]).ravel()
    stops = np.minimum(a[:, None, 1], b[None, :, 1]).ravel()
    keep = stops > starts
    out = np.column_stack([starts[keep], stops[keep]])
    return np.ascontiguousarray(out[np.argsort(out[:, 0], kind="stable")]) if len(out) else np.zeros((0, 2))


def _lamp_intervals(flashes: Sequence[Sequence[float]] | npt.ArrayLike | None) -> F64:
    if flashes is None:
        return np.zeros((0, 2))
    f = np.asarray(flashes, dtype=np.float64).reshape(-1, 2)
    if len(f) and (np.any(~np.isfinite(f)) or np.any(f[:, 1] <= f[:, 0])):
        raise ValueError("each lamp flash must be a finite [on, off] pair with on < off")
    f = f[np.argsort(f[:, 0], kind="stable")]
    if np.any(f[1:, 0] < f[:-1, 1]):
        raise ValueError("lamp flashes must not overlap")
    return np.ascontiguousarray(f)


def lamp_flash_cards(intervals: F64) -> dict[str, Any]:
    """The EVENTS-header lamp-flash cards calcos writes (concurrent.py ``updateHeader``): NUMFLASH and
    per flash LMP_ONi, LMPOFFi, LMPDURi, LMPMEDi, in seconds since EXPSTART."""
    cards: dict[str, Any] = {"NUMFLASH": len(intervals)}
    for i, (on, off) in enumerate(intervals, start=1):
        cards[f"LMP_ON{i}"] = round(float(on), 3)
        cards[f"LMPOFF{i}"] = round(float(off), 3)
        cards[f"LMPDUR{i}"] = round(float(off - on), 3)
        cards[f"LMPMED{i}"] = round(float(on + off) / 2.0, 3)
    return cards


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in str(text).split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


@dataclass(frozen=True)
class ExtractionGeometry:
    """Extraction box and background bands of one segment/stripe (EVENTS keywords SP_LOC_x …).

    ``sp_loc`` is the spectrum's cross-dispersion position at the detector middle, ``sp_slp`` its
    slope (pixels of Y per pixel of X); heights are full heights in pixels.
    """

    sp_loc: float
    sp_hgt: float
    b_bkg1: float
    b_hgt1: float
    b_bkg2: float
    b_hgt2: float
    sp_slp: float = 0.0

    def __post_init__(self) -> None:
        if self.sp_hgt < 4 or self.b_hgt1 <= 0 or self.b_hgt2 <= 0:
            raise ValueError("extraction heights must be positive (SP_HGT >= 4)")

    def keywords(self, letter: str) -> dict[str, float]:
        return {
            f"SP_LOC_{letter}": self.sp_loc,
            f"SP_HGT_{letter}": self.sp_hgt,
            f"SP_SLP_{letter}": self.sp_slp,
            f"SP_NOM_{letter}": self.sp_loc,
            f"SP_OFF_{letter}": 0.0,
            f"SP_ERR_{letter}": 0.1,
            f"B_BKG1_{letter}": self.b_bkg1,
            f"B_HGT1_{letter}": self.b_hgt1,
            f"B_BKG2_{letter}": self.b_bkg2,
            f"B_HGT2_{letter}": self.b_hgt2,
        }


def not_extracted_keywords(letter: str) -> dict[str, float]:
    """The extraction keywords of a segment calcos did not extract: all ``-999``."""
    keys = (
        "SP_LOC",
        "SP_HGT",
        "SP_SLP",
        "SP_NOM",
        "SP_OFF",
        "SP_ERR",
        "B_BKG1",
        "B_HGT1",
        "B_BKG2",
        "B_HGT2",
    )
    return {f"{k}_{letter}": NOT_EXTRACTED for k in keys}


DEFAULT_GEOMETRY: Mapping[str, ExtractionGeometry] = {
    "FUVA": ExtractionGeometry(470.0, 35.0, 400.0, 40.0, 540.0, 40.0),
    "FUVB": ExtractionGeometry(530.0, 35.0, 460.0, 40.0, 600.0, 40.0),
    "NUVA": ExtractionGeometry(COS_NUV_STRIPE_LOC["NUVA"], 57.0, 80.0, 40.0, 650.0, 40.0),
    "NUVB": ExtractionGeometry(COS_NUV_STRIPE_LOC["NUVB"], 57.0, 80.0, 40.0, 650.0, 40.0),
    "NUVC": ExtractionGeometry(COS_NUV_STRIPE_LOC["NUVC"], 57.0, 80.0, 40.0, 650.0, 40.0),
}

EVENT_COLUMNS: tuple[Col, ...] = (
    Col("TIME", "1E", "s"),
    Col("RAWX", "1I", "pixel"),
    Col("RAWY", "1I", "pixel"),
    Col("XCORR", "1E", "pixel"),
    Col("YCORR", "1E", "pixel"),
    Col("XDOPP", "1E", "pixel"),
    Col("XFULL", "1E", "pixel"),
    Col("YFULL", "1E", "pixel"),
    Col("WAVELENGTH", "1E", "angstrom", disp="F9.4"),
    Col("EPSILON", "1E"),
    Col("DQ", "1I"),
    Col("PHA", "1B"),
)
"""COS corrtag EVENTS columns (FORMATS §2.2), in calcos order."""


@dataclass(frozen=True)
class _Trace:
    name: str  # FUVA, FUVB, NUVA, NUVB, NUVC
    solution: LinearSolution
    geometry: ExtractionGeometry
    extracted: bool
    source_rate: float
    weights: F64  # per-pixel source weights over [x_lo, x_hi)
    x_lo: float
    flux: float | None


def _as_per_trace(value: float | Mapping[str, float], names: Sequence[str]) -> dict[str, float]:
    if isinstance(value, Mapping):
        return {n: float(value.get(n, 0.0)) for n in names}
    return {n: float(value) for n in names}


def _airglow(airglow: bool | Mapping[float, float] | None) -> dict[float, float]:
    if airglow is None or airglow is False:
        return {}
    if airglow is True:
        return dict(AIRGLOW_LINES)
    return {float(k): float(v) for k, v in airglow.items()}


def _build_traces(
    names: Sequence[str],
    *,
    opt_elem: str,
    cenwave: int,
    source_rate: float | Mapping[str, float],
    geometry: Mapping[str, ExtractionGeometry | None] | None,
    calibrated: bool,
    exposure: Exposure,
) -> list[_Trace]:
    rates = _as_per_trace(source_rate, names)
    traces = []
    for name in names:
        sol = (cos_fuv_solution if name.startswith("FUV") else cos_nuv_solution)(opt_elem, cenwave, name)
        given = (geometry or {}).get(name, DEFAULT_GEOMETRY[name])
        extracted = given is not None
        geo = given if given is not None else DEFAULT_GEOMETRY[name]
        x_lo, x_hi = int(np.ceil(sol.x_lo)), int(np.floor(sol.x_hi))
        centres = np.arange(x_lo, x_hi, dtype=np.float64) + 0.5
        wave = sol.wavelength(centres)
        active = wave > 0
        flux = None
        if calibrated:
            resp = cos_sensitivity(opt_elem, cenwave, name, wave) * cos_tds_factor(
                opt_elem, name, wave, exposure.midpoint
            )
            weights = np.where(active, resp, 0.0)
            # count rate per pixel = F · SENS(λ) · TDS(λ): a flat f_λ source of flux F
            flux = rates[name] / float(weights.sum()) if weights.sum() > 0 else None
        else:
            weights = active.astype(np.float64)
        traces.append(_Trace(name, sol, geo, extracted, rates[name], weights, float(x_lo), flux))
    return traces


CHUNK_EVENTS = 1 << 20
"""Events processed per block when filling the EVENTS table (keeps temporaries small and cache-warm)."""


@dataclass
class _Simulated:
    """One corrtag's EVENTS table (filled), its TIME column as written, per-trace truth and x1d sums."""

    events: Any  # fits.BinTableHDU
    time: np.ndarray
    truth: dict[str, dict[str, Any]]
    x1d_sums: dict[str, tuple[F64, F64]]


def _simulate(
    rng: np.random.Generator,
    traces: Sequence[_Trace],
    *,
    size: tuple[int, int],
    exposure: Exposure,
    signal: SignalSpec,
    background_rate: float,
    airglow_lines: Mapping[float, float],
    profile_sigma: float | None,
    region_pad: float,
    dq_fraction: float,
    benign_dq_fraction: float,
    sdqflags: int,
    shift1: float,
    shift2: float,
    doppler: float,
    pha: bool,
    nonmonotonic_time: bool = False,
    single_time: float | None = None,
    x1d_layout: tuple[int, float] | None = None,
    lamp: _Lamp | None = None,
) -> _Simulated:
    """Draw the events of one corrtag file into an EVENTS table; gather per-trace truth (and x1d sums).

    Arrival times and components are drawn for the whole exposure; positions, wavelengths, DQ, ε and
    PHA are then drawn block by block straight into the table's record array. ``lamp`` adds, during its
    flashes only, the wavecal stripe and the wings that raise the background bands.
    """
    xsize, ysize = size
    # components: (kind, trace index, line wavelength, max rate)
    comps: list[tuple[str, int, float, float]] = []
    for k, tr in enumerate(traces):
        if tr.source_rate > 0:
            comps.append(("source", k, 0.0, tr.source_rate * signal.maximum))
        lo, hi = tr.solution.range
        for line, rate in airglow_lines.items():
            if rate > 0 and lo < line < hi:
                comps.append(("airglow", k, line, rate))
    if background_rate > 0:
        comps.append(("background", -1, 0.0, background_rate * ysize))
    upper = np.cumsum([c[3] for c in comps]) if comps else np.zeros(0)
    total = float(upper[-1]) if comps else 0.0

    t = poisson_times(rng, total, exposure.gti)
    u = rng.random(len(t))
    u *= total
    comp = np.searchsorted(upper, u, side="right").astype(np.int16)
    np.minimum(comp, max(len(comps) - 1, 0), out=comp)
    if signal.kind != "constant" and len(t):
        lower = np.concatenate(([0.0], upper[:-1]))
        is_src = np.array([c[0] == "source" for c in comps], dtype=bool)
        src_rate = np.array([c[3] / signal.maximum if c[0] == "source" else 0.0 for c in comps])
        m_t = signal.evaluate(t)
        m_t *= src_rate[comp]
        u -= lower[comp]
        keep = u < m_t
        keep |= ~is_src[comp]
        del m_t
        t, comp = t[keep], comp[keep]
        del keep
    del u
    wing_bands: list[tuple[float, float, float]] = []
    if lamp is not None and len(lamp.intervals):
        # During a flash only: the wavecal stripe, and its wings over each distinct background band.
        flash_gti = _intersect(exposure.gti, lamp.intervals)
        extra: list[tuple[str, int, float, float]] = [("lamp", -1, lamp.y, lamp.rate)]
        for tr in traces:
            g = tr.geometry
            for centre, height in ((g.b_bkg1, g.b_hgt1), (g.b_bkg2, g.b_hgt2)):
                band = (centre, height, g.sp_slp)
                if band not in wing_bands:
                    wing_bands.append(band)
                    rate = lamp.wing_excess * background_rate * height
                    extra.append(("wing", len(wing_bands) - 1, centre, rate))
        times, labels = [t], [comp]
        for kind, k, where, rate in extra:
            if rate > 0:
                tf = poisson_times(rng, rate, flash_gti)
                times.append(tf)
                labels.append(np.full(len(tf), len(comps), dtype=comp.dtype))
            comps.append((kind, k, where, rate))
        t = np.concatenate(times)
        comp = np.concatenate(labels)
        order0 = np.argsort(t, kind="stable")
        t, comp = t[order0], comp[order0]
        del order0, times, labels
    n = len(t)
    time32 = t.astype(np.float32)
    if single_time is not None:
        time32[:] = np.float32(single_time)
    if nonmonotonic_time:
        time32 = break_monotonic(time32.astype(np.float64)).astype(np.float32)

    hdu = table_hdu("EVENTS", EVENT_COLUMNS, {}, n)
    data = hdu.data
    data["TIME"][:] = time32
    x_mid = xsize / 2.0
    ncomp = max(len(comps), 1)
    n_all = np.zeros(ncomp, dtype=np.int64)
    n_clean = np.zeros(ncomp, dtype=np.int64)
    tr_sums = {tr.name: np.zeros(8) for tr in traces}  # eps, n_out, eps_out, box, box_clean, b1, b2, bkg
    x1d_sums = (
        {tr.name: (np.zeros(x1d_layout[0]), np.zeros(x1d_layout[0])) for tr in traces} if x1d_layout else {}
    )
    src_of = {cc[1]: c for c, cc in enumerate(comps) if cc[0] == "source"}
    bkg_c = next((c for c, cc in enumerate(comps) if cc[0] == "background"), -1)
    lamp_c = [c for c, cc in enumerate(comps) if cc[0] == "lamp"]
    wing_c = [c for c, cc in enumerate(comps) if cc[0] == "wing"]

    for a in range(0, n, CHUNK_EVENTS):
        b = min(a + CHUNK_EVENTS, n)
        cc = comp[a:b]
        tt = t[a:b]
        m_all = b - a
        xfull = np.empty(m_all)
        yfull = np.empty(m_all)
        order = np.argsort(cc, kind="stable")
        bounds = np.searchsorted(cc[order], np.arange(len(comps) + 1))
        for c, (kind, k, line, _) in enumerate(comps):
            sel = order[bounds[c] : bounds[c + 1]]
            m = len(sel)
            if m == 0:
                continue
            if kind == "background":
                xfull[sel] = rng.random(m) * xsize
                yfull[sel] = rng.random(m) * ysize
                continue
            if kind == "lamp":
                xfull[sel] = rng.random(m) * xsize
                yfull[sel] = _inside(rng.normal(line, LAMP_SIGMA, m), ysize)
                continue
            if kind == "wing":
                centre, height, slope = wing_bands[k]
                x = rng.random(m) * xsize
                xfull[sel] = x
                yfull[sel] = _inside(centre + slope * (x - x_mid) + (rng.random(m) - 0.5) * height, ysize)
                continue
            tr = traces[k]
            g = tr.geometry
            half = g.sp_hgt / 2.0 - 1.0
            if kind == "source":
                x = sample_pixels(rng, m, tr.weights, tr.x_lo)
                sigma = profile_sigma if profile_sigma is not None else g.sp_hgt / 6.0
                y = truncated_normal(rng, m, g.sp_loc + g.sp_slp * (x - x_mid), sigma, half)
            else:
                width = max(0.2, 10.0 * abs(tr.solution.dispersion))
                x = tr.solution.position(rng.normal(line, width, m))
                y = g.sp_loc + g.sp_slp * (x - x_mid) + (rng.random(m) * 2.0 - 1.0) * half
            xfull[sel] = _inside(x, xsize)
            yfull[sel] = _inside(y, ysize)
        del order

        # wavelengths: FUV from XFULL over the whole active area; NUV only inside a stripe's region
        wave = np.zeros(m_all, dtype=np.float32)
        for tr in traces:
            g = tr.geometry
            if np.isinf(region_pad):
                wave[:] = tr.solution.wavelength(xfull)
            else:
                offset = np.abs(yfull - (g.sp_loc + g.sp_slp * (xfull - x_mid)))
                inside = offset < g.sp_hgt / 2.0 + region_pad
                wave[inside] = tr.solution.wavelength(xfull[inside])
        xdopp = xfull - shift1
        xcorr = xdopp - doppler * np.sin((2.0 * np.pi / ORBIT_SECONDS) * tt)
        _inside(xcorr, xsize)
        ycorr = _inside(yfull - shift2, ysize) if shift2 else yfull
        dq = dq_flags(rng, m_all, fraction=dq_fraction, benign_fraction=benign_dq_fraction)
        eps = rng.normal(1.0, 0.03, m_all).astype(np.float32)
        np.minimum(eps, np.float32(1.15), out=eps)
        np.maximum(eps, np.float32(0.85), out=eps)
        if pha:
            pulse = rng.integers(3, 28, m_all, dtype=np.uint8)
            bad_pha = np.flatnonzero(dq & 512)
            pulse[bad_pha] = np.where(rng.random(len(bad_pha)) < 0.5, 0, 31).astype(np.uint8)
        else:
            pulse = np.zeros(m_all, dtype=np.uint8)
        data["RAWX"][a:b] = np.minimum(np.rint(xcorr), xsize - 1)
        data["RAWY"][a:b] = np.minimum(np.rint(ycorr), ysize - 1)
        data["XCORR"][a:b] = xcorr
        data["YCORR"][a:b] = ycorr
        data["XDOPP"][a:b] = xdopp
        data["XFULL"][a:b] = xfull
        data["YFULL"][a:b] = yfull
        data["WAVELENGTH"][a:b] = wave
        data["EPSILON"][a:b] = eps
        data["DQ"][a:b] = dq
        data["PHA"][a:b] = pulse
        del xcorr, xdopp

        # truth and x1d sums for this block
        rejected = is_rejected(dq, sdqflags)
        n_all += np.bincount(cc, minlength=ncomp)[:ncomp]
        n_clean += np.bincount(cc[~rejected], minlength=ncomp)[:ncomp]
        bkg = np.flatnonzero(cc == bkg_c)
        xb, yb, rb = xfull[bkg], yfull[bkg], rejected[bkg]
        for k, tr in enumerate(traces):
            g = tr.geometry
            acc = tr_sums[tr.name]
            if k in src_of:
                clean_src = np.flatnonzero((cc == src_of[k]) & ~rejected)
                acc[0] += np.sum(eps[clean_src], dtype=np.float64)
                w_src = wave[clean_src]
                outside = np.ones(len(clean_src), dtype=bool)
                for lo, hi in AIRGLOW_WINDOWS:
                    outside &= ~((w_src >= lo) & (w_src <= hi))
                acc[1] += outside.sum()
                acc[2] += np.sum(eps[clean_src[outside]], dtype=np.float64)
            tilt = g.sp_slp * (xb - x_mid)
            in_box = np.abs(yb - g.sp_loc - tilt) < g.sp_hgt / 2.0
            acc[3] += in_box.sum()
            acc[4] += (in_box & ~rb).sum()
            acc[5] += (np.abs(yb - g.b_bkg1 - tilt) < g.b_hgt1 / 2.0).sum()
            acc[6] += (np.abs(yb - g.b_bkg2 - tilt) < g.b_hgt2 / 2.0).sum()
            acc[7] += len(bkg)
            if x1d_layout:
                nelem, x_offset = x1d_layout
                ok = np.flatnonzero(~rejected)
                pix = np.floor(xfull[ok] + x_offset).astype(np.int64)
                y_ok = yfull[ok]
                tilt_ok = g.sp_slp * (xfull[ok] - x_mid)
                valid = (pix >= 0) & (pix < nelem)
                box = valid & (np.abs(y_ok - g.sp_loc - tilt_ok) < g.sp_hgt / 2.0)
                in_bands = valid & (
                    (np.abs(y_ok - g.b_bkg1 - tilt_ok) < g.b_hgt1 / 2.0)
                    | (np.abs(y_ok - g.b_bkg2 - tilt_ok) < g.b_hgt2 / 2.0)
                )
                w_ok = eps[ok].astype(np.float64)
                gsum, bsum = x1d_sums[tr.name]
                gsum += np.bincount(pix[box], weights=w_ok[box], minlength=nelem)[:nelem]
                bsum += np.bincount(pix[in_bands], weights=w_ok[in_bands], minlength=nelem)[:nelem]

    live = exposure.exptime
    truth: dict[str, dict[str, Any]] = {}
    for k, tr in enumerate(traces):
        g = tr.geometry
        acc = tr_sums[tr.name]
        src_c = [src_of[k]] if k in src_of else []
        air_c = [c for c, cc in enumerate(comps) if cc[0] == "airglow" and cc[1] == k]
        truth[tr.name] = {
            "source_rate": tr.source_rate,
            "expected_source": tr.source_rate * signal.integral(exposure.gti),
            "n_source": int(n_all[src_c].sum()),
            "n_source_clean": int(n_clean[src_c].sum()),
            "sum_epsilon_source_clean": float(acc[0]),
            "n_source_clean_outside_airglow_windows": int(acc[1]),
            "sum_epsilon_source_clean_outside_airglow_windows": float(acc[2]),
            "n_airglow": int(n_all[air_c].sum()),
            "n_airglow_clean": int(n_clean[air_c].sum()),
            "n_background": int(n_all[bkg_c]) if bkg_c >= 0 else 0,
            "n_background_in_box": int(acc[3]),
            "n_background_in_box_clean": int(acc[4]),
            "n_background_in_bkg1": int(acc[5]),
            "n_background_in_bkg2": int(acc[6]),
            "expected_background_in_box": background_rate * g.sp_hgt * live,
            "geometry": asdict(g),
            "extracted": tr.extracted,
            "wavelength_range": tr.solution.range,
            "flux": tr.flux,
            "n_events": n,
            "n_lamp": int(n_all[lamp_c].sum()),
            "n_lamp_wing": int(n_all[wing_c].sum()),
        }
    return _Simulated(hdu, time32, truth, x1d_sums)


def _inside(a: F64, size: float) -> F64:
    """``a`` clipped in place to the detector range [0, size)."""
    np.maximum(a, 0.0, out=a)
    np.minimum(a, np.nextafter(float(size), 0.0), out=a)
    return a


def _check_common(rootname: str, exptime: float, source_rate: Any, background_rate: float) -> None:
    if not rootname or "/" in rootname or "\\" in rootname or rootname in (".", ".."):
        raise ValueError(f"rootname {rootname!r} must be a plain file-name stem")
    if background_rate < 0:
        raise ValueError("background_rate must be >= 0")
    rates = source_rate.values() if isinstance(source_rate, Mapping) else [source_rate]
    if any(r < 0 for r in rates):
        raise ValueError("source_rate must be >= 0")


def _ref_cards(
    reference_dir: str | Path | None, opt_elem: str, cenwave: int, aperture: str
) -> tuple[dict[str, str], dict[str, Path]]:
    names = (
        "FLUXTAB",
        "TDSTAB",
        "XTRACTAB",
        "DISPTAB",
        "BPIXTAB",
        "FLATFILE",
        "GSAGTAB",
        "HVTAB",
        "TWOZXTAB",
        "SPOTTAB",
    )
    cards = dict.fromkeys(names, "N/A")
    if reference_dir is None:
        return cards, {}
    refs = make_cos_reference_files(
        reference_dir, opt_elem=opt_elem, cenwave=cenwave, apertures=sorted({aperture.upper(), "PSA", "BOA"})
    )
    cards["FLUXTAB"] = lref_name(refs["fluxtab"])
    cards["TDSTAB"] = lref_name(refs["tdstab"])
    return cards, refs


def _primary_cards(
    *,
    rootname: str,
    filename: str,
    filetype: str,
    detector: str,
    segment: str,
    opt_elem: str,
    cenwave: int,
    aperture: str,
    fppos: int,
    obstype: str,
    targname: str,
    ra_targ: float,
    dec_targ: float,
    proposid: int,
    ref_cards: Mapping[str, str],
    calibrated: bool,
    cal_ver: str = "3.4.4",
    tagflash: str | None = None,
) -> dict[str, Any]:
    cards: dict[str, Any] = {
        "DATE": "2024-01-01",
        "FILENAME": filename,
        "FILETYPE": filetype,
        "TELESCOP": "HST",
        "INSTRUME": "COS",
        "EQUINOX": 2000.0,
        "ROOTNAME": rootname,
        "PRIMESI": "COS",
        "TARGNAME": targname,
        "RA_TARG": ra_targ,
        "DEC_TARG": dec_targ,
        "PROPOSID": proposid,
        "LINENUM": "1.001",
        "PR_INV_L": "Synthetic",
        "PR_INV_F": "Hstlc",
        "TARDESCR": "STAR;WHITE DWARF",
        "TARDESC2": "SYNTHETIC",
        "DETECTOR": detector,
        "SEGMENT": segment,
        "OBSTYPE": obstype,
        "OBSMODE": "TIME-TAG",
        "EXPTYPE": "EXTERNAL/SCI",
        "OPT_ELEM": opt_elem,
        "CENWAVE": cenwave,
        "APERTURE": aperture,
        "FPPOS": fppos,
        "LIFE_ADJ": 1,
        "XTRCTALG": "BOXCAR",
        "CAL_VER": cal_ver,
        "FLUXCORR": "PERFORM" if calibrated else "OMIT",
        "TDSCORR": "PERFORM" if calibrated else "OMIT",
        "HELCORR": "PERFORM",
    }
    if tagflash is not None:
        cards["TAGFLASH"] = tagflash  # primary header, as calcos getinfo reads it
    cards.update(ref_cards)
    return cards


def _events_cards(
    exposure: Exposure,
    *,
    expflag: str,
    sdqflags: int,
    letters: Sequence[str],
    shift_letters: Sequence[str],
    geometry_cards: Mapping[str, float],
    shift1: float,
    shift2: float,
) -> dict[str, Any]:
    date_obs, time_obs = mjd_to_date_time(exposure.expstart)
    cards: dict[str, Any] = {
        "EXPSTART": exposure.expstart,
        "EXPEND": exposure.expend,
        "EXPTIME": exposure.exptime,
    }
    for letter in letters:
        cards[f"EXPTIME{letter}"] = exposure.exptime
    cards.update({"EXPFLAG": expflag, "DATE-OBS": date_obs, "TIME-OBS": time_obs, "SDQFLAGS": sdqflags})
    cards.update(geometry_cards)
    for letter in shift_letters:
        cards[f"SHIFT1{letter}"] = shift1
        cards[f"SHIFT2{letter}"] = shift2
        cards[f"DPIXEL1{letter}"] = 0.0
    return cards


def _timeline_hdu(time: np.ndarray, exposure: Exposure) -> Any:
    if len(time):
        cols = timeline_columns(float(np.min(time)), float(np.max(time)))
    else:
        cols = timeline_columns(0.0, exposure.span)
    spec = [Col(k, "1E", u, disp=d) for k, (u, d) in TIMELINE_UNITS.items()]
    return table_hdu("TIMELINE", spec, cols, len(cols["TIME"]), ver=1)


X1D_COLUMNS_FIXED: tuple[Col, ...] = (Col("SEGMENT", "4A"), Col("EXPTIME", "1D", "s"), Col("NELEM", "1J"))


def _x1d_columns(n: int, cal_ver: str = "3.4.4") -> list[Col]:
    """COS x1d SCI columns (FORMATS §4.1) for rows of ``n`` pixels; a calcos < 3.4 x1d (e.g. 3.3.4, the
    real files of FORMATS §9) has no ERROR_LOWER and no VARIANCE_* columns."""
    e, d, i = f"{n}E", f"{n}D", f"{n}I"
    flux_unit = "erg /s /cm**2 /angstrom"
    new_errors = _version(cal_ver) >= NEW_X1D_ERRORS
    errors = [
        Col("ERROR_LOWER", e, flux_unit),
        Col("VARIANCE_FLAT", e),
        Col("VARIANCE_COUNTS", e),
        Col("VARIANCE_BKG", e),
    ]
    return [
        *X1D_COLUMNS_FIXED,
        Col("WAVELENGTH", d, "angstrom"),
        Col("FLUX", e, flux_unit),
        Col("ERROR", e, flux_unit),
        *(errors if new_errors else []),
        Col("GROSS", e, "count /s"),
        Col("GCOUNTS", e, "count"),
        Col("NET", e, "count /s"),
        Col("BACKGROUND", e, "count /s"),
        Col("DQ", i),
        Col("DQ_WGT", e),
        Col("DQ_OUTER", i),
        Col("BACKGROUND_PER_PIXEL", e, "count /s /pixel"),
        Col("NUM_EXTRACT_ROWS", i),
        Col("ACTUAL_EE", d),
        Col("Y_LOWER_OUTER", d),
        Col("Y_UPPER_OUTER", d),
        Col("Y_LOWER_INNER", d),
        Col("Y_UPPER_INNER", d),
    ]


def _x1d_row(
    tr: _Trace,
    sums: tuple[F64, F64],
    *,
    exptime: float,
    nelem: int,
    x_offset: float,
    opt_elem: str,
    cenwave: int,
    calibrated: bool,
    x_mid: float,
    mjd: float,
) -> dict[str, Any]:
    """One x1d row from the ε-weighted, DQ-clean box and background-band sums per x1d pixel."""
    g = tr.geometry
    gcounts, bcounts = sums
    live = exptime if exptime > 0 else 1.0
    bscale = g.sp_hgt / (g.b_hgt1 + g.b_hgt2)
    gross = gcounts / live
    background = bcounts * bscale / live
    net = gross - background
    centres = np.arange(nelem, dtype=np.float64) + 0.5 - x_offset
    wave = tr.solution.w0 + tr.solution.dispersion * (centres - tr.solution.x0)
    if calibrated:
        sens = cos_sensitivity(opt_elem, cenwave, tr.name, wave) * cos_tds_factor(
            opt_elem, tr.name, wave, mjd
        )
        flux = np.where(sens > 0, net / np.where(sens > 0, sens, 1.0), 0.0)
        err = np.where(
            sens > 0, np.sqrt(gcounts + bcounts * bscale**2) / live / np.where(sens > 0, sens, 1.0), 0
        )
    else:
        flux = np.zeros(nelem)
        err = np.zeros(nelem)
    rows = np.full(nelem, int(g.sp_hgt), dtype=np.int16)
    lower = g.sp_loc - g.sp_hgt / 2.0 + g.sp_slp * (centres - x_mid)
    return {
        "SEGMENT": tr.name,
        "EXPTIME": exptime,
        "NELEM": nelem,
        "WAVELENGTH": wave,
        "FLUX": flux,
        "ERROR": err,
        "ERROR_LOWER": err,
        "VARIANCE_FLAT": np.zeros(nelem),
        "VARIANCE_COUNTS": gcounts,
        "VARIANCE_BKG": bcounts * bscale**2,
        "GROSS": gross,
        "GCOUNTS": gcounts,
        "NET": net,
        "BACKGROUND": background,
        "DQ": np.where(tr.solution.wavelength(centres) > 0, 0, 128).astype(np.int16),
        "DQ_WGT": np.ones(nelem),
        "DQ_OUTER": np.zeros(nelem, dtype=np.int16),
        "BACKGROUND_PER_PIXEL": bcounts / (g.b_hgt1 + g.b_hgt2) / live,
        "NUM_EXTRACT_ROWS": rows,
        "ACTUAL_EE": np.ones(nelem),
        "Y_LOWER_OUTER": lower,
        "Y_UPPER_OUTER": lower + g.sp_hgt,
        "Y_LOWER_INNER": lower,
        "Y_UPPER_INNER": lower + g.sp_hgt,
    }


def _x1d_quality_cards(rows: Sequence[dict[str, Any]], exptime: float) -> dict[str, Any]:
    """SCI-header cards of a real calcos x1d that FORMATS §4.1 does not list (FORMATS §9): LIVETM_x,
    CHI_SQ_x, NDF_x per segment/stripe letter, NGOODPIX, GOODMEAN, GOODMAX (DQ-clean pixels' flux)."""
    cards: dict[str, Any] = {}
    for r in rows:
        letter = str(r["SEGMENT"])[-1]
        cards.update({f"LIVETM_{letter}": exptime, f"CHI_SQ_{letter}": 0.0, f"NDF_{letter}": 0})
    good = [np.asarray(r["FLUX"])[np.asarray(r["DQ"]) == 0] for r in rows]
    flux = np.concatenate(good) if good else np.zeros(0)
    cards.update({
        "NGOODPIX": len(flux),
        "GOODMEAN": float(np.mean(flux)) if len(flux) else 0.0,
        "GOODMAX": float(np.max(flux)) if len(flux) else 0.0,
    })
    return cards


def _write_x1d(
    path: Path,
    rows: Sequence[dict[str, Any]],
    nelem: int,
    prim: Mapping[str, Any],
    sci: Mapping[str, Any],
    cal_ver: str = "3.4.4",
) -> Path:
    spec = _x1d_columns(nelem, cal_ver)
    data: dict[str, Any] = {c.name: [r[c.name] for r in rows] for c in spec}
    for c in spec:
        if c.name not in ("SEGMENT",):
            data[c.name] = np.asarray(data[c.name])
    p = dict(prim)
    p.update({"FILENAME": path.name, "FILETYPE": "SCI EXTRACTED SPECTRA", "NEXTEND": 1})
    header = {**sci, **_x1d_quality_cards(rows, float(sci.get("EXPTIME", 0.0) or 0.0))}
    write_hdus(path, [primary_hdu(p), table_hdu("SCI", spec, data, len(rows), header=header)])
    return path


def _make_cos(
    directory: str | Path,
    rootname: str,
    *,
    detector: str,
    segments: Sequence[str],
    opt_elem: str,
    cenwave: int,
    aperture: str,
    fppos: int,
    targname: str,
    ra_targ: float,
    dec_targ: float,
    proposid: int,
    exptime: float,
    expstart: float,
    gti: Sequence[Sequence[float]] | npt.ArrayLike | None,
    raw_gti: Sequence[Sequence[float]] | npt.ArrayLike | None,
    source_rate: float | Mapping[str, float],
    background_rate: float,
    signal: SignalSpec | None,
    geometry: Mapping[str, ExtractionGeometry | None] | None,
    profile_sigma: float | None,
    airglow: bool | Mapping[float, float] | None,
    dq_fraction: float,
    benign_dq_fraction: float,
    sdqflags: int,
    expflag: str,
    nonmonotonic_time: bool,
    single_time: float | None,
    timeline: bool,
    shift1: float,
    shift2: float,
    doppler: float,
    reference_dir: str | Path | None,
    x1d: bool,
    primary_header: Mapping[str, Any] | None,
    events_header: Mapping[str, Any] | None,
    seed: int | None,
    cal_ver: str = "3.4.4",
    lamp_flashes: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    flash_keywords: bool = True,
    lamp_rate: float = LAMP_RATE,
    lamp_wing_excess: float = LAMP_WING_EXCESS,
    lamp_y: float | Mapping[str, float] | None = None,
    tagflash: str = "AUTO",
) -> SyntheticDataset:
    directory = Path(directory)
    _check_common(rootname, exptime, source_rate, background_rate)
    if lamp_rate < 0 or lamp_wing_excess < 0:
        raise ValueError("lamp_rate and lamp_wing_excess must be >= 0")
    flashes = _lamp_intervals(lamp_flashes)
    fuv = detector == "FUV"
    opt_elem = opt_elem.upper()
    cenwave = int(cenwave)
    imaging = opt_elem.startswith("MIRROR")
    if imaging and fuv:
        raise ValueError("COS imaging uses the NUV MIRRORA/MIRRORB")
    signal = signal or constant()
    exposure = make_exposure(expstart=expstart, exptime=exptime, gti=gti, raw_gti=raw_gti)
    ref_cards, refs = _ref_cards(None if imaging else reference_dir, opt_elem, cenwave, aperture)
    if imaging:
        traces = [_imaging_trace(source_rate)]
    else:
        traces = _build_traces(
            segments,
            opt_elem=opt_elem,
            cenwave=cenwave,
            source_rate=source_rate,
            geometry=geometry,
            calibrated=bool(refs),
            exposure=exposure,
        )
    lines = {} if imaging else _airglow(airglow)
    size = COS_FUV_SIZE if fuv else COS_NUV_SIZE
    x_mid = size[0] / 2.0
    # one file per FUV segment, one NUV file holding all stripes
    groups = [[tr] for tr in traces] if fuv else [traces]
    seeds = np.random.SeedSequence(seed).spawn(len(groups))

    x1d_layout = ((16384, 0.0) if fuv else (1274, 100.0)) if (x1d and not imaging) else None

    def lamp_of(k: int) -> _Lamp | None:
        if lamp_flashes is None:
            return None
        name = groups[k][0].name if fuv else "NUV"
        if isinstance(lamp_y, Mapping):
            y = float(lamp_y.get(name, LAMP_Y[name]))
        else:
            y = LAMP_Y[name] if lamp_y is None else float(lamp_y)
        return _Lamp(flashes, y, float(lamp_rate), float(lamp_wing_excess))

    def simulate(k: int) -> _Simulated:
        return _simulate(
            np.random.default_rng(seeds[k]),
            groups[k],
            size=size,
            exposure=exposure,
            signal=signal,
            background_rate=background_rate,
            airglow_lines=lines,
            profile_sigma=profile_sigma,
            region_pad=np.inf if fuv else 15.0,
            dq_fraction=dq_fraction,
            benign_dq_fraction=benign_dq_fraction,
            sdqflags=sdqflags,
            shift1=shift1,
            shift2=shift2,
            doppler=doppler,
            pha=fuv,
            nonmonotonic_time=nonmonotonic_time,
            single_time=single_time,
            x1d_layout=x1d_layout,
            lamp=lamp_of(k),
        )

    letters_all = ("A", "B") if fuv else ("A", "B", "C")
    primary_cards = partial(
        _primary_cards,
        rootname=rootname,
        detector=detector,
        opt_elem=opt_elem,
        cenwave=0 if imaging else cenwave,
        aperture=aperture,
        fppos=fppos,
        obstype="IMAGING" if imaging else "SPECTROSCOPIC",
        targname=targname,
        ra_targ=ra_targ,
        dec_targ=dec_targ,
        proposid=proposid,
        ref_cards=ref_cards,
        calibrated=bool(refs),
        cal_ver=cal_ver,
        tagflash=tagflash if lamp_flashes is not None else None,
    )

    def write(k: int, sim: _Simulated) -> tuple[Path, dict[str, Any], dict[str, Any]]:
        group = groups[k]
        own: tuple[str, ...]
        if fuv:
            letter = group[0].name[-1]
            path = directory / f"{rootname}_corrtag_{letter.lower()}.fits"
            segment, filetype, own = group[0].name, "CALIBRATED FUV TIME-TAG EVENT LIST", (letter,)
        else:
            path = directory / f"{rootname}_corrtag.fits"
            segment, filetype, own = "N/A", "CALIBRATED NUV TIME-TAG EVENT LIST", ()
        geo_cards: dict[str, float] = {}
        extracted = {tr.name[-1]: tr for tr in group if tr.extracted and not imaging}
        for letter in letters_all:
            tr = extracted.get(letter)
            geo_cards.update(tr.geometry.keywords(letter) if tr else not_extracted_keywords(letter))
        prim = primary_cards(filename=path.name, filetype=filetype, segment=segment)
        prim.update(primary_header or {})
        evh = _events_cards(
            exposure,
            expflag=expflag,
            sdqflags=sdqflags,
            letters=own,
            shift_letters=letters_all if not fuv else own,
            geometry_cards=geo_cards,
            shift1=shift1,
            shift2=shift2,
        )
        if lamp_flashes is not None and flash_keywords:
            evh.update(lamp_flash_cards(_intersect(exposure.gti, flashes) if len(flashes) else flashes))
        evh.update(events_header or {})
        apply_header(sim.events.header, evh)
        hdus = [primary_hdu(prim), sim.events, *exposure.gti_hdus()]
        if timeline:
            hdus.append(_timeline_hdu(sim.time, exposure))
        hdus[0].header["NEXTEND"] = len(hdus) - 1
        write_hdus(path, hdus)
        return path, prim, evh

    def run(k: int) -> tuple[Path, dict[str, Any], list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
        sim = simulate(k)
        path, prim, evh = write(k, sim)
        rows = []
        if x1d_layout is not None:
            nelem, offset = x1d_layout
            rows = [
                _x1d_row(
                    tr,
                    sim.x1d_sums[tr.name],
                    exptime=exposure.exptime,
                    nelem=nelem,
                    x_offset=offset,
                    opt_elem=opt_elem,
                    cenwave=cenwave,
                    calibrated=bool(refs),
                    x_mid=x_mid,
                    mjd=exposure.midpoint,
                )
                for tr in groups[k]
            ]
        return path, sim.truth, rows, prim, evh

    workers = min(len(groups), os.cpu_count() or 1, 2)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(run, range(len(groups))))
    else:
        results = [run(k) for k in range(len(groups))]

    event_files = [r[0] for r in results]
    seg_truth: dict[str, Any] = {}
    for r in results:
        seg_truth.update(r[1])
    files = list(event_files)
    x1d_path = None
    if x1d and not imaging:
        rows = [row for r in results for row in r[2]]
        prim = dict(results[0][3])
        prim["SEGMENT"] = ("BOTH" if len(rows) == 2 else rows[0]["SEGMENT"]) if fuv else "N/A"
        sci = {k: v for k, v in results[0][4].items() if k not in ("EXPTIMEA", "EXPTIMEB")}
        for r in results[1:]:
            sci.update({k: v for k, v in r[4].items() if v != NOT_EXTRACTED})
        x1d_path = _write_x1d(
            directory / f"{rootname}_x1d.fits", rows, 16384 if fuv else 1274, prim, sci, cal_ver
        )
        files.append(x1d_path)
    files += list(refs.values())
    truth_all = {
        "instrument": "COS",
        "detector": detector,
        "rootname": rootname,
        "opt_elem": opt_elem,
        "cenwave": 0 if imaging else cenwave,
        "obstype": "IMAGING" if imaging else "SPECTROSCOPIC",
        "expstart": exposure.expstart,
        "expend": exposure.expend,
        "exptime": exposure.exptime,
        "gti": exposure.gti.tolist(),
        "raw_gti": exposure.raw_gti.tolist(),
        "signal": signal.as_dict(),
        "signal_spec": signal,
        "source_rate": source_rate,
        "background_rate": background_rate,
        "background_rate_unit": "events/s per YCORR pixel over the whole detector width",
        "airglow": lines,
        "sdqflags": sdqflags,
        "cal_ver": cal_ver,
        "lamp_flashes": (_intersect(exposure.gti, flashes) if len(flashes) else flashes).tolist(),
        "lamp_rate": float(lamp_rate) if lamp_flashes is not None else 0.0,
        "lamp_wing_excess": float(lamp_wing_excess) if lamp_flashes is not None else 0.0,
        "segments": seg_truth,
    }
    return SyntheticDataset(rootname, tuple(files), tuple(event_files), x1d_path, truth_all, refs)


def _imaging_trace(source_rate: float | Mapping[str, float]) -> _Trace:
    """A point source at the NUV detector centre (MIRRORA/B): wavelengths stay 0."""
    rate = float(source_rate["NUV"]) if isinstance(source_rate, Mapping) else float(source_rate)
    prof = np.exp(-0.5 * ((np.arange(1024) + 0.5 - 512.0) / 3.0) ** 2)
    sol = LinearSolution(0.0, 0.0, 0.0, 0.0, 0.0)
    geo = ExtractionGeometry(512.0, 20.0, 100.0, 40.0, 900.0, 40.0)
    return _Trace("NUV", sol, geo, False, rate, prof, 0.0, None)


def make_cos_fuv(
    directory: str | Path,
    rootname: str = "lb4m01aaq",
    *,
    segments: Sequence[str] = ("FUVA", "FUVB"),
    opt_elem: str = "G130M",
    cenwave: int = 1291,
    aperture: str = "PSA",
    fppos: int = 3,
    targname: str = "SYNTH-WD1",
    ra_targ: float = 150.125,
    dec_targ: float = 2.25,
    proposid: int = 12345,
    exptime: float = 1000.0,
    expstart: float = 55500.25,
    gti: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    raw_gti: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    source_rate: float | Mapping[str, float] = 100.0,
    background_rate: float = 0.02,
    signal: SignalSpec | None = None,
    geometry: Mapping[str, ExtractionGeometry | None] | None = None,
    profile_sigma: float | None = None,
    airglow: bool | Mapping[float, float] | None = None,
    dq_fraction: float = 0.0,
    benign_dq_fraction: float = 0.0,
    sdqflags: int = DEFAULT_SDQFLAGS,
    expflag: str = "NORMAL",
    nonmonotonic_time: bool = False,
    single_time: float | None = None,
    timeline: bool = True,
    shift1: float = 3.2,
    shift2: float = 0.0,
    doppler: float = 2.0,
    reference_dir: str | Path | None = None,
    x1d: bool = False,
    primary_header: Mapping[str, Any] | None = None,
    events_header: Mapping[str, Any] | None = None,
    seed: int | None = 0,
    cal_ver: str = "3.4.4",
    lamp_flashes: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    flash_keywords: bool = True,
    lamp_rate: float = LAMP_RATE,
    lamp_wing_excess: float = LAMP_WING_EXCESS,
    lamp_y: float | Mapping[str, float] | None = None,
    tagflash: str = "AUTO",
) -> SyntheticDataset:
    """Write ``<rootname>_corrtag_a.fits`` / ``_corrtag_b.fits`` (one per entry of ``segments``).

    Rates are per segment (``source_rate`` may be a mapping FUVA/FUVB → counts/s; ``background_rate``
    is events/s per YCORR pixel spread over the whole segment). ``gti`` (list of [start, stop] s)
    writes a second GTI table (EXTVER=2) after the raw one (``raw_gti`` or [0, max(exptime, last
    stop)]) and sets EXPTIME = Σ GTI; events fall only inside it. ``geometry`` maps a segment to an
    :class:`ExtractionGeometry` (or ``None`` for ``-999`` keywords). ``airglow=True`` adds Lyα and
    O I lines filling the slit height (or pass {wavelength: counts/s}). ``dq_fraction`` of events get
    a rejected DQ bit (8, 16 from SDQFLAGS or the serious 64/512/2048), ``benign_dq_fraction`` a
    harmless one (4, 1024). With ``reference_dir`` a FLUXTAB/TDSTAB is written there, named in the
    primary header, and the source is a flat f_λ (``truth['segments'][s]['flux']``) shaped by
    SENSITIVITY × TDS at the exposure midpoint. ``x1d=True`` also writes ``<rootname>_x1d.fits``.
    ``primary_header``/``events_header`` override or (value ``None``) delete any card.
    The bad-data conditions are in :data:`BAD_CONDITIONS`.

    ``cal_ver`` is the primary CAL_VER; below 3.4 (e.g. ``"3.3.4"``, the real files of FORMATS §9) the
    x1d has no ERROR_LOWER/VARIANCE_* columns. Every x1d SCI header also carries LIVETM_x, CHI_SQ_x,
    NDF_x, NGOODPIX, GOODMEAN, GOODMAX as real ones do.

    Lamp flashes (``lamp_flashes``: list of [on, off] s since EXPSTART): the primary gets
    ``TAGFLASH = tagflash`` ('AUTO'); during each flash (inside the GTIs) a wavecal stripe of
    ``lamp_rate`` counts/s lies at YCORR ``lamp_y`` (default :data:`LAMP_Y`, clear of the bands) and
    extra events raise every background band's rate by ``lamp_wing_excess`` (0.4, FORMATS §9); the
    source box gets none of them. ``flash_keywords`` writes the EVENTS cards calcos leaves with the
    measured times (:func:`lamp_flash_cards`: NUMFLASH, LMP_ONi, LMPOFFi, LMPDURi, LMPMEDi; FORMATS.md
    does not list them); ``False`` leaves only TAGFLASH, as in a file without them. ``lamp_flashes=[]``
    is a TAGFLASH exposure whose lamp never came on. Truth: ``lamp_flashes`` (∩ GTIs), ``lamp_rate``,
    ``lamp_wing_excess``; per segment ``n_lamp`` and ``n_lamp_wing``.

    ``truth``: instrument, detector, rootname, opt_elem, cenwave, expstart, expend, exptime, gti,
    raw_gti, signal (dict) and signal_spec, source_rate, background_rate, airglow, sdqflags and
    ``segments[name]`` with n_events (in the file), n_source, n_source_clean, sum_epsilon_source_clean,
    expected_source (= rate × ∫signal over the GTIs), n_airglow(_clean), n_background,
    n_background_in_box(_clean), n_background_in_bkg1/2, expected_background_in_box, geometry,
    extracted, wavelength_range, flux, n_source_clean_outside_airglow_windows and
    sum_epsilon_source_clean_outside_airglow_windows (:data:`AIRGLOW_WINDOWS`).
    "In box" means ``|y − (SP_LOC + SP_SLP·(x − 8192))| < SP_HGT/2``; source events lie strictly
    within SP_HGT/2 − 1 of the trace (y = YFULL = YCORR when ``shift2`` is 0).
    """
    segs = tuple(s.upper() for s in segments)
    if not segs or any(s not in ("FUVA", "FUVB") for s in segs) or len(set(segs)) != len(segs):
        raise ValueError("segments must be a non-empty subset of ('FUVA', 'FUVB')")
    params = dict(locals())
    params.pop("segs")
    params["segments"] = segs
    return _make_cos(detector="FUV", **params)


def make_cos_nuv(
    directory: str | Path,
    rootname: str = "lb4m02abq",
    *,
    stripes: Sequence[str] = ("NUVA", "NUVB", "NUVC"),
    opt_elem: str = "G185M",
    cenwave: int = 1786,
    aperture: str = "PSA",
    fppos: int = 3,
    targname: str = "SYNTH-WD1",
    ra_targ: float = 150.125,
    dec_targ: float = 2.25,
    proposid: int = 12345,
    exptime: float = 1000.0,
    expstart: float = 55500.30,
    gti: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    raw_gti: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    source_rate: float | Mapping[str, float] = 50.0,
    background_rate: float = 0.02,
    signal: SignalSpec | None = None,
    geometry: Mapping[str, ExtractionGeometry | None] | None = None,
    profile_sigma: float | None = None,
    airglow: bool | Mapping[float, float] | None = None,
    dq_fraction: float = 0.0,
    benign_dq_fraction: float = 0.0,
    sdqflags: int = 184,
    expflag: str = "NORMAL",
    nonmonotonic_time: bool = False,
    single_time: float | None = None,
    timeline: bool = True,
    shift1: float = 1.5,
    shift2: float = 0.0,
    doppler: float = 0.5,
    reference_dir: str | Path | None = None,
    x1d: bool = False,
    primary_header: Mapping[str, Any] | None = None,
    events_header: Mapping[str, Any] | None = None,
    seed: int | None = 0,
    cal_ver: str = "3.4.4",
    lamp_flashes: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    flash_keywords: bool = True,
    lamp_rate: float = LAMP_RATE,
    lamp_wing_excess: float = LAMP_WING_EXCESS,
    lamp_y: float | Mapping[str, float] | None = None,
    tagflash: str = "AUTO",
) -> SyntheticDataset:
    """Write ``<rootname>_corrtag.fits``: one COS NUV event list holding stripes A, B and C.

    Same controls and truth as :func:`make_cos_fuv`, per stripe (``source_rate`` per stripe; mapping
    keys NUVA/NUVB/NUVC; ``stripes`` picks which stripes carry a source, the other stripes' keywords
    are ``-999``). The primary SEGMENT is ``N/A``; extraction keywords SP_LOC_A/B/C … sit in the
    EVENTS header; wavelengths are assigned only inside a stripe's region (box ± 15 px), 0 elsewhere;
    PHA is 0. ``opt_elem="MIRRORA"``/``"MIRRORB"`` writes an IMAGING exposure (CENWAVE 0, a point
    source at the detector centre, all WAVELENGTH 0, truth under ``segments['NUV']``). Lamp flashes as
    for FUV (wavecal stripe at YCORR 850 by default).
    """
    names = tuple(s.upper() for s in stripes)
    if not names or any(s not in ("NUVA", "NUVB", "NUVC") for s in names) or len(set(names)) != len(names):
        raise ValueError("stripes must be a non-empty subset of ('NUVA', 'NUVB', 'NUVC')")
    params = dict(locals())
    params.pop("names")
    params.pop("stripes")
    params["segments"] = names
    return _make_cos(detector="NUV", **params)


__all__ = [
    "AIRGLOW_LINES",
    "AIRGLOW_WINDOWS",
    "DEFAULT_GEOMETRY",
    "DEFAULT_SDQFLAGS",
    "EVENT_COLUMNS",
    "LAMP_RATE",
    "LAMP_WING_EXCESS",
    "LAMP_Y",
    "NOT_EXTRACTED",
    "ExtractionGeometry",
    "lamp_flash_cards",
    "make_cos_fuv",
    "make_cos_nuv",
    "not_extracted_keywords",
]
