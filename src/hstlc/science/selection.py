"""Event selection: extraction bands, wavelength windows, DQ masks and the spectral columns extracted.

COS semantics (FORMATS.md §2.4, §2.6, §6): a band is centred on ``center`` at the detector middle
``x_ref`` and follows the spectrum's tilt ``slope`` (SP_SLP_x), so an event at (x, y) is inside when
``center - height/2 <= y - slope*(x - x_ref) < center + height/2`` — exactly ``height`` rows tall,
odd heights included. STIS bands are expressed the same way in hi-res pixel units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

#: Airglow windows excluded by default (Å), inclusive bounds as the original code used them:
#: geocoronal Lyman alpha and O I 1302/1305/1306.
AIRGLOW_WINDOWS: tuple[tuple[float, float], ...] = ((1208.0, 1225.0), (1298.0, 1312.0))

#: calcos' SERIOUS_DQ_FLAGS for TIME-TAG data: burst (64) | PHA out of bounds (512) | bad time (2048).
SERIOUS_DQ_BITS = 64 | 512 | 2048

#: calcos' default SDQFLAGS when the EVENTS header lacks it (8 + 16 + 32 + 128).
DEFAULT_COS_SDQFLAGS = 184

#: calstis' default SDQFLAGS when missing.
DEFAULT_STIS_SDQFLAGS = 32767


@dataclass(frozen=True)
class Band:
    """A (possibly tilted) strip of the detector ``height`` pixels tall, centred on ``center``.

    An event at (x, y) is inside when ``lower <= y - slope·(x - x_ref) < upper`` (module docstring).

    Parameters
    ----------
    center : float
        Cross-dispersion centre of the band at ``x_ref`` (pixels: COS YCORR, STIS hi-res AXIS2).
    height : float
        Height of the band (pixels), positive.
    slope : float, optional
        Tilt of the spectrum (pixels of y per pixel of x, COS SP_SLP_x; default 0).
    x_ref : float, optional
        Dispersion-axis position where the band is centred on ``center`` (pixels; default 0).

    Raises
    ------
    ValueError
        If a value is not finite or ``height`` is not positive.

    Examples
    --------
    >>> band = Band(center=500.0, height=10.0, slope=0.01, x_ref=8192.0)
    >>> band.lower, band.upper
    (495.0, 505.0)
    >>> band.contains([8192, 8192, 9192, 9192], [494.9, 504.9, 505.0, 514.9]).tolist()
    [False, True, True, True]
    """

    center: float
    height: float
    slope: float = 0.0
    x_ref: float = 0.0

    def __post_init__(self) -> None:
        for name in ("center", "height", "slope", "x_ref"):
            value = getattr(self, name)
            if not np.isfinite(value):
                raise ValueError(f"band {name} must be finite, not {value!r}")
        if self.height <= 0:
            raise ValueError(f"band height must be positive, not {self.height!r}")

    @property
    def lower(self) -> float:
        """Lower edge at the reference column (inclusive)."""
        return self.center - self.height / 2.0

    @property
    def upper(self) -> float:
        """Upper edge at the reference column (exclusive)."""
        return self.center + self.height / 2.0

    def contains(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each event (x, y) lies inside the band.

        Parameters
        ----------
        x, y : array_like of float, shape (n,)
            Dispersion and cross-dispersion position of each event (pixels); ``x`` is only used
            when the band is tilted.

        Returns
        -------
        inside : ndarray of bool, shape (n,)
            True for the events inside the band.
        """
        yy = np.asarray(y)
        if self.slope != 0.0:
            yy = yy - self.slope * (np.asarray(x, dtype=np.float64) - self.x_ref)
        return (yy >= self.lower) & (yy < self.upper)


def dq_good(dq: npt.ArrayLike, sdqflags: int, *, serious: int = SERIOUS_DQ_BITS) -> npt.NDArray[np.bool_]:
    """Events whose DQ has none of the ``sdqflags`` or ``serious`` bits set.

    Parameters
    ----------
    dq : array_like of int, shape (n,)
        Data-quality bits of each event.
    sdqflags : int
        The file's SDQFLAGS (bits that make an event bad).
    serious : int, optional
        Bits that always make an event bad (default :data:`SERIOUS_DQ_BITS`).

    Returns
    -------
    good : ndarray of bool, shape (n,)
        True for the events with none of those bits.

    Examples
    --------
    >>> dq_good([0, 8, 64, 2, 4096], DEFAULT_COS_SDQFLAGS).tolist()
    [True, False, False, True, True]
    """
    mask = int(sdqflags) | int(serious)
    d = np.asarray(dq)
    if mask == 0:
        return np.ones(d.shape, dtype=bool)
    bits = np.asarray(mask, dtype=d.dtype if d.dtype.kind in "iu" else np.int64)
    good: npt.NDArray[np.bool_] = (d & bits) == 0
    return good


