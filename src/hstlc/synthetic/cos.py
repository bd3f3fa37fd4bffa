"""Synthetic COS TIME-TAG data: FUV ``_corrtag_a/_b`` pairs, NUV ``_corrtag`` and optional ``_x1d``.

Formats follow FORMATS.md §1–§2 and §4.1 to the letter (column names, TFORMs, TUNITs, which header
holds which keyword). Events are a source spectrum along each trace (Gaussian cross-dispersion
profile truncated inside the SP_HGT box, following SP_SLP), a flat background over the whole detector
(``background_rate`` events/s per cross-dispersion pixel), optional geocoronal airglow lines filling
the slit height, and optional DQ-flagged events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
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
from hstlc.synthetic.fitsfile import Col, primary_hdu, table_hdu, write_hdus
from hstlc.synthetic.optics import (
    COS_FUV_SIZE,
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

DEFAULT_SDQFLAGS = 8376
"""184 (edge, dead spot, background feature, out of bounds) + 8192 (gain-sag hole), as in [lc] tests."""


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
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Draw the events of one corrtag file; return its columns and per-trace truth."""
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

    draw = poisson_times(rng, total, exposure.gti)
    t = draw.time
    u = rng.random(len(t)) * total
    comp = np.searchsorted(upper, u, side="right").astype(np.int16)
    np.clip(comp, 0, max(len(comps) - 1, 0), out=comp)
    if signal.kind != "constant":
        lower = np.concatenate(([0.0], upper[:-1]))
        is_src = np.array([c[0] == "source" for c in comps], dtype=bool)
        src_rate = np.array([c[3] / signal.maximum if c[0] == "source" else 0.0 for c in comps])
        keep = ~is_src[comp] | ((u - lower[comp]) < src_rate[comp] * signal.evaluate(t))
        t, comp = t[keep], comp[keep]
    del u
    n = len(t)

    xfull = np.empty(n)
    yfull = np.empty(n)
    x_mid = xsize / 2.0
    order = np.argsort(comp, kind="stable")
    bounds = np.searchsorted(comp[order], np.arange(len(comps) + 1))
    for c, (kind, k, line, _) in enumerate(comps):
        sel = order[bounds[c] : bounds[c + 1]]
        m = len(sel)
        if m == 0:
            continue
        if kind == "background":
            xfull[sel] = rng.random(m) * xsize
            yfull[sel] = rng.random(m) * ysize
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
    wave = np.zeros(n, dtype=np.float32)
    for tr in traces:
        g = tr.geometry
        if np.isinf(region_pad):
            wave[:] = tr.solution.wavelength(xfull)
        else:
            inside = np.abs(yfull - (g.sp_loc + g.sp_slp * (xfull - x_mid))) < g.sp_hgt / 2.0 + region_pad
            wave[inside] = tr.solution.wavelength(xfull[inside])

    xdopp = xfull - shift1
    xcorr = _inside(xdopp - doppler * np.sin((2.0 * np.pi / ORBIT_SECONDS) * t), xsize)
    ycorr = _inside(yfull - shift2, ysize) if shift2 else yfull
    dq = dq_flags(rng, n, fraction=dq_fraction, benign_fraction=benign_dq_fraction)
    eps = rng.normal(1.0, 0.03, n).astype(np.float32)
    np.minimum(eps, np.float32(1.15), out=eps)
    np.maximum(eps, np.float32(0.85), out=eps)
    if pha:
        pulse = rng.integers(3, 28, n, dtype=np.uint8)
        bad_pha = np.flatnonzero(dq & 512)
        pulse[bad_pha] = np.where(rng.random(len(bad_pha)) < 0.5, 0, 31).astype(np.uint8)
    else:
        pulse = np.zeros(n, dtype=np.uint8)
    cols: dict[str, np.ndarray] = {
        "TIME": t.astype(np.float32),
        "RAWX": np.rint(xcorr).astype(np.int16),
        "RAWY": np.rint(ycorr).astype(np.int16),
        "XCORR": xcorr.astype(np.float32),
        "YCORR": ycorr.astype(np.float32),
        "XDOPP": xdopp.astype(np.float32),
        "XFULL": xfull.astype(np.float32),
        "YFULL": yfull.astype(np.float32),
        "WAVELENGTH": wave,
        "EPSILON": eps,
        "DQ": dq,
        "PHA": pulse,
    }
    np.minimum(cols["RAWX"], xsize - 1, out=cols["RAWX"])
    np.minimum(cols["RAWY"], ysize - 1, out=cols["RAWY"])
    del xcorr, xdopp

    # truth per trace
    rejected = is_rejected(dq, sdqflags)
    live = exposure.exptime
    truth: dict[str, dict[str, Any]] = {}
    bkg_c = next((c for c, cc in enumerate(comps) if cc[0] == "background"), -1)
    bkg = np.flatnonzero(comp == bkg_c)
    xb, yb, rb = xfull[bkg], yfull[bkg], rejected[bkg]
    n_comp_all = np.bincount(comp, minlength=len(comps))
    n_comp_clean = np.bincount(comp[~rejected], minlength=len(comps))
    for k, tr in enumerate(traces):
        g = tr.geometry
        src_c = [c for c, cc in enumerate(comps) if cc[0] == "source" and cc[1] == k]
        air_c = [c for c, cc in enumerate(comps) if cc[0] == "airglow" and cc[1] == k]
        if src_c:
            clean_src = (comp == src_c[0]) & ~rejected
            sum_eps = float(np.sum(eps[clean_src], dtype=np.float64))
        else:
            sum_eps = 0.0
        tilt = g.sp_slp * (xb - x_mid)
        in_box = np.abs(yb - g.sp_loc - tilt) < g.sp_hgt / 2.0
        in_b1 = np.abs(yb - g.b_bkg1 - tilt) < g.b_hgt1 / 2.0
        in_b2 = np.abs(yb - g.b_bkg2 - tilt) < g.b_hgt2 / 2.0
        truth[tr.name] = {
            "source_rate": tr.source_rate,
            "expected_source": tr.source_rate * signal.integral(exposure.gti),
            "n_source": int(n_comp_all[src_c].sum()),
            "n_source_clean": int(n_comp_clean[src_c].sum()),
            "sum_epsilon_source_clean": sum_eps,
            "n_airglow": int(n_comp_all[air_c].sum()),
            "n_airglow_clean": int(n_comp_clean[air_c].sum()),
            "n_background": len(bkg),
            "n_background_in_box": int(in_box.sum()),
            "n_background_in_box_clean": int((in_box & ~rb).sum()),
            "n_background_in_bkg1": int(in_b1.sum()),
            "n_background_in_bkg2": int(in_b2.sum()),
            "expected_background_in_box": background_rate * g.sp_hgt * live,
            "geometry": asdict(g),
            "extracted": tr.extracted,
            "wavelength_range": tr.solution.range,
            "flux": tr.flux,
        }
    return cols, truth


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
        "CAL_VER": "3.4.4",
        "FLUXCORR": "PERFORM" if calibrated else "OMIT",
        "TDSCORR": "PERFORM" if calibrated else "OMIT",
        "HELCORR": "PERFORM",
    }
    cards.update(ref_cards)
    return cards


