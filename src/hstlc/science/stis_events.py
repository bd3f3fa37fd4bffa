"""Calibration of STIS MAMA TIME-TAG events: flat-field weight, data quality and wavelength (pure).

FORMATS.md §3, §3.3, §3.4, §5.3, §5.4 and item 10 of §6, done the way calstis does it:

- **EPSILON** = 1 / (P-flat × L-flat): calstis *divides* by the flats. Both flats are resampled onto the
  2048 × 2048 hi-res event grid by bilinear interpolation between pixel centres (any shape; no integer
  ratio assumed). A missing L-flat still applies the P-flat (and the notes say so); a flat value that is
  not positive and finite gives EPSILON 0 and DQ bit 4 ("detector problem").
- **DQ**: BPIXTAB rows of this OPT_ELEM only (callers filter), 1-indexed low-res → 0-indexed; each event
  takes the flag of its low-res pixel ``(AXIS − 1) // 2``. Events outside 1…2048 get bit 4 as well.
- **WAVELENGTH**: first-order gratings use the x1d WAVELENGTH of low-res column ``(AXIS1 − 1) // 2``;
  echelle events belong to the order whose window A2CENTER ± EXTRSIZE/2 (low-res, 1-indexed) contains
  the event's low-res position ``(AXIS2 + 0.5) / 2``; on overlap the nearest order centre wins; outside
  every window the wavelength is 0. IMAGING events get 0.

Hi-res ↔ low-res coordinates (both 1-indexed, integer at pixel centres): low-res pixel *j* covers hi-res
pixels 2j−1 and 2j, so a hi-res coordinate *h* is the low-res coordinate (h + 0.5)/2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

HIRES = 2048
LOWRES = 1024
DQ_DETECTOR_PROBLEM = 4


@dataclass(frozen=True, eq=False)
class StisEventCalibration:
    """Per-event EPSILON, DQ and WAVELENGTH, with notes on what could not be calibrated.

    ``applied`` names the steps done (``pflat``, ``lflat``, ``bpixtab``, ``wavelength``); ``notes`` are
    short sentences for the product header (e.g. ``no L-flat: EPSILON from the P-flat only``).

    Parameters
    ----------
    epsilon : ndarray of float64, shape (n,)
        Flat-field weight of each event (dimensionless; 0 on a flat value that is not positive).
    dq : ndarray of int16, shape (n,)
        Data-quality bits of each event.
    wavelength : ndarray of float64, shape (n,)
        Wavelength of each event (Å; 0 = none).
    applied : tuple of str
        The calibration steps done.
    notes : tuple of str
        What could not be calibrated, one sentence each.

    Examples
    --------
    >>> cal = calibrate_events([1, 2048], [1, 2048], dq_map=np.zeros((1024, 1024), np.int16))
    >>> cal.epsilon.tolist(), cal.dq.tolist(), cal.applied
    ([1.0, 1.0], [0, 0], ('bpixtab',))
    >>> cal.notes[0]
    'no P-flat: EPSILON not flat-fielded by it'
    """

    epsilon: npt.NDArray[np.float64]
    dq: npt.NDArray[np.int16]
    wavelength: npt.NDArray[np.float64]
    applied: tuple[str, ...]
    notes: tuple[str, ...]


def _axis_weights(
    n_out: int, n_in: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Linear-interpolation indices and weights from an ``n_in`` grid to ``n_out`` pixel centres."""
    centres = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    centres = np.clip(centres, 0.0, n_in - 1.0)
    lo = np.floor(centres).astype(np.intp)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, centres - lo


def resample_flat(flat: npt.ArrayLike, *, shape: tuple[int, int] = (HIRES, HIRES)) -> npt.NDArray[np.float64]:
    """Resample a 2-D flat to ``shape`` by bilinear interpolation between pixel centres.

    The flat is taken to cover the whole detector; values beyond the outermost centres are held constant.

    Parameters
    ----------
    flat : array_like of float, shape (ny, nx)
        The flat field (dimensionless), any non-empty 2-D shape.
    shape : tuple of int, optional
        Output shape (rows, columns) in pixels (default the 2048 × 2048 hi-res grid).

    Returns
    -------
    image : ndarray of float64, shape ``shape``
        The resampled flat.

    Raises
    ------
    ValueError
        If ``flat`` is not a non-empty 2-D array.

    Examples
    --------
    >>> resample_flat([[1.0, 2.0], [3.0, 4.0]], shape=(4, 4)).tolist()
    [[1.0, 1.25, 1.75, 2.0], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3.0, 3.25, 3.75, 4.0]]
    """
    image = np.asarray(flat, dtype=np.float64)
    if image.ndim != 2 or min(image.shape) < 1:
        raise ValueError(f"a flat field must be a non-empty 2-D array, got shape {image.shape}")
    ylo, yhi, wy = _axis_weights(shape[0], image.shape[0])
    xlo, xhi, wx = _axis_weights(shape[1], image.shape[1])
    rows = image[ylo] * (1.0 - wy)[:, None] + image[yhi] * wy[:, None]
    return rows[:, xlo] * (1.0 - wx)[None, :] + rows[:, xhi] * wx[None, :]


