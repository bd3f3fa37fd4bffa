"""Small immutable domain objects shared by readers, science, products and the pipeline.

Conventions (CONVENTIONS.md §Times): event ``time`` is seconds since ``Observation.expstart`` (MJD, from
the EVENTS header); GTIs are an ``(N, 2)`` float64 array of [start, stop) in the same frame; an absolute
MJD is computed once, as ``expstart + t / 86400``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

SECONDS_PER_DAY = 86400.0

FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.integer[Any]]
GTIArray = npt.NDArray[np.float64]
"""Good time intervals: shape (N, 2), columns start and stop, seconds since EXPSTART."""


def as_gti(intervals: npt.ArrayLike) -> GTIArray:
    """Return ``intervals`` as a C-contiguous (N, 2) float64 array (N may be 0)."""
    gti = np.asarray(intervals, dtype=np.float64)
    if gti.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    gti = np.ascontiguousarray(gti.reshape(-1, 2))
    if np.any(~np.isfinite(gti)):
        raise ValueError("GTI bounds must be finite")
    if np.any(gti[:, 1] < gti[:, 0]):
        raise ValueError("GTI stop before start")
    return gti


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, eq=False)
class EventList:
    """Photon events of one detector segment (COS FUVA/FUVB, the NUV image, a STIS MAMA).

    All arrays are one-dimensional and of equal length. They keep the dtype they were read with
    (usually float32) to save memory; science code accumulates in float64.

    ``x`` is the dispersion-axis position (COS XCORR, STIS AXIS1 hi-res pixels), ``y`` the
    cross-dispersion position (COS YCORR, STIS AXIS2 hi-res pixels).
    """

    time: FloatArray
    x: FloatArray
    y: FloatArray
    wavelength: FloatArray
    epsilon: FloatArray
    dq: IntArray

    def __post_init__(self) -> None:
        n = len(self.time)
        for name in ("time", "x", "y", "wavelength", "epsilon", "dq"):
            arr = getattr(self, name)
            if np.ndim(arr) != 1:
                raise ValueError(f"EventList.{name} must be one-dimensional")
            if len(arr) != n:
                raise ValueError(f"EventList.{name} has {len(arr)} entries, time has {n}")

    def __len__(self) -> int:
        return len(self.time)

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(self, n).nbytes) for n in ("time", "x", "y", "wavelength", "epsilon", "dq"))


@dataclass(frozen=True)
class Observation:
    """Header metadata of one exposure, with each keyword read from the HDU FORMATS.md names.

    ``header`` keeps every other keyword of the primary and EVENTS headers (EVENTS wins on a clash)
    for code that needs instrument-specific cards (extraction keywords, reference-file names).
    """

    filename: str
    rootname: str
    instrume: str
    detector: str
    telescop: str = "HST"
    segment: str = ""
    obstype: str = "SPECTROSCOPIC"
    obsmode: str = "TIME-TAG"
    opt_elem: str = ""
    cenwave: int = 0
    aperture: str = ""
    fppos: int = 0
    targname: str = ""
    ra_targ: float | None = None
    dec_targ: float | None = None
    equinox: float | None = None
    proposid: int | None = None
    cal_ver: str = ""
    expstart: float = 0.0
    expend: float = 0.0
    exptime: float = 0.0
    expflag: str = "NORMAL"
    sdqflags: int | None = None
    date_obs: str = ""
    time_obs: str = ""
    header: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "header", _frozen_mapping(self.header))

    def mjd(self, seconds: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Absolute MJD of times given in seconds since EXPSTART."""
        return self.expstart + np.asarray(seconds, dtype=np.float64) / SECONDS_PER_DAY


LIGHTCURVE_COLUMNS: tuple[str, ...] = (
    "times",
    "mjd",
    "bins",
    "gross",
    "background",
    "counts",
    "net",
    "error",
    "flux",
    "flux_error",
    "signal_to_noise",
    "dataset",
)
"""Column order of a lightcurve product (names written upper case in FITS)."""


