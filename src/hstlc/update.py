"""``hstlc run``: bring the catalog up to date in one go — download → ingest → stats → plot.

The original ran these stages from a cron script. Here one command runs them in order under the catalog's
ingest lock, taken once for the whole run, so no other ingest or reset can slip in between. A stage that
cannot run at all (MAST unreachable, say) is recorded with its error and the later stages still run on
what is there; a stage whose items partly fail says so. :class:`UpdateSummary` holds each stage's outcome
in one table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hstlc.catalog import ingest_state as state
from hstlc.catalog.store import Catalog
from hstlc.config import Settings
from hstlc.download import DownloadFilters, download
from hstlc.errors import HstlcError
from hstlc.ingestion import ingest
from hstlc.product_stats import run_stats
from hstlc.report import build_report
from hstlc.workers import ProgressCallback

log = logging.getLogger(__name__)



@dataclass
class StageOutcome:
    """One stage: ``ok``, ``failures`` (it ran, some items failed), ``error`` (it could not run) or
    ``skipped``; ``done`` / ``failed`` count its items; ``detail`` is one line for people."""

    name: str
    status: str = "skipped"
    done: int = 0
    failed: int = 0
    detail: str = ""
    seconds: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class UpdateSummary:
    stages: list[StageOutcome] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def had_failures(self) -> bool:
        return any(s.status in ("failures", "error") for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": [{"stage": s.name, "status": s.status, "done": s.done, "failed": s.failed,
                        "detail": s.detail, "seconds": round(s.seconds, 3), "result": s.result}
                       for s in self.stages],
            "had_failures": self.had_failures,
            "wall_seconds": round(self.wall_seconds, 3),
        }


def _stage(summary: UpdateSummary, name: str) -> StageOutcome:
    outcome = StageOutcome(name)
    summary.stages.append(outcome)
    return outcome


@contextmanager
def _running(summary: UpdateSummary, name: str) -> Iterator[StageOutcome]:
    """Stage ``name`` of ``summary``, timed; an :class:`~hstlc.errors.HstlcError` inside is its outcome
    (status ``error``), and the run goes on to the next stage."""
    stage = _stage(summary, name)
    t0 = time.perf_counter()
    try:
        yield stage
    except HstlcError as exc:
        stage.status, stage.detail = "error", str(exc)
        log.error("%s: %s", name, exc)
    stage.seconds = time.perf_counter() - t0


def update(
    settings: Settings,
    catalog: Catalog,
    *,
    fetch: bool = True,
    filters: DownloadFilters | None = None,
    limit: int | None = None,
    offline: bool | None = None,
    progress: ProgressCallback | None = None,
) -> UpdateSummary:
    """Run the stages (module docstring) into ``catalog``; ``fetch=False`` skips the download.

    Raises :class:`~hstlc.errors.IngestLockedError` when an ingest or reset already runs (nothing is
    done then); every other problem is a stage's outcome.
    """
    started = time.perf_counter()
    summary = UpdateSummary()
    catalog.init_schema()
    with state.IngestLockHandle.acquire(catalog, command="hstlc run") as lock:
        if fetch:
            with _running(summary, "download") as stage:
                got = download(settings, catalog=catalog, filters=filters, limit=limit)
                stage.status = "failures" if got.failed else "ok"
                stage.done, stage.failed = len(got.downloaded), len(got.failed)
                stage.detail = (f"{got.found} new dataset(s), {len(got.downloaded)} file(s) "
                                f"({got.bytes_downloaded / 1e6:.1f} MB), {len(got.known)} already known")
                if got.failed:
                    stage.detail += "; " + "; ".join(t.reason for t in got.failed[:3])
                stage.result = got.to_dict()
        else:
            _stage(summary, "download").detail = "not asked (--no-download)"

        with _running(summary, "ingest") as stage:
            ingested = ingest(settings.ingest_dir, settings=settings, catalog=catalog, offline=offline,
                              progress=progress, lock=lock) if settings.ingest_dir.is_dir() else None
            if ingested is None:
                stage.status, stage.detail = "ok", f"{settings.ingest_dir} does not exist: nothing to ingest"
            else:
                stage.status = "failures" if ingested.failed else "ok"
                stage.done, stage.failed = len(ingested.ingested), len(ingested.failed)
                stage.detail = (f"{len(ingested.ingested)} ingested, {ingested.bad_count} bad, "
                                f"{len(ingested.failed)} failed, {len(ingested.composites)} composite(s)")
                stage.result = ingested.to_dict()

        with _running(summary, "stats") as stage:
            lock.ensure_held()
            outcomes = run_stats(catalog, settings, progress=progress)
            computed = sum(o.status == "computed" for o in outcomes)
            failed = [o for o in outcomes if o.status in ("failed", "missing")]
            stage.status = "failures" if failed else "ok"
            stage.done, stage.failed = computed, len(failed)
            stage.detail = f"{computed} computed, {len(outcomes) - computed - len(failed)} unchanged, " \
                           f"{len(failed)} failed"

        with _running(summary, "plot") as stage:
            lock.ensure_held()
            report = build_report(catalog, settings, progress=progress)
            stage.status = "failures" if report.failed else "ok"
            stage.done, stage.failed = len(report.figures_written), len(report.failed)
            stage.detail = f"{len(report.figures_written)} figure(s) made; report {report.index}"
            stage.result = {"index": str(report.index)}
    summary.wall_seconds = time.perf_counter() - started
    return summary


__all__ = ["StageOutcome", "UpdateSummary", "update"]