def flat_at(flat: npt.ArrayLike, row: npt.ArrayLike, col: npt.ArrayLike, *,
            shape: tuple[int, int] = (HIRES, HIRES)) -> npt.NDArray[np.float64]:
    """The flat resampled to ``shape`` (as :func:`resample_flat`) at 0-indexed pixels (row, col) only.

    Same values as ``resample_flat(flat, shape=shape)[row, col]`` without building the full image, which
    is cheaper when there are fewer events than output pixels.

    Parameters
    ----------
    flat : array_like of float, shape (ny, nx)
        The flat field (dimensionless), any non-empty 2-D shape.
    row, col : array_like of int, shape (n,)
        0-indexed pixel of each event on the ``shape`` grid.
    shape : tuple of int, optional
        The grid the flat is resampled to (default 2048 × 2048 hi-res pixels).

    Returns
    -------
    values : ndarray of float64, shape (n,)
        The resampled flat at each event's pixel.

    Raises
    ------
    ValueError
        If ``flat`` is not a non-empty 2-D array.

    Examples
    --------
    >>> flat_at([[1.0, 2.0], [3.0, 4.0]], [0, 3], [1, 2], shape=(4, 4)).tolist()
    [1.25, 3.75]
    """
    image = np.asarray(flat, dtype=np.float64)
    if image.ndim != 2 or min(image.shape) < 1:
        raise ValueError(f"a flat field must be a non-empty 2-D array, got shape {image.shape}")
    r = np.asarray(row, dtype=np.intp)
    c = np.asarray(col, dtype=np.intp)
    if len(r) >= shape[0] * shape[1] // 4:
        return resample_flat(image, shape=shape)[r, c]
    ylo, yhi, wy = _axis_weights(shape[0], image.shape[0])
    xlo, xhi, wx = _axis_weights(shape[1], image.shape[1])
    y0, y1, fy = ylo[r], yhi[r], wy[r]
    x0, x1, fx = xlo[c], xhi[c], wx[c]
    top = image[y0, x0] * (1.0 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1.0 - fx) + image[y1, x1] * fx
    return top * (1.0 - fy) + bottom * fy


