"""FITS files → domain objects: detect → registry → one module per instrument (CONVENTIONS.md §6).

- :func:`detect_product` decides the :class:`ProductKind` from headers and columns;
- :data:`DATASET_READERS` maps each event-list kind to the reader that builds a
  :class:`~hstlc.domain.Dataset`;
- :func:`read_dataset` reads every segment of an exposure, :func:`read_observation` headers only,
  :func:`read_event_times` the TIME column for the quality checks, :func:`companion_files` names the files
  of a dataset.

Supporting a new product is one module and one line in :data:`DATASET_READERS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hstlc.domain import Dataset, Observation
from hstlc.errors import InputFileError, UnsupportedProductError
from hstlc.readers.cos import check_times, read_cos_dataset
from hstlc.readers.detect import ProductKind, classify, detect_product
from hstlc.readers.files import DatasetFiles, companion_files, split_name
from hstlc.readers.hdus import input_boundary, open_fits, read_columns, require_hdu, reuse_decompressed
from hstlc.readers.observation import build_observation
from hstlc.readers.stis import read_stis_dataset

DatasetReader = Callable[..., Dataset]

#: Product kind → reader ``(path, *, lref_dir, oref_dir) -> Dataset``.
DATASET_READERS: dict[ProductKind, DatasetReader] = {
    ProductKind.COS_FUV_CORRTAG: read_cos_dataset,
    ProductKind.COS_NUV_CORRTAG: read_cos_dataset,
    ProductKind.STIS_TAG: read_stis_dataset,
    ProductKind.STIS_CORRTAG: read_stis_dataset,
}


def read_dataset(
    path: str | os.PathLike[str],
    *,
    lref_dir: str | os.PathLike[str] | None = None,
    oref_dir: str | os.PathLike[str] | None = None,
    x1d: str | os.PathLike[str] | None = None,
) -> Dataset:
    """Every segment of the exposure ``path`` belongs to, as a :class:`~hstlc.domain.Dataset`.

    COS FUV: both ``_corrtag_a``/``_corrtag_b`` files that exist (Segments FUVA/FUVB); COS NUV: one
    Segment ``NUV``; STIS ``_tag``: one Segment ``STIS`` with calibrated events (see
    :func:`hstlc.readers.stis.read_stis_dataset` for ``Dataset.extras``); synthetic STIS corrtag: read as is.
    ``lref_dir``/``oref_dir`` locate reference files (default: the ``$lref``/``$oref`` variables).
    ``x1d`` (STIS only) is the companion x1d when it is not ``<rootname>_x1d.fits`` beside ``path``.
    Files may be gzip or bzip2 compressed; each is decompressed once per call.
    """
    with reuse_decompressed():
        return _read_dataset(Path(path), lref_dir=lref_dir, oref_dir=oref_dir, x1d=x1d)


def _read_dataset(
    p: Path,
    *,
    lref_dir: str | os.PathLike[str] | None,
    oref_dir: str | os.PathLike[str] | None,
    x1d: str | os.PathLike[str] | None,
) -> Dataset:
    kind = detect_product(p)
    reader = DATASET_READERS.get(kind)
    if reader is None:
        raise UnsupportedProductError(p, f"{kind.value} holds no events; give its corrtag or tag file")
    # The boundary also covers what readers do after the file is closed (building the domain objects,
    # calibrating STIS events); errors about a companion file already name that file.
    companion: dict[str, Path] = {}
    if x1d is not None:
        if reader is not read_stis_dataset:
            raise UnsupportedProductError(p, "an x1d can only be given for a STIS event file")
        companion["x1d"] = Path(x1d)
    with input_boundary(p):
        return reader(
            p,
            lref_dir=Path(lref_dir) if lref_dir is not None else None,
            oref_dir=Path(oref_dir) if oref_dir is not None else None,
            **companion,
        )


def read_observation(path: str | os.PathLike[str]) -> Observation:
    """The header metadata of one file (fast: no table data is read)."""
    p = Path(path)
    with open_fits(p) as hdul:
        kind = classify(p, hdul)
        ext = require_hdu(p, hdul, "EVENTS" if kind.is_events else "SCI")
        where = "EVENTS header" if kind.is_events else "SCI header"
        return build_observation(p, hdul[0].header, ext.header, instrument=kind.instrument, where=where)


def read_event_times(path: str | os.PathLike[str]) -> tuple[Observation, npt.NDArray[Any]]:
    """The Observation and the TIME column (seconds since EXPSTART, native byte order) of an event file."""
    p = Path(path)
    with open_fits(p) as hdul:
        kind = classify(p, hdul)
        if not kind.is_events:
            raise UnsupportedProductError(p, f"{kind.value} holds no events; give its corrtag or tag file")
        events = require_hdu(p, hdul, "EVENTS")
        observation = build_observation(p, hdul[0].header, events.header, instrument=kind.instrument)
        times = read_columns(p, events, ["TIME"])["TIME"]
        if times.ndim != 1 or times.dtype.kind not in "fiu":
            raise InputFileError(
                p, f"EVENTS TIME column is not one number per event (TFORM {_tform(events, 'TIME')})"
            )
    check_times(p, times)
    if times.dtype.kind not in "f":
        times = times.astype(np.float64)
    return observation, times


def _tform(hdu: Any, name: str) -> str:
    """The TFORM card of column ``name`` of a table HDU, as written (for messages)."""
    for i in range(1, 1000):
        ttype = hdu.header.get(f"TTYPE{i}")
        if ttype is None:
            break
        if str(ttype).strip().upper() == name.upper():
            return repr(str(hdu.header.get(f"TFORM{i}", "")).strip())
    return "?"


__all__ = [
    "DATASET_READERS",
    "DatasetFiles",
    "ProductKind",
    "companion_files",
    "detect_product",
    "read_dataset",
    "read_event_times",
    "read_observation",
    "split_name",
]
