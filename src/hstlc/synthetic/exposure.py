"""Exposure timing shared by all generators: GTIs (raw EXTVER 1 and revised EXTVER 2), EXPTIME,
EXPEND, and the bad-time manipulations of the quality-gate conditions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hstlc.domain import SECONDS_PER_DAY
from hstlc.synthetic.events import normalise_gti
from hstlc.synthetic.fitsfile import Col, table_hdu

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Exposure:
    """Timing of one synthetic exposure.

    ``gti`` is where events are drawn (the highest-EXTVER GTI table); ``raw_gti`` the EXTVER=1 table.
    ``revised`` is True when a second GTI table (EXTVER=2) is written. EXPTIME = Σ(gti stop − start).
    """

    expstart: float
    gti: F64
    raw_gti: F64
    revised: bool

    @property
    def exptime(self) -> float:
        return float(np.sum(self.gti[:, 1] - self.gti[:, 0], dtype=np.float64))

    @property
    def span(self) -> float:
        """Seconds from EXPSTART to the end of the exposure (last raw GTI stop)."""
        return float(self.raw_gti[:, 1].max()) if len(self.raw_gti) else 0.0

    @property
    def expend(self) -> float:
        return self.expstart + self.span / SECONDS_PER_DAY

    @property
    def midpoint(self) -> float:
        """(EXPSTART + EXPEND) / 2, where calcos evaluates the TDS."""
        return 0.5 * (self.expstart + self.expend)

    def gti_hdus(self) -> list:
        """GTI (EXTVER 1) and, if the GTIs were revised, GTI (EXTVER 2) after it."""
        cols = [Col("START", "1D", "s"), Col("STOP", "1D", "s")]
        tables = [self.raw_gti] + ([self.gti] if self.revised else [])
        return [
            table_hdu("GTI", cols, {"START": g[:, 0], "STOP": g[:, 1]}, len(g), ver=i + 1)
            for i, g in enumerate(tables)
        ]


def make_exposure(
    *,
    expstart: float,
    exptime: float,
    gti: Sequence[Sequence[float]] | npt.ArrayLike | None,
    raw_gti: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
) -> Exposure:
    """``gti=None``: one interval [0, exptime], written once. Otherwise ``gti`` becomes the EXTVER=2
    table and the raw EXTVER=1 table is ``raw_gti`` or [0, max(exptime, last stop)]."""
    if not exptime >= 0:
        raise ValueError("exptime must be >= 0")
    if gti is None:
        g = normalise_gti(None, exptime)
        return Exposure(float(expstart), g, g, revised=False)
    g = normalise_gti(gti, exptime)
    end = max(float(exptime), float(g[:, 1].max()) if len(g) else 0.0)
    raw = normalise_gti(raw_gti, end) if raw_gti is not None else np.array([[0.0, end]])
    return Exposure(float(expstart), g, raw, revised=True)


def break_monotonic(time: F64) -> F64:
    """Reverse the order of the first half of the times so TIME decreases somewhere."""
    t = time.copy()
    half = max(2, len(t) // 2)
    t[:half] = t[:half][::-1]
    if len(t) < 2 or not np.any(np.diff(t) < 0):
        raise ValueError("non-monotonic TIME needs at least two events at different times")
    return t


__all__ = ["Exposure", "break_monotonic", "make_exposure"]
