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

from hstlc.synthetic.fitsfile import Col, primary_hdu, table_hdu, write_hdus
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
    fluxtab = directory / f"{prefix}_phot.fits"
    write_hdus(
        fluxtab,
        [
            primary_hdu(
                {
                    "FILETYPE": "PHOTOMETRIC SENSITIVITY REFERENCE TABLE",
                    "INSTRUME": "COS",
                    "PEDIGREE": "DUMMY (synthetic)",
                    "DESCRIP": "hstlc synthetic FLUXTAB",
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
    tdstab = directory / f"{prefix}_tds.fits"
    prim = {
        "FILETYPE": "TIME DEPENDENT SENSITIVITY TABLE",
        "INSTRUME": "COS",
        "DESCRIP": "hstlc synthetic TDSTAB",
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


__all__ = [
    "DEFAULT_PREFIX",
    "TDS_TIMES",
    "cos_sensitivity",
    "cos_tds_factor",
    "lref_name",
    "make_cos_reference_files",
    "oref_name",
]
