"""The stages of an ingest, in order (:data:`STAGES`), each a function of the run's :class:`Run`.

=============  ===================================================================================
``sweep``      remove temporary files interrupted writes left in hstlc's folders
``recover``    finish the filing a killed run started (its journals), clear unjournalled staging
``discover``   find the datasets in the folder; read their catalog markers
``survey``     (workers) hash every file, run the quality checks, read the headers
``triage``     already ingested → left alone; bad → quarantined (filed into ``bad_data_dir``)
``resolve``    resolve the good datasets' target names (alias table, catalog, CDS Sesame)
``extract``    (workers) extract each good dataset and write its product; file it
``composites`` (workers) rebuild the composites whose membership changed; record them
=============  ===================================================================================

The main process runs the stages and is the only catalog writer; worker processes
(:mod:`hstlc.ingestion.work`) read, check and extract. Filing goes through the run's one
:class:`~hstlc.ingestion.filer.Filer`; what happened is recorded in the run's
:class:`~hstlc.ingestion.summary.IngestSummary`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from hstlc.catalog import Catalog
from hstlc.catalog import ingest_state as state
from hstlc.config import Settings
from hstlc.errors import HstlcError
from hstlc.ingestion.discovery import Candidate, discover
from hstlc.ingestion.filer import FaultHook, Filer
from hstlc.ingestion.plan import Extracted, FilingPlan, filing_plan, fingerprint, quarantine_plan
from hstlc.ingestion.recovery import clear_staging, finish_journals, sweep_temporaries
from hstlc.ingestion.summary import IngestSummary
from hstlc.ingestion.work import (
    CompositeJob,
    FileInfo,
    ProcessJob,
    ProcessResult,
    SurveyResult,
    already_ingested,
    build_composite,
    discovery_exclusions,
    filed_targname,
    process,
    staging_dir,
    survey_job,
    target_folder,
)

# Imported here, not when the names are resolved: between reading and extracting the workers would
# wait for the import (requests, the alias tables): 0.06–0.17 s of both cores idle.
from hstlc.resolver import ResolveProgress, Resolver, ResolverNotice
from hstlc.workers import Progress, ProgressCallback

if TYPE_CHECKING:
    from hstlc.extraction import MemberWindow

log = logging.getLogger(__name__)

J = TypeVar("J")
R = TypeVar("R")


class Pool(Protocol):
    """What the stages need of the worker pool (:class:`hstlc.workers.WorkerPool`)."""

    def run(self, fn: Callable[[J], R], jobs: Sequence[J], *,
            between: Callable[[], None] | None = None) -> Iterator[tuple[J, R]]: ...


@dataclass(frozen=True)
class Options:
    """How the user asked for the ingest."""

    recursive: bool = False
    offline: bool | None = None
    corrtag_extract: bool = False
    copy: bool = False
    cores: int = 1


@dataclass(frozen=True)
class _Record:
    """A dataset's catalog marker, detached from its session."""

    status: str
    files: list[Any] | None


@dataclass
class Run:
    """One ingest run: what it was asked, what it holds, and what it found so far (stage by stage)."""

    directory: Path
    settings: Settings
    catalog: Catalog
    lock: state.IngestLockHandle
    pool: Pool
    options: Options
    summary: IngestSummary
    progress: ProgressCallback | None = None
    fault: FaultHook | None = None
    filer: Filer = field(init=False)
    candidates: list[Candidate] = field(default_factory=list)
    records: dict[str, _Record] = field(default_factory=dict)
    surveyed: dict[str, tuple[Candidate, SurveyResult]] = field(default_factory=dict)
    good: list[tuple[Candidate, SurveyResult]] = field(default_factory=list)
    resolved: dict[str, str] = field(default_factory=dict)
    """Header target name → the name it is filed under."""
    windows: dict[str, MemberWindow] = field(default_factory=dict)
    """Filed primary path → its composite window (composites of this run's datasets skip a pass)."""

    def __post_init__(self) -> None:
        self.filer = Filer(self.settings, self.session, self.summary.add_failed, fault=self.fault)

    @contextmanager
    def session(self) -> Iterator[Any]:
        """One catalog transaction, timed, while the lock is still ours."""
        self.lock.ensure_held()
        started = time.perf_counter()
        try:
            with self.catalog.session() as session:
                yield session
        finally:
            self.summary.db_seconds += time.perf_counter() - started

    def report(self, phase: str, total: int, done: int, failed: int, item: str = "",
               message: str = "") -> None:
        if self.progress is not None:
            self.progress(Progress(phase, total, done, failed, item, message))

    def fail(self, rootname: str, reason: str, files: Sequence[FileInfo] = ()) -> None:
        """``rootname`` failed: left where it is, in the summary now and in the catalog with the next
        transaction."""
        log.error("%s: %s", rootname, reason)
        self.summary.add_failed(rootname, reason)
        self.filer.record_failure(rootname, reason, fingerprint(files) if files else None)

    def work(self, fn: Callable[[J], R], jobs: Sequence[J]) -> Iterator[tuple[J, R]]:
        """``(job, fn(job))`` as the workers finish them (the lock checked between jobs)."""
        return self.pool.run(fn, jobs, between=self.lock.ensure_held)


