"""``hstlc ingest``: discover → check → resolve → extract → file → record → composites.

``num_cores`` spawn-safe ``ProcessPoolExecutor`` worker processes read, check and extract (warmed up
while the main process recovers and discovers); with one core everything runs in order in the main
process. The main process hands out the work, files the results and is the only catalog writer.

Crash safety — every kill point is covered:

* products are written to a temporary name and renamed (``hstlc.products``); input files are moved
  with :func:`hstlc.filing.move_file` (rename, or verified copy; never an overwrite or a deletion of the
  only copy);
* before a dataset's files move, its *journal* — the planned moves and the catalog rows to write — is
  committed to ``datasets`` (status ``filing``/``quarantining``). Then the files move, then its catalog
  rows and its done-marker commit in ONE transaction. Datasets are filed in batches (up to
  :data:`FILING_BATCH`): one transaction journals a batch, the next commits its rows, each a handful
  of bulk statements, so the catalog costs ~2 % of an ingest's time. A run killed in between leaves
  the journal; the next run finishes it first (moves are idempotent: a file already at its destination
  with the planned sha256 counts as moved), so files moved to ``filesystem_dir`` but not yet recorded
  are recorded;
* a STIS corrtag derived from a ``_tag`` is written into ``filesystem_dir/.hstlc-staging/`` (never the
  input directory) and filed through the journal with the dataset's files; one a killed run staged but
  never journalled is removed by the next run, which derives the same bytes again. The catalog lists a
  dataset's files by name, so a resumed run records exactly what an uninterrupted one does;
* composites to rebuild are queued (``composite_queue``) in the same transaction as the members'
  done-markers and taken off the queue in the transaction that points ``outputs.composite_*`` at the
  written composite, so a kill between the two only means the composite is rebuilt next time;
* a second ingest on the same catalog is refused while one runs (the lock in
  :mod:`hstlc.catalog.ingest_state`).

A re-run changes nothing: ingested files have left the directory, and a file whose name and sha256 match
what a dataset's done-marker recorded is left alone and reported as already ingested. A changed file
(new sha256) is re-ingested: rows and products are updated, and the previous version of a filed file is
kept under ``<folder>/superseded/<sha256 prefix>/`` rather than overwritten.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hstlc.catalog import Catalog
from hstlc.catalog import ingest_state as state
from hstlc.config import Settings
from hstlc.errors import FilingError, HstlcError, InputFileError
from hstlc.filing import TEMP_PREFIX, apply_group, copy_file, move_file, sha256_of
from hstlc.pipeline_discovery import Candidate, SkippedFile, discover
from hstlc.pipeline_work import (
    CompositeJob,
    FileInfo,
    ProcessJob,
    ProcessResult,
    SurveyResult,
    already_ingested,
    build_composite,
    discovery_exclusions,
    file_mode,
    filed_targname,
    init_worker,
    process,
    recorded_shas,
    staging_dir,
    survey_job,
    target_folder,
    tune_allocator,
    warm_up,
)

# Imported here, not when the names are resolved: between reading and extracting the workers would
# wait for the import (requests, the alias tables): 0.06–0.17 s of both cores idle.
from hstlc.resolver import ResolveProgress, Resolver, ResolverNotice
from hstlc.safe_paths import safe_join
from hstlc.worker_server import worker_context, worker_environment

if TYPE_CHECKING:
    from hstlc.extraction import MemberWindow

log = logging.getLogger(__name__)

R = TypeVar("R")

SUPERSEDED = "superseded"
NAME_LENGTH = 255
"""Longest target name stored in the catalog (a longer, hostile header value is cut, with a warning)."""


def _bounded(rootname: str, value: Any) -> Any:
    if isinstance(value, str) and len(value) > NAME_LENGTH:
        log.warning("%s: target name of %d characters cut to %d for the catalog", rootname, len(value),
                    NAME_LENGTH)
        return value[:NAME_LENGTH]
    return value


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class ProgressUpdate:
    """A progress report: ``phase`` (``reading``, ``resolving``, ``extracting``, ``composites``), counts,
    last item, and ``message``: a run-level notice to show the user at once (e.g. that ingest is about to
    ask CDS Sesame, or has stopped asking it)."""

    phase: str
    total: int
    done: int
    failed: int
    item: str = ""
    message: str = ""


ProgressCallback = Callable[[ProgressUpdate], None]


@dataclass
class IngestSummary:
    """What an ingest run did."""

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


# ------------------------------------------------------------------------------------------ helpers


#: Datasets filed per batch, and the longest a finished dataset waits for its batch (seconds).
FILING_BATCH = 16
FILING_BATCH_SECONDS = 2.0


def _executor(cores: int) -> ProcessPoolExecutor | None:
    """``cores`` spawn-safe worker processes (None for one core: everything runs in order in the main
    process). They start and warm up (import the readers and the extraction engine) at once, while
    the main process recovers, discovers and reads the catalog; the main process only hands out work,
    files the results and writes the catalog.

    Starting a worker blocks until the fork server has imported its modules (about a
    second), so the workers are started from a short-lived thread (:func:`_start_workers`): the main
    process goes on meanwhile, and works through items itself until they are up (see _unordered).
    """
    if cores <= 1:
        return None
    pool = ProcessPoolExecutor(max_workers=cores, mp_context=worker_context(), initializer=init_worker)
    pool.hstlc_warming = []  # type: ignore[attr-defined]
    pool.hstlc_started = threading.Event()  # type: ignore[attr-defined]
    starter = threading.Thread(target=_start_workers, args=(pool, cores), name="hstlc-start-workers",
                               daemon=True)
    pool.hstlc_starter = starter  # type: ignore[attr-defined]
    starter.start()
    return pool


def _start_workers(pool: ProcessPoolExecutor, cores: int) -> None:
    """Start ``pool``'s ``cores`` processes (each submit starts one while none is idle) and warm them up."""
    try:
        with worker_environment():  # also seen by this process meanwhile: harmless
            for _ in range(cores):
                pool.hstlc_warming.append(pool.submit(warm_up))  # type: ignore[attr-defined]
    except Exception as exc:  # the main process's next submit reports a broken pool
        log.debug("starting the worker processes failed: %s", exc)
    finally:
        pool.hstlc_started.set()  # type: ignore[attr-defined]


