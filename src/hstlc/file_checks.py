"""File-level quality checks: read each dataset's TIME column(s) and headers, run :mod:`hstlc.science.checks`.

- :func:`check_dataset` checks one exposure: every event file of it (an FUV pair fails if either segment
  fails; the reasons are merged).
- :func:`check_paths` checks many paths (an FUV pair named by both files is checked once); an unreadable
  file gives an outcome carrying its error instead of raising.

What is checked is what was named: an x1d holds no events, so an x1d named alone is reported as such
(verdict ``unsupported``, naming the event file to check instead) rather than silently checking its
``_corrtag``; an x1d named together with its event file belongs to that dataset's row.

Quarantining bad datasets (``hstlc check --move``) is :func:`hstlc.ingestion.quarantine.quarantine`: the
same journalled filing as ingest, under its lock.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hstlc.config import Settings
from hstlc.domain import Observation
from hstlc.errors import HstlcError, UnsupportedProductError
from hstlc.readers import companion_files, read_event_times
from hstlc.readers.files import DatasetFiles, product_kind
from hstlc.science.checks import CheckResult, run_checks
from hstlc.timeouts import time_limit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict on one dataset.

    ``files`` are all files of the dataset (event files, then the x1d); ``per_file`` the result of each
    event file and ``observations`` its header metadata (same order); ``result`` the merged verdict. An
    unreadable dataset has ``error`` set (and no observation); it is neither good nor bad: its verdict is
    ``unsupported`` for a readable file that is no event list hstlc checks (an x1d, a rawtag, another
    FITS product; :class:`~hstlc.errors.UnsupportedProductError`), else ``unreadable``.
    """

    path: Path
    rootname: str
    files: tuple[Path, ...] = ()
    observation: Observation | None = None
    result: CheckResult = field(default_factory=CheckResult)
    per_file: tuple[tuple[Path, CheckResult], ...] = ()
    error: HstlcError | None = None
    observations: tuple[Observation, ...] = ()

    @property
    def readable(self) -> bool:
        return self.error is None

    @property
    def ok(self) -> bool:
        return self.error is None and self.result.ok

    @property
    def bad(self) -> bool:
        return self.error is None and not self.result.ok

    @property
    def verdict(self) -> str:
        if isinstance(self.error, UnsupportedProductError):
            return "unsupported"
        return "unreadable" if self.error is not None else ("good" if self.result.ok else "bad")


def _dataset_files(path: Path) -> DatasetFiles:
    try:
        return companion_files(path)
    except UnsupportedProductError:
        # An unusual file name: check the file on its own.
        return DatasetFiles(rootname=path.name.split("_", 1)[0].lower(), event_files=(path,))


def _x1d_problem(path: Path) -> str:
    """Why an x1d cannot be checked, and which file to give instead."""
    try:
        events = companion_files(path).event_files
    except HstlcError:
        events = ()
    if not events:
        return "an x1d spectrum is not an event list (no _corrtag or _tag file beside it to check)"
    files = "file" if len(events) == 1 else "files"
    names = ", ".join(f.name for f in events)
    return f"an x1d spectrum is not an event list; check its event {files} {names}"


def check_dataset(path: str | os.PathLike[str], settings: Settings) -> CheckOutcome:
    """Check every event file of the dataset ``path`` belongs to; raises ``HstlcError`` if unreadable.

    ``path`` is an event file (either file of an FUV pair checks both); an x1d raises
    :class:`~hstlc.errors.UnsupportedProductError` naming its event file(s).
    """
    p = Path(path)
    if product_kind(p.name) == "x1d":
        raise UnsupportedProductError(p, _x1d_problem(p))
    files = _dataset_files(p)
    per_file: list[tuple[Path, CheckResult]] = []
    observations: list[Observation] = []
    merged = CheckResult()
    for event_file in files.event_files:
        with time_limit(settings.read_timeout, event_file):
            obs, times = read_event_times(event_file)
        result = run_checks(
            obs, times, bad_proposals=settings.bad_proposals, min_exptime=settings.min_exptime
        )
        del times
        observations.append(obs)
        per_file.append((event_file, result))
        merged = merged.merged(result)
        log.debug("%s: %s", event_file.name, ", ".join(result.reasons) or "good")
    return CheckOutcome(
        path=p,
        rootname=observations[0].rootname if observations else files.rootname,
        files=files.files,
        observation=observations[0] if observations else None,
        result=merged,
        per_file=tuple(per_file),
        observations=tuple(observations),
    )


def _dataset_key(p: Path) -> Path:
    try:
        return _dataset_files(p).primary.absolute() if p.exists() else p.absolute()
    except HstlcError:
        return p.absolute()


def check_paths(paths: Iterable[str | os.PathLike[str]], settings: Settings) -> list[CheckOutcome]:
    """Check each dataset named by ``paths`` once (in the order first named); never raises ``HstlcError``.

    An x1d whose event file is also among ``paths`` adds nothing (that dataset's outcome lists it in
    ``files``); an x1d named without its event file gets an ``unsupported`` outcome saying which file to
    check (:func:`check_dataset`).
    """
    given = [Path(path) for path in paths]
    keys = [_dataset_key(p) for p in given]
    named_events = {key for p, key in zip(given, keys, strict=True) if product_kind(p.name) != "x1d"}
    outcomes: list[CheckOutcome] = []
    seen: set[Path] = set()
    for p, key in zip(given, keys, strict=True):
        if key in seen or (product_kind(p.name) == "x1d" and key in named_events):
            continue
        seen.add(key)
        try:
            outcomes.append(check_dataset(p, settings))
        except HstlcError as exc:
            log.debug("%s: unreadable: %s", p, exc)
            rootname = p.name.split("_", 1)[0].lower()
            outcomes.append(CheckOutcome(path=p, rootname=rootname, files=(p,), error=exc))
    return outcomes


__all__ = ["CheckOutcome", "check_dataset", "check_paths"]