def bpix_dq_map(
    pix1: npt.ArrayLike,
    pix2: npt.ArrayLike,
    length: npt.ArrayLike,
    axis: npt.ArrayLike,
    value: npt.ArrayLike,
    *,
    shape: tuple[int, int] = (LOWRES, LOWRES),
) -> npt.NDArray[np.int16]:
    """Paint BPIXTAB rows onto a low-res DQ image of ``shape`` (rows = AXIS2, columns = AXIS1).

    Each row flags LENGTH pixels starting at the 1-indexed (PIX1, PIX2), along X (AXIS 1) or Y (AXIS 2),
    OR-ing VALUE. Pixels beyond the image are ignored (as calstis does).

    Parameters
    ----------
    pix1, pix2 : array_like of int, shape (n,)
        1-indexed low-res column and row where each bad-pixel run starts.
    length : array_like of int, shape (n,)
        Pixels in each run (non-positive: none).
    axis : array_like of int, shape (n,)
        Direction of each run: 1 along X (columns), 2 along Y (rows).
    value : array_like of int, shape (n,)
        DQ bits of each run.
    shape : tuple of int, optional
        Shape of the DQ image (rows, columns) in low-res pixels (default 1024 × 1024).

    Returns
    -------
    dq : ndarray of int16, shape ``shape``
        The DQ image.

    Raises
    ------
    ValueError
        If the columns differ in length or are not 1-D, or an AXIS is neither 1 nor 2.

    Examples
    --------
    >>> bpix_dq_map([2, 1], [1, 3], [3, 2], [1, 2], [4, 16], shape=(4, 4)).tolist()
    [[0, 4, 4, 4], [0, 0, 0, 0], [16, 0, 0, 0], [16, 0, 0, 0]]
    """
    p1 = np.asarray(pix1, dtype=np.int64)
    p2 = np.asarray(pix2, dtype=np.int64)
    ln = np.asarray(length, dtype=np.int64)
    ax = np.asarray(axis, dtype=np.int64)
    val = np.asarray(value, dtype=np.int64)
    if not (p1.shape == p2.shape == ln.shape == ax.shape == val.shape) or p1.ndim != 1:
        raise ValueError("BPIXTAB columns must be one-dimensional and of equal length")
    if np.any((ax != 1) & (ax != 2)):
        raise ValueError("BPIXTAB AXIS must be 1 or 2")
    dq = np.zeros(shape, dtype=np.int64)
    if len(p1) == 0:
        return dq.astype(np.int16)
    counts = np.maximum(ln, 0)
    row_of = np.repeat(np.arange(len(p1)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    x = p1[row_of] - 1 + np.where(ax[row_of] == 1, offsets, 0)
    y = p2[row_of] - 1 + np.where(ax[row_of] == 2, offsets, 0)
    inside = (x >= 0) & (x < shape[1]) & (y >= 0) & (y < shape[0])
    np.bitwise_or.at(dq, (y[inside], x[inside]), val[row_of][inside])
    return dq.astype(np.int16)


def hires_index(axis: npt.ArrayLike) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """0-indexed hi-res pixel of 1-indexed AXIS values (clipped) and a mask of those inside 1…2048.

    Parameters
    ----------
    axis : array_like of int, shape (n,)
        1-indexed hi-res AXIS1 or AXIS2 of each event (pixels).

    Returns
    -------
    index : ndarray of intp, shape (n,)
        0-indexed pixel, clipped to 0…2047.
    inside : ndarray of bool, shape (n,)
        True for the values inside 1…2048.

    Examples
    --------
    >>> index, inside = hires_index([0, 1, 2048, 2049])
    >>> index.tolist(), inside.tolist()
    ([0, 0, 2047, 2047], [False, True, True, False])
    """
    a = np.asarray(axis)
    inside = (a >= 1) & (a <= HIRES)
    return np.clip(a.astype(np.intp) - 1, 0, HIRES - 1), inside


def lowres_index(axis: npt.ArrayLike, n: int = LOWRES) -> npt.NDArray[np.intp]:
    """0-indexed low-res pixel ``(AXIS − 1) // 2`` of 1-indexed hi-res AXIS values, clipped to 0…n−1.

    Parameters
    ----------
    axis : array_like of int, shape (m,)
        1-indexed hi-res AXIS1 or AXIS2 of each event (pixels).
    n : int, optional
        Low-res pixels along the axis (default 1024).

    Returns
    -------
    index : ndarray of intp, shape (m,)
        0-indexed low-res pixel.

    Examples
    --------
    >>> lowres_index([1, 2, 3, 2048]).tolist()
    [0, 0, 1, 1023]
    """
    a = np.asarray(axis).astype(np.intp)
    return np.clip((a - 1) // 2, 0, n - 1)


def order_lookup(
    a2center: npt.ArrayLike, extrsize: npt.ArrayLike, *, n_hires: int = HIRES
) -> npt.NDArray[np.intp]:
    """For each hi-res row 1…n_hires, the index of the echelle order it belongs to (−1 = none).

    A row belongs to an order when its low-res position (h + 0.5)/2 lies within A2CENTER ± EXTRSIZE/2;
    where windows overlap, the order whose centre is nearest wins.

    Parameters
    ----------
    a2center : array_like of float, shape (n_orders,)
        Each order's centre (1-indexed low-res pixels, the x1d A2CENTER).
    extrsize : array_like of float, shape (n_orders,)
        Each order's extraction height (low-res pixels, EXTRSIZE).
    n_hires : int, optional
        Hi-res rows (default 2048).

    Returns
    -------
    order : ndarray of intp, shape (n_hires,)
        Order index of hi-res row h at position h − 1; -1 outside every window.

    Raises
    ------
    ValueError
        If the arrays are not 1-D and of equal length.

    Examples
    --------
    >>> order_lookup([2.0, 6.0], [3.0, 3.0], n_hires=12).tolist()
    [0, 0, 0, 0, 0, 0, -1, -1, 1, 1, 1, 1]
    """
    centre = np.asarray(a2center, dtype=np.float64)
    half = np.asarray(extrsize, dtype=np.float64) / 2.0
    if centre.shape != half.shape or centre.ndim != 1:
        raise ValueError("A2CENTER and EXTRSIZE must be one-dimensional and of equal length")
    lowres_pos = (np.arange(1, n_hires + 1, dtype=np.float64) + 0.5) / 2.0
    if len(centre) == 0:
        return np.full(n_hires, -1, dtype=np.intp)
    distance = np.abs(lowres_pos[:, None] - centre[None, :])  # (n_hires, n_orders): small
    distance = np.where(distance <= half[None, :], distance, np.inf)
    best = np.argmin(distance, axis=1)
    return np.where(np.isfinite(distance[np.arange(n_hires), best]), best, -1).astype(np.intp)


def event_wavelengths(
    axis1: npt.ArrayLike,
    axis2: npt.ArrayLike,
    wavelength: npt.ArrayLike,
    *,
    a2center: npt.ArrayLike | None = None,
    extrsize: npt.ArrayLike | None = None,
    echelle: bool = False,
) -> npt.NDArray[np.float64]:
    """Wavelength of each event from the x1d WAVELENGTH table (shape (n_orders, NELEM), low-res columns).

    First order (``echelle=False``): row 0 at column (AXIS1 − 1)//2. Echelle: the order of
    :func:`order_lookup` for the event's AXIS2, 0 outside every order window.

    Parameters
    ----------
    axis1, axis2 : array_like of int, shape (n,)
        1-indexed hi-res position of each event (pixels).
    wavelength : array_like of float, shape (n_orders, NELEM) or (NELEM,)
        The x1d WAVELENGTH rows (Å per low-res column).
    a2center, extrsize : array_like of float, shape (n_orders,), optional
        Each order's centre and height (low-res pixels); needed for echelle data.
    echelle : bool, optional
        Whether the data are echelle (default False).

    Returns
    -------
    wavelength : ndarray of float64, shape (n,)
        Wavelength of each event (Å; 0 outside every order).

    Raises
    ------
    ValueError
        For echelle data without ``a2center``/``extrsize`` or without one WAVELENGTH row per order.

    Examples
    --------
    >>> event_wavelengths([1, 3, 6], [100, 100, 100], np.array([[1500.0, 1500.6, 1501.2]])).tolist()
    [1500.0, 1500.6, 1501.2]
    >>> table = np.array([[1400.0, 1401.0], [1300.0, 1301.0]])
    >>> event_wavelengths([1, 3, 3], [100, 1000, 2000], table, a2center=[50.0, 500.0],
    ...                   extrsize=[7.0, 7.0], echelle=True).tolist()
    [1400.0, 1301.0, 0.0]
    """
    table = np.atleast_2d(np.asarray(wavelength, dtype=np.float64))
    a1 = np.asarray(axis1)
    column = lowres_index(a1, table.shape[1])
    if not echelle:
        first_order: npt.NDArray[np.float64] = table[0][column]
        return first_order
    if a2center is None or extrsize is None:
        raise ValueError("echelle wavelengths need A2CENTER and EXTRSIZE")
    lookup = order_lookup(a2center, extrsize)
    if len(lookup) and table.shape[0] != len(np.asarray(a2center)):
        raise ValueError("one WAVELENGTH row is needed per order")
    row_index, _ = hires_index(axis2)
    order = lookup[row_index]
    result = table[np.maximum(order, 0), column]
    result[order < 0] = 0.0
    return result


def calibrate_events(
    axis1: npt.ArrayLike,
    axis2: npt.ArrayLike,
    *,
    pflat: npt.ArrayLike | None = None,
    lflat: npt.ArrayLike | None = None,
    dq_map: npt.ArrayLike | None = None,
    wavelength: npt.ArrayLike | None = None,
    a2center: npt.ArrayLike | None = None,
    extrsize: npt.ArrayLike | None = None,
    echelle: bool = False,
    imaging: bool = False,
) -> StisEventCalibration:
    """EPSILON, DQ and WAVELENGTH of STIS events from hi-res AXIS1/AXIS2 (1-indexed).

    ``pflat``/``lflat`` are the flat images (any shape), ``dq_map`` the low-res DQ image of
    :func:`bpix_dq_map`, ``wavelength`` the x1d WAVELENGTH rows (with ``a2center``/``extrsize`` per row for
    echelle). Anything missing is skipped and reported in ``notes``.

    Parameters
    ----------
    axis1, axis2 : array_like of int, shape (n,)
        1-indexed hi-res position of each event (pixels).
    pflat, lflat : array_like of float, 2-D, optional
        The P-flat and L-flat images (dimensionless, any shape).
    dq_map : array_like of int, 2-D, optional
        Low-res DQ image (rows = AXIS2).
    wavelength : array_like of float, shape (n_orders, NELEM), optional
        The x1d WAVELENGTH rows (Å).
    a2center, extrsize : array_like of float, shape (n_orders,), optional
        Echelle orders' centres and heights (low-res pixels).
    echelle : bool, optional
        Whether the grating is an echelle (default False).
    imaging : bool, optional
        IMAGING data: every wavelength is 0 (default False).

    Returns
    -------
    StisEventCalibration
        Per-event EPSILON, DQ and WAVELENGTH with the steps applied and notes.

    Raises
    ------
    ValueError
        If AXIS1/AXIS2 are not 1-D and of equal length, a flat or the DQ map is not 2-D, or the
        echelle inputs are incomplete.

    Examples
    --------
    >>> cal = calibrate_events([1, 2048, 3000], [1, 2048, 10], pflat=np.full((4, 4), 0.8))
    >>> cal.epsilon.tolist(), cal.dq.tolist(), cal.applied
    ([1.25, 1.25, 1.25], [0, 0, 4], ('pflat',))
    >>> cal.notes[0]
    '1 event(s) outside the 2048x2048 grid flagged DQ 4'
    """
    a1 = np.asarray(axis1)
    a2 = np.asarray(axis2)
    if a1.shape != a2.shape or a1.ndim != 1:
        raise ValueError("AXIS1 and AXIS2 must be one-dimensional and of equal length")
    applied: list[str] = []
    notes: list[str] = []
    col, in1 = hires_index(a1)
    row, in2 = hires_index(a2)
    dq = np.zeros(a1.shape, dtype=np.int16)
    outside = ~(in1 & in2)
    if np.any(outside):
        dq[outside] |= DQ_DETECTOR_PROBLEM
        notes.append(f"{int(outside.sum())} event(s) outside the 2048x2048 grid flagged DQ 4")

    flat: npt.NDArray[np.float64] | None = None  # product of the flats at each event
    if pflat is not None:
        flat = flat_at(pflat, row, col)
        applied.append("pflat")
    else:
        notes.append("no P-flat: EPSILON not flat-fielded by it")
    if lflat is not None:
        values = flat_at(lflat, row, col)
        flat = values if flat is None else flat * values
        applied.append("lflat")
    else:
        notes.append("no L-flat: EPSILON from the P-flat only" if pflat is not None else "no L-flat")
    if flat is not None:
        good = np.isfinite(flat) & (flat > 0)
        epsilon = np.zeros_like(flat)
        np.divide(1.0, flat, out=epsilon, where=good)
        bad_events = ~good
        if np.any(bad_events):
            dq[bad_events] |= DQ_DETECTOR_PROBLEM
            notes.append(f"{int(bad_events.sum())} event(s) on non-positive flat values: EPSILON 0, DQ 4")
    else:
        epsilon = np.ones(a1.shape, dtype=np.float64)

    if dq_map is not None:
        image = np.asarray(dq_map)
        if image.ndim != 2:
            raise ValueError("the DQ map must be 2-D")
        dq |= image[lowres_index(a2, image.shape[0]), lowres_index(a1, image.shape[1])].astype(np.int16)
        applied.append("bpixtab")
    else:
        notes.append("no BPIXTAB: DQ not set from bad pixels")

    if imaging:
        wave = np.zeros(a1.shape, dtype=np.float64)
    elif wavelength is not None:
        wave = event_wavelengths(a1, a2, wavelength, a2center=a2center, extrsize=extrsize, echelle=echelle)
        applied.append("wavelength")
    else:
        wave = np.zeros(a1.shape, dtype=np.float64)
        notes.append("no x1d: wavelengths 0")
    return StisEventCalibration(
        epsilon=np.asarray(epsilon, dtype=np.float64),
        dq=dq,
        wavelength=wave,
        applied=tuple(applied),
        notes=tuple(notes),
    )


def is_echelle(opt_elem: str) -> bool:
    """Echelle gratings' names start with ``E`` (E140M, E140H, E230M, E230H).

    Parameters
    ----------
    opt_elem : str
        The OPT_ELEM keyword (case and surrounding blanks ignored).

    Returns
    -------
    bool
        True for an echelle grating.

    Examples
    --------
    >>> is_echelle("E140M"), is_echelle(" g140l ")
    (True, False)
    """
    return opt_elem.strip().upper().startswith("E")


__all__ = [
    "HIRES",
    "LOWRES",
    "StisEventCalibration",
    "bpix_dq_map",
    "calibrate_events",
    "event_wavelengths",
    "flat_at",
    "hires_index",
    "is_echelle",
    "lowres_index",
    "order_lookup",
    "resample_flat",
]