def _events_cards(
    exposure: Exposure,
    *,
    expflag: str,
    sdqflags: int,
    letters: Sequence[str],
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
    for letter in letters:
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


def _apply_time_conditions(
    cols: dict[str, np.ndarray], nonmonotonic_time: bool, single_time: float | None
) -> None:
    if single_time is not None:
        cols["TIME"] = np.full(len(cols["TIME"]), single_time, dtype=np.float32)
    if nonmonotonic_time:
        cols["TIME"] = break_monotonic(cols["TIME"].astype(np.float64)).astype(np.float32)


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
    primary_header: Mapping[str, Any] | None = None,
    events_header: Mapping[str, Any] | None = None,
    seed: int | None = 0,
) -> SyntheticDataset:
    """Write ``<rootname>_corrtag_a.fits`` / ``_corrtag_b.fits`` (one per entry of ``segments``).

    Rates are per segment (``source_rate`` may be a mapping FUVA/FUVB → rate). ``gti`` (list of
    [start, stop] s) writes a second GTI table (EXTVER=2) after the raw one and sets EXPTIME = Σ GTI;
    events fall only inside it. ``geometry`` maps a segment to an :class:`ExtractionGeometry` (or
    ``None`` for ``-999`` keywords). With ``reference_dir`` a FLUXTAB/TDSTAB is written there, named in
    the primary header, and the source spectrum is a flat f_λ (``truth['segments'][s]['flux']``)
    shaped by SENSITIVITY × TDS. ``primary_header``/``events_header`` override or (value ``None``)
    delete any card. ``truth`` keys: instrument, rootname, expstart, expend, exptime, gti, raw_gti,
    signal, source_rate, background_rate, airglow, sdqflags, segments → per-segment counts.
    """
    directory = Path(directory)
    segs = tuple(s.upper() for s in segments)
    if not segs or any(s not in ("FUVA", "FUVB") for s in segs) or len(set(segs)) != len(segs):
        raise ValueError("segments must be a non-empty subset of ('FUVA', 'FUVB')")
    _check_common(rootname, exptime, source_rate, background_rate)
    rng = np.random.default_rng(seed)
    signal = signal or constant()
    exposure = make_exposure(expstart=expstart, exptime=exptime, gti=gti, raw_gti=raw_gti)
    ref_cards, refs = _ref_cards(reference_dir, opt_elem, cenwave, aperture)
    traces = _build_traces(
        segs,
        opt_elem=opt_elem.upper(),
        cenwave=int(cenwave),
        source_rate=source_rate,
        geometry=geometry,
        calibrated=bool(refs),
        exposure=exposure,
    )
    lines = _airglow(airglow)

    event_files: list[Path] = []
    seg_truth: dict[str, Any] = {}
    for tr in traces:
        cols, truth = _simulate(
            rng,
            [tr],
            size=COS_FUV_SIZE,
            exposure=exposure,
            signal=signal,
            background_rate=background_rate,
            airglow_lines=lines,
            profile_sigma=profile_sigma,
            region_pad=np.inf,
            dq_fraction=dq_fraction,
            benign_dq_fraction=benign_dq_fraction,
            sdqflags=sdqflags,
            shift1=shift1,
            shift2=shift2,
            doppler=doppler,
            pha=True,
        )
        _apply_time_conditions(cols, nonmonotonic_time, single_time)
        letter = tr.name[-1]
        suffix = letter.lower()
        path = directory / f"{rootname}_corrtag_{suffix}.fits"
        geo_cards: dict[str, float] = {}
        for other in ("A", "B"):
            if other == letter and tr.extracted:
                geo_cards.update(tr.geometry.keywords(other))
            else:
                geo_cards.update(not_extracted_keywords(other))
        prim = _primary_cards(
            rootname=rootname,
            filename=path.name,
            filetype="CALIBRATED FUV TIME-TAG EVENT LIST",
            detector="FUV",
            segment=tr.name,
            opt_elem=opt_elem.upper(),
            cenwave=int(cenwave),
            aperture=aperture,
            fppos=fppos,
            obstype="SPECTROSCOPIC",
            targname=targname,
            ra_targ=ra_targ,
            dec_targ=dec_targ,
            proposid=proposid,
            ref_cards=ref_cards,
            calibrated=bool(refs),
        )
        prim.update(primary_header or {})
        evh = _events_cards(
            exposure,
            expflag=expflag,
            sdqflags=sdqflags,
            letters=(letter,),
            geometry_cards=geo_cards,
            shift1=shift1,
            shift2=shift2,
        )
        evh.update(events_header or {})
        hdus = [primary_hdu(prim), table_hdu("EVENTS", EVENT_COLUMNS, cols, len(cols["TIME"]), header=evh)]
        hdus += exposure.gti_hdus()
        if timeline:
            hdus.append(_timeline_hdu(cols["TIME"], exposure))
        hdus[0].header["NEXTEND"] = len(hdus) - 1
        write_hdus(path, hdus)
        event_files.append(path)
        seg_truth[tr.name] = {**truth[tr.name], "n_events": len(cols["TIME"])}
        del cols

    files = list(event_files)
    x1d_path = None
    files += list(refs.values())
    truth_all = {
        "instrument": "COS",
        "detector": "FUV",
        "rootname": rootname,
        "opt_elem": opt_elem.upper(),
        "cenwave": int(cenwave),
        "expstart": exposure.expstart,
        "expend": exposure.expend,
        "exptime": exposure.exptime,
        "gti": exposure.gti.tolist(),
        "raw_gti": exposure.raw_gti.tolist(),
        "signal": signal.as_dict(),
        "signal_spec": signal,
        "source_rate": source_rate,
        "background_rate": background_rate,
        "background_rate_unit": "events/s per YCORR pixel over the whole segment width",
        "airglow": lines,
        "sdqflags": sdqflags,
        "segments": seg_truth,
    }
    return SyntheticDataset(rootname, tuple(files), tuple(event_files), x1d_path, truth_all, refs)


__all__ = [
    "AIRGLOW_LINES",
    "DEFAULT_GEOMETRY",
    "DEFAULT_SDQFLAGS",
    "EVENT_COLUMNS",
    "NOT_EXTRACTED",
    "ExtractionGeometry",
    "make_cos_fuv",
    "not_extracted_keywords",
]