def wavelength_good(
    wavelength: npt.ArrayLike,
    wmin: float,
    wmax: float,
    *,
    exclude: tuple[tuple[float, float], ...] = (),
) -> npt.NDArray[np.bool_]:
    """``wmin < λ < wmax`` and λ outside every ``exclude`` window (bounds inclusive).

    Parameters
    ----------
    wavelength : array_like of float, shape (n,)
        Wavelength of each event (Å).
    wmin, wmax : float
        Exclusive wavelength limits (Å).
    exclude : tuple of (float, float), optional
        Windows ``(lo, hi)`` to leave out (Å, inclusive), e.g. :data:`AIRGLOW_WINDOWS`.

    Returns
    -------
    good : ndarray of bool, shape (n,)
        True for the wavelengths kept.

    Examples
    --------
    >>> lam = np.array([1150.0, 1210.0, 1225.0, 1300.0, 1400.0, 1450.0])
    >>> wavelength_good(lam, 1150.0, 1450.0, exclude=AIRGLOW_WINDOWS).tolist()
    [False, False, False, False, True, False]
    """
    lam = np.asarray(wavelength)
    ok = (lam > wmin) & (lam < wmax)
    for lo, hi in exclude:
        ok &= ~((lam >= lo) & (lam <= hi))
    return ok


def column_index(
    x: npt.ArrayLike, *, offset: float = 0.0, scale: float = 1.0, ncols: int
) -> npt.NDArray[np.intp]:
    """Spectral column ``floor((x - offset) / scale)`` of each event; -1 outside ``[0, ncols)``.

    COS: offset 0, scale 1 (XCORR pixels). STIS: offset 1, scale 2 (1-indexed hi-res AXIS1 → 0-indexed
    low-res column, ``(AXIS1 - 1) // 2``).

    Parameters
    ----------
    x : array_like of float, shape (n,)
        Dispersion-axis position of each event (pixels).
    offset : float, optional
        Position of the left edge of column 0 (pixels; default 0).
    scale : float, optional
        Pixels of ``x`` per column (default 1).
    ncols : int
        Number of spectral columns.

    Returns
    -------
    column : ndarray of intp, shape (n,)
        Column 0…ncols−1 of each event; -1 outside the columns or for a non-finite ``x``.

    Examples
    --------
    >>> column_index([-0.5, 0.0, 3.7, 16383.9, 16384.0, np.nan], ncols=16384).tolist()
    [-1, 0, 3, 16383, -1, -1]
    >>> column_index([1, 2, 3, 2048], offset=1.0, scale=2.0, ncols=1024).tolist()
    [0, 0, 1, 1023]
    """
    xx = np.asarray(x, dtype=np.float64)
    col = np.floor((xx - offset) / scale)
    col = np.where(np.isfinite(col), col, -1).astype(np.intp)
    col[(col < 0) | (col >= ncols)] = -1
    return col


def column_wavelengths(
    columns: npt.NDArray[np.intp], wavelength: npt.ArrayLike, ncols: int
) -> npt.NDArray[np.float64]:
    """Mean wavelength per column from events, interpolated across empty columns inside the range.

    Columns outside the span of columns that hold events with a wavelength get NaN: nothing tells what
    wavelength they would record. Events with wavelength <= 0 (unassigned) are ignored.

    Parameters
    ----------
    columns : ndarray of intp, shape (n,)
        Spectral column of each event (:func:`column_index`; -1 = none).
    wavelength : array_like of float, shape (n,)
        Wavelength of each event (Å).
    ncols : int
        Number of spectral columns.

    Returns
    -------
    column_wavelength : ndarray of float64, shape (ncols,)
        Mean wavelength of each column (Å), NaN outside the filled span.

    Examples
    --------
    >>> columns = np.array([1, 1, 3, -1])
    >>> column_wavelengths(columns, [1300.0, 1302.0, 1305.0, 1400.0], 5).tolist()
    [nan, 1301.0, 1303.0, 1305.0, nan]
    """
    lam = np.asarray(wavelength, dtype=np.float64)
    ok = (columns >= 0) & (lam > 0) & np.isfinite(lam)
    counts = np.bincount(columns[ok], minlength=ncols)[:ncols]
    # numpy's stub types every bincount as intp; with float weights it is float64
    sums = cast(npt.NDArray[np.float64], np.bincount(columns[ok], weights=lam[ok], minlength=ncols)[:ncols])
    return interpolated_column_means(sums, counts)


