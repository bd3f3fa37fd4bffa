"""What an ingest run did (:class:`IngestSummary`); it reports progress as :class:`hstlc.workers.Progress`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hstlc.ingestion.discovery import SkippedFile


@dataclass
class IngestSummary:
    """What an ingest run did. The stages record into it through its methods only."""

    directory: Path
    cores: int = 1
    ingested: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    """Datasets already ingested with the same files: left where they are."""
    bad: dict[str, list[str]] = field(default_factory=dict)
    """Quarantined datasets by reason."""
    failed: dict[str, str] = field(default_factory=dict)
    """Datasets (or ``composite <file>``) that failed, with the reason."""
    skipped: list[SkippedFile] = field(default_factory=list)
    composites: list[Path] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    """Datasets a killed run had started filing, finished by this run."""
    log_path: Path | None = None
    wall_seconds: float = 0.0
    db_seconds: float = 0.0
    """Time spent in catalog transactions in the main process (writes and the reads around them)."""
    resolve_seconds: float = 0.0

    # --- recording ----------------------------------------------------------------------------------

    def add_ingested(self, rootname: str) -> None:
        self.ingested.append(rootname)

    def add_bad(self, rootname: str, reasons: Iterable[str]) -> None:
        for reason in reasons:
            self.bad.setdefault(reason, []).append(rootname)

    def add_failed(self, name: str, reason: str) -> None:
        """``name`` (a rootname, or ``composite …``) failed, for ``reason``."""
        self.failed[name] = reason

    def add_unchanged(self, rootname: str) -> None:
        self.unchanged.append(rootname)

    def add_recovered(self, rootname: str) -> None:
        self.recovered.append(rootname)

    def add_composite(self, path: Path) -> None:
        self.composites.append(path)

    # --- reading ------------------------------------------------------------------------------------

    @property
    def bad_count(self) -> int:
        return len({root for roots in self.bad.values() for root in roots})

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "cores": self.cores,
            "ingested": sorted(self.ingested),
            "unchanged": sorted(self.unchanged),
            "bad": {reason: sorted(roots) for reason, roots in sorted(self.bad.items())},
            "failed": dict(sorted(self.failed.items())),
            "skipped": [{"path": str(s.path), "reason": s.reason} for s in self.skipped],
            "composites": [str(p) for p in self.composites],
            "recovered": sorted(self.recovered),
            "log_path": str(self.log_path) if self.log_path else None,
            "wall_seconds": round(self.wall_seconds, 3),
            "db_seconds": round(self.db_seconds, 3),
            "resolve_seconds": round(self.resolve_seconds, 3),
        }


__all__ = ["IngestSummary"]
