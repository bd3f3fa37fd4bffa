"""What to extract: :class:`ExtractionParams` (bin width, wavelength limits, airglow, SUN_ALT ceiling)
and the default wavelength limits per detector family."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hstlc.errors import ExtractionError

#: Default wavelength limits (Å) per detector, as the original used them.
DEFAULT_WAVELENGTH_LIMITS: Mapping[str, tuple[float, float]] = {
    "FUV": (915.0, 1800.0),
    "NUV": (915.0, 3200.0),
    "STIS": (2.0, 10000.0),
}


@dataclass(frozen=True)
class ExtractionParams:
    """What to extract: bin width ``step`` (s), wavelength limits (``None`` = detector default), whether
    to keep the airglow windows, and an optional SUN_ALT ceiling (degrees) applied as a GTI cut."""

    step: float = 2.0
    wmin: float | None = None
    wmax: float | None = None
    keep_airglow: bool = False
    max_sun_alt: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.step, int | float) and math.isfinite(self.step) and self.step > 0):
            raise ExtractionError(f"step must be a positive number of seconds, not {self.step!r}")
        for name in ("wmin", "wmax", "max_sun_alt"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ExtractionError(f"{name} must be a finite number, not {value!r}")
        if self.wmin is not None and self.wmax is not None and self.wmin >= self.wmax:
            raise ExtractionError(f"wmin ({self.wmin} Å) must be below wmax ({self.wmax} Å)")
        if self.max_sun_alt is not None and not -90.0 <= self.max_sun_alt <= 90.0:
            raise ExtractionError(f"max_sun_alt must lie between -90 and 90 degrees, not {self.max_sun_alt}")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> ExtractionParams:
        """Parameters from :class:`hstlc.config.Settings` (step, keep_airglow, max_sun_alt), with
        ``overrides`` (any field; ``None`` values are ignored) on top."""
        values: dict[str, Any] = {
            "step": float(settings.step),
            "keep_airglow": bool(settings.keep_airglow),
            "max_sun_alt": settings.max_sun_alt,
        }
        unknown = set(overrides) - {"step", "wmin", "wmax", "keep_airglow", "max_sun_alt"}
        if unknown:
            raise ExtractionError(f"unknown extraction parameter(s): {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _limits(detector_family: str, params: ExtractionParams) -> tuple[float, float]:
    """(wmin, wmax) in Å: ``params``' limits, or the detector family's defaults where they are None."""
    lo, hi = DEFAULT_WAVELENGTH_LIMITS[detector_family]
    wmin = lo if params.wmin is None else float(params.wmin)
    wmax = hi if params.wmax is None else float(params.wmax)
    if wmin >= wmax:
        raise ExtractionError(f"wavelength limits {wmin}–{wmax} Å are empty")
    return wmin, wmax
