"""Simplified optical models: linear wavelength solutions per COS/STIS configuration.

The numbers are realistic in scale (dispersions from the instrument handbooks, rounded) but are a
model: synthetic data only needs to be self-consistent and plausible, not to reproduce DISPTAB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

COS_FUV_SIZE = (16384, 1024)
"""COS FUV segment: XCORR (dispersion) × YCORR pixels."""
COS_NUV_SIZE = (1024, 1024)
COS_FUV_ACTIVE_X = (1200.0, 15200.0)
"""XFULL range of the FUV active area used for wavelengths (outside: WAVELENGTH 0)."""
COS_FUV_MIN_WAVELENGTH = 900.0
"""Below this the model FUV detector has no response (G140L FUVB): WAVELENGTH 0."""

# opt_elem -> (dispersion Å/pixel, FUVA-FUVB gap in pixels, cenwaves)
COS_FUV_GRATINGS: dict[str, tuple[float, float, tuple[int, ...]]] = {
    "G130M": (0.00997, 1700.0, (1055, 1096, 1222, 1291, 1300, 1309, 1318, 1327)),
    "G160M": (0.01223, 1640.0, (1577, 1589, 1600, 1611, 1623)),
    "G140L": (0.0803, 1700.0, (800, 1105, 1280)),
}
# opt_elem -> (dispersion Å/pixel, stripe spacing Å, cenwaves)
COS_NUV_GRATINGS: dict[str, tuple[float, float, tuple[int, ...]]] = {
    "G185M": (0.034, 99.0, (1786, 1817, 1850, 1882, 1913, 1941, 1971, 2010)),
    "G225M": (0.033, 99.0, (2186, 2217, 2250, 2283, 2306, 2325, 2339, 2357, 2373, 2390, 2410)),
    "G285M": (0.040, 141.0, (2617, 2637, 2657, 2676, 2695, 2709, 2719, 2739, 2850, 2952, 2979, 2996, 3018)),
    "G230L": (0.390, 1100.0, (2635, 2950, 3000, 3360)),
}
COS_NUV_STRIPE_LOC = {"NUVA": 186.0, "NUVB": 283.0, "NUVC": 423.0}


@dataclass(frozen=True)
class LinearSolution:
    """``λ = w0 + dispersion · (x − x0)`` for ``x_lo <= x < x_hi`` and λ >= ``min_wavelength``; else 0."""

    w0: float
    x0: float
    dispersion: float
    x_lo: float
    x_hi: float
    min_wavelength: float = 0.0

    def wavelength(self, x: npt.ArrayLike) -> F64:
        x = np.asarray(x, dtype=np.float64)
        w = self.w0 + self.dispersion * (x - self.x0)
        ok = (x >= self.x_lo) & (x < self.x_hi) & (w >= self.min_wavelength)
        return np.where(ok, w, 0.0)

    def position(self, wave: npt.ArrayLike) -> F64:
        """Inverse: the x of wavelength ``wave`` (no range check)."""
        return self.x0 + (np.asarray(wave, dtype=np.float64) - self.w0) / self.dispersion

    @property
    def range(self) -> tuple[float, float]:
        """Smallest and largest assigned wavelengths."""
        a = self.w0 + self.dispersion * (self.x_lo - self.x0)
        b = self.w0 + self.dispersion * (self.x_hi - self.x0)
        lo, hi = min(a, b), max(a, b)
        return max(lo, self.min_wavelength), hi


def cos_fuv_solution(opt_elem: str, cenwave: int, segment: str) -> LinearSolution:
    """Wavelength of XFULL on FUVA (starts at CENWAVE) or FUVB (ends a gap below it)."""
    disp, gap, _ = COS_FUV_GRATINGS.get(opt_elem.upper(), COS_FUV_GRATINGS["G130M"])
    x_lo, x_hi = COS_FUV_ACTIVE_X
    if segment.upper() == "FUVA":
        return LinearSolution(float(cenwave), x_lo, disp, x_lo, x_hi, COS_FUV_MIN_WAVELENGTH)
    return LinearSolution(float(cenwave) - gap * disp, x_hi, disp, x_lo, x_hi, COS_FUV_MIN_WAVELENGTH)


def cos_nuv_solution(opt_elem: str, cenwave: int, stripe: str) -> LinearSolution:
    """Wavelength of XFULL on NUV stripe A/B/C: B is centred on CENWAVE, A/C a stripe spacing away.

    G230L stripe C carries second-order light (half the first-order wavelength of B + spacing).
    """
    disp, spacing, _ = COS_NUV_GRATINGS.get(opt_elem.upper(), COS_NUV_GRATINGS["G185M"])
    stripe = stripe.upper()[-1]
    centre = float(cenwave) + {"A": -spacing, "B": 0.0, "C": spacing}[stripe]
    if opt_elem.upper() == "G230L" and stripe == "C":
        return LinearSolution(centre / 2.0, 512.0, disp / 2.0, 0.0, 1024.0)
    return LinearSolution(centre, 512.0, disp, 0.0, 1024.0)


# STIS first-order MAMA gratings: opt_elem -> (dispersion Å per low-res pixel, detector, cenwaves)
STIS_GRATINGS: dict[str, tuple[float, str, tuple[int, ...]]] = {
    "G140L": (0.584, "FUV-MAMA", (1425,)),
    "G140M": (
        0.05,
        "FUV-MAMA",
        (1173, 1218, 1222, 1272, 1321, 1371, 1420, 1470, 1518, 1567, 1616, 1665, 1714),
    ),
    "G230L": (1.58, "NUV-MAMA", (2376,)),
    "G230M": (
        0.09,
        "NUV-MAMA",
        (1687, 1769, 1851, 1933, 2014, 2095, 2176, 2257, 2338, 2419, 2499, 2579, 2659),
    ),
    "E140M": (0.0, "FUV-MAMA", (1425,)),
    "E140H": (0.0, "FUV-MAMA", (1234, 1271, 1307, 1343, 1380, 1416, 1453, 1489, 1526, 1562, 1598)),
    "E230M": (0.0, "NUV-MAMA", (1978, 2269, 2415, 2561, 2707)),
    "E230H": (0.0, "NUV-MAMA", (2113, 2263, 2413, 2563, 2713, 2812, 2862, 2912, 2962, 3012)),
}
STIS_ECHELLE_CONSTANT = {"E140M": 137_000.0, "E140H": 330_000.0, "E230M": 137_000.0, "E230H": 330_000.0}
"""m·λ (Å) of the model echelles: order m is centred on ``constant / m``."""


def stis_first_order_wavelengths(opt_elem: str, cenwave: int, nelem: int = 1024) -> F64:
    """x1d WAVELENGTH of a first-order grating: linear, centred on CENWAVE at the middle column."""
    disp = STIS_GRATINGS.get(opt_elem.upper(), STIS_GRATINGS["G140L"])[0] or 0.584
    return float(cenwave) + disp * (np.arange(nelem, dtype=np.float64) - (nelem - 1) / 2.0)


def stis_echelle_orders(opt_elem: str, cenwave: int, n_orders: int) -> list[int]:
    """``n_orders`` consecutive spectral orders around the one holding CENWAVE."""
    k = STIS_ECHELLE_CONSTANT.get(opt_elem.upper(), 137_000.0)
    m0 = round(k / float(cenwave))
    first = m0 - n_orders // 2
    return [first + i for i in range(n_orders)]


def stis_echelle_wavelengths(opt_elem: str, order: int, nelem: int = 1024) -> F64:
    """x1d WAVELENGTH of one echelle order: its free spectral range (λ/m) spread over the row, ×1.1."""
    k = STIS_ECHELLE_CONSTANT.get(opt_elem.upper(), 137_000.0)
    centre = k / order
    span = 1.1 * centre / order
    return centre + span * ((np.arange(nelem, dtype=np.float64) - (nelem - 1) / 2.0) / nelem)


__all__ = [
    "COS_FUV_ACTIVE_X",
    "COS_FUV_GRATINGS",
    "COS_FUV_MIN_WAVELENGTH",
    "COS_FUV_SIZE",
    "COS_NUV_GRATINGS",
    "COS_NUV_SIZE",
    "COS_NUV_STRIPE_LOC",
    "STIS_ECHELLE_CONSTANT",
    "STIS_GRATINGS",
    "LinearSolution",
    "cos_fuv_solution",
    "cos_nuv_solution",
    "stis_echelle_orders",
    "stis_echelle_wavelengths",
    "stis_first_order_wavelengths",
]
