"""Small lightcurve products on disk for the stats and CLI tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hstlc.domain import SECONDS_PER_DAY, LightCurve
from hstlc.products import write_lightcurve


def write_product(path: Path, *, seed: int, period: float | None = None, n: int = 900) -> Path:
    """A 2 s-bin product of ``n`` Poisson bins around 8 c/s, a 4 c/s sinusoid of ``period`` when given."""
    rng = np.random.default_rng(seed)
    times = np.arange(n) * 2.0
    bins = np.full(n, 2.0)
    model = 8.0 + (4.0 * np.sin(2 * np.pi * times / period) if period else np.zeros(n))
    counts = rng.poisson(model * bins).astype(np.float64)
    zeros = np.zeros(n)
    lc = LightCurve(
        times=times, mjd=56000.0 + times / SECONDS_PER_DAY, bins=bins, gross=counts, background=zeros,
        counts=counts, net=counts / bins, error=np.sqrt(counts), flux=zeros, flux_error=zeros,
        signal_to_noise=zeros, dataset=np.ones(n, dtype=np.int32), meta={"STEPSIZE": 2.0},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_lightcurve(lc, path, overwrite=True)
