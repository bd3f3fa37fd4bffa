"""Synthetic STIS MAMA TIME-TAG data: ``<rootname>_tag.fits`` and its ``<rootname>_x1d.fits``.

FORMATS.md §3 and §4.2: EVENTS columns TIME (``1J`` clock ticks with TSCAL 0.000125, so astropy reads
seconds), AXIS1, AXIS2, DETAXIS1 (``1I``, hi-res pixels 1–2048, 1-indexed); a GTI table last. Source
events lie along each spectral trace at the x1d's A2CENTER (low-res, 1-indexed) → hi-res
``2·A2CENTER − 0.5``, within ±(EXTRSIZE − 1) hi-res pixels; background is flat over the detector.

Facts of real STIS x1d files (FORMATS.md §9) the generator follows: EXPSTART, EXPTIME, EXPFLAG,
SDQFLAGS (31743 by default), SHIFTA1/2 and TEXPSTRT/TEXPEND/TEXPTIME in the SCI header; the primary
names PHOTTAB, APERTAB, PCTAB and TDSTAB (no FLUXTAB; the TDSTAB file is never written: its format is
not documented); ``x1d_readouts=n`` writes n SCI tables, one per readout (EXTVER 1…n), each extracted
from its own slice of the exposure with its own EXPSTART/EXPTIME and A2CENTER (+ ``readout_drift`` ×
(k − 1) low-res pixels, as a wavecal drift would move it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hstlc.synthetic.cos import AIRGLOW_LINES
from hstlc.synthetic.dataset import SyntheticDataset
from hstlc.synthetic.events import ORBIT_SECONDS, mjd_to_date_time, poisson_times, truncated_normal
from hstlc.synthetic.exposure import break_monotonic, make_exposure
from hstlc.synthetic.fitsfile import Col, primary_hdu, table_hdu, write_hdus
from hstlc.synthetic.optics import (
    STIS_GRATINGS,
    stis_echelle_orders,
    stis_echelle_wavelengths,
    stis_first_order_wavelengths,
)
from hstlc.synthetic.reference import HST_AREA, make_stis_reference_files, oref_name, stis_throughput
from hstlc.synthetic.signals import SignalSpec, constant

F64 = npt.NDArray[np.float64]

TICK = 0.000125
"""STIS MAMA TIME-TAG clock tick (s): TSCAL of the TIME column."""
HIRES = 2048
NELEM = 1024
DEFAULT_STIS_SDQFLAGS = 31743
H_C = 6.62607015e-27 * 2.99792458e18
"""Planck constant × speed of light in erg·Å."""

TAG_COLUMNS: tuple[Col, ...] = (
    Col("TIME", "1J", "s", bscale=TICK, bzero=0.0),
    Col("AXIS1", "1I", "pixel"),
    Col("AXIS2", "1I", "pixel"),
    Col("DETAXIS1", "1I", "pixel"),
)


@dataclass(frozen=True)
class _Order:
    sporder: int
    a2center: float  # low-res, 1-indexed
    extrsize: float  # low-res full height
    wavelength: F64
    bk1offst: float
    bk2offst: float
    bksize: float

    @property
    def centre_hires(self) -> float:
        return 2.0 * self.a2center - 0.5


def _airglow_lines(airglow: bool | Mapping[float, float] | None) -> dict[float, float]:
    if airglow is None or airglow is False:
        return {}
    if airglow is True:
        return dict(AIRGLOW_LINES)
    return {float(k): float(v) for k, v in airglow.items()}


def _x1d_columns() -> list[Col]:
    n = NELEM
    return [
        Col("SPORDER", "1I"),
        Col("NELEM", "1I"),
        Col("WAVELENGTH", f"{n}D", "Angstroms"),
        Col("GROSS", f"{n}E", "Counts/s"),
        Col("BACKGROUND", f"{n}E", "Counts/s"),
        Col("NET", f"{n}E", "Counts/s"),
        Col("FLUX", f"{n}E", "erg/s/cm**2/Angstrom"),
        Col("ERROR", f"{n}E", "erg/s/cm**2/Angstrom"),
        Col("NET_ERROR", f"{n}E", "Counts/s"),
        Col("DQ", f"{n}I"),
        Col("A2CENTER", "1E", "pixel"),
        Col("EXTRSIZE", "1E", "pixel"),
        Col("MAXSRCH", "1I", "pixel"),
        Col("BK1SIZE", "1E", "pixel"),
        Col("BK2SIZE", "1E", "pixel"),
        Col("BK1OFFST", "1E", "pixel"),
        Col("BK2OFFST", "1E", "pixel"),
        Col("EXTRLOCY", f"{n}E", "pixel"),
        Col("OFFSET", "1E", "pixel"),
    ]


def _x1d_row(order: _Order, a1: np.ndarray, a2: np.ndarray, exptime: float, opt_elem: str) -> dict[str, Any]:
    col = (a1.astype(np.int64) - 1) // 2
    y = a2.astype(np.float64)
    c = order.centre_hires
    box = np.abs(y - c) < order.extrsize
    bk1 = np.abs(y - (c + 2.0 * order.bk1offst)) < order.bksize
    bk2 = np.abs(y - (c + 2.0 * order.bk2offst)) < order.bksize
    live = exptime if exptime > 0 else 1.0
    g = np.bincount(col[box], minlength=NELEM)[:NELEM].astype(np.float64)
    b = np.bincount(col[bk1 | bk2], minlength=NELEM)[:NELEM].astype(np.float64)
    scale = order.extrsize / (2.0 * order.bksize)
    gross, background = g / live, b * scale / live
    net = gross - background
    wave = order.wavelength
    disp = np.abs(np.gradient(wave))
    sens = stis_throughput(opt_elem, wave) * wave * HST_AREA * disp / H_C  # (counts/s) per (erg/s/cm²/Å)
    flux = net / sens
    net_err = np.sqrt(g + b * scale**2) / live
    return {
        "SPORDER": order.sporder,
        "NELEM": NELEM,
        "WAVELENGTH": wave,
        "GROSS": gross,
        "BACKGROUND": background,
        "NET": net,
        "FLUX": flux,
        "ERROR": net_err / sens,
        "NET_ERROR": net_err,
        "DQ": np.zeros(NELEM, dtype=np.int16),
        "A2CENTER": order.a2center,
        "EXTRSIZE": order.extrsize,
        "MAXSRCH": 0,
        "BK1SIZE": order.bksize,
        "BK2SIZE": order.bksize,
        "BK1OFFST": order.bk1offst,
        "BK2OFFST": order.bk2offst,
        "EXTRLOCY": np.full(NELEM, order.a2center),
        "OFFSET": 0.0,
    }


def make_stis_tag(
    directory: str | Path,
    rootname: str = "o8k401010",
    *,
    echelle: bool = False,
    imaging: bool = False,
    detector: str | None = None,
    opt_elem: str | None = None,
    cenwave: int | None = None,
    aperture: str | None = None,
    n_orders: int = 5,
    order_spacing: float = 25.0,
    a2center: float | Sequence[float] | None = None,
    extrsize: float | None = None,
    profile_sigma: float | None = None,
    targname: str = "SYNTH-CV1",
    ra_targ: float = 229.5,
    dec_targ: float = -15.75,
    proposid: int = 9876,
    exptime: float = 1000.0,
    expstart: float = 52500.125,
    gti: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    source_rate: float = 50.0,
    background_rate: float = 0.005,
    signal: SignalSpec | None = None,
    sdqflags: int | None = DEFAULT_STIS_SDQFLAGS,
    expflag: str | None = "NORMAL",
    nonmonotonic_time: bool = False,
    single_time: float | None = None,
    shifta1: float = 0.0,
    shifta2: float = 0.0,
    doppler: float = 3.0,
    x1d: bool = True,
    x1d_sdqflags: int | None = DEFAULT_STIS_SDQFLAGS,
    x1d_readouts: int = 1,
    readout_drift: float = 0.0,
    tdstab: str | None = "oref$hstlcsyn_tds.fits",
    reference_dir: str | Path | None = None,
    lflat_shape: tuple[int, int] = (256, 256),
    pflat_shape: tuple[int, int] = (1024, 1024),
    primary_header: Mapping[str, Any] | None = None,
    events_header: Mapping[str, Any] | None = None,
    airglow: bool | Mapping[float, float] | None = None,
    seed: int | None = 0,
) -> SyntheticDataset:
    """Write ``<rootname>_tag.fits`` and (spectroscopic, ``x1d=True``) ``<rootname>_x1d.fits``.

    Modes: first-order (default G140L/1425, one SPORDER row), ``echelle=True`` (E140M, ``n_orders``
    SPORDER rows spaced ``order_spacing`` low-res pixels apart), ``imaging=True`` (OPT_ELEM MIRROR,
    OBSTYPE IMAGING, a point source at the detector centre, no x1d). ``source_rate`` is counts/s per
    spectral order (imaging: of the point source); ``background_rate`` events/s per hi-res AXIS2 pixel
    over the whole detector. ``gti`` intervals go into the (single, last) GTI table and EXPTIME = Σ GTI.
    ``reference_dir`` writes the STIS flats/BPIXTAB/PHOTTAB there and names them ``oref$…`` in the
    primary header. ``sdqflags``/``expflag`` ``None`` omit those (unconfirmed) EVENTS cards.
    ``airglow=True`` (or {wavelength: counts/s}) adds geocoronal lines falling on an order: along the
    whole AXIS2 range for long slits, within the 0.2" aperture height (±8 hi-res px) otherwise.
    ``x1d_sdqflags`` is the x1d SCI header's SDQFLAGS (``None`` omits it), ``x1d_readouts`` the number of
    SCI tables (readouts), ``readout_drift`` the A2CENTER step between them, ``tdstab`` the primary TDSTAB
    value (never written as a file; ``None`` omits the card).

    ``truth``: as for COS, with ``segments`` keyed ``"order <SPORDER>"`` (or ``"IMAGE"``) holding
    n_source, expected_source, n_background_in_box, expected_background_in_box, a2center,
    a2center_hires (= 2·A2CENTER − 0.5), extrsize, n_events; box = |AXIS2 − a2center_hires| < EXTRSIZE.
    """
    if echelle and imaging:
        raise ValueError("a STIS exposure is either echelle or imaging, not both")
    if not rootname or "/" in rootname or "\\" in rootname or rootname in (".", ".."):
        raise ValueError(f"rootname {rootname!r} must be a plain file-name stem")
    if source_rate < 0 or background_rate < 0:
        raise ValueError("rates must be >= 0")
    if x1d_readouts < 1:
        raise ValueError("x1d_readouts must be >= 1")
    directory = Path(directory)
    rng = np.random.default_rng(seed)
    signal = signal or constant()
    if imaging:
        opt_elem = (opt_elem or "MIRROR").upper()
        cenwave = 0 if cenwave is None else int(cenwave)
        aperture = aperture or "25MAMA"
    elif echelle:
        opt_elem = (opt_elem or "E140M").upper()
        cenwave = int(cenwave or 1425)
        aperture = aperture or "0.2X0.2"
    else:
        opt_elem = (opt_elem or "G140L").upper()
        cenwave = int(cenwave or STIS_GRATINGS.get(opt_elem, STIS_GRATINGS["G140L"])[2][0])
        aperture = aperture or "52X0.2"
    detector = (detector or STIS_GRATINGS.get(opt_elem, (0.0, "FUV-MAMA"))[1]).upper()
    exposure = make_exposure(expstart=expstart, exptime=exptime, gti=None)
    if gti is not None:
        exposure = make_exposure(expstart=expstart, exptime=exptime, gti=gti)
        exposure = type(exposure)(exposure.expstart, exposure.gti, exposure.gti, revised=False)

    orders: list[_Order] = []
    if echelle:
        numbers = stis_echelle_orders(opt_elem, cenwave, n_orders)
        if a2center is None:
            # higher orders (shorter wavelengths) sit lower on the detector
            centres = [512.0 + order_spacing * (i - (n_orders - 1) / 2.0) for i in range(n_orders)][::-1]
        else:
            centres = [float(c) for c in np.atleast_1d(a2center)]
            if len(centres) != n_orders:
                raise ValueError("a2center needs one value per echelle order")
        size = extrsize or 7.0
        half_gap = order_spacing / 2.0
        for m, c in zip(numbers, centres, strict=True):
            w = stis_echelle_wavelengths(opt_elem, m)
            orders.append(_Order(m, c, size, w, -half_gap, half_gap, 2.5))
    elif not imaging:
        c = 512.0 if a2center is None else float(np.atleast_1d(a2center)[0])
        w = stis_first_order_wavelengths(opt_elem, cenwave)
        orders.append(_Order(1, c, extrsize or 11.0, w, -300.0, 300.0, 5.0))

    # events: one combined Poisson process, split into components: one per order (or the image),
    # airglow lines on each order, the background
    lines = {} if imaging else _airglow_lines(airglow)
    n_src = max(len(orders), 1)
    comps: list[tuple[str, int, float, float]] = [
        ("source", k, 0.0, source_rate * signal.maximum) for k in range(n_src)
    ]
    for k, o in enumerate(orders):
        for line, rate in lines.items():
            if o.wavelength.min() < line < o.wavelength.max() and rate > 0:
                comps.append(("airglow", k, line, rate))
    comps.append(("background", -1, 0.0, background_rate * HIRES))
    upper = np.cumsum([c[3] for c in comps])
    total = float(upper[-1])
    t = poisson_times(rng, total, exposure.gti, quantum=TICK)
    u = rng.random(len(t)) * total
    comp = np.minimum(np.searchsorted(upper, u, side="right"), len(comps) - 1)
    if signal.kind != "constant" and len(t):
        lower = np.concatenate(([0.0], upper[:-1]))
        is_src = comp < n_src
        keep = ~is_src | ((u - lower[comp]) < source_rate * signal.evaluate(t))
        t, comp = t[keep], comp[keep]
    n = len(t)
    a1 = np.empty(n)
    a2 = np.empty(n)
    long_slit = not aperture.upper().startswith("0.")
    for c, (kind, k, line, _) in enumerate(comps):
        sel = np.flatnonzero(comp == c)
        m = len(sel)
        if kind == "background":
            a1[sel] = rng.integers(1, HIRES + 1, m)
            a2[sel] = rng.integers(1, HIRES + 1, m)
        elif imaging:
            sigma = profile_sigma or 3.0
            a1[sel] = truncated_normal(rng, m, 1024.5, sigma, 10 * sigma)
            a2[sel] = truncated_normal(rng, m, 1024.5, sigma, 10 * sigma)
        elif kind == "airglow":
            o = orders[k]
            lam = rng.normal(line, 0.3, m)
            cols_lo = np.interp(lam, o.wavelength, np.arange(NELEM, dtype=np.float64))
            a1[sel] = 2.0 * cols_lo + 1.0 + rng.random(m)
            if long_slit:
                a2[sel] = 0.5 + HIRES * rng.random(m)
            else:
                a2[sel] = o.centre_hires + (2.0 * rng.random(m) - 1.0) * 8.0
        else:
            o = orders[k]
            a1[sel] = 0.5 + HIRES * rng.random(m)
            sigma = profile_sigma or max(o.extrsize / 3.0, 0.8)
            a2[sel] = truncated_normal(rng, m, o.centre_hires, sigma, max(o.extrsize - 1.5, 0.4))
    det = a1 + doppler * np.sin((2.0 * np.pi / ORBIT_SECONDS) * t)
    axis1 = np.clip(np.rint(a1), 1, HIRES).astype(np.int16)
    axis2 = np.clip(np.rint(a2), 1, HIRES).astype(np.int16)
    detaxis1 = np.clip(np.rint(det), 1, HIRES).astype(np.int16)
    time = t
    if single_time is not None:
        time = np.full(n, round(single_time / TICK) * TICK)
    if nonmonotonic_time:
        time = break_monotonic(time)

    # files
    refs: dict[str, Path] = {}
    ref_cards: dict[str, Any] = dict.fromkeys(
        ("PFLTFILE", "LFLTFILE", "BPIXTAB", "PHOTTAB", "APERTAB", "PCTAB"), "N/A"
    )
    if tdstab is not None:
        ref_cards["TDSTAB"] = tdstab
    if reference_dir is not None:
        refs = make_stis_reference_files(
            reference_dir,
            detector=detector,
            pflat_shape=pflat_shape,
            lflat_shape=lflat_shape,
            n_orders=n_orders,
        )
        ref_cards.update({key.upper(): oref_name(path) for key, path in refs.items()})
    date_obs, time_obs = mjd_to_date_time(exposure.expstart)
    tag_path = directory / f"{rootname}_tag.fits"
    prim: dict[str, Any] = {
        "DATE": "2024-01-01",
        "FILENAME": tag_path.name,
        "FILETYPE": "SCI",
        "TELESCOP": "HST",
        "INSTRUME": "STIS",
        "EQUINOX": 2000.0,
        "ROOTNAME": rootname,
        "PRIMESI": "STIS",
        "TARGNAME": targname,
        "RA_TARG": ra_targ,
        "DEC_TARG": dec_targ,
        "PROPOSID": proposid,
        "LINENUM": "1.001",
        "TARDESCR": "STAR;CATACLYSMIC VARIABLE",
        "TEXPSTRT": exposure.expstart,
        "TEXPEND": exposure.expend,
        "TEXPTIME": exposure.exptime,
        "DETECTOR": detector,
        "OBSTYPE": "IMAGING" if imaging else "SPECTROSCOPIC",
        "OBSMODE": "TIME-TAG",
        "OPT_ELEM": opt_elem,
        "CENWAVE": cenwave,
        "APERTURE": aperture,
        "PROPAPER": aperture,
        "SIZAXIS1": NELEM,
        "SIZAXIS2": NELEM,
        "CENTERA1": 512,
        "CENTERA2": 512,
        "CAL_VER": "3.4.2",
        **ref_cards,
    }
    prim.update(primary_header or {})
    evh: dict[str, Any] = {
        "EXPSTART": exposure.expstart,
        "EXPEND": exposure.expend,
        "EXPTIME": exposure.exptime,
        "EXPFLAG": expflag,
        "SDQFLAGS": sdqflags,
        "DATE-OBS": date_obs,
        "TIME-OBS": time_obs,
        "PA_APER": 45.0,
        "SHIFTA1": shifta1,
        "SHIFTA2": shifta2,
    }
    evh.update(events_header or {})
    events = table_hdu(
        "EVENTS",
        TAG_COLUMNS,
        {"TIME": time, "AXIS1": axis1, "AXIS2": axis2, "DETAXIS1": detaxis1},
        n,
        header=evh,
    )
    gcols = [Col("START", "1D", "s"), Col("STOP", "1D", "s")]
    g = exposure.gti
    gti_hdu = table_hdu("GTI", gcols, {"START": g[:, 0], "STOP": g[:, 1]}, len(g), ver=1)
    tag_primary = primary_hdu({**prim, "NEXTEND": 2})
    write_hdus(tag_path, [tag_primary, events, gti_hdu])

    files = [tag_path]
    x1d_path = None
    if x1d and not imaging:
        x1d_path = directory / f"{rootname}_x1d.fits"
        spec = _x1d_columns()
        tables = []
        bounds = np.linspace(0.0, exposure.span, x1d_readouts + 1) if x1d_readouts > 1 else None
        for k in range(x1d_readouts):
            if bounds is None:
                in_readout, start, live = slice(None), exposure.expstart, exposure.exptime
                stop = exposure.expend
            else:
                lo, hi = bounds[k], bounds[k + 1]
                in_readout = (time >= lo) & (time < hi)
                g = np.clip(exposure.gti, lo, hi)
                live = float(np.sum(g[:, 1] - g[:, 0]))
                start, stop = exposure.expstart + lo / 86400.0, exposure.expstart + hi / 86400.0
            shifted = [replace(o, a2center=o.a2center + readout_drift * k) for o in orders]
            rows = [_x1d_row(o, axis1[in_readout], axis2[in_readout], live, opt_elem) for o in shifted]
            data = {c.name: np.asarray([r[c.name] for r in rows]) for c in spec}
            sci = {k2: v for k2, v in evh.items() if k2 != "SDQFLAGS"}
            sci.update({"EXPSTART": start, "EXPEND": stop, "EXPTIME": live, "SDQFLAGS": x1d_sdqflags,
                        "TEXPSTRT": exposure.expstart, "TEXPEND": exposure.expend,
                        "TEXPTIME": exposure.exptime})
            tables.append(table_hdu("SCI", spec, data, len(rows), header=sci, ver=k + 1))
        x1d_prim = primary_hdu({**prim, "FILENAME": x1d_path.name, "NEXTEND": len(tables)})
        write_hdus(x1d_path, [x1d_prim, *tables])
        files.append(x1d_path)
    files += list(refs.values())

    live = exposure.exptime
    expected = source_rate * signal.integral(exposure.gti)
    seg_truth: dict[str, Any] = {}
    bkg = comp == len(comps) - 1
    for k in range(n_src):
        key = "IMAGE" if imaging else f"order {orders[k].sporder}"
        entry: dict[str, Any] = {
            "source_rate": source_rate,
            "expected_source": expected,
            "n_source": int(np.sum(comp == k)),
            "n_background": int(bkg.sum()),
            "n_airglow": int(
                sum(np.sum(comp == c) for c, cc in enumerate(comps) if cc[:2] == ("airglow", k))
            ),
            "n_events": n,
        }
        if not imaging:
            o = orders[k]
            c = o.centre_hires
            rows_in_box = int(np.sum(np.abs(np.arange(1, HIRES + 1) - c) < o.extrsize))
            entry.update(
                {
                    "sporder": o.sporder,
                    "a2center": o.a2center,
                    "a2center_hires": c,
                    "extrsize": o.extrsize,
                    "wavelength_range": (float(o.wavelength.min()), float(o.wavelength.max())),
                    "n_background_in_box": int(np.sum(bkg & (np.abs(axis2 - c) < o.extrsize))),
                    "expected_background_in_box": background_rate * rows_in_box * live,
                }
            )
        seg_truth[key] = entry
    truth = {
        "instrument": "STIS",
        "detector": detector,
        "rootname": rootname,
        "opt_elem": opt_elem,
        "cenwave": cenwave,
        "obstype": "IMAGING" if imaging else "SPECTROSCOPIC",
        "expstart": exposure.expstart,
        "expend": exposure.expend,
        "exptime": exposure.exptime,
        "gti": exposure.gti.tolist(),
        "raw_gti": exposure.gti.tolist(),
        "signal": signal.as_dict(),
        "signal_spec": signal,
        "source_rate": source_rate,
        "background_rate": background_rate,
        "background_rate_unit": "events/s per hi-res AXIS2 pixel over the whole detector width",
        "sdqflags": sdqflags,
        "airglow": lines,
        "segments": seg_truth,
    }
    return SyntheticDataset(rootname, tuple(files), (tag_path,), x1d_path, truth, refs)


__all__ = ["DEFAULT_STIS_SDQFLAGS", "TAG_COLUMNS", "TICK", "make_stis_tag"]
