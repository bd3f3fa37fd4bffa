"""``hstlc ingest --dry-run``: what an ingest of a folder would do, without changing anything.

The same discovery, quality checks, catalog comparison and (offline) name resolution as
:func:`hstlc.ingestion.ingest`, then a plan per dataset: ``ingest`` (filed under
``filesystem_dir/<TARGNAME>/``, its lightcurve under ``outputs_dir``), ``quarantine`` (moved to
``bad_data_dir``, with the failing checks), ``unchanged`` (already ingested with the same files) or
``fail`` (unreadable, with the reason), and the composite configurations that would be rebuilt.
Nothing is written: no ingest lock, no catalog rows, no moves, no products, no Sesame request (names
resolve through the alias table and the catalog's cache only, so a name only Sesame knows shows as it
is in the header). Extraction itself is not run, so a dataset that would fail *during* extraction shows
as ``ingest``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hstlc.catalog import Catalog
from hstlc.catalog import ingest_state as state
from hstlc.config import Settings
from hstlc.errors import CatalogError, InputFileError
from hstlc.ingestion.discovery import SkippedFile, discover
from hstlc.ingestion.work import (
    already_ingested,
    discovery_exclusions,
    filed_targname,
    survey,
    target_folder,
)

log = logging.getLogger(__name__)

ACTIONS = ("ingest", "quarantine", "unchanged", "fail")


@dataclass(frozen=True)
class PlannedDataset:
    """What ingest would do with one dataset."""

    rootname: str
    action: str
    """One of :data:`ACTIONS`."""
    files: tuple[str, ...] = ()
    """The dataset's files as found (they would be moved, or copied with ``--copy``)."""
    destination: str | None = None
    targname: str | None = None
    """The target name it would be filed under (after resolution)."""
    reasons: tuple[str, ...] = ()
    """Failing quality checks (quarantine) or why it cannot be read (fail)."""
    config: tuple[str, ...] = ()
    """The composite configuration it would join (ingest only)."""

    def to_dict(self) -> dict[str, Any]:
        return {"rootname": self.rootname, "action": self.action, "files": list(self.files),
                "destination": self.destination, "targname": self.targname, "reasons": list(self.reasons),
                "config": list(self.config)}


@dataclass
class IngestPlan:
    directory: Path
    datasets: list[PlannedDataset] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    @property
    def composites(self) -> list[tuple[str, ...]]:
        """The composite configurations the ingest would (re)build, sorted."""
        return sorted({d.config for d in self.datasets if d.action == "ingest" and d.config})

    def count(self, action: str) -> int:
        return sum(1 for d in self.datasets if d.action == action)

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "datasets": [d.to_dict() for d in self.datasets],
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in self.skipped],
            "composites": [list(c) for c in self.composites],
            "counts": {action: self.count(action) for action in ACTIONS},
        }


def _records(catalog: Catalog | None, rootnames: list[str]) -> dict[str, tuple[str, Any]]:
    """Done/bad markers of ``rootnames`` (none when there is no catalog yet)."""
    if catalog is None or not rootnames:
        return {}
    try:
        with catalog.session() as session:
            return {r: (rec.status, rec.files) for r, rec in
                    state.dataset_records(session, rootnames).items()}
    except CatalogError as exc:
        log.debug("no catalog records for the dry run: %s", exc)
        return {}


def plan_ingest(
    directory: str | os.PathLike[str],
    *,
    settings: Settings,
    catalog: Catalog | None,
    recursive: bool = False,
) -> IngestPlan:
    """What :func:`hstlc.ingestion.ingest` of ``directory`` would do (see the module docstring)."""
    from hstlc.extraction import group_key
    from hstlc.readers import read_observation
    from hstlc.resolver import Resolver

    folder = Path(directory).expanduser().absolute()
    if not folder.is_dir():
        raise InputFileError(folder, "folder not found" if not folder.exists() else
                             "not a folder (give the folder that holds the event files)")
    found = discover(folder, recursive=recursive, exclude=discovery_exclusions(settings))
    plan = IngestPlan(folder, skipped=list(found.skipped))
    candidates = sorted(found.candidates, key=lambda c: c.rootname)
    records = _records(catalog, [c.rootname for c in candidates])
    good = []
    for candidate in candidates:
        result = survey(candidate, settings)
        files = tuple(str(p) for p in candidate.files)
        if result.error:
            plan.datasets.append(PlannedDataset(candidate.rootname, "fail", files, reasons=(result.error,)))
            continue
        record = records.get(candidate.rootname)
        if record is not None and already_ingested(record[0], record[1], result.files):
            plan.datasets.append(PlannedDataset(candidate.rootname, "unchanged", files,
                                                destination=str(candidate.directory)))
            continue
        if result.reasons:
            plan.datasets.append(PlannedDataset(candidate.rootname, "quarantine", files,
                                                destination=str(settings.bad_data_dir),
                                                reasons=tuple(result.reasons)))
            continue
        good.append((candidate, files))
    names = {c.rootname: (read_observation(c.primary).targname or "").strip() for c, _ in good}
    resolved: dict[str, str] = {}
    if good:
        with Resolver(catalog=catalog, settings=settings, offline=True) as resolver:
            for name, res in resolver.resolve_many(sorted(set(names.values()))).items():
                resolved[name] = filed_targname(name, res.resolved)
    for candidate, files in good:
        targname = resolved.get(names[candidate.rootname], names[candidate.rootname]) or "UNKNOWN"
        config = group_key(read_observation(candidate.primary), targname=targname)
        plan.datasets.append(PlannedDataset(
            candidate.rootname, "ingest", files,
            destination=str(target_folder(Path(settings.filesystem_dir), targname)), targname=targname,
            config=config))
    plan.datasets.sort(key=lambda d: d.rootname)
    return plan


__all__ = ["ACTIONS", "IngestPlan", "PlannedDataset", "plan_ingest"]