def interpolated_column_means(
    sums: npt.NDArray[np.float64], counts: npt.NDArray[np.integer]
) -> npt.NDArray[np.float64]:
    """``sums / counts`` per column, linearly interpolated across empty columns inside the filled span.

    Columns before the first or after the last filled column are NaN.

    Parameters
    ----------
    sums : ndarray of float64, shape (ncols,)
        Sum of a per-event quantity in each column (e.g. wavelengths, Å).
    counts : ndarray of int, shape (ncols,)
        Events in each column.

    Returns
    -------
    means : ndarray of float64, shape (ncols,)
        Mean per column (unit of ``sums``), all NaN when no column has events.

    Examples
    --------
    >>> interpolated_column_means(np.array([0.0, 10.0, 0.0, 30.0]), np.array([0, 2, 0, 3])).tolist()
    [nan, 5.0, 7.5, 10.0]
    """
    out = np.full(len(sums), np.nan)
    filled = counts > 0
    if not filled.any():
        return out
    out[filled] = sums[filled] / counts[filled]
    idx = np.flatnonzero(filled)
    span = np.arange(idx[0], idx[-1] + 1)
    out[span] = np.interp(span, idx, out[idx])
    return out


def extracted_columns(
    col_wavelength: npt.NDArray[np.float64],
    *,
    wmin: float,
    wmax: float,
    exclude: tuple[tuple[float, float], ...] = (),
    col_min: int = 0,
    col_max: int | None = None,
    dead: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_]:
    """Columns that can contribute: wavelength inside the limits and outside ``exclude``, inside the
    column range, and not ``dead`` (every event of the column in the extraction box DQ-flagged).

    Parameters
    ----------
    col_wavelength : ndarray of float64, shape (ncols,)
        Wavelength of each column (Å; NaN = unknown, never extracted).
    wmin, wmax : float
        Exclusive wavelength limits (Å).
    exclude : tuple of (float, float), optional
        Wavelength windows left out (Å, inclusive).
    col_min : int, optional
        First column that may be extracted (default 0).
    col_max : int, optional
        Columns from this one on are not extracted (default: no limit).
    dead : ndarray of bool, shape (ncols,), optional
        Columns whose events were all rejected.

    Returns
    -------
    mask : ndarray of bool, shape (ncols,)
        True for the columns extracted.

    Examples
    --------
    >>> lam = np.array([np.nan, 1205.0, 1215.0, 1230.0, 1240.0, 1250.0])
    >>> extracted_columns(lam, wmin=1200.0, wmax=1260.0, exclude=AIRGLOW_WINDOWS, col_max=5).tolist()
    [False, True, False, True, True, False]
    >>> dead = np.array([False, False, False, True, False, False])
    >>> extracted_columns(lam, wmin=1200.0, wmax=1260.0, dead=dead).tolist()
    [False, True, True, False, True, True]
    """
    lam = np.asarray(col_wavelength, dtype=np.float64)
    ok = np.isfinite(lam) & wavelength_good(np.nan_to_num(lam, nan=-1.0), wmin, wmax, exclude=exclude)
    ok[: max(col_min, 0)] = False
    if col_max is not None:
        ok[max(col_max, 0) :] = False
    if dead is not None:
        ok &= ~np.asarray(dead, dtype=bool)
    return ok


__all__ = [
    "AIRGLOW_WINDOWS",
    "DEFAULT_COS_SDQFLAGS",
    "DEFAULT_STIS_SDQFLAGS",
    "SERIOUS_DQ_BITS",
    "Band",
    "column_index",
    "column_wavelengths",
    "dq_good",
    "extracted_columns",
    "interpolated_column_means",
    "wavelength_good",
]