@dataclass(frozen=True, eq=False)
class LightCurve:
    """A binned lightcurve: one row per time bin that has exposure.

    ``times`` are bin starts in seconds since the (first) EXPSTART, ``mjd`` the bin starts in MJD,
    ``bins`` each bin's exposure (its overlap with the GTIs, seconds). Counts are epsilon-weighted.
    ``meta`` holds the header keywords the product writer puts in the FITS headers.
    """

    times: npt.NDArray[np.float64]
    mjd: npt.NDArray[np.float64]
    bins: npt.NDArray[np.float64]
    gross: npt.NDArray[np.float64]
    background: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]
    net: npt.NDArray[np.float64]
    error: npt.NDArray[np.float64]
    flux: npt.NDArray[np.float64]
    flux_error: npt.NDArray[np.float64]
    signal_to_noise: npt.NDArray[np.float64]
    dataset: npt.NDArray[np.int32]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.times)
        for name in LIGHTCURVE_COLUMNS:
            arr = getattr(self, name)
            if np.ndim(arr) != 1 or len(arr) != n:
                raise ValueError(f"LightCurve.{name} must be one-dimensional with {n} entries")
        object.__setattr__(self, "meta", _frozen_mapping(self.meta))

    def __len__(self) -> int:
        return len(self.times)

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """The columns as a name → array dict, in product order."""
        return {name: getattr(self, name) for name in LIGHTCURVE_COLUMNS}


@dataclass(frozen=True, eq=False)
class Segment:
    """The events of one detector segment with what extraction needs to know about them.

    ``name`` is ``FUVA``/``FUVB`` (one COS FUV corrtag file each), ``NUV`` (one COS NUV corrtag holding
    stripes A, B, C) or ``STIS`` (one MAMA event list). ``keywords`` is the EVENTS header of the file
    (extraction keywords SP_LOC_x …, SDQFLAGS, EXPTIME), ``gti`` the highest-EXTVER GTI table (or
    [0, EXPTIME] if the file has none), ``timeline`` the TIMELINE extension's columns if present
    (at least ``time`` and ``sun_alt``).
    """

    name: str
    events: EventList
    gti: GTIArray
    exptime: float
    keywords: Mapping[str, Any] = field(default_factory=dict, repr=False)
    timeline: Mapping[str, npt.NDArray[Any]] | None = field(default=None, repr=False)
    source_file: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "gti", as_gti(self.gti))
        object.__setattr__(self, "keywords", _frozen_mapping(self.keywords))


@dataclass(frozen=True, eq=False)
class Dataset:
    """One exposure: its header metadata, the segments read from its files, and the files themselves.

    An FUV pair is one Dataset with up to two segments (FUVA from ``_corrtag_a``, FUVB from
    ``_corrtag_b``). ``files`` lists every file that belongs to the dataset (event files and x1d).
    ``extras`` carries instrument-specific data a reader attaches (e.g. STIS x1d extraction geometry).
    """

    observation: Observation
    segments: tuple[Segment, ...]
    files: tuple[str, ...] = ()
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extras", _frozen_mapping(self.extras))


#: The header keywords a composite keeps per member (the product writer expands the lists).
MEMBER_KEYS: tuple[str, ...] = (
    "TELESCOP", "INSTRUME", "DETECTOR", "OPT_ELEM", "CENWAVE", "APERTURE", "PROPOSID", "ROOTNAME",
)


def stack_curves(curves: Sequence[LightCurve], shifts: Sequence[float]) -> dict[str, npt.NDArray[Any]]:
    """The columns of ``curves`` stacked in order, as a composite holds them: each curve's TIMES moved by
    its ``shifts`` entry (s), DATASET numbered 1, 2, … one per curve."""
    if len(curves) != len(shifts):
        raise ValueError("one shift per curve is needed")
    cols: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in LIGHTCURVE_COLUMNS}
    for number, (curve, shift) in enumerate(zip(curves, shifts, strict=True), start=1):
        for name, column in curve.columns().items():
            if name == "times":
                column = column + shift
            elif name == "dataset":
                column = np.full(len(curve), number, dtype=np.int32)
            cols[name].append(column)
    return {k: np.concatenate(v) for k, v in cols.items()}


def finite_float(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` (missing, a boolean, not a number, NaN or infinite): how a
    header value or a stored figure becomes a number hstlc can use."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


__all__ = [
    "LIGHTCURVE_COLUMNS",
    "MEMBER_KEYS",
    "SECONDS_PER_DAY",
    "Dataset",
    "EventList",
    "FloatArray",
    "GTIArray",
    "IntArray",
    "LightCurve",
    "Observation",
    "Segment",
    "as_gti",
    "finite_float",
    "stack_curves",
]