def _stop(pool: ProcessPoolExecutor) -> None:
    starter = getattr(pool, "hstlc_starter", None)
    if starter is not None:
        starter.join()
    pool.shutdown(wait=True, cancel_futures=True)


def _unordered(
    executor: ProcessPoolExecutor | None,
    fn: Callable[[Any], R],
    items: Sequence[Any],
    lock: state.IngestLockHandle,
    *,
    workers: int = 1,
) -> Iterator[tuple[Any, R]]:
    """``(item, fn(item))`` as each finishes (without an executor: here, in order).

    Each worker gets at most one item beyond the one it runs, so the last items are not stuck in a
    busy worker's queue while another is idle. While the workers are still starting (importing), the
    main process, already warm, takes items itself.
    """
    queue = deque(items)
    if executor is None:
        while queue:
            lock.ensure_held()
            item = queue.popleft()
            yield item, fn(item)
        return
    depth = max(1, workers) + 1
    futures: dict[Future[R], Any] = {}
    order: dict[Future[R], int] = {}
    counter = 0

    def top_up() -> None:
        nonlocal counter
        while queue and len(futures) < depth:
            item = queue.popleft()
            future = executor.submit(fn, item)
            futures[future] = item
            order[future] = counter
            counter += 1

    started: threading.Event | None = getattr(executor, "hstlc_started", None)
    while started is not None and not started.is_set() and queue:
        # The workers are still being started (a submit would wait for them): do items here meanwhile.
        lock.ensure_held()
        item = queue.popleft()
        yield item, fn(item)
    warming: list[Future[Any]] = list(getattr(executor, "hstlc_warming", []))
    top_up()
    while futures or queue:
        lock.ensure_held()
        warming = [f for f in warming if not f.done()]
        finished = sorted((f for f in futures if f.done()), key=order.__getitem__)
        if not finished and warming and queue:
            item = queue.popleft()  # the workers are still starting: do one here meanwhile
            yield item, fn(item)
            continue
        if not finished:
            done, _ = wait(list(futures), timeout=5.0, return_when=FIRST_COMPLETED)
            finished = sorted(done, key=order.__getitem__)
        for future in finished:
            item = futures.pop(future)
            order.pop(future)
            top_up()
            yield item, future.result()


