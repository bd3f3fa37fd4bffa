"""Exceptions raised by the hstlc library.

Every message says *what* went wrong, *where* (the file or setting) and, where it helps, *how to fix it*,
e.g. ``lb4m01aaq_corrtag_a.fits: EVENTS extension has no TIME column (is this a COS corrtag?)``.
The command line catches :class:`HstlcError` once, prints the message and exits 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike
from pathlib import Path


class HstlcError(Exception):
    """Base class of every error hstlc raises on purpose."""


class ConfigError(HstlcError):
    """An invalid setting or configuration file."""


class InputFileError(HstlcError):
    """A file that cannot be read or lacks something hstlc needs.

    The message (``str(exc)``) is prefixed with the file's *name* so that a batch report names the culprit
    the same way wherever the file lies (ingest moves files, and its summaries and catalog rows are keyed
    by rootname: they keep this form). ``path`` is the path as the caller gave it (the readers keep the
    user's relative or absolute path, also for a companion file found beside it) and ``problem`` the text
    after the name; :func:`message_with_path` renders ``<path as given>: <problem>`` for a command line.
    """

    def __init__(self, path: str | PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")

    @property
    def located(self) -> str:
        """``<path as given>: <problem>`` (e.g. ``data/sub/x_corrtag_a.fits: not a FITS file …``)."""
        return f"{self.path}: {self.problem}"


class UnsupportedProductError(InputFileError):
    """A readable FITS file that is not a product hstlc knows how to use."""


def message_with_path(exc: BaseException, given: Iterable[str | PathLike[str]] = ()) -> str:
    """The one-line message of ``exc`` naming its file by the path as the user gave it.

    An :class:`InputFileError` knows its path. Any other message that starts with a file name
    (``lb4m01aaq_corrtag_b.fits: …``, e.g. an :class:`ExtractionError`, or a message kept as text) is
    matched against ``given``, the paths the user named: a given path with that name, else a file of
    that name beside a given path of the same rootname (a companion, e.g. the ``_corrtag_b`` of a
    ``_corrtag_a``). Without a unique match the message is returned unchanged.
    """
    if isinstance(exc, InputFileError):
        return exc.located
    return located_text(str(exc), given)


def located_text(message: str, given: Iterable[str | PathLike[str]] = ()) -> str:
    """``message`` (``<file name>: <problem>``) with the file named by its path among ``given`` (see
    :func:`message_with_path`); unchanged when no given path matches uniquely."""
    name, sep, problem = message.partition(": ")
    if not sep or not name or "/" in name or "\\" in name or " " in name:
        return message
    paths = [Path(p) for p in given]
    same = {p for p in paths if p.name == name}
    if not same:
        root = name.split("_", 1)[0].lower()
        same = {p.with_name(name) for p in paths if p.name.split("_", 1)[0].lower() == root}
    if len(same) != 1:
        return message
    (path,) = same
    return f"{path}: {problem}"


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


class DownloadError(HstlcError):
    """MAST could not be asked, or a file could not be fetched (the message names the URL or file and why).

    ``retryable``: another attempt could mend it (no connection, a timeout, HTTP 5xx or 429, a broken
    transfer).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


__all__ = [
    "CatalogError",
    "ConfigError",
    "DownloadError",
    "ExtractionError",
    "FilingError",
    "HstlcError",
    "IngestLockedError",
    "InputFileError",
    "ResolverError",
    "UnsupportedProductError",
    "located_text",
    "message_with_path",
]