def _size(paths: Iterable[str | os.PathLike[str]]) -> int:
    """Bytes of the files that exist among ``paths`` (how long a job will take, roughly)."""
    total = 0
    for path in paths:
        with suppress(OSError):
            total += os.stat(path).st_size
    return total


def _replay(records: Iterable[tuple[str, int, str]]) -> None:
    """Write a worker's log records to this process's log."""
    for name, level, message in records:
        logging.getLogger(name).log(level, "%s", message)


# ------------------------------------------------------------------------------------------- stages


def sweep(run: Run) -> None:
    settings = run.settings
    folders = [settings.outputs_dir, settings.composite_dir, settings.filesystem_dir, settings.bad_data_dir]
    swept = sweep_temporaries([Path(f) for f in folders])
    if swept:
        log.info("removed %d temporary file(s) left by an interrupted run", swept)


def recover(run: Run) -> None:
    def finished(plan: FilingPlan) -> None:
        run.summary.add_recovered(plan.rootname)
        if plan.done_status == state.DONE:
            run.summary.add_ingested(plan.rootname)
        else:
            run.summary.add_bad(plan.rootname, plan.reasons)

    finish_journals(run.filer, run.session, finished, run.summary.add_failed)
    clear_staging(staging_dir(run.settings), run.session)


def discover_datasets(run: Run) -> None:
    found = discover(run.directory, recursive=run.options.recursive,
                     exclude=discovery_exclusions(run.settings))
    run.summary.skipped = list(found.skipped)
    run.candidates = list(found.candidates)
    log.info("%s: %d dataset(s) found, %d other file(s) skipped", run.directory, len(run.candidates),
             len(found.skipped))
    with run.session() as session:
        records = state.dataset_records(session, [c.rootname for c in run.candidates])
        run.records = {r: _Record(rec.status, rec.files) for r, rec in records.items()}


def survey(run: Run) -> None:
    total, failed = len(run.candidates), 0
    run.report("reading", total, 0, 0)
    jobs = [(c, run.settings) for c in run.candidates]
    for done, ((candidate, _), result) in enumerate(run.work(survey_job, jobs), start=1):
        _replay(result.logs)
        if result.error:
            run.fail(candidate.rootname, result.error)
            failed += 1
        else:
            run.surveyed[candidate.rootname] = (candidate, result)
        run.report("reading", total, done, failed, candidate.rootname)


def triage(run: Run) -> None:
    for rootname in sorted(run.surveyed):
        candidate, result = run.surveyed[rootname]
        record = run.records.get(rootname)
        if record is not None and already_ingested(record.status, record.files, result.files):
            log.info("%s: already ingested with the same files; left in %s", rootname, candidate.directory)
            run.summary.add_unchanged(rootname)
            continue
        if record is not None and record.status in (state.DONE, state.BAD):
            log.info("%s: changed since it was ingested; ingesting the new version", rootname)
        if result.reasons:
            _quarantine(run, candidate, result, record)
        else:
            run.good.append((candidate, result))
    run.filer.file_batch()


def _quarantine(run: Run, candidate: Candidate, result: SurveyResult, record: _Record | None) -> None:
    folder = Path(run.settings.bad_data_dir)
    try:
        plan = quarantine_plan(candidate.rootname, result.files, {p.name for p in candidate.event_files},
                               result.reasons, folder, record.files if record else None,
                               copy=run.options.copy)
    except HstlcError as exc:
        run.fail(candidate.rootname, str(exc), result.files)
        return
    log.info("%s: bad data (%s); moving it to %s", candidate.rootname, "; ".join(result.reasons), folder)
    run.filer.file(plan, lambda: run.summary.add_bad(candidate.rootname, result.reasons))


def _header_name(result: SurveyResult) -> str:
    return (result.observations[0].get("targname") or "").strip()