def _size(paths: Iterable[str | os.PathLike[str]]) -> int:
    """Bytes of the files that exist among ``paths`` (how long a job will take, roughly)."""
    total = 0
    for path in paths:
        with suppress(OSError):
            total += os.stat(path).st_size
    return total


def _log_path() -> Path | None:
    for handler in logging.getLogger("hstlc").handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def _replay(records: Iterable[tuple[str, int, str]]) -> None:
    for name, level, message in records:
        logging.getLogger(name).log(level, "%s", message)


def fingerprint(files: Iterable[FileInfo]) -> str:
    """sha256 over the sorted ``name:sha256`` of a dataset's input files."""
    text = "\n".join(sorted(f"{f.name}:{f.sha256}" for f in files if f.role == "input"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _superseded_dir(folder: Path, sha: str) -> Path:
    return safe_join(folder, SUPERSEDED, sha[:16])


#: Temporary names of products written by hstlc before every write went through
#: :func:`hstlc.filing.write_atomically` (``.<name>.<12 hex>.tmp``). Nothing writes them any more; the
#: sweeper still removes them so that files left by a run of an older version that was killed go too.
_LEGACY_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")


def _is_our_temporary(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) or _LEGACY_TEMPORARY.fullmatch(name) is not None


def sweep_temporaries(folders: Iterable[Path], *, depth: int = 2) -> int:
    """Remove temporary files our own interrupted writes left (``TEMP_PREFIX``, i.e. ``.hstlc-tmp-*``;
    also the ``.<name>.<hex>.tmp`` of older versions).

    Only runs under the ingest lock, in hstlc's own folders, and only on names no user file has.
    """
    removed = 0

    def visit(folder: Path, level: int) -> None:
        nonlocal removed
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if level < depth:
                    visit(Path(entry.path), level + 1)
                continue
            if _is_our_temporary(entry.name) and entry.is_file(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                    removed += 1
                    log.debug("removed a stale temporary file %s", entry.path)
                except OSError:
                    pass

    for folder in folders:
        if folder.is_dir():
            visit(folder, 1)
    return removed


# ----------------------------------------------------------------------------------------- the run


class _Run:
    def __init__(
        self,
        directory: Path,
        *,
        settings: Settings,
        catalog: Catalog,
        recursive: bool,
        offline: bool | None,
        corrtag_extract: bool,
        cores: int,
        progress: ProgressCallback | None,
        lock: state.IngestLockHandle,
        copy: bool = False,
    ) -> None:
        self.directory = directory
        self.settings = settings
        self.catalog = catalog
        self.recursive = recursive
        self.offline = offline
        self.corrtag_extract = corrtag_extract
        self.copy = copy
        self.cores = cores
        self.progress = progress
        self.lock = lock
        self.summary = IngestSummary(directory=directory, cores=cores, log_path=_log_path())
        self._pending: list[tuple[str, dict[str, Any], Callable[[], None]]] = []
        self._batch: list[tuple[str, str, list[dict[str, Any]], dict[str, Any], Callable[[], None]]] = []
        self._batch_started = 0.0
        self._windows: dict[str, MemberWindow] = {}  # filed primary path → window (composites skip a pass)

    # --- catalog access, timed ---------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Any]:
        self.lock.ensure_held()
        started = time.perf_counter()
        try:
            with self.catalog.session() as session:
                yield session
        finally:
            self.summary.db_seconds += time.perf_counter() - started

    def _report(self, phase: str, total: int, done: int, failed: int, item: str = "",
                message: str = "") -> None:
        if self.progress is not None:
            self.progress(ProgressUpdate(phase, total, done, failed, item, message))

    def _fail(self, rootname: str, reason: str, files: Sequence[FileInfo] = ()) -> None:
        log.error("%s: %s", rootname, reason)
        self.summary.failed[rootname] = reason
        digest = fingerprint(files) if files else None
        if not self._flush(lambda s: state.record_failure(s, rootname, reason, fingerprint=digest)):
            log.error("%s: could not record the failure in the catalog", rootname)

    def _flush(self, then: Callable[[Any], None] | None = None) -> bool:
        """Commit the datasets whose files are in place (rows + done-marker), and ``then``, in ONE
        transaction (group commit: the rows of one batch with the journal of the next).

        A dataset waiting here has its journal committed, so a kill before this commit only means the
        next run finishes it. On a catalog error the waiting datasets are reported as failed (their
        journals stay) and False is returned.
        """
        waiting, self._pending = self._pending, []
        if not waiting and then is None:
            return True
        try:
            with self.session() as session:
                state.commit_datasets(session, [(rootname, plan) for rootname, plan, _ in waiting])
                if then is not None:
                    then(session)
        except HstlcError as exc:
            for rootname, _, _ in waiting:
                self.summary.failed[rootname] = f"{exc} (filing journal kept; re-run ingest to finish)"
                log.error("%s: %s", rootname, exc)
            return False
        for _, _, committed in waiting:
            committed()
        return True

    # --- moves ---------------------------------------------------------------------------------------

    def _move(self, move: dict[str, Any], *, verify: bool) -> None:
        """Carry out one planned move; idempotent (a completed move is recognised by its sha256)."""
        src, dest_dir, name, sha = Path(move["src"]), Path(move["dest_dir"]), move["name"], move["sha256"]
        dest = dest_dir / name
        group, mode = self.settings.file_group, self.settings.file_mode
        copy = bool(move.get("copy"))  # ingest --copy: the user's file stays where it is
        if dest.exists() and src.absolute() != dest.absolute():
            same_inode = src.exists() and os.path.samefile(src, dest)
            if same_inode or sha256_of(dest) == sha:
                if not copy and src.exists() and (same_inode or sha256_of(src) == sha):
                    move_file(src, dest_dir, group=group, dir_mode=mode)  # identical: drops the source
                return
        if not src.exists():
            raise FilingError(f"{name}: neither at {src} nor (with sha256 {sha[:12]}…) at {dest}")
        if verify and sha256_of(src) != sha:
            verb = "copy" if copy else "move"
            raise FilingError(f"{src}: changed since the interrupted run planned to {verb} it; left in place")
        moved = (copy_file if copy else move_file)(src, dest_dir, group=group, dir_mode=mode)
        try:
            os.chmod(moved, file_mode(self.settings))
        except OSError as exc:
            log.warning("%s: cannot set mode (%s)", moved, exc.strerror or exc)
        apply_group(moved, group)

    def _plan_moves(
        self, files: Sequence[FileInfo], folder: Path, record: Any
    ) -> list[dict[str, Any]]:
        """The moves that file ``files`` into ``folder``, superseding our own older versions first.

        Raises :class:`FilingError` (before anything moves) if a different, unknown file is in the way.
        """
        recorded = recorded_shas(record.files if record is not None else None)
        moves: list[dict[str, Any]] = []
        for info in files:
            dest = folder / info.name
            if dest.exists():
                present = sha256_of(dest)
                if present == info.sha256:
                    pass  # identical: move_file drops the source
                elif recorded.get(info.name) == present:
                    moves.append({"src": str(dest), "dest_dir": str(_superseded_dir(folder, present)),
                                  "name": info.name, "sha256": present})
                else:
                    raise FilingError(
                        f"{info.name}: a different file already exists at {dest}; not overwritten "
                        "(move it away and ingest again)"
                    )
            moves.append({"src": info.path, "dest_dir": str(folder), "name": info.name,
                          "sha256": info.sha256, **self._copying(info)})
        return moves

    def _copying(self, info: FileInfo) -> dict[str, bool]:
        """``{"copy": True}`` for a user's file under ``--copy`` (derived files are ours: moved)."""
        return {"copy": True} if self.copy and info.role == "input" else {}

    def _file_and_commit(self, rootname: str, status: str, moves: list[dict[str, Any]],
                         rows: dict[str, Any], committed: Callable[[], None]) -> None:
        """File a dataset: journal, move, then its rows with the done-marker at the next group commit.

        Datasets are filed in batches of up to :data:`FILING_BATCH` (or what arrived within
        :data:`FILING_BATCH_SECONDS`): one transaction journals the batch, its files move, and the
        next transaction commits their rows — two catalog transactions per batch, not per dataset.
        ``committed`` runs once the rows are committed; a failure is recorded in the summary.
        """
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append((rootname, status, moves, rows, committed))
        if len(self._batch) >= FILING_BATCH or time.monotonic() - self._batch_started >= FILING_BATCH_SECONDS:
            self._file_batch()

    def _file_batch(self) -> None:
        """Journal the waiting batch in one transaction, then carry out its moves (see _file_and_commit)."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        plans: list[tuple[str, str, dict[str, Any]]] = [
            (root, status, {"moves": moves, "rows": rows}) for root, status, moves, rows, _ in batch]
        if not self._flush(lambda session: state.write_journals(session, plans)):
            for rootname, *_ in batch:
                self.summary.failed.setdefault(rootname, "could not write its filing journal to the catalog")
            return
        for (rootname, _, plan), (*_, committed) in zip(plans, batch, strict=True):
            try:
                for move in plan["moves"]:
                    self._move(move, verify=False)
            except (HstlcError, OSError) as exc:
                # The journal stays: the next run finishes the moves (or reports the problem again).
                self.summary.failed[rootname] = f"{exc} (filing journal kept; re-run ingest to finish)"
                log.error("%s: %s", rootname, exc)
                continue
            self._pending.append((rootname, plan, committed))

    # --- phases ----------------------------------------------------------------------------------------

    def recover(self) -> None:
        with self.session() as session:
            pending = [(j.rootname, j.status, j.plan) for j in state.journals(session)]
        for rootname, status, plan in pending:
            if not plan:
                continue
            log.info("%s: finishing the %s an interrupted run started", rootname, status)
            try:
                for move in plan.get("moves", []):
                    self._move(move, verify=True)
                with self.session() as session:
                    state.commit_dataset(session, rootname, plan)
            except (HstlcError, OSError) as exc:
                self.summary.failed[rootname] = f"{exc} (interrupted {status} could not be finished)"
                log.error("%s: %s", rootname, exc)
                continue
            self.summary.recovered.append(rootname)
            marker = plan["rows"]["dataset"]
            if marker["status"] == state.DONE:
                self.summary.ingested.append(rootname)
            else:
                for bad in plan["rows"].get("bad_data", [])[:1]:
                    for reason in bad["reasons"]:
                        self.summary.bad.setdefault(reason, []).append(rootname)

    def _clear_staging(self) -> None:
        """Remove derived files a killed run staged but never journalled (the next extraction writes them
        again); a file a journal still names (its recovery failed above) stays."""
        folder = staging_dir(self.settings)
        if not folder.is_dir():
            return
        with self.session() as session:
            named = {Path(m["src"]) for j in state.journals(session) for m in (j.plan or {}).get("moves", [])}
        for path in folder.iterdir():
            if path.is_file() and not path.is_symlink() and path not in named:
                with suppress(OSError):
                    path.unlink()
                    log.debug("removed %s, staged by an interrupted run", path)

    def run(self) -> IngestSummary:
        executor = _executor(self.cores)  # workers warm up while this process recovers and discovers
        try:
            return self._run(executor)
        finally:
            if executor is not None:
                _stop(executor)

    def _run(self, executor: ProcessPoolExecutor | None) -> IngestSummary:
        settings = self.settings
        folders = [settings.outputs_dir, settings.composite_dir, settings.filesystem_dir,
                   settings.bad_data_dir]
        swept = sweep_temporaries([Path(f) for f in folders if f is not None])
        if swept:
            log.info("removed %d temporary file(s) left by an interrupted run", swept)
        self.recover()
        self._clear_staging()

        found = discover(self.directory, recursive=self.recursive, exclude=discovery_exclusions(settings))
        self.summary.skipped = list(found.skipped)
        candidates = list(found.candidates)
        log.info("%s: %d dataset(s) found, %d other file(s) skipped", self.directory, len(candidates),
                 len(found.skipped))
        with self.session() as session:
            records = state.dataset_records(session, [c.rootname for c in candidates])
            # Detach what we need (sessions close at the end of the block).
            recorded = {r: _Record(rec.status, rec.files)
                        for r, rec in records.items()}

        good = self._read_and_check(executor, candidates, recorded)
        self._extract_and_file(executor, good, recorded)
        self._composites(executor)
        return self.summary

    def _read_and_check(
        self, executor: ProcessPoolExecutor | None, candidates: list[Candidate], recorded: dict[str, _Record]
    ) -> list[tuple[Candidate, SurveyResult]]:
        total, failed = len(candidates), 0
        self._report("reading", total, 0, 0)
        results: dict[str, tuple[Candidate, SurveyResult]] = {}
        jobs = [(c, self.settings) for c in candidates]
        for done, ((candidate, _), result) in enumerate(
            _unordered(executor, survey_job, jobs, self.lock, workers=self.cores), start=1
        ):
            _replay(result.logs)
            if result.error:
                self._fail(candidate.rootname, result.error)
                failed += 1
            else:
                results[candidate.rootname] = (candidate, result)
            self._report("reading", total, done, failed, candidate.rootname)

        good: list[tuple[Candidate, SurveyResult]] = []
        for rootname in sorted(results):
            candidate, result = results[rootname]
            record = recorded.get(rootname)
            if record is not None and already_ingested(record.status, record.files, result.files):
                log.info("%s: already ingested with the same files; left in %s", rootname,
                         candidate.directory)
                self.summary.unchanged.append(rootname)
                continue
            if record is not None and record.status in (state.DONE, state.BAD):
                log.info("%s: changed since it was ingested; ingesting the new version", rootname)
            if result.reasons:
                self._quarantine(candidate, result, record)
            else:
                good.append((candidate, result))
        self._file_batch()
        return good

    def _quarantine(self, candidate: Candidate, result: SurveyResult, record: _Record | None) -> None:
        folder = Path(self.settings.bad_data_dir)
        try:
            moves = self._plan_moves(result.files, folder, record)
        except HstlcError as exc:
            self._fail(candidate.rootname, str(exc), result.files)
            return
        event_names = {p.name for p in candidate.event_files}
        files = [{"name": f.name, "sha256": f.sha256, "role": f.role, "location": str(folder)}
                 for f in sorted(result.files, key=lambda f: f.name)]
        rows = {
            "bad_data": [
                {"filename": f.name, "reasons": list(result.reasons), "path": str(folder), "sha256": f.sha256}
                for f in result.files
                if f.name in event_names
            ],
            "dataset": {"status": state.BAD, "fingerprint": fingerprint(result.files), "files": files},
        }
        log.info("%s: bad data (%s); moving it to %s", candidate.rootname, "; ".join(result.reasons),
                    folder)
        def committed() -> None:
            for reason in result.reasons:
                self.summary.bad.setdefault(reason, []).append(candidate.rootname)

        self._file_and_commit(candidate.rootname, state.QUARANTINING, moves, rows, committed)

    def _resolve(self, names: Iterable[str]) -> dict[str, str]:
        distinct = sorted({n for n in names})
        started = time.perf_counter()
        progress = _ResolveProgress(self, len(distinct))

        def notice(event: ResolverNotice) -> None:
            self._report("resolving", len(distinct), progress.done, 0, message=event.message)

        try:
            with Resolver(catalog=self.catalog, settings=self.settings, offline=self.offline,
                          notice=notice) as resolver:
                resolutions = resolver.resolve_many(distinct, progress=progress)
        finally:
            self.summary.resolve_seconds += time.perf_counter() - started
        resolved = {}
        for name in distinct:
            res = resolutions.get(name)
            resolved[name] = filed_targname(name, res.resolved if res is not None else None)
            if res is not None and res.resolved != name:
                log.info("target %r resolved to %r (%s)", name, res.resolved, res.method)
        return resolved

    def _extract_and_file(
        self,
        executor: ProcessPoolExecutor | None,
        good: list[tuple[Candidate, SurveyResult]],
        recorded: dict[str, _Record],
    ) -> None:
        names = {c.rootname: (s.observations[0].get("targname") or "").strip() for c, s in good}
        resolved = self._resolve(names.values()) if good else {}
        total, failed = len(good), 0
        self._report("extracting", total, 0, 0)
        surveyed = {c.rootname: (c, s) for c, s in good}
        jobs = [
            ProcessJob(c, resolved.get(names[c.rootname], "UNKNOWN"), self.settings, self.corrtag_extract)
            for c, _ in good
        ]
        if self.cores > 1:  # longest first: no worker is left with a long exposure at the end
            jobs.sort(key=lambda job: -_size(job.candidate.event_files))
        work = _unordered(executor, process, jobs, self.lock, workers=self.cores)
        for done, (job, outcome) in enumerate(work, start=1):
            candidate, result = surveyed[job.candidate.rootname]
            targname = job.targname
            _replay(outcome.logs)
            if outcome.error:
                self._fail(candidate.rootname, outcome.error, result.files)
                ok = False
            else:
                ok = self._file_good(candidate, result, outcome, targname, recorded.get(candidate.rootname))
            failed += 0 if ok else 1
            self._report("extracting", total, done, failed, candidate.rootname)
        self._file_batch()

    def _file_good(self, candidate: Candidate, result: SurveyResult, outcome: ProcessResult, targname: str,
                   record: _Record | None) -> bool:
        settings = self.settings
        folder = target_folder(Path(settings.filesystem_dir), targname)
        derived = {f.name for f in outcome.derived}
        # A corrtag re-derived (--corrtag-extract) replaces the one given: that one is kept in superseded/.
        replaced = [f for f in result.files if f.name in derived]
        files = [f for f in result.files if f.name not in derived] + list(outcome.derived)
        if candidate.corrtag is not None and candidate.tag is not None and not outcome.derived:
            # A corrtag beside its _tag was derived from it (by the user or another tool).
            files = [replace(f, role="derived") if f.name == candidate.corrtag.name else f for f in files]
        files.sort(key=lambda f: f.name)  # the catalog records them in one order, whatever the run did
        try:
            moves = [{"src": f.path, "dest_dir": str(_superseded_dir(folder, f.sha256)), "name": f.name,
                      "sha256": f.sha256, **self._copying(f)} for f in replaced]
            moves += self._plan_moves(files, folder, record)
        except HstlcError as exc:
            self._fail(candidate.rootname, str(exc), result.files)
            return False
        product = Path(outcome.product)
        metadata = []
        shas = {f.name: f.sha256 for f in files}
        for obs in result.observations:
            values = dict(obs)
            values["targname_orig"] = _bounded(candidate.rootname, values.get("targname"))
            values["targname"] = _bounded(candidate.rootname, targname)
            values["path"] = str(folder)
            values["sha256"] = shas.get(values["filename"])
            values["outputs"] = {"individual_path": str(product.parent), "individual_filename": product.name}
            metadata.append(values)
        marker = {
            "status": state.DONE,
            "fingerprint": fingerprint(files),
            "files": [{"name": f.name, "sha256": f.sha256, "role": f.role, "location": str(folder)}
                      for f in files],
            "primary_path": str(folder / outcome.extraction_file),
            "targname": _bounded(candidate.rootname, targname),
            "config": list(outcome.config),
        }
        rows = {"metadata": metadata, "dataset": marker}

        def committed() -> None:
            self.summary.ingested.append(candidate.rootname)
            if outcome.window is not None:
                self._windows[marker["primary_path"]] = outcome.window

        self._file_and_commit(candidate.rootname, state.FILING, moves, rows, committed)
        return True

    def _composites(self, executor: ProcessPoolExecutor | None) -> None:
        self._flush()
        with self.session() as session:
            queued = state.queued_composites(session)
            jobs: list[tuple[CompositeJob, list[str]]] = []
            for key, config in queued:
                members = state.composite_members(session, key)
                if not members:
                    state.dequeue_composite(session, key)
                    log.info("composite %s has no members left; nothing to build", config)
                    continue
                paths = tuple(m.primary_path for m in members)
                windows = {p: self._windows[p] for p in paths if p in self._windows}
                jobs.append((CompositeJob(key, tuple(config), paths, self.settings, windows),
                             [m.rootname for m in members]))
        total, failed = len(jobs), 0
        if not jobs:
            return
        self._report("composites", total, 0, 0)
        member_roots = {job.key: roots for job, roots in jobs}
        composite_jobs = [j for j, _ in jobs]
        if self.cores > 1:
            composite_jobs.sort(key=lambda job: -_size(job.member_files))
        for done, (job, outcome) in enumerate(
            _unordered(executor, build_composite, composite_jobs, self.lock, workers=self.cores), start=1
        ):
            roots = member_roots[job.key]
            _replay(outcome.logs)
            label = "composite " + "/".join(str(v) for v in job.config)
            if outcome.error:
                log.error("%s: %s", label, outcome.error)
                self.summary.failed[label] = outcome.error
                failed += 1
            else:
                path = Path(outcome.path)
                try:
                    with self.session() as session:
                        state.record_composite(session, job.key, roots, path=str(path.parent),
                                               filename=path.name)
                    self.summary.composites.append(path)
                except HstlcError as exc:
                    self.summary.failed[label] = str(exc)
                    failed += 1
            self._report("composites", total, done, failed, label)


class _ResolveProgress:
    """The resolver's per-name callback as ingest progress (phase ``resolving``)."""

    def __init__(self, run: _Run, total: int) -> None:
        self.run, self.total, self.done = run, total, 0

    def __call__(self, update: ResolveProgress) -> None:
        self.done = update.done
        self.run._report("resolving", update.total, update.done, 0, update.name)


@dataclass(frozen=True)
class _Record:
    status: str
    files: list[Any] | None


# -------------------------------------------------------------------------------------- public API


def ingest(
    directory: str | os.PathLike[str],
    *,
    settings: Settings,
    catalog: Catalog,
    recursive: bool = False,
    offline: bool | None = None,
    corrtag_extract: bool = False,
    cores: int | None = None,
    progress: ProgressCallback | None = None,
    copy: bool = False,
) -> IngestSummary:
    """Ingest every dataset in ``directory`` into ``catalog`` (see the module docstring).

    ``copy``: file verified copies and leave the user's files where they are (a re-run then finds them
    already ingested and leaves them alone); by default they are moved, as the original pipeline did.

    Raises :class:`~hstlc.errors.HstlcError` for problems that stop the whole run (missing folder,
    catalog not initialised, another ingest running); a dataset's own problem is recorded in the
    summary (``failed``) and the run goes on. Sets this process's glibc allocator to keep freed
    buffers for reuse (:func:`hstlc.pipeline_work.tune_allocator`), as it does in the workers.
    """
    started = time.perf_counter()
    folder = Path(directory).expanduser().absolute()
    # The same errors as discover(): a missing folder is a problem with the user's input, not filing.
    if not folder.exists():
        raise InputFileError(folder, "folder not found")
    if not folder.is_dir():
        raise InputFileError(folder, "not a folder (give the folder that holds the event files)")
    n_cores = max(1, int(cores if cores is not None else settings.num_cores))
    tune_allocator()  # this process extracts too (everything with one core; the first items otherwise)
    db_started = time.perf_counter()
    created = catalog.init_schema()  # a first ingest on a laptop needs no separate 'hstlc db init'
    if created:
        log.info("created the catalog tables %s in %s", ", ".join(created), catalog.url)
    db_seconds = time.perf_counter() - db_started
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:2000]
    with state.IngestLockHandle.acquire(catalog, command=command) as lock:
        log.info("ingest of %s into %s with %d core(s) on %s (pid %d)", folder, catalog.url, n_cores,
                 socket.gethostname(), os.getpid())
        run = _Run(folder, settings=settings, catalog=catalog, recursive=recursive, offline=offline,
                   corrtag_extract=corrtag_extract, cores=n_cores, progress=progress, lock=lock, copy=copy)
        summary = run.run()
    summary.db_seconds += db_seconds
    summary.wall_seconds = time.perf_counter() - started
    log.info(
        "ingest done: %d ingested, %d bad, %d failed, %d unchanged, %d skipped file(s), %d composite(s) "
        "in %.1f s (catalog %.2f s)",
        len(summary.ingested), summary.bad_count, len(summary.failed), len(summary.unchanged),
        len(summary.skipped), len(summary.composites), summary.wall_seconds, summary.db_seconds,
    )
    return summary


__all__ = [
    "IngestSummary",
    "ProgressCallback",
    "ProgressUpdate",
    "fingerprint",
    "ingest",
    "sweep_temporaries",
]
