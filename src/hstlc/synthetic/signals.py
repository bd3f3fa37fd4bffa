"""Descriptions of the brightness variations injected into synthetic sources.

A :class:`SignalSpec` is a multiplicative modulation ``m(t) >= 0`` of a source's mean count rate, with
``t`` in seconds since EXPSTART: the instantaneous rate is ``rate * m(t)``. Each kind knows its exact
integral (so the expected number of events inside any set of GTIs is known analytically) and its
maximum (used to draw events by thinning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

SignalKind = Literal["constant", "sinusoid", "flare"]


@dataclass(frozen=True)
class SignalSpec:
    """A brightness modulation ``m(t)``.

    - ``constant``: ``m = 1``.
    - ``sinusoid``: ``m = 1 + amplitude * sin(2π (t − t0) / period)`` with ``0 <= amplitude <= 1``
      (``amplitude`` is the fractional semi-amplitude).
    - ``flare``: ``m = 1 + amplitude * exp((t − peak)/rise)`` before ``peak`` and
      ``1 + amplitude * exp(−(t − peak)/decay)`` after it (``amplitude`` = peak excess / quiescent rate).
    """

    kind: SignalKind = "constant"
    period: float = 0.0
    amplitude: float = 0.0
    t0: float = 0.0
    peak: float = 0.0
    rise: float = 0.0
    decay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("constant", "sinusoid", "flare"):
            raise ValueError(f"unknown signal kind {self.kind!r}")
        if self.kind == "sinusoid":
            if not self.period > 0:
                raise ValueError("sinusoid period must be positive")
            if not 0.0 <= self.amplitude <= 1.0:
                raise ValueError("sinusoid amplitude must lie in [0, 1] (a rate cannot go negative)")
        if self.kind == "flare":
            if not (self.rise > 0 and self.decay > 0):
                raise ValueError("flare rise and decay times must be positive")
            if self.amplitude < 0:
                raise ValueError("flare amplitude must be >= 0")

    @property
    def maximum(self) -> float:
        """The largest value ``m(t)`` can take."""
        if self.kind == "constant":
            return 1.0
        return 1.0 + self.amplitude

    def mean(self, start: npt.ArrayLike, stop: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The mean of ``m(t)`` over each ``[start, stop)`` (``stop > start``): what binning events drawn
        from this modulation gives (a 60 s sinusoid in 30 s bins keeps 2/π of its amplitude)."""
        a = np.asarray(start, dtype=np.float64)
        b = np.asarray(stop, dtype=np.float64)
        return (self.primitive(b) - self.primitive(a)) / (b - a)

    def evaluate(self, t: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``m(t)`` at times ``t`` (seconds since EXPSTART)."""
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "constant":
            return np.ones_like(t)
        if self.kind == "sinusoid":
            return 1.0 + self.amplitude * np.sin(2.0 * np.pi * (t - self.t0) / self.period)
        dt = t - self.peak
        # exponent is <= 0 on both sides, so no overflow
        shape = np.where(
            dt < 0, np.exp(np.minimum(dt, 0.0) / self.rise), np.exp(-np.maximum(dt, 0.0) / self.decay)
        )
        return 1.0 + self.amplitude * shape

    def primitive(self, t: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """An antiderivative of ``m``: ``∫_a^b m = primitive(b) − primitive(a)``."""
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "constant":
            return t.copy()
        if self.kind == "sinusoid":
            w = 2.0 * np.pi / self.period
            return t - self.amplitude / w * np.cos(w * (t - self.t0))
        dt = t - self.peak
        before = self.rise * np.exp(np.minimum(dt, 0.0) / self.rise)
        after = self.rise + self.decay * (1.0 - np.exp(-np.maximum(dt, 0.0) / self.decay))
        return t + self.amplitude * np.where(dt < 0, before, after)

    def integral(self, gti: npt.ArrayLike) -> float:
        """``∫ m(t) dt`` over the intervals of ``gti`` (an (N, 2) array of start, stop)."""
        g = np.asarray(gti, dtype=np.float64).reshape(-1, 2)
        if g.size == 0:
            return 0.0
        return float(np.sum(self.primitive(g[:, 1]) - self.primitive(g[:, 0]), dtype=np.float64))

    def as_dict(self) -> dict[str, Any]:
        """A plain description for the truth record."""
        return {
            "kind": self.kind,
            "period": self.period,
            "amplitude": self.amplitude,
            "t0": self.t0,
            "peak": self.peak,
            "rise": self.rise,
            "decay": self.decay,
        }


def constant() -> SignalSpec:
    """No variation: the source shines at its mean rate."""
    return SignalSpec("constant")


def sinusoid(period: float, amplitude: float, *, t0: float = 0.0) -> SignalSpec:
    """A sinusoid of ``period`` seconds and fractional semi-amplitude ``amplitude`` (0–1)."""
    return SignalSpec("sinusoid", period=float(period), amplitude=float(amplitude), t0=float(t0))


def flare(peak: float, amplitude: float, decay: float, *, rise: float | None = None) -> SignalSpec:
    """A flare peaking at ``peak`` s with ``amplitude`` × the quiescent rate, exponential ``decay`` (s).

    The rise is exponential too, with time scale ``rise`` (default ``decay / 10``).
    """
    decay = float(decay)
    return SignalSpec(
        "flare",
        amplitude=float(amplitude),
        peak=float(peak),
        decay=decay,
        rise=float(rise) if rise is not None else decay / 10.0,
    )


__all__ = ["SignalKind", "SignalSpec", "constant", "flare", "sinusoid"]
