"""COS corrtag reader (FUV ``_corrtag_a``/``_corrtag_b`` pairs and NUV ``_corrtag``), FORMATS.md §2.

Events: x = XCORR, y = YCORR, with TIME, WAVELENGTH, EPSILON and DQ as stored (float32 / int16, native
byte order). The GTI is the highest-EXTVER ``GTI`` table ([0, EXPTIME] when there is none), ``keywords``
the EVENTS header over the primary header, ``timeline`` the TIMELINE columns (lower-case) if present.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hstlc.domain import Dataset, EventList, Observation, Segment
from hstlc.errors import InputFileError
from hstlc.readers.detect import ProductKind, classify
from hstlc.readers.files import companion_files, product_kind
from hstlc.readers.hdus import (
    header_dict,
    open_fits,
    read_columns,
    read_gti,
    read_timeline,
    require_hdu,
)
from hstlc.readers.observation import build_observation

log = logging.getLogger(__name__)

COS_KINDS = (ProductKind.COS_FUV_CORRTAG, ProductKind.COS_NUV_CORRTAG)
EVENT_COLUMNS = ("TIME", "XCORR", "YCORR", "WAVELENGTH", "EPSILON", "DQ")
HINT = "(is this a COS corrtag?)"


def check_times(path: Path, times: npt.NDArray[Any]) -> None:
    """Raise if TIME holds NaN or infinite values."""
    if times.dtype.kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(times)))
        if bad:
            raise InputFileError(path, f"EVENTS TIME column has {bad} NaN or infinite value(s)")


def read_cos_segment(path: Path) -> tuple[Observation, Segment]:
    """One COS corrtag file → its Observation and its Segment (``FUVA``, ``FUVB`` or ``NUV``)."""
    with open_fits(path) as hdul:
        kind = classify(path, hdul)
        if kind not in COS_KINDS:
            raise InputFileError(path, f"expected a COS corrtag, found a {kind.value} file")
        events = require_hdu(path, hdul, "EVENTS")
        primary = hdul[0].header
        observation = build_observation(path, primary, events.header, instrument="COS")
        cols = read_columns(path, events, EVENT_COLUMNS, hint=HINT)
        check_times(path, cols["TIME"])
        gti = read_gti(path, hdul, observation.exptime)
        timeline = read_timeline(path, hdul)
        keywords = header_dict(primary, events.header)
    if kind is ProductKind.COS_NUV_CORRTAG:
        name = "NUV"
    else:
        name = observation.segment
        if name not in ("FUVA", "FUVB"):
            name = "FUVB" if product_kind(path.name) == "corrtag_b" else "FUVA"
            log.warning("%s: SEGMENT keyword is %r; taking %s from the file name", path.name,
                        observation.segment, name)
    event_list = EventList(
        time=cols["TIME"],
        x=cols["XCORR"],
        y=cols["YCORR"],
        wavelength=cols["WAVELENGTH"],
        epsilon=cols["EPSILON"],
        dq=cols["DQ"],
    )
    segment = Segment(
        name=name,
        events=event_list,
        gti=gti,
        exptime=observation.exptime,
        keywords=keywords,
        timeline=timeline,
        source_file=str(path),
    )
    return observation, segment


def read_cos_dataset(path: Path, *, lref_dir: Path | None = None, oref_dir: Path | None = None) -> Dataset:
    """All segments of the COS exposure ``path`` belongs to (both FUV files that exist, or the NUV file).

    The Observation is that of the first segment file (``_corrtag_a`` when present). Reference
    directories are not needed to read COS events (extraction resolves FLUXTAB/TDSTAB itself).
    """
    del lref_dir, oref_dir
    files = companion_files(path)
    observations: list[Observation] = []
    segments: list[Segment] = []
    for event_file in files.event_files:
        observation, segment = read_cos_segment(event_file)
        if any(s.name == segment.name for s in segments):
            raise InputFileError(
                event_file, f"segment {segment.name} appears twice in dataset {files.rootname}"
            )
        observations.append(observation)
        segments.append(segment)
    first = observations[0]
    for obs in observations[1:]:
        if obs.rootname != first.rootname:
            raise InputFileError(
                Path(obs.filename),
                f"ROOTNAME {obs.rootname} differs from {first.rootname} of {first.filename}",
            )
    return Dataset(
        observation=first,
        segments=tuple(segments),
        files=tuple(str(f) for f in files.files),
        extras={},
    )


__all__ = ["check_times", "read_cos_dataset", "read_cos_segment"]
