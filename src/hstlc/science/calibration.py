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


class PiecewiseLinear:
    """``np.interp(t, x, y)`` (end values held outside the table) without a per-point binary search.

    For 10⁷ events ``np.interp``'s search dominates an extraction. Here the knot range is cut into many
    uniform buckets; in a bucket without a knot inside, the curve is one line ``a + b·t``, so a point's
    value is two table look-ups and a multiply-add. The few points in buckets that hold a knot are
    evaluated with ``np.interp`` itself. Results equal ``np.interp`` to rounding (finite points only).
    """

    __slots__ = ("_a", "_b", "_h", "_knotty", "_lo", "_nb", "_x", "_y")

    def __init__(self, x: npt.ArrayLike, y: npt.ArrayLike) -> None:
        self._x = np.asarray(x, dtype=np.float64)
        self._y = np.asarray(y, dtype=np.float64)
        n = len(self._x)
        if n == 0 or self._x.shape != self._y.shape:
            raise ValueError("need equal-length, non-empty knot arrays")
        self._lo = float(self._x[0])
        span = float(self._x[-1]) - self._lo
        nb = int(min(max(64 * n, 4096), 1 << 20)) if n > 1 and span > 0 else 0
        self._nb = nb
        self._h = span / nb if nb else 1.0
        a = np.empty(nb + 2)
        b = np.zeros(nb + 2)
        knotty = np.zeros(nb + 2, dtype=bool)
        a[0], a[-1] = self._y[0], self._y[-1]  # below / at-or-above the table: end values
        if nb:
            edges = self._lo + self._h * np.arange(nb + 1)
            edges[-1] = self._x[-1]
            # A bucket is one line when no knot lies in its closed extent [e_b, e_b+1].
            jl = np.searchsorted(self._x, edges[:-1], side="left") - 1
            jr = np.searchsorted(self._x, edges[1:], side="right") - 1
            j = np.clip(jl, 0, n - 2)
            dx = self._x[j + 1] - self._x[j]
            good = (jl == jr) & (jl >= 0) & (jl <= n - 2) & (dx > 0)
            slope = np.where(good, (self._y[j + 1] - self._y[j]) / np.where(dx > 0, dx, 1.0), 0.0)
            # Value at the bucket's left edge and rise per bucket width: out = a + b·(fraction of bucket).
            a[1:-1] = np.where(good, self._y[j] + (edges[:-1] - self._x[j]) * slope, 0.0)
            b[1:-1] = slope * self._h
            knotty[1:-1] = ~good
        if n > 1 and self._x[-1] == self._x[-2]:  # duplicated last knot: let np.interp decide there
            knotty[-2:] = True
        self._a, self._b, self._knotty = a, b, knotty

    def __call__(self, at: npt.ArrayLike) -> npt.NDArray[np.float64]:
        t = np.asarray(at, dtype=np.float64)
        if self._nb == 0:  # a single knot (or all knots equal): np.interp's answer everywhere
            return np.interp(t, self._x, self._y)
        u = (t - self._lo) / self._h
        u += 1.0
        # fmax/fmin (unlike clip) also map NaN to a bound, so no point can index outside the tables.
        np.fmax(u, 0.0, out=u)
        np.fmin(u, self._nb + 1, out=u)
        k = u.astype(np.intp)
        u -= k
        out = self._b[k]
        out *= u
        out += self._a[k]
        fix = np.flatnonzero(self._knotty[k])
        if len(fix):
            out[fix] = np.interp(t[fix], self._x, self._y)
        return out


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "_eval", PiecewiseLinear(self.wavelength, self.sensitivity))

    def __call__(self, wavelength: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return self._eval(wavelength)  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True, eq=False)
class TDSCurve:
    """The TDS factor at one epoch as a function of wavelength (dimensionless, flux /= factor)."""

    wavelength: npt.NDArray[np.float64]
    factor: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_eval", PiecewiseLinear(self.wavelength, self.factor))

    def __call__(self, wavelength: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return self._eval(wavelength)  # type: ignore[attr-defined,no-any-return]


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
    "PiecewiseLinear",
    "ResponseCurve",
    "TDSCurve",
    "dispersion_at",
    "stis_sensitivity",
    "tds_factor",
    "tds_interval",
]
