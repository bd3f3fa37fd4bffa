"""Synthetic calibration reference tables in the CRDS formats of FORMATS.md §5.

COS: FLUXTAB (``*_phot.fits``) and TDSTAB (``*_tds.fits``). STIS: P-flat and L-flat (``_pfl``, ``_lfl``),
BPIXTAB (``_bpx``) and PHOTTAB (``_pht``). The response models are smooth analytic curves sampled on
the tables' grids; :func:`cos_sensitivity` and :func:`cos_tds_factor` evaluate the *written* tables
(linear interpolation of the same arrays), so synthetic spectra shaped with them are exactly
consistent with what a reader finds in the files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hstlc.synthetic.fitsfile import (
    CACHE_KEYWORD,
    Col,
    cache_key,
    is_current,
    primary_hdu,
    table_hdu,
    write_hdus,
)
from hstlc.synthetic.optics import (
    COS_FUV_GRATINGS,
    COS_NUV_GRATINGS,
    cos_fuv_solution,
    cos_nuv_solution,
)

F64 = npt.NDArray[np.float64]

DEFAULT_PREFIX = "hstlcsyn"
FLUX_NWL = 256
TDS_NWL_MAX = 60
TDS_NT_MAX = 20
TDS_TIMES = (54900.0, 55300.0, 55800.0, 56500.0, 57500.0)
"""Default TDSTAB time nodes (MJD); REF_TIME defaults to the first."""
COS_APERTURES = ("PSA", "BOA")

_SENS_PEAK = {
    "G130M": 3.0e13,
    "G160M": 2.0e13,
    "G140L": 8.0e13,
    "G185M": 4.0e12,
    "G225M": 5.0e12,
    "G285M": 3.0e12,
    "G230L": 2.0e13,
}


# --------------------------------------------------------------------------------------------- COS
def _cos_segments(opt_elem: str) -> tuple[str, ...]:
    return ("FUVA", "FUVB") if opt_elem.upper() in COS_FUV_GRATINGS else ("NUVA", "NUVB", "NUVC")


def _cos_range(opt_elem: str, cenwave: int, segment: str) -> tuple[float, float]:
    if segment.upper().startswith("FUV"):
        return cos_fuv_solution(opt_elem, cenwave, segment).range
    return cos_nuv_solution(opt_elem, cenwave, segment).range


def _sensitivity_curve(opt_elem: str, cenwave: int, segment: str) -> tuple[F64, F64]:
    lo, hi = _cos_range(opt_elem, cenwave, segment)
    lo, hi = lo - 5.0, hi + 5.0
    wave = np.linspace(lo, hi, FLUX_NWL)
    mid, span = 0.5 * (lo + hi), hi - lo
    peak = _SENS_PEAK.get(opt_elem.upper(), 1.0e13)
    sens = peak * (0.35 + 0.65 * np.exp(-0.5 * ((wave - mid) / (0.45 * span)) ** 2))
    return wave, sens


def _tds_curves(
    opt_elem: str, segment: str, times: Sequence[float], ref_time: float, nwl: int
) -> tuple[F64, F64, F64, F64]:
    """Wavelength grid, times, SLOPE and INTERCEPT (NT × NWL) of one TDS row, continuous in time."""
    cenwaves = (COS_FUV_GRATINGS.get(opt_elem) or COS_NUV_GRATINGS[opt_elem])[2]
    lo = min(_cos_range(opt_elem, c, segment)[0] for c in cenwaves) - 10.0
    hi = max(_cos_range(opt_elem, c, segment)[1] for c in cenwaves) + 10.0
    wave = np.linspace(lo, hi, nwl)
    t = np.asarray(times, dtype=np.float64)
    nt = len(t)
    x = (wave - lo) / (hi - lo)
    slope = np.empty((nt, nwl))
    intercept = np.empty((nt, nwl))
    level = np.ones(nwl)  # factor at t[0]
    for i in range(nt):
        slope[i] = -(1.0 + 0.6 * i) * (0.7 + 0.6 * x)  # percent per year, steeper later and redward
        intercept[i] = level - (t[i] - ref_time) / 365.25 * slope[i] / 100.0
        if i + 1 < nt:
            level = (t[i + 1] - ref_time) / 365.25 * slope[i] / 100.0 + intercept[i]
    return wave, t, slope, intercept


def cos_sensitivity(opt_elem: str, cenwave: int, segment: str, wave: npt.ArrayLike) -> F64:
    """The FLUXTAB SENSITIVITY (linear interpolation, end values held) of a configuration."""
    w, s = _sensitivity_curve(opt_elem, cenwave, segment)
    return np.interp(np.asarray(wave, dtype=np.float64), w, s)


def cos_tds_factor(
    opt_elem: str,
    segment: str,
    wave: npt.ArrayLike,
    mjd: float,
    *,
    times: Sequence[float] = TDS_TIMES,
    ref_time: float | None = None,
    nwl: int = 30,
) -> F64:
    """The TDS factor of FORMATS §5.2 at ``mjd`` (interval rule, extrapolating outside, λ interpolation)."""
    ref = float(times[0]) if ref_time is None else float(ref_time)
    w, t, slope, intercept = _tds_curves(opt_elem.upper(), segment.upper(), times, ref, nwl)
    i = int(np.clip(np.searchsorted(t, mjd, side="right") - 1, 0, len(t) - 1))
    factor = (mjd - ref) / 365.25 * slope[i] / 100.0 + intercept[i]
    return np.interp(np.asarray(wave, dtype=np.float64), w, factor)


def _cos_configs(extra: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    configs = [(g, c) for g, (_, _, cw) in COS_FUV_GRATINGS.items() for c in cw]
    configs += [(g, c) for g, (_, _, cw) in COS_NUV_GRATINGS.items() for c in cw]
    for g, c in extra:
        if (g.upper(), int(c)) not in configs:
            configs.append((g.upper(), int(c)))
    return configs


def make_cos_reference_files(
    directory: str | Path,
    *,
    opt_elem: str = "G130M",
    cenwave: int = 1291,
    apertures: Sequence[str] = COS_APERTURES,
    any_aperture: bool = False,
    prefix: str = DEFAULT_PREFIX,
    tds_times: Sequence[float] = TDS_TIMES,
    ref_time: float | None = None,
    tds_nwl: int = 30,
    tds_pedigree: str | None = None,
) -> dict[str, Path]:
    """Write a COS FLUXTAB and TDSTAB into ``directory``; return ``{"fluxtab": path, "tdstab": path}``.

    Both tables hold rows for every standard COS configuration (FUVA/FUVB for G130M/G160M/G140L,
    NUVA/NUVB/NUVC for the NUV gratings) plus ``opt_elem``/``cenwave``, for each of ``apertures`` —
    or a single ``ANY`` aperture row per configuration with ``any_aperture=True``. The TDSTAB follows
    §5.2 exactly: arrays padded to 60 wavelengths (1.0) and 20 times (0.0), SLOPE/INTERCEPT TDIM (60,20),
    REF_TIME in the table header (one row per OPT_ELEM, CENWAVE, APERTURE, SEGMENT as in calcos ≥ 2020).
    """
    directory = Path(directory)
    fluxtab = directory / f"{prefix}_phot.fits"
    tdstab = directory / f"{prefix}_tds.fits"
    key = cache_key(
        "cos-ref-1",
        opt_elem.upper(),
        int(cenwave),
        tuple(apertures),
        any_aperture,
        tuple(tds_times),
        ref_time,
        tds_nwl,
        tds_pedigree,
    )
    if is_current(fluxtab, key) and is_current(tdstab, key):
        return {"fluxtab": fluxtab, "tdstab": tdstab}
    if not 2 <= tds_nwl <= TDS_NWL_MAX or not 1 <= len(tds_times) <= TDS_NT_MAX:
        raise ValueError(f"TDS needs 2..{TDS_NWL_MAX} wavelengths and 1..{TDS_NT_MAX} times")
    ref = float(tds_times[0]) if ref_time is None else float(ref_time)
    apers = ("ANY",) if any_aperture else tuple(a.upper() for a in apertures)
    rows = [
        (g, c, a, s) for g, c in _cos_configs([(opt_elem, cenwave)]) for s in _cos_segments(g) for a in apers
    ]
    n = len(rows)

    # FLUXTAB
    fwave = np.zeros((n, FLUX_NWL))
    fsens = np.zeros((n, FLUX_NWL))
    for k, (g, c, _, s) in enumerate(rows):
        fwave[k], fsens[k] = _sensitivity_curve(g, c, s)
    flux_cols = [
        Col("SEGMENT", "4A"),
        Col("OPT_ELEM", "5A"),
        Col("CENWAVE", "1J"),
        Col("APERTURE", "3A"),
        Col("WAVELENGTH", f"{FLUX_NWL}D", "angstrom"),
        Col("SENSITIVITY", f"{FLUX_NWL}E", "count /s /pixel / (erg /s /cm**2 /angstrom)"),
    ]
    flux_data = {
        "SEGMENT": [r[3] for r in rows],
        "OPT_ELEM": [r[0] for r in rows],
        "CENWAVE": [r[1] for r in rows],
        "APERTURE": [r[2] for r in rows],
        "WAVELENGTH": fwave,
        "SENSITIVITY": fsens.astype(np.float32),
    }
    write_hdus(
        fluxtab,
        [
            primary_hdu(
                {
                    "FILETYPE": "PHOTOMETRIC SENSITIVITY REFERENCE TABLE",
                    "INSTRUME": "COS",
                    "PEDIGREE": "DUMMY (synthetic)",
                    "DESCRIP": "hstlc synthetic FLUXTAB",
                    CACHE_KEYWORD: key,
                }
            ),
            table_hdu("FLUXTAB", flux_cols, flux_data, n),
        ],
    )

    # TDSTAB
    nt = len(tds_times)
    twave = np.ones((n, TDS_NWL_MAX))
    ttime = np.zeros((n, TDS_NT_MAX))
    tslope = np.zeros((n, TDS_NT_MAX, TDS_NWL_MAX))
    tinter = np.zeros((n, TDS_NT_MAX, TDS_NWL_MAX))
    for k, (g, _, _, s) in enumerate(rows):
        w, t, sl, ic = _tds_curves(g, s, tds_times, ref, tds_nwl)
        twave[k, :tds_nwl] = w
        ttime[k, :nt] = t
        tslope[k, :nt, :tds_nwl] = sl
        tinter[k, :nt, :tds_nwl] = ic
    tds_cols = [
        Col("OPT_ELEM", "5A"),
        Col("CENWAVE", "1J"),
        Col("APERTURE", "3A"),
        Col("SEGMENT", "4A"),
        Col("NWL", "1J"),
        Col("NT", "1J"),
        Col("WAVELENGTH", f"{TDS_NWL_MAX}D", "Angstrom"),
        Col("TIME", f"{TDS_NT_MAX}D", "MJD"),
        Col("SLOPE", f"{TDS_NWL_MAX * TDS_NT_MAX}D", "percent /yr", dim=f"({TDS_NWL_MAX},{TDS_NT_MAX})"),
        Col("INTERCEPT", f"{TDS_NWL_MAX * TDS_NT_MAX}D", None, dim=f"({TDS_NWL_MAX},{TDS_NT_MAX})"),
    ]
    tds_data = {
        "OPT_ELEM": [r[0] for r in rows],
        "CENWAVE": [r[1] for r in rows],
        "APERTURE": [r[2] for r in rows],
        "SEGMENT": [r[3] for r in rows],
        "NWL": np.full(n, tds_nwl),
        "NT": np.full(n, nt),
        "WAVELENGTH": twave,
        "TIME": ttime,
        "SLOPE": tslope,
        "INTERCEPT": tinter,
    }
    prim = {
        "FILETYPE": "TIME DEPENDENT SENSITIVITY TABLE",
        "INSTRUME": "COS",
        "DESCRIP": "hstlc synthetic TDSTAB",
        CACHE_KEYWORD: key,
    }
    if tds_pedigree is not None:
        prim["PEDIGREE"] = tds_pedigree
    write_hdus(
        tdstab,
        [primary_hdu(prim), table_hdu("TDS", tds_cols, tds_data, n, header={"REF_TIME": (ref, "MJD")})],
    )
    return {"fluxtab": fluxtab, "tdstab": tdstab}


def lref_name(path: Path) -> str:
    """The header form of a COS reference file: ``lref$<name>``."""
    return f"lref${Path(path).name}"


def oref_name(path: Path) -> str:
    """The header form of a STIS reference file: ``oref$<name>``."""
    return f"oref${Path(path).name}"


# -------------------------------------------------------------------------------------------- STIS
STIS_PHOT_NELEM = 100
STIS_REFERENCE_OPT_ELEMS = ("G140L", "G140M", "E140M", "G230L", "E230M", "MIRROR")
HST_AREA = 45238.93416
"""HST collecting area (cm²) used by calstis absolute flux calibration."""


def stis_throughput(opt_elem: str, wave: npt.ArrayLike) -> F64:
    """The PHOTTAB THROUGHPUT model of a grating (a smooth bump, 0.2–2 %)."""
    w = np.asarray(wave, dtype=np.float64)
    centre = 1450.0 if opt_elem.upper().startswith(("G140", "E140")) else 2400.0
    return 0.002 + 0.018 * np.exp(-0.5 * ((w - centre) / (0.35 * centre)) ** 2)


def _stis_phot_rows(opt_elem: str, n_orders: int) -> list[tuple[int, int, F64]]:
    """(CENWAVE, SPORDER, wavelengths) rows of the PHOTTAB for one grating."""
    from hstlc.synthetic.optics import (
        STIS_GRATINGS,
        stis_echelle_orders,
        stis_echelle_wavelengths,
        stis_first_order_wavelengths,
    )

    opt_elem = opt_elem.upper()
    if opt_elem not in STIS_GRATINGS:
        return []
    rows = []
    for cenwave in STIS_GRATINGS[opt_elem][2]:
        if opt_elem.startswith("E"):
            for order in stis_echelle_orders(opt_elem, cenwave, n_orders):
                w = stis_echelle_wavelengths(opt_elem, order)
                rows.append((cenwave, order, np.linspace(w[0] - 2, w[-1] + 2, STIS_PHOT_NELEM // 2)))
        else:
            w = stis_first_order_wavelengths(opt_elem, cenwave)
            rows.append((cenwave, 1, np.linspace(w[0] - 5, w[-1] + 5, STIS_PHOT_NELEM)))
    return rows


def _image_set(shape: tuple[int, int], sci: F64, name_cards: dict[str, object]) -> list:
    from astropy.io import fits

    hdus = []
    err = np.full(shape, 0.01, dtype=np.float32)
    dq = np.zeros(shape, dtype=np.int16)
    dq[0, :] = 4  # an edge row flagged, as real flats do
    for name, data in (("SCI", sci.astype(np.float32)), ("ERR", err), ("DQ", dq)):
        hdu = fits.ImageHDU(data=data, name=name, ver=1)
        hdu.header.update(name_cards)
        hdus.append(hdu)
    return hdus


def make_stis_reference_files(
    directory: str | Path,
    *,
    detector: str = "FUV-MAMA",
    pflat_shape: tuple[int, int] = (1024, 1024),
    lflat_shape: tuple[int, int] = (256, 256),
    opt_elems: Sequence[str] = STIS_REFERENCE_OPT_ELEMS,
    n_orders: int = 5,
    prefix: str = DEFAULT_PREFIX,
    seed: int = 11,
) -> dict[str, Path]:
    """Write STIS MAMA P-flat, L-flat, BPIXTAB and PHOTTAB; return ``{pfltfile, lfltfile, bpixtab, phottab}``.

    Flats are image sets (SCI, ERR, DQ; EXTVER 1) with values near 1: the P-flat carries pixel-to-pixel
    noise, the L-flat (coarser; any shape, non-integer ratios to the P-flat allowed, e.g. (300, 300)) a
    smooth large-scale pattern. BPIXTAB (FORMATS §5.4) rows are low-res, 1-indexed, and differ per
    OPT_ELEM: each grating gets its own bad column and hot pixels, so a reader that ignores OPT_ELEM
    flags too much. PHOTTAB rows: OPT_ELEM, CENWAVE, SPORDER, NELEM, WAVELENGTH, THROUGHPUT, ERROR.
    """
    directory = Path(directory)
    rng = np.random.default_rng(seed)
    if min(pflat_shape) < 8 or min(lflat_shape) < 2:
        raise ValueError("flat shapes are too small")
    out = {
        "pfltfile": directory / f"{prefix}_pfl.fits",
        "lfltfile": directory / f"{prefix}_lfl.fits",
        "bpixtab": directory / f"{prefix}_bpx.fits",
        "phottab": directory / f"{prefix}_pht.fits",
    }
    key = cache_key(
        "stis-ref-1",
        detector.upper(),
        tuple(pflat_shape),
        tuple(lflat_shape),
        tuple(opt_elems),
        n_orders,
        seed,
    )
    if all(is_current(p, key) for p in out.values()):
        return out
    cards = {"INSTRUME": "STIS", "DETECTOR": detector.upper(), CACHE_KEYWORD: key}
    pfl = 1.0 + 0.02 * rng.standard_normal(pflat_shape)
    pfltfile = out["pfltfile"]
    write_hdus(
        pfltfile,
        [
            primary_hdu({**cards, "FILETYPE": "PIXEL-TO-PIXEL FLAT", "NEXTEND": 3}),
            *_image_set(pflat_shape, pfl, {}),
        ],
    )
    yy, xx = np.mgrid[0 : lflat_shape[0], 0 : lflat_shape[1]]
    lfl = 1.0 + 0.05 * np.cos(2 * np.pi * xx / lflat_shape[1]) * np.cos(np.pi * yy / lflat_shape[0])
    lfltfile = out["lfltfile"]
    write_hdus(
        lfltfile,
        [
            primary_hdu({**cards, "FILETYPE": "LOW-ORDER FLAT", "NEXTEND": 3}),
            *_image_set(lflat_shape, lfl, {}),
        ],
    )

    # BPIXTAB: per grating a bad column (AXIS 2 run), a bad row segment (AXIS 1 run) and two hot pixels
    rows: list[tuple[int, int, int, int, int, str]] = []
    for k, opt in enumerate(opt_elems):
        col = 100 + 97 * k
        rows.append((col, 1, 1024, 2, 4, opt.upper()))
        rows.append((200, 700 + 11 * k, 40, 1, 16, opt.upper()))
        rows.append((300 + 13 * k, 512, 1, 1, 16, opt.upper()))
        rows.append((900 - 7 * k, 510, 1, 1, 512, opt.upper()))
    bpx_cols = [
        Col("PIX1", "1I", "pixel"),
        Col("PIX2", "1I", "pixel"),
        Col("LENGTH", "1I", "pixel"),
        Col("AXIS", "1I"),
        Col("VALUE", "1I"),
        Col("OPT_ELEM", "8A"),
    ]
    bpx_data = {
        name: [r[i] for r in rows]
        for i, name in enumerate(("PIX1", "PIX2", "LENGTH", "AXIS", "VALUE", "OPT_ELEM"))
    }
    bpixtab = out["bpixtab"]
    write_hdus(
        bpixtab,
        [
            primary_hdu({**cards, "FILETYPE": "DATA QUALITY INITIALIZATION TABLE"}),
            table_hdu("BPIXTAB", bpx_cols, bpx_data, len(rows), header={"SIZAXIS1": 1024, "SIZAXIS2": 1024}),
        ],
    )

    # PHOTTAB
    prow = [(opt.upper(), c, m, w) for opt in opt_elems for c, m, w in _stis_phot_rows(opt, n_orders)]
    n = STIS_PHOT_NELEM
    wave = np.zeros((len(prow), n))
    thr = np.zeros((len(prow), n), dtype=np.float32)
    for i, (opt, _, _, w) in enumerate(prow):
        wave[i, : len(w)] = w
        wave[i, len(w) :] = w[-1]
        thr[i, : len(w)] = stis_throughput(opt, w)
    phot_cols = [
        Col("OPT_ELEM", "8A"),
        Col("CENWAVE", "1J", "angstrom"),
        Col("SPORDER", "1I"),
        Col("NELEM", "1I"),
        Col("WAVELENGTH", f"{n}D", "angstrom"),
        Col("THROUGHPUT", f"{n}E"),
        Col("ERROR", f"{n}E"),
        Col("PEDIGREE", "30A"),
        Col("DESCRIP", "60A"),
    ]
    phot_data = {
        "OPT_ELEM": [r[0] for r in prow],
        "CENWAVE": [r[1] for r in prow],
        "SPORDER": [r[2] for r in prow],
        "NELEM": [len(r[3]) for r in prow],
        "WAVELENGTH": wave,
        "THROUGHPUT": thr,
        "ERROR": thr * np.float32(0.02),
        "PEDIGREE": ["DUMMY"] * len(prow),
        "DESCRIP": ["hstlc synthetic throughput"] * len(prow),
    }
    phottab = out["phottab"]
    write_hdus(
        phottab,
        [
            primary_hdu({**cards, "FILETYPE": "PHOTOMETRIC CONVERSION TABLE"}),
            table_hdu("PHOTTAB", phot_cols, phot_data, len(prow)),
        ],
    )
    return out


__all__ = [
    "DEFAULT_PREFIX",
    "TDS_TIMES",
    "cos_sensitivity",
    "cos_tds_factor",
    "lref_name",
    "make_cos_reference_files",
    "make_stis_reference_files",
    "oref_name",
    "stis_throughput",
]
