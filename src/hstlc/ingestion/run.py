""":func:`ingest`: take the lock, start the workers, run the :data:`~hstlc.ingestion.stages.STAGES`."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

from hstlc.catalog import Catalog
from hstlc.catalog import ingest_state as state
from hstlc.cluster import DaskPool
from hstlc.config import Settings
from hstlc.errors import InputFileError
from hstlc.filing import ensure_dir
from hstlc.ingestion.filer import FaultHook
from hstlc.ingestion.stages import STAGES, Options, Run
from hstlc.ingestion.summary import IngestSummary
from hstlc.ingestion.work import init_cluster_worker, init_worker, tune_allocator, warm_up
from hstlc.workers import Progress, ProgressCallback, WorkerPool

log = logging.getLogger(__name__)


def _log_path() -> Path | None:
    for handler in logging.getLogger("hstlc").handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def _pool(settings: Settings, cores: int, folder: Path, progress: ProgressCallback | None
          ) -> WorkerPool | DaskPool:
    """The workers: ``cores`` local processes, or the Dask cluster of ``settings.scheduler_address``, whose
    workers must see the input folder, hstlc's folders and the reference files (checked here)."""
    if not settings.scheduler_address:
        return WorkerPool(cores, initializer=init_worker, warm_up=warm_up)
    made = [settings.filesystem_dir, settings.outputs_dir, settings.composite_dir]
    for path in made:
        ensure_dir(path, group=settings.file_group, dir_mode=settings.file_mode)
    refs = [p for p in (settings.lref_dir, settings.oref_dir) if p is not None and p.is_dir()]
    pool = DaskPool(settings.scheduler_address, initializer=init_cluster_worker,
                    shared=[folder, *made, *refs])
    if progress is not None:
        progress(Progress("dask", 0, 0, message=pool.notice))
    return pool


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
    fault: FaultHook | None = None,
    lock: state.IngestLockHandle | None = None,
) -> IngestSummary:
    """Ingest every dataset in ``directory`` into ``catalog`` (see :mod:`hstlc.ingestion`).

    ``copy``: file verified copies and leave the user's files where they are (a re-run then finds them
    already ingested and leaves them alone); by default they are moved, as the original pipeline did.
    ``fault``: a :data:`~hstlc.ingestion.filer.FaultHook` called before each filing step (for tests
    and fault-injection campaigns). ``lock``: the ingest lock, when the caller already holds it for a
    longer run (``hstlc run``); by default the ingest takes and releases it.

    Raises :class:`~hstlc.errors.HstlcError` for problems that stop the whole run (missing folder,
    catalog not initialised, another ingest running); a dataset's own problem is recorded in the
    summary (``failed``) and the run goes on. Sets this process's glibc allocator to keep freed
    buffers for reuse (:func:`hstlc.ingestion.work.tune_allocator`), as it does in the workers.
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
    options = Options(recursive=recursive, offline=offline, corrtag_extract=corrtag_extract, copy=copy,
                      cores=n_cores)
    summary = IngestSummary(directory=folder, cores=n_cores, log_path=_log_path())
    held = nullcontext(lock) if lock is not None else state.IngestLockHandle.acquire(catalog, command=command)
    with held as lock:
        log.info("ingest of %s into %s with %d core(s) on %s (pid %d)", folder, catalog.url, n_cores,
                 socket.gethostname(), os.getpid())
        # The workers start and warm up while this process sweeps, recovers and discovers.
        with _pool(settings, n_cores, folder, progress) as pool:
            if isinstance(pool, DaskPool):
                options = replace(options, cores=pool.workers)
                summary.cores = pool.workers
            run = Run(folder, settings, catalog, lock, pool, options, summary, progress=progress, fault=fault)
            for name, stage in STAGES:
                log.debug("ingest stage %s", name)
                stage(run)
    summary.db_seconds += db_seconds
    summary.wall_seconds = time.perf_counter() - started
    log.info(
        "ingest done: %d ingested, %d bad, %d failed, %d unchanged, %d skipped file(s), %d composite(s) "
        "in %.1f s (catalog %.2f s)",
        len(summary.ingested), summary.bad_count, len(summary.failed), len(summary.unchanged),
        len(summary.skipped), len(summary.composites), summary.wall_seconds, summary.db_seconds,
    )
    return summary


__all__ = ["ingest"]
