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
    """A (possibly tilted) strip of the detector ``height`` pixels tall, centred on ``center``."""

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
        """Whether each event (x, y) lies inside the band."""
        yy = np.asarray(y)
        if self.slope != 0.0:
            yy = yy - self.slope * (np.asarray(x, dtype=np.float64) - self.x_ref)
        return (yy >= self.lower) & (yy < self.upper)


def dq_good(dq: npt.ArrayLike, sdqflags: int, *, serious: int = SERIOUS_DQ_BITS) -> npt.NDArray[np.bool_]:
    """Events whose DQ has none of the ``sdqflags`` or ``serious`` bits set."""
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
    """``wmin < λ < wmax`` and λ outside every ``exclude`` window (bounds inclusive)."""
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
    column range, and not ``dead`` (every event of the column in the extraction box DQ-flagged)."""
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