def resolve(run: Run) -> None:
    if not run.good:
        return
    distinct = sorted({_header_name(s) for _, s in run.good})
    started = time.perf_counter()
    done = 0

    def progress(update: ResolveProgress) -> None:
        nonlocal done
        done = update.done
        run.report("resolving", update.total, update.done, 0, update.name)

    def notice(event: ResolverNotice) -> None:
        run.report("resolving", len(distinct), done, 0, message=event.message)

    try:
        with Resolver(catalog=run.catalog, settings=run.settings, offline=run.options.offline,
                      notice=notice) as resolver:
            resolutions = resolver.resolve_many(distinct, progress=progress)
    finally:
        run.summary.resolve_seconds += time.perf_counter() - started
    for name in distinct:
        res = resolutions.get(name)
        run.resolved[name] = filed_targname(name, res.resolved if res is not None else None)
        if res is not None and res.resolved != name:
            log.info("target %r resolved to %r (%s)", name, res.resolved, res.method)


def extract(run: Run) -> None:
    total, failed = len(run.good), 0
    run.report("extracting", total, 0, 0)
    surveyed = {c.rootname: (c, s) for c, s in run.good}
    jobs = [ProcessJob(c, run.resolved.get(_header_name(s), "UNKNOWN"), run.settings,
                       run.options.corrtag_extract) for c, s in run.good]
    if run.options.cores > 1:  # longest first: no worker is left with a long exposure at the end
        jobs.sort(key=lambda job: -_size(job.candidate.event_files))
    for done, (job, outcome) in enumerate(run.work(process, jobs), start=1):
        candidate, result = surveyed[job.candidate.rootname]
        _replay(outcome.logs)
        if outcome.error:
            run.fail(candidate.rootname, outcome.error, result.files)
            ok = False
        else:
            ok = _file_good(run, candidate, result, outcome, job.targname)
        failed += 0 if ok else 1
        run.report("extracting", total, done, failed, candidate.rootname)
    run.filer.file_batch()


def _file_good(run: Run, candidate: Candidate, result: SurveyResult, outcome: ProcessResult,
               targname: str) -> bool:
    folder = target_folder(Path(run.settings.filesystem_dir), targname)
    record = run.records.get(candidate.rootname)
    # A corrtag beside its _tag was derived from it (by the user or another tool).
    beside_tag = None
    if candidate.corrtag is not None and candidate.tag is not None:
        beside_tag = candidate.corrtag.name
    extracted = Extracted(Path(outcome.product), outcome.derived, outcome.extraction_file, outcome.config)
    try:
        plan = filing_plan(candidate.rootname, result.files, result.observations, extracted, targname, folder,
                           record.files if record else None, copy=run.options.copy, tag_derived=beside_tag)
    except HstlcError as exc:
        run.fail(candidate.rootname, str(exc), result.files)
        return False
    primary = str(plan.marker["primary_path"])

    def committed() -> None:
        run.summary.add_ingested(candidate.rootname)
        if outcome.window is not None:
            run.windows[primary] = outcome.window

    run.filer.file(plan, committed)
    return True


def composites(run: Run) -> None:
    run.filer.flush()
    with run.session() as session:
        jobs: list[tuple[CompositeJob, list[str]]] = []
        for key, config in state.queued_composites(session):
            members = state.composite_members(session, key)
            if not members:
                state.dequeue_composite(session, key)
                log.info("composite %s has no members left; nothing to build", config)
                continue
            paths = tuple(m.primary_path for m in members)
            windows = {p: run.windows[p] for p in paths if p in run.windows}
            jobs.append((CompositeJob(key, tuple(config), paths, run.settings, windows),
                         [m.rootname for m in members]))
    if not jobs:
        return
    total, failed = len(jobs), 0
    run.report("composites", total, 0, 0)
    member_roots = {job.key: roots for job, roots in jobs}
    composite_jobs = [j for j, _ in jobs]
    if run.options.cores > 1:
        composite_jobs.sort(key=lambda job: -_size(job.member_files))
    for done, (job, outcome) in enumerate(run.work(build_composite, composite_jobs), start=1):
        _replay(outcome.logs)
        label = "composite " + "/".join(str(v) for v in job.config)
        if outcome.error:
            log.error("%s: %s", label, outcome.error)
            run.summary.add_failed(label, outcome.error)
            failed += 1
        else:
            path = Path(outcome.path)
            try:
                with run.session() as session:
                    state.record_composite(session, job.key, member_roots[job.key], path=str(path.parent),
                                           filename=path.name)
                run.summary.add_composite(path)
            except HstlcError as exc:
                run.summary.add_failed(label, str(exc))
                failed += 1
        run.report("composites", total, done, failed, label)


def finish(run: Run) -> None:
    """Commit what is still waiting (failures of the last stage)."""
    run.filer.flush()


Stage = Callable[[Run], None]

STAGES: tuple[tuple[str, Stage], ...] = (
    ("sweep", sweep),
    ("recover", recover),
    ("discover", discover_datasets),
    ("survey", survey),
    ("triage", triage),
    ("resolve", resolve),
    ("extract", extract),
    ("composites", composites),
    ("finish", finish),
)


__all__ = ["STAGES", "Options", "Pool", "Run"]
