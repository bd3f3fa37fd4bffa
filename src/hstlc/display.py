"""How hstlc writes its numbers for people: one rule each, shared by the CLI tables and the report.

Nothing here computes; it only turns values into short text (no rich markup, no HTML).
"""

from __future__ import annotations

import math

from hstlc.domain import finite_float

#: Below this a false-alarm probability or p-value is shown as an upper bound (double precision ends).
SMALLEST_PROBABILITY = 1e-16


def format_probability(value: float | None) -> str:
    """A false-alarm probability or p-value: ``<1e-16`` below double precision, ``1.2e-05`` below 1e-3,
    ``0.123`` otherwise, ``–`` when there is none."""
    if value is None or not math.isfinite(value):
        return "–"
    if value < SMALLEST_PROBABILITY:
        return "<1e-16"
    if value < 1e-3:
        return f"{value:.1e}"
    return f"{value:.3f}"


format_fap = format_probability
"""A false-alarm probability as text (see :func:`format_probability`)."""


def format_period(seconds: float | None) -> str:
    """A period in the unit a person reads it in: ``42.1 s``, ``10.0 min``, ``3.00 h``; ``–`` for none."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


__all__ = ["SMALLEST_PROBABILITY", "finite_float", "format_fap", "format_period", "format_probability"]
