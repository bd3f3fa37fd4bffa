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

    Parameters
    ----------
    x : array_like of float, shape (n,)
        Knots of the first curve, ascending (e.g. wavelengths, Å).
    y : array_like of float, shape (n,)
        Values of the first curve at its knots.
    *more : tuple of (array_like, array_like)
        ``(x, y)`` knots and values of further curves, each ascending in ``x``.

    Raises
    ------
    ValueError
        If a curve has no knots or its ``x`` and ``y`` differ in shape.

    Examples
    --------
    >>> curve = PiecewiseLinear([1000.0, 1500.0, 2000.0], [1.0, 3.0, 2.0])
    >>> curve([900.0, 1250.0, 1750.0, 2100.0]).tolist()
    [1.0, 2.0, 2.5, 2.0]
    >>> both = PiecewiseLinear([1000.0, 2000.0], [1.0, 3.0], ([1000.0, 2000.0], [2.0, 2.0]))
    >>> both.product([1500.0]).tolist()
    [4.0]
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
        """The first curve at ``at``.

        Parameters
        ----------
        at : array_like of float, shape (m,)
            Where to evaluate it (unit of the knots).

        Returns
        -------
        values : ndarray of float64, shape (m,)
            ``np.interp(at, x, y)`` to rounding.
        """
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
        """The product of all curves at ``at`` (one shared bucket index).

        Parameters
        ----------
        at : array_like of float, shape (m,)
            Where to evaluate them (unit of the knots).

        Returns
        -------
        values : ndarray of float64, shape (m,)
            The product of every curve's ``np.interp`` at each point, to rounding.
        """
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
    by :meth:`FluxCalibration.flux_weights` so the caller can report them.

    Parameters
    ----------
    wavelength : ndarray of float64, shape (n,)
        Wavelength grid (Å), ascending (:meth:`from_table` sorts and cleans a table).
    sensitivity : ndarray of float64, shape (n,)
        Sensitivity at each wavelength, (count s⁻¹ pixel⁻¹) / (erg s⁻¹ cm⁻² Å⁻¹).

    Examples
    --------
    >>> sens = ResponseCurve.from_table([1500.0, 1100.0, 1300.0], [2e13, 1e13, 3e13])
    >>> sens.wavelength.tolist()
    [1100.0, 1300.0, 1500.0]
    >>> (sens([1000.0, 1200.0, 1600.0]) / 1e13).tolist()
    [1.0, 2.0, 2.0]
    """

    wavelength: npt.NDArray[np.float64]
    sensitivity: npt.NDArray[np.float64]

    @classmethod
    def from_table(cls, wavelength: npt.ArrayLike, sensitivity: npt.ArrayLike) -> ResponseCurve:
        """The curve of a reference-table row: non-finite entries dropped, sorted by wavelength.

        Parameters
        ----------
        wavelength : array_like of float, shape (n,)
            Wavelengths (Å), any order.
        sensitivity : array_like of float, shape (n,)
            Sensitivity at each, (count s⁻¹ pixel⁻¹) / (erg s⁻¹ cm⁻² Å⁻¹).

        Returns
        -------
        ResponseCurve
            The cleaned, sorted curve.

        Raises
        ------
        ValueError
            If the arrays are empty, differ in length, or hold no finite pair.
        """
        w, s = _curve(wavelength, sensitivity, "sensitivity curve")
        return cls(w, s)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_eval", PiecewiseLinear(self.wavelength, self.sensitivity))

    def __call__(self, wavelength: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The sensitivity at ``wavelength`` (Å, shape (m,)), end values held outside the grid."""
        return self._eval(wavelength)  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True, eq=False)
