"""Flux calibration: sensitivity curves, time-dependent sensitivity (TDS), STIS throughput.

The flux weight of one event is ``EPSILON / (TDS(λ) · SENS(λ))`` with both curves interpolated at that
event's own wavelength (FORMATS.md §5.1, §5.2). Summed over a bin's events and divided by the bin's
exposure this gives Σ_columns f_λ(column); dividing by the number of columns extracted gives the mean
f_λ over the band (erg s⁻¹ cm⁻² Å⁻¹).

TDS is the COS correction of FORMATS.md §5.2 (:func:`tds_factor`). STIS fluxes get none: the STIS TDSTAB's
format is not documented in FORMATS.md, and a guessed one would be a fake correction (the extraction
states the omission in the product's FLUXNOTE and TDSCORR = 'OMITTED').
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


def _bucket_tables(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], lo: float, h: float, nb: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per-bucket line ``a + b·f`` (f = fraction of the bucket) of ``np.interp(·, x, y)`` on the uniform
    grid ``lo + h·[0..nb]``, plus the buckets where the curve is not one line (a knot inside)."""
    n = len(x)
    a = np.empty(nb + 2)
    b = np.zeros(nb + 2)
    knotty = np.zeros(nb + 2, dtype=bool)
    a[0], a[-1] = y[0], y[-1]  # below / at-or-above the grid: the table's end values
    edges = lo + h * np.arange(nb + 1)
    left, right = edges[:-1], edges[1:]
    if n == 1:
        a[1:-1] = y[0]
    else:
        # A bucket is one line when no knot lies in its closed extent [e_b, e_b+1].
        jl = np.searchsorted(x, left, side="left") - 1
        jr = np.searchsorted(x, right, side="right") - 1
        j = np.clip(jl, 0, n - 2)
        dx = x[j + 1] - x[j]
        inner = (jl == jr) & (jl >= 0) & (jl <= n - 2) & (dx > 0)
        below = right < x[0]
        above = left > x[-1]
        slope = np.where(inner, (y[j + 1] - y[j]) / np.where(dx > 0, dx, 1.0), 0.0)
        a[1:-1] = np.where(inner, y[j] + (left - x[j]) * slope, np.where(below, y[0], y[-1]))
        b[1:-1] = slope * h
        knotty[1:-1] = ~(inner | below | above)
        # At a duplicated knot np.interp takes one side; rounding of a point's bucket could pick the
        # other, so let np.interp itself decide in the buckets around such knots.
        dup = x[1:][np.diff(x) == 0]
        if len(dup):
            centre = np.clip(np.floor((dup - lo) / h).astype(np.intp) + 1, 0, nb + 1)
            for shift in (-1, 0, 1):
                knotty[np.clip(centre + shift, 0, nb + 1)] = True
    return a, b, knotty


def _grid(xs: list[npt.NDArray[np.float64]]) -> tuple[float, float, int]:
    lo = min(float(x[0]) for x in xs)
    hi = max(float(x[-1]) for x in xs)
    knots = sum(len(x) for x in xs)
    if not hi > lo:
        return lo, 1.0, 0
    nb = int(min(max(64 * knots, 4096), 1 << 20))
    return lo, (hi - lo) / nb, nb


class PiecewiseLinear:
    """``np.interp(t, x, y)`` for one or more curves, without a per-point binary search.

    For 10⁷ events ``np.interp``'s search dominates an extraction. Here the knot range is cut into many
    uniform buckets; in a bucket without a knot, each curve is one line, so a point's value is two table
    look-ups and a multiply-add. Points in buckets that hold a knot are evaluated with ``np.interp``
    itself. Several curves share one bucket index (:meth:`product` evaluates Π curves in one pass).
    Results equal ``np.interp`` to rounding (finite points only; end values are held outside).
    """

    __slots__ = ("_h", "_knotty", "_lo", "_nb", "_tables", "_xs", "_ys")

    def __init__(
        self, x: npt.ArrayLike, y: npt.ArrayLike, *more: tuple[npt.ArrayLike, npt.ArrayLike]
    ) -> None:
        pairs = [(x, y), *more]
        self._xs = [np.asarray(px, dtype=np.float64) for px, _ in pairs]
        self._ys = [np.asarray(py, dtype=np.float64) for _, py in pairs]
        for px, py in zip(self._xs, self._ys, strict=True):
            if len(px) == 0 or px.shape != py.shape:
                raise ValueError("need equal-length, non-empty knot arrays")
        self._lo, self._h, self._nb = _grid(self._xs)
        self._tables = []
        knotty = np.zeros(self._nb + 2, dtype=bool)
        if self._nb:
            for px, py in zip(self._xs, self._ys, strict=True):
                ta, tb, tk = _bucket_tables(px, py, self._lo, self._h, self._nb)
                self._tables.append((ta, tb))
                knotty |= tk
        self._knotty = knotty

    def _index(self, t: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        u = t - (self._lo - self._h)  # bucket 1 starts at lo; bucket 0 holds everything below
        u *= 1.0 / self._h
        # fmax/fmin (unlike clip) also map NaN to a bound, so no point can index outside the tables.
        np.fmax(u, 0.0, out=u)
        np.fmin(u, self._nb + 1, out=u)
        k = u.astype(np.intp)
        u -= k
        return k, u

    def _line(self, i: int, k: npt.NDArray[np.intp], f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        ta, tb = self._tables[i]
        out = tb[k]
        out *= f
        out += ta[k]
        return out

    def __call__(self, at: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The first curve at ``at``."""
        t = np.asarray(at, dtype=np.float64)
        if self._nb == 0:
            return np.interp(t, self._xs[0], self._ys[0])
        k, f = self._index(t)
        out = self._line(0, k, f)
        fix = np.flatnonzero(self._knotty[k])
        if len(fix):
            out[fix] = np.interp(t[fix], self._xs[0], self._ys[0])
        return out

    def product(self, at: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The product of all curves at ``at`` (one shared bucket index)."""
        t = np.asarray(at, dtype=np.float64)
        if self._nb == 0:
            out = np.ones(t.shape)
            for px, py in zip(self._xs, self._ys, strict=True):
                out *= np.interp(t, px, py)
            return out
        k, f = self._index(t)
        out = self._line(0, k, f)
        for i in range(1, len(self._tables)):
            out *= self._line(i, k, f)
        fix = np.flatnonzero(self._knotty[k])
        if len(fix):
            tf = t[fix]
            value = np.interp(tf, self._xs[0], self._ys[0])
            for px, py in zip(self._xs[1:], self._ys[1:], strict=True):
                value *= np.interp(tf, px, py)
            out[fix] = value
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

    def __post_init__(self) -> None:
        curves: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = []
        if self.sensitivity is not None:
            curves.append((self.sensitivity.wavelength, self.sensitivity.sensitivity))
        if self.tds is not None:
            curves.append((self.tds.wavelength, self.tds.factor))
        joint = PiecewiseLinear(*curves[0], *curves[1:]) if curves else None
        # Interpolation between positive knots (ends held) is positive: no per-event check needed then.
        positive = all(bool(np.all(v > 0)) for _, v in curves)
        object.__setattr__(self, "_joint", joint)
        object.__setattr__(self, "_positive", positive)

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
        denom = self._joint.product(wavelength)  # type: ignore[attr-defined]
        if self._positive:  # type: ignore[attr-defined]
            np.divide(eps, denom, out=denom)
            return denom, 0
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
