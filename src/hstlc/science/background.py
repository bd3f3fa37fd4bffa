"""Background scaling between extraction bands."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def background_scale(source_height: float, background_heights: Sequence[float]) -> float:
    """Factor that scales counts summed over the background bands to the source band's area.

    A background rate per cross-dispersion pixel r gives r·Σh_bkg counts in the bands and r·h_src in
    the source band, so the factor is h_src / Σh_bkg (for two equal bands h_src / (2 h_bkg)). The
    original used the inverse (h_bkg / (2 h_src)) and only the second band's height.
    """
    heights = np.asarray(list(background_heights), dtype=np.float64)
    if not np.isfinite(source_height) or source_height <= 0:
        raise ValueError(f"source height must be positive, not {source_height!r}")
    if len(heights) == 0:
        raise ValueError("need at least one background band")
    if np.any(~np.isfinite(heights)) or np.any(heights <= 0):
        raise ValueError(f"background heights must be positive, not {heights.tolist()}")
    return float(source_height / heights.sum())


__all__ = ["background_scale"]