class TDSCurve:
    """The TDS factor at one epoch as a function of wavelength (dimensionless, flux /= factor).

    Parameters
    ----------
    wavelength : ndarray of float64, shape (n,)
        Wavelength grid (Å), ascending.
    factor : ndarray of float64, shape (n,)
        TDS factor at each wavelength (dimensionless; end values hold outside the grid).

    Examples
    --------
    >>> tds = TDSCurve(np.array([1100.0, 1700.0]), np.array([0.9, 0.96]))
    >>> tds([1000.0, 1400.0]).tolist()
    [0.9, 0.93]
    """

    wavelength: npt.NDArray[np.float64]
    factor: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_eval", PiecewiseLinear(self.wavelength, self.factor))

    def __call__(self, wavelength: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The factor at ``wavelength`` (Å, shape (m,)), end values held outside the grid."""
        return self._eval(wavelength)  # type: ignore[attr-defined,no-any-return]


def tds_interval(times: npt.ArrayLike, t: float) -> int:
    """Index i of the TDS interval holding ``t``: TIME[i] <= t < TIME[i+1]; the first interval before
    TIME[0] and the last one after TIME[-1] (extrapolation, as calcos does; never an empty index).

    Parameters
    ----------
    times : array_like of float, shape (NT,)
        The TDSTAB row's TIME entries (MJD), ascending.
    t : float
        The time of the observation (MJD).

    Returns
    -------
    index : int
        Interval index, 0…NT−1.

    Raises
    ------
    ValueError
        If ``times`` is empty.

    Examples
    --------
    >>> times = [55000.0, 56000.0, 57000.0]
    >>> tds_interval(times, 56500.0), tds_interval(times, 54000.0), tds_interval(times, 58000.0)
    (1, 0, 2)
    """
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
    factor(λ_k) = (t − REF_TIME)/365.25 · SLOPE[i, k]/100 + INTERCEPT[i, k], with i the interval of
    :func:`tds_interval`.

    Parameters
    ----------
    t_mjd : float
        Time of the observation (MJD), finite.
    wavelength : array_like of float, shape (NWL,)
        The TDSTAB row's wavelengths (Å).
    times : array_like of float, shape (NT,)
        Its interval start times (MJD), ascending.
    slope : array_like of float, shape (NT, NWL) or larger
        Slope per interval and wavelength (percent per year); shape (NWL,) when NT is 1.
    intercept : array_like of float, shape (NT, NWL) or larger
        Intercept per interval and wavelength (dimensionless); shape (NWL,) when NT is 1.
    ref_time : float
        The table's REF_TIME (MJD).

    Returns
    -------
    TDSCurve
        The factor against wavelength at ``t_mjd``.

    Raises
    ------
    ValueError
        If there are no wavelengths or times, SLOPE/INTERCEPT are not 2-D or too small, ``t_mjd`` is not
        finite, or no factor is finite.

    Examples
    --------
    >>> curve = tds_factor(
    ...     55365.25, wavelength=[1100.0, 1700.0], times=[55000.0, 56000.0],
    ...     slope=[[-2.0, -1.0], [-3.0, -1.5]], intercept=[[1.0, 1.0], [0.99, 0.99]], ref_time=55000.0)
    >>> curve.factor.round(6).tolist()  # one year after REF_TIME, first interval
    [0.98, 0.99]
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
    """Sensitivity (and optional TDS) of one extraction channel; ``None`` sensitivity = unity.

    Parameters
    ----------
    sensitivity : ResponseCurve, optional
        Sensitivity curve; without it the flux weights are the events' ε (uncalibrated).
    tds : TDSCurve, optional
        Time-dependent sensitivity factor at the exposure's epoch.

    Examples
    --------
    >>> sens = ResponseCurve.from_table([1100.0, 1700.0], [2.0, 4.0])
    >>> calibration = FluxCalibration(sens, TDSCurve(np.array([1100.0, 1700.0]), np.array([1.0, 0.5])))
    >>> calibration.calibrated
    True
    >>> calibration.flux_weights([1.0, 1.0, 1.0], [1100.0, 1400.0, 1700.0])[0].round(4).tolist()
    [0.5, 0.4444, 0.5]
    >>> FluxCalibration().flux_weights([1.0, 0.5], [1200.0, 1300.0])[0].tolist()
    [1.0, 0.5]
    """

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
        """True when there is a sensitivity curve (fluxes in erg s⁻¹ cm⁻² Å⁻¹)."""
        return self.sensitivity is not None

    def flux_weights(
        self, epsilon: npt.ArrayLike, wavelength: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], int]:
        """Per-event ``ε / (TDS(λ) · SENS(λ))`` (float64) and the number of events that could not be
        calibrated (sensitivity or TDS <= 0 at their wavelength; their weight is 0).

        Parameters
        ----------
        epsilon : array_like of float, shape (n,)
            Each event's ε (counts).
        wavelength : array_like of float, shape (n,)
            Each event's wavelength (Å).

        Returns
        -------
        weights : ndarray of float64, shape (n,)
            Flux weight of each event, erg cm⁻² Å⁻¹ pixel (summed, divided by the exposure and the
            columns extracted: erg s⁻¹ cm⁻² Å⁻¹); ε itself without curves.
        n_uncalibrated : int
            Events given weight 0 because a curve was not positive at their wavelength.

        Examples
        --------
        >>> bad = FluxCalibration(ResponseCurve.from_table([1100.0, 1700.0], [0.0, 4.0]))
        >>> weights, n_bad = bad.flux_weights([1.0, 1.0], [1100.0, 1700.0])
        >>> weights.tolist(), n_bad
        ([0.0, 0.25], 1)
        """
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

    Parameters
    ----------
    wavelength : array_like of float, shape (n,)
        PHOTTAB wavelengths (Å).
    throughput : array_like of float, shape (n,)
        PHOTTAB throughput R(λ) (dimensionless).
    dispersion : array_like of float, shape (n,)
        Dispersion at each wavelength (Å per low-res pixel; the sign is ignored).
    aperture_throughput : float, optional
        Aperture throughput Ta (dimensionless, positive; default 1).
    area_cm2 : float, optional
        Collecting area (cm², default :data:`HST_AREA_CM2`).

    Returns
    -------
    ResponseCurve
        SENS(λ), (count s⁻¹ pixel⁻¹) / (erg s⁻¹ cm⁻² Å⁻¹).

    Raises
    ------
    ValueError
        If the arrays differ in length, ``aperture_throughput`` is not positive, or no entry is finite.

    Examples
    --------
    >>> sens = stis_sensitivity([1500.0, 1600.0], [0.01, 0.02], [0.58, 0.58])
    >>> [f"{s:.4g}" for s in sens.sensitivity]
    ['1.981e+13', '4.227e+13']
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
    """|dλ/dpixel| of a per-pixel wavelength array (e.g. an x1d WAVELENGTH row), evaluated at ``at``.

    Pixels whose wavelength is not positive and finite are skipped (the gradient uses the remaining
    pixels' positions); the result is interpolated in wavelength, end values held.

    Parameters
    ----------
    wavelength_grid : array_like of float, shape (npix,)
        Wavelength of each pixel (Å).
    at : array_like of float, shape (m,)
        Wavelengths (Å) where the dispersion is wanted.

    Returns
    -------
    dispersion : ndarray of float64, shape (m,)
        |dλ/dpixel| at each (Å per pixel).

    Raises
    ------
    ValueError
        If fewer than two wavelengths are usable.

    Examples
    --------
    >>> grid = np.array([1500.0, 1500.5, 1501.0, 1502.0])
    >>> dispersion_at(grid, [1500.25, 1501.5]).tolist()
    [0.5, 0.875]
    """
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
