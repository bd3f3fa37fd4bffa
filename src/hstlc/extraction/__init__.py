"""The lightcurve extraction engine's library API (the I/O edge around :mod:`hstlc.science`).

:func:`extract_dataset` turns a :class:`~hstlc.domain.Dataset` (from :func:`hstlc.readers.read_dataset`)
into a :class:`~hstlc.domain.LightCurve`; :func:`extract_file` reads the dataset first;
:func:`make_composite` stacks several datasets of one configuration; :func:`group_key` is the composite
grouping key; :func:`extract_paths` is ``hstlc extract``. Reference tables (COS FLUXTAB/TDSTAB, STIS
PHOTTAB) are read here; the numerics are the pure functions of :mod:`hstlc.science`. Every problem with the
input raises :class:`~hstlc.errors.ExtractionError` (or :class:`~hstlc.errors.InputFileError`) naming the
file; every calibration step that cannot be done is logged as a warning and recorded in
``LightCurve.meta`` (``FLUXCAL = 'UNCALIBRATED'`` and ``FLUXNOTE``) — never silently.

The modules, by job:

- :mod:`~hstlc.extraction.params` — :class:`ExtractionParams` and the default wavelength limits;
- :mod:`~hstlc.extraction.context` — per-dataset bookkeeping, the ``Instrument`` record, keyword access;
- :mod:`~hstlc.extraction.cos`, :mod:`~hstlc.extraction.stis` — each instrument's extraction boxes and
  flux calibration; :mod:`~hstlc.extraction.flashes` — the COS lamp-flash cut;
- :mod:`~hstlc.extraction.engine` — the instrument registry, good time, binning and metadata;
- :mod:`~hstlc.extraction.composite` — composites; :mod:`~hstlc.extraction.batch` — ``hstlc extract``.

``LightCurve.meta`` keys (upper-case FITS keywords, consumed by :func:`hstlc.products.write_lightcurve`):
identity (TELESCOP, INSTRUME, DETECTOR, TARGNAME, RA_TARG, DEC_TARG, EQUINOX, OPT_ELEM, CENWAVE, APERTURE,
PROPOSID, ROOTNAME, EXPSTART, EXPEND, TARGORIG when the name was resolved), extraction parameters
(STEPSIZE, WMIN, WMAX, XMIN, XMAX, YMIN_x/YMAX_x (and SLOPE_x) per COS segment/stripe letter or YMIN/YMAX
for STIS, BKGSCL_x (COS) or BKGSCALE (STIS) background scale factors, NPIXEL columns extracted, AIRGLOW,
MAXSUNAL, SUNCUT), calibration (FLUXCAL, FLUXNOTE, TDSCORR, FLUXTAB, TDSTAB or PHOTTAB used; STIS:
TDSCORR = 'OMITTED' always, the STIS TDSTAB format being undocumented), COS lamp flashes of TAGFLASH
exposures (FLASHCUT = 'APPLIED' / 'NONE FOUND' / 'NOT APPLIED', NFLASH flashes, FLASHEXP seconds of good
time removed), TIMEPIXR = 0 (bin starts), SRCFILEn, and NOTEn sentences on anything that could not be done
as the data asked; a composite adds NMEMBERS and per-member lists of the member keywords.
"""

from __future__ import annotations

from hstlc.extraction.batch import ExtractOutcome, ExtractReport, extract_paths
from hstlc.extraction.composite import group_key, load_datasets, make_composite
from hstlc.extraction.engine import (
    INSTRUMENTS,
    MemberWindow,
    extract_dataset,
    extract_file,
    extract_with_window,
    member_window,
)
from hstlc.extraction.engine import _extract as _extract  # private, used by tests
from hstlc.extraction.engine import _window as _window
from hstlc.extraction.params import DEFAULT_WAVELENGTH_LIMITS, ExtractionParams

__all__ = [
    "DEFAULT_WAVELENGTH_LIMITS",
    "INSTRUMENTS",
    "ExtractOutcome",
    "ExtractReport",
    "ExtractionParams",
    "MemberWindow",
    "extract_dataset",
    "extract_file",
    "extract_paths",
    "extract_with_window",
    "group_key",
    "load_datasets",
    "make_composite",
    "member_window",
]
