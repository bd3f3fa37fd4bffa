"""Exceptions raised by the hstlc library.

Every message says *what* went wrong, *where* (the file or setting) and, where it helps, *how to fix it*,
e.g. ``lb4m01aaq_corrtag_a.fits: EVENTS extension has no TIME column (is this a COS corrtag?)``.
The command line catches :class:`HstlcError` once, prints the message and exits 1.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path


class HstlcError(Exception):
    """Base class of every error hstlc raises on purpose."""


class ConfigError(HstlcError):
    """An invalid setting or configuration file."""


class InputFileError(HstlcError):
    """A file that cannot be read or lacks something hstlc needs.

    The message is prefixed with the file's name so that a batch report names the culprit.
    """

    def __init__(self, path: str | PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


class UnsupportedProductError(InputFileError):
    """A readable FITS file that is not a product hstlc knows how to use."""


class ExtractionError(HstlcError):
    """The lightcurve of a dataset could not be extracted."""


class CatalogError(HstlcError):
    """The catalog database cannot be reached or is not in the expected state."""


class IngestLockedError(CatalogError):
    """Another ``hstlc ingest`` holds the catalog's ingest lock."""


class ResolverError(HstlcError):
    """A target-name resolution problem that cannot be recovered from (bad alias file, bad input)."""


class FilingError(HstlcError):
    """A file could not be moved or written without risking a user's data."""


__all__ = [
    "CatalogError",
    "ConfigError",
    "ExtractionError",
    "FilingError",
    "HstlcError",
    "IngestLockedError",
    "InputFileError",
    "ResolverError",
    "UnsupportedProductError",
]
