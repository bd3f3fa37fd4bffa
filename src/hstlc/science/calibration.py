"""Flux calibration: sensitivity curves, time-dependent sensitivity (TDS), STIS throughput.

The flux weight of one event is ``EPSILON / (TDS(λ) · SENS(λ))`` with both curves interpolated at that
event's own wavelength (FORMATS.md §5.1, §5.2). Summed over a bin's events and divided by the bin's
exposure this gives Σ_columns f_λ(column); dividing by the number of columns extracted gives the mean
f_λ over the band (erg s⁻¹ cm⁻² Å⁻¹).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: h·c in erg·Å (CODATA 2018).
HC_ERG_ANGSTROM = 6.62607015e-27 * 2.99792458e18
#: HST collecting area used by calstis (cm²) [hstcal cs6].
HST_AREA_CM2 = 45238.93416
DAYS_PER_YEAR = 365.25


def _curve(wavelength: npt.ArrayLike, values: npt.ArrayLike, what: str) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(wavelength, dtype=np.float64).ravel()
    v = np.asarray(values, dtype=np.float64).ravel()
    if w.shape != v.shape or len(w) == 0:
        raise ValueError(f"{what}: wavelength and values must be non-empty and of equal length")
    ok = np.isfinite(w) & np.isfinite(v)
    if not ok.any():
        raise ValueError(f"{what}: no finite entries")
    w, v = w[ok], v[ok]
    order = np.argsort(w, kind="stable")
    return w[order], v[order]


@dataclass(frozen=True, eq=False)
class ResponseCurve:
    """A sensitivity curve, (count s⁻¹ pixel⁻¹) / (erg s⁻¹ cm⁻² Å⁻¹), on a wavelength grid (Å).

    Outside the tabulated range the end values hold (the original "stretched" the end points the same
    way). Entries with sensitivity <= 0 cannot calibrate: such events get flux weight 0 and are counted
    by :meth:`flux_weights` so the caller can report them.
    """

    wavelength: npt.NDArray[np.float64]
    sensitivity: npt.NDArray[np.float64]

    @classmethod
    def from_table(cls, wavelength: npt.ArrayLike, sensitivity: npt.ArrayLike) -> ResponseCurve:
        w, s = _curve(wavelength, sensitivity, "sensitivity curve")
        return cls(w, s)

    def __call__(self, wavelength: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.interp(np.asarray(wavelength, dtype=np.float64), self.wavelength, self.sensitivity)


@dataclass(frozen=True, eq=False)
class TDSCurve:
    """The TDS factor at one epoch as a function of wavelength (dimensionless, flux /= factor)."""

    wavelength: npt.NDArray[np.float64]
    factor: npt.NDArray[np.float64]

    def __call__(self, wavelength: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.interp(np.asarray(wavelength, dtype=np.float64), self.wavelength, self.factor)


def tds_interval(times: npt.ArrayLike, t: float) -> int:
    """Index i of the TDS interval holding ``t``: TIME[i] <= t < TIME[i+1]; the first interval before
    TIME[0] and the last one after TIME[-1] (extrapolation, as calcos does; never an empty index)."""
    tt = np.asarray(times, dtype=np.float64).ravel()
    if len(tt) == 0:
        raise ValueError("TDS table has no TIME entries")
    i = int(np.searchsorted(tt, t, side="right")) - 1
    return min(max(i, 0), len(tt) - 1)


def tds_factor(
    t_mjd: float,
    *,
    wavelength: npt.ArrayLike,
    times: npt.ArrayLike,
    slope: npt.ArrayLike,
    intercept: npt.ArrayLike,
    ref_time: float,
) -> TDSCurve:
    """TDS factor curve at time ``t_mjd`` (FORMATS.md §5.2).

    ``wavelength`` (NWL) and ``times`` (NT) must already be trimmed to their valid lengths; ``slope``
    (percent per year) and ``intercept`` have shape (NT, NWL) (padding beyond is ignored).
    factor(λ_k) = (t − REF_TIME)/365.25 · SLOPE[i, k]/100 + INTERCEPT[i, k].
    """
    wl = np.asarray(wavelength, dtype=np.float64).ravel()
    tt = np.asarray(times, dtype=np.float64).ravel()
    nwl, nt = len(wl), len(tt)
    if nwl == 0 or nt == 0:
        raise ValueError("TDS table row has no wavelengths or no times")
    s = np.asarray(slope, dtype=np.float64)
    c = np.asarray(intercept, dtype=np.float64)
    if s.ndim == 1 and nt == 1:
        s = s.reshape(1, -1)
    if c.ndim == 1 and nt == 1:
        c = c.reshape(1, -1)
    if s.ndim != 2 or c.ndim != 2:
        raise ValueError("TDS SLOPE and INTERCEPT must be two-dimensional (NT, NWL) arrays")
    if s.shape[0] < nt or s.shape[1] < nwl or c.shape[0] < nt or c.shape[1] < nwl:
        raise ValueError(f"TDS SLOPE/INTERCEPT shape {s.shape} smaller than (NT, NWL) = ({nt}, {nwl})")
    if not np.isfinite(t_mjd):
        raise ValueError("TDS evaluation time must be finite")
    i = tds_interval(tt, t_mjd)
    factor = (t_mjd - ref_time) / DAYS_PER_YEAR * s[i, :nwl] / 100.0 + c[i, :nwl]
    w, f = _curve(wl, factor, "TDS curve")
    return TDSCurve(w, f)


@dataclass(frozen=True, eq=False)
class FluxCalibration:
    """Sensitivity (and optional TDS) of one extraction channel; ``None`` sensitivity = unity."""

    sensitivity: ResponseCurve | None = None
    tds: TDSCurve | None = None

    @property
    def calibrated(self) -> bool:
        return self.sensitivity is not None

    def flux_weights(
        self, epsilon: npt.ArrayLike, wavelength: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], int]:
        """Per-event ``ε / (TDS(λ) · SENS(λ))`` (float64) and the number of events that could not be
        calibrated (sensitivity or TDS <= 0 at their wavelength; their weight is 0)."""
        eps = np.asarray(epsilon, dtype=np.float64)
        if self.sensitivity is None and self.tds is None:
            return eps.copy(), 0
        lam = np.asarray(wavelength, dtype=np.float64)
        denom = np.ones_like(eps)
        if self.sensitivity is not None:
            denom *= self.sensitivity(lam)
        if self.tds is not None:
            denom *= self.tds(lam)
        good = denom > 0
        out = np.zeros_like(eps)
        np.divide(eps, denom, out=out, where=good)
        return out, int(np.count_nonzero(~good))


def stis_sensitivity(
    wavelength: npt.ArrayLike,
    throughput: npt.ArrayLike,
    dispersion: npt.ArrayLike,
    *,
    aperture_throughput: float = 1.0,
    area_cm2: float = HST_AREA_CM2,
) -> ResponseCurve:
    """STIS PHOTTAB throughput as a COS-style sensitivity, (count s⁻¹ pixel⁻¹)/(erg s⁻¹ cm⁻² Å⁻¹).

    calstis: f_λ = NET · h c / (R(λ) · Ta · λ · A_HST · dispersion) (FORMATS.md §5.4), so
    SENS(λ) = R(λ) · Ta · A_HST · dispersion(λ) · λ / (h c), with ``dispersion`` in Å per (low-res) pixel
    on the same ``wavelength`` grid as ``throughput``.
    """
    w = np.asarray(wavelength, dtype=np.float64).ravel()
    r = np.asarray(throughput, dtype=np.float64).ravel()
    d = np.asarray(dispersion, dtype=np.float64).ravel()
    if not (w.shape == r.shape == d.shape):
        raise ValueError("wavelength, throughput and dispersion must have the same length")
    if aperture_throughput <= 0:
        raise ValueError("aperture throughput must be positive")
    sens = r * aperture_throughput * area_cm2 * np.abs(d) * w / HC_ERG_ANGSTROM
    return ResponseCurve.from_table(w, sens)


def dispersion_at(
    wavelength_grid: npt.ArrayLike, at: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """|dλ/dpixel| of a per-pixel wavelength array (e.g. an x1d WAVELENGTH row), evaluated at ``at``."""
    w = np.asarray(wavelength_grid, dtype=np.float64).ravel()
    ok = np.isfinite(w) & (w > 0)
    pix = np.flatnonzero(ok).astype(np.float64)
    w = w[ok]
    if len(w) < 2:
        raise ValueError("need at least two wavelengths to compute a dispersion")
    grad = np.abs(np.gradient(w, pix))
    order = np.argsort(w, kind="stable")
    return np.interp(np.asarray(at, dtype=np.float64), w[order], grad[order])


__all__ = [
    "DAYS_PER_YEAR",
    "HC_ERG_ANGSTROM",
    "HST_AREA_CM2",
    "FluxCalibration",
    "ResponseCurve",
    "TDSCurve",
    "dispersion_at",
    "stis_sensitivity",
    "tds_factor",
    "tds_interval",
]
