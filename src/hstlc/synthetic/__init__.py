"""Synthetic HST COS/STIS TIME-TAG data in exactly the real file formats (FORMATS.md).

The project's one source of test and demo data: seeded, vectorised generators of COS FUV/NUV
corrtags (and x1d), STIS MAMA tag files with their x1d, CRDS-format reference tables and
deliberately broken files, each returning a :class:`SyntheticDataset` with the injected truth; and
binned lightcurves on HST orbits drawn directly (:func:`simulate_lightcurve`, :func:`composite`), for
statistics work at scale, modulated by the same :class:`SignalSpec` signals (:func:`sinusoid`,
:func:`flare`).
"""

from __future__ import annotations

from hstlc.synthetic.binned import composite, orbit_gti, simulate_lightcurve
from hstlc.synthetic.corrupt import write_corrupt_files
from hstlc.synthetic.cos import (
    AIRGLOW_LINES,
    AIRGLOW_WINDOWS,
    DEFAULT_GEOMETRY,
    DEFAULT_SDQFLAGS,
    NOT_EXTRACTED,
    ExtractionGeometry,
    make_cos_fuv,
    make_cos_nuv,
)
from hstlc.synthetic.dataset import BAD_CONDITIONS, BAD_PROPOSID, SHORT_EXPTIME, SyntheticDataset
from hstlc.synthetic.reference import (
    cos_sensitivity,
    cos_tds_factor,
    make_cos_reference_files,
    make_stis_reference_files,
    stis_throughput,
)
from hstlc.synthetic.signals import SignalSpec, constant, flare, sinusoid
from hstlc.synthetic.stis import TICK, make_stis_tag

__all__ = [
    "AIRGLOW_LINES",
    "AIRGLOW_WINDOWS",
    "BAD_CONDITIONS",
    "BAD_PROPOSID",
    "DEFAULT_GEOMETRY",
    "DEFAULT_SDQFLAGS",
    "NOT_EXTRACTED",
    "SHORT_EXPTIME",
    "TICK",
    "ExtractionGeometry",
    "SignalSpec",
    "SyntheticDataset",
    "composite",
    "constant",
    "cos_sensitivity",
    "cos_tds_factor",
    "flare",
    "make_cos_fuv",
    "make_cos_nuv",
    "make_cos_reference_files",
    "make_stis_reference_files",
    "make_stis_tag",
    "orbit_gti",
    "simulate_lightcurve",
    "sinusoid",
    "stis_throughput",
    "write_corrupt_files",
]
