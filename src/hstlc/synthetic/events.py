"""Vectorised building blocks for synthetic photon events: arrival times inside GTIs, positions,
data-quality flags and the TIMELINE table.

Arrival times are drawn from one combined Poisson process over the live time and come out sorted
(cumulative sums of exponential gaps, no sort), so ten million events cost a few array passes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from hstlc.synthetic.signals import SignalSpec

F64 = npt.NDArray[np.float64]

SERIOUS_DQ = 64 | 512 | 2048
"""Bits calcos always treats as bad for TIME-TAG data (burst, PHA out of bounds, bad time)."""

FLAGGED_BITS = np.array([8, 16, 64, 512, 2048], dtype=np.int16)
"""Bits given to deliberately flagged events: two from SDQFLAGS, the three serious ones."""

BENIGN_BITS = np.array([4, 1024], dtype=np.int16)
"""Bits given to 'benign' flagged events: not in the default SDQFLAGS and not serious."""


def normalise_gti(gti: Sequence[Sequence[float]] | npt.ArrayLike | None, exptime: float) -> F64:
    """The GTIs as a sorted (N, 2) float64 array; ``None`` means one interval [0, exptime]."""
    if gti is None:
        return np.array([[0.0, float(exptime)]], dtype=np.float64)
    g = np.asarray(gti, dtype=np.float64)
    if g.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    g = g.reshape(-1, 2)
    if np.any(g[:, 1] < g[:, 0]) or np.any(g[:, 0] < 0):
        raise ValueError("each GTI must satisfy 0 <= start <= stop")
    g = g[np.argsort(g[:, 0], kind="stable")]
    if np.any(g[1:, 0] < g[:-1, 1]):
        raise ValueError("GTIs must not overlap")
    return np.ascontiguousarray(g)


def poisson_times(rng: np.random.Generator, rate: float, gti: F64, *, quantum: float | None = None) -> F64:
    """A homogeneous Poisson process of ``rate`` events/s inside ``gti``, sorted by time.

    Times are made exactly representable as stored: float32 (default, COS TIME ``1E``) or multiples
    of ``quantum`` seconds (STIS clock ticks). Events that this rounding would push out of their
    GTI are dropped, so the file's TIME column honours [start, stop).
    """
    durations = gti[:, 1] - gti[:, 0] if len(gti) else np.zeros(0)
    live = float(durations.sum())
    if rate <= 0 or live <= 0:
        return np.zeros(0)
    n = int(rng.poisson(rate * live))
    gaps = rng.standard_exponential(n + 1)
    u = np.cumsum(gaps)
    u *= live / u[-1]
    u = u[:-1]
    del gaps
    starts_live = np.concatenate(([0.0], np.cumsum(durations)[:-1]))
    # u is sorted: each GTI owns one contiguous slice of it
    edges = np.concatenate(([0], np.searchsorted(u, starts_live[1:], side="right"), [n]))
    t = u
    keep = np.ones(n, dtype=bool)
    for k in range(len(gti)):
        a, b = int(edges[k]), int(edges[k + 1])
        piece = t[a:b]
        piece += gti[k, 0] - starts_live[k]
        if quantum is None:
            piece[:] = piece.astype(np.float32)
        else:
            piece[:] = np.rint(piece / quantum) * quantum
        keep[a:b] = (piece >= gti[k, 0]) & (piece < gti[k, 1])
    if not keep.all():
        t = t[keep]
    return t


def thin(rng: np.random.Generator, t: F64, signal: SignalSpec) -> npt.NDArray[np.bool_]:
    """Keep-mask turning a process of rate ``R·max(m)`` into one of rate ``R·m(t)``."""
    if signal.kind == "constant" or signal.maximum == 0:
        return np.ones(len(t), dtype=bool)
    return rng.random(len(t)) * signal.maximum < signal.evaluate(t)


def truncated_normal(
    rng: np.random.Generator, n: int, centre: F64 | float, sigma: float, half_width: float
) -> F64:
    """``n`` normal deviates of ``sigma`` around ``centre`` restricted to ``|y − centre| < half_width``.

    Rejection sampling for wide windows (cheap: a few % redrawn), inverse-CDF sampling for narrow ones.
    """
    if n == 0:
        return np.zeros(0)
    if sigma <= 0:
        return np.broadcast_to(np.asarray(centre, dtype=np.float64), (n,)).copy()
    limit = half_width / sigma
    if limit >= 1.5:
        z = rng.standard_normal(n)
        bad = np.flatnonzero(np.abs(z) >= limit)
        while len(bad):
            z[bad] = rng.standard_normal(len(bad))
            bad = bad[np.abs(z[bad]) >= limit]
    else:
        lo = float(ndtr(-limit))
        z = ndtri(lo + (1.0 - 2.0 * lo) * rng.random(n))
        np.clip(z, -limit * (1 - 1e-9), limit * (1 - 1e-9), out=z)
    z *= sigma
    z += centre
    return z


def sample_pixels(rng: np.random.Generator, n: int, weights: F64, offset: float) -> F64:
    """``n`` positions drawn from a per-pixel weight profile (pixel i covers [offset+i, offset+i+1)).

    Exact inverse-CDF sampling accelerated by a guide table: most draws are resolved by one lookup,
    the few landing in a table cell that straddles a pixel boundary by a binary search.
    """
    if n == 0:
        return np.zeros(0)
    cdf = np.cumsum(weights, dtype=np.float64)
    total = float(cdf[-1])
    if total <= 0:
        raise ValueError("the spectral profile has no positive weight")
    cells = max(1 << 16, 64 * len(weights))
    guide = np.searchsorted(cdf, np.arange(cells + 1) * (total / cells), side="right")
    np.minimum(guide, len(weights) - 1, out=guide)
    u = rng.random(n)
    j = (u * cells).astype(np.int64)
    pix = guide[j]
    ambiguous = np.flatnonzero(pix != guide[j + 1])
    if len(ambiguous):
        pix[ambiguous] = np.searchsorted(cdf, u[ambiguous] * total, side="right")
    np.minimum(pix, len(weights) - 1, out=pix)
    out = rng.random(n)
    out += pix
    out += offset
    return out


def dq_flags(
    rng: np.random.Generator, n: int, *, fraction: float, benign_fraction: float
) -> npt.NDArray[np.int16]:
    """DQ words: a ``fraction`` of events get a bad bit (FLAGGED_BITS), ``benign_fraction`` a harmless one."""
    if not 0 <= fraction <= 1 or not 0 <= benign_fraction <= 1:
        raise ValueError("DQ fractions must lie in [0, 1]")
    dq = np.zeros(n, dtype=np.int16)
    if fraction > 0:
        bad = rng.random(n) < fraction
        dq[bad] = FLAGGED_BITS[rng.integers(0, len(FLAGGED_BITS), int(bad.sum()))]
    if benign_fraction > 0:
        benign = rng.random(n) < benign_fraction
        dq[benign] |= BENIGN_BITS[rng.integers(0, len(BENIGN_BITS), int(benign.sum()))]
    return dq


def is_rejected(dq: npt.NDArray[np.integer], sdqflags: int) -> npt.NDArray[np.bool_]:
    """True where an event is rejected: ``DQ & (SDQFLAGS | burst | PHA | bad time) != 0``."""
    return (dq.astype(np.int64) & (int(sdqflags) | SERIOUS_DQ)) != 0


ORBIT_SECONDS = 5760.0
"""HST orbital period used for the TIMELINE geometry columns."""


def timeline_columns(
    t_first: float, t_last: float, *, phase: float = 0.0, airglow_scale: float = 1.0
) -> dict[str, npt.NDArray[np.float32]]:
    """TIMELINE columns (FORMATS §2.3): one row per second from ``t_first`` to ``t_last``.

    SUN_ALT follows a sinusoid of the HST orbital period; the airglow rates follow the Sun's altitude.
    """
    t = np.zeros(0) if t_last < t_first else np.arange(np.floor(t_first), np.floor(t_last) + 1.0, 1.0)
    w = 2.0 * np.pi * t / ORBIT_SECONDS + phase
    sun_alt = 60.0 * np.sin(w)
    day = np.clip(np.sin(w), 0.0, None)
    cols = {
        "TIME": t,
        "LONGITUDE": np.mod(120.0 + 360.0 * t / ORBIT_SECONDS - 360.0 * t / 86164.0, 360.0),
        "LATITUDE": 28.5 * np.sin(w + 0.7),
        "SUN_ALT": sun_alt,
        "SUN_ZD": 90.0 - sun_alt,
        "TARGET_ALT": 30.0 + 20.0 * np.cos(w + 1.1),
        "RADIAL_VEL": 7.4 * np.cos(w),
        "SHIFT1": 2.0 * np.cos(w),
        "LY_ALPHA": airglow_scale * (2.0 + 60.0 * day),
        "OI_1304": airglow_scale * (0.05 + 8.0 * day**2),
        "OI_1356": airglow_scale * (0.01 + 1.0 * day**2),
        "DARKRATE": np.full_like(t, 1.5e-6),
    }
    return {k: v.astype(np.float32) for k, v in cols.items()}


TIMELINE_UNITS: dict[str, tuple[str, str | None]] = {
    "TIME": ("s", "F8.3"),
    "LONGITUDE": ("degree", None),
    "LATITUDE": ("degree", None),
    "SUN_ALT": ("degree", None),
    "SUN_ZD": ("degree", None),
    "TARGET_ALT": ("degree", None),
    "RADIAL_VEL": ("km /s", None),
    "SHIFT1": ("pixel", None),
    "LY_ALPHA": ("count /s", None),
    "OI_1304": ("count /s", None),
    "OI_1356": ("count /s", None),
    "DARKRATE": ("count /s /pixel", None),
}


def mjd_to_date_time(mjd: float) -> tuple[str, str]:
    """DATE-OBS (``yyyy-mm-dd``) and TIME-OBS (``hh:mm:ss``) of an MJD (UTC)."""
    moment = _dt.datetime(1858, 11, 17) + _dt.timedelta(days=float(mjd))
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")


__all__ = [
    "BENIGN_BITS",
    "FLAGGED_BITS",
    "ORBIT_SECONDS",
    "SERIOUS_DQ",
    "TIMELINE_UNITS",
    "dq_flags",
    "is_rejected",
    "mjd_to_date_time",
    "normalise_gti",
    "poisson_times",
    "sample_pixels",
    "thin",
    "timeline_columns",
    "truncated_normal",
]
