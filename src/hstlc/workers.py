"""The tool's one pool of worker processes (ingest, ``hstlc stats``, ``hstlc plot``) and one progress type.

:class:`WorkerPool` runs a module-level function over jobs in ``cores`` worker processes (none for one
core: the jobs then run here, in order); :func:`run_jobs` opens one for a single batch of jobs.
:class:`Progress` is what every long command reports after each item.

Where the processes come from: a fork server (:func:`worker_context`) that imports the work's modules
once and forks each worker from itself; ``spawn`` where there is no fork server. Never plain ``fork``:
the parent holds catalog connections and runs threads (the ingest lock's heartbeat, the starter below, a
progress bar), and a forked copy of a threaded process can deadlock on a lock another thread held.

Standard library only, so that ``hstlc ingest`` can start the server (:func:`start_worker_server`)
before it imports the pipeline itself: the server's imports (about a second of CPU: astropy, numpy)
then run beside the command's own instead of after them.

**The fork server's preload is fixed when it starts** (one server per process, serving every pool the
process makes later). Every server imports :data:`WORKER_MODULES` (what the ingest's workers need); a
caller that starts it adds its own modules with ``preload=`` (:data:`STATS_MODULES`,
:data:`REPORT_MODULES`). They are not all preloaded always, because that costs the ingest: with
:data:`REPORT_MODULES` added, the server imports matplotlib, the statistics and the catalog layer too
(1.4–1.5 s more CPU), and the first worker of a 2-core ingest was ready about 1.2 s later (median of
six runs each: 1.4 s → 2.7 s, from starting the server to the first warm-up done). A pool made after the
server started gets its own modules imported by each worker instead (when it unpickles the first job),
which is only slower, never wrong.

**Threads in the server.** ``hstlc stats`` used ``spawn`` because the FFT and BLAS backends start
threads, and forking a threaded process is unsafe. The fork server forks from itself, not from the
command's process, so only threads its own preloads start matter: numpy's and scipy's OpenBLAS start
their thread pools at import (two extra threads on 2 cores, measured) unless ``OPENBLAS_NUM_THREADS``
is 1. The server is always started under :data:`WORKER_THREAD_LIMITS` (by :func:`start_worker_server`
or by a pool's starter thread), and then has only its main thread after importing every module of
:data:`WORKER_MODULES`, :data:`STATS_MODULES` and :data:`REPORT_MODULES` (``/proc/<pid>/task``; tested),
so its forks are safe. The limits are also set in each worker by its initializer, in case a worker is
started later from another thread (with ``spawn``, the environment is the starting thread's).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.context
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)

J = TypeVar("J")
R = TypeVar("R")

#: Thread pools of numerical libraries in worker processes: one thread each, since the workers already
#: use every core (BLAS/OpenMP threads of several processes spinning on the same cores made each
#: extraction three times slower in our measurements).
WORKER_THREAD_LIMITS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: Modules the worker processes need, imported once by the fork server (where there is one). astropy
#: imports ``astropy.table`` and ``astropy.time`` only when the first product is written (0.3 s):
#: once here instead of once in every worker. ``__main__`` (multiprocessing's own default) is the
#: program's main script, which every worker would otherwise re-run on start: for the ``hstlc``
#: command that imports the CLI (typer, rich), 0.12 s per worker. Everything a worker is sent (the
#: functions of :mod:`hstlc.ingestion.work` and their jobs) unpickles without importing the pipeline,
#: the catalog or SQLAlchemy: importing them cost each worker 0.45 s before its first dataset.
#:
#: Note: on Python 3.11 the fork server ignores ``__main__`` (it is handed no main path), so each worker
#: still re-runs the main script; the entry is kept for the Pythons that honour it.
WORKER_MODULES = ["__main__", "hstlc.ingestion.work", "hstlc.extraction", "hstlc.file_checks",
                  "hstlc.products", "hstlc.readers", "hstlc.stis_corrtag", "astropy.table", "astropy.time"]

#: What ``hstlc stats``'s workers need beyond :data:`WORKER_MODULES` (the statistics, the period
#: search, the product reader), added to the fork server's preload by a stats pool that starts it.
STATS_MODULES = ["hstlc.product_stats", "hstlc.science.variability", "hstlc.products"]

#: What the figure workers of ``hstlc plot`` need beyond :data:`WORKER_MODULES`: the statistics and
#: the plotting stack (matplotlib), added by a report pool that starts the fork server.
REPORT_MODULES = [
    "hstlc.report.builder", "hstlc.products", "hstlc.science.variability", "hstlc.product_stats",
]


# ------------------------------------------------------------------------------------------ progress


@dataclass(frozen=True)
class Progress:
    """A progress report of a long command, after each item (and once with ``done = 0`` before the first).

    ``phase`` names the stage (the ingest's ``reading``, ``resolving``, ``extracting``, ``composites``;
    ``stats``; ``figures``); ``total``, ``done`` and ``failed`` count its items; ``item`` is the one just
    finished (a dataset, a product file name); ``message`` is a run-level notice to show the user at once
    (e.g. that ingest is about to ask CDS Sesame, or has stopped asking it).
    """

    phase: str
    total: int
    done: int
    failed: int = 0
    item: str = ""
    message: str = ""


ProgressCallback = Callable[[Progress], None]


# ------------------------------------------------------------------------------------------ processes


@contextmanager
def worker_environment() -> Iterator[None]:
    """:data:`WORKER_THREAD_LIMITS` set in ``os.environ`` (inherited by processes started meanwhile),
    then the previous values restored."""
    saved = {key: os.environ.get(key) for key in WORKER_THREAD_LIMITS}
    os.environ.update(WORKER_THREAD_LIMITS)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def preload_modules(preload: Sequence[str] = ()) -> list[str]:
    """:data:`WORKER_MODULES` followed by those of ``preload`` not already in it."""
    return [*WORKER_MODULES, *(m for m in dict.fromkeys(preload) if m not in WORKER_MODULES)]


def worker_context(preload: Sequence[str] = ()) -> multiprocessing.context.BaseContext:
    """``forkserver`` where available (the server imports the work's modules once and forks clean,
    thread-free workers from itself), else ``spawn``. Both start workers from a fresh interpreter, never
    from a fork of the calling process (with its catalog connections and threads).

    The fork server preloads :data:`WORKER_MODULES` and ``preload`` — if it starts after this call: a
    server already running keeps the modules it started with (see the module docstring)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(preload_modules(preload))
        return context
    return multiprocessing.get_context("spawn")


def start_worker_server(cores: int, preload: Sequence[str] = ()) -> bool:
    """Start the fork server now for a run with ``cores`` workers (nothing to start for one core,
    or on a platform without a fork server: False). It imports :data:`WORKER_MODULES` and ``preload`` in
    the background and serves every worker pool this process makes later; returns at once. Call it
    before the process starts threads of its own."""
    if cores <= 1:
        return False
    context = worker_context(preload)
    if context.get_start_method() != "forkserver":
        return False
    from multiprocessing import forkserver

    with worker_environment():
        forkserver.ensure_running()
    return True


def worker_count(cores: int, jobs: int, min_jobs_per_worker: int = 1) -> int:
    """Worker processes for ``jobs`` jobs: at most ``cores``, at least ``min_jobs_per_worker`` jobs each,
    at least one (one means: no processes, the jobs run in the calling process)."""
    return max(1, min(cores, jobs // max(1, min_jobs_per_worker)))


def _ready() -> None:
    """The job that starts a worker when the pool has no ``warm_up`` of its own."""


def _start_worker(initializer: Callable[[], object] | None) -> None:
    """Every worker's initializer: :data:`WORKER_THREAD_LIMITS` in its environment (before it imports
    anything a job needs), whenever and by whichever thread it was started, then ``initializer``."""
    os.environ.update(WORKER_THREAD_LIMITS)
    if initializer is not None:
        initializer()


class _Failed:
    """A job's exception, kept until the job's result is handed out."""

    __slots__ = ("exc",)

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


class WorkerPool:
    """``cores`` worker processes (none for ``cores <= 1``: :meth:`run` then runs each job here, in order).

    They start at once, from a background thread, while the calling process goes on (starting a worker
    blocks until the fork server has imported its modules: about a second). Each runs ``initializer``
    when it starts; the starter submits ``cores`` calls of ``warm_up`` (e.g. importing what the jobs
    need), each of which starts a process unless a worker that finished its own warm-up takes it first
    (a process is then started by a later job). ``preload``: modules to add to the fork server's
    preload, if this pool starts it (see :func:`worker_context`).

    Use it as a context manager, or call :meth:`close`: it waits for the starter, then shuts the
    processes down, cancelling jobs not yet started. One pool can serve several :meth:`run` calls.
    """

    def __init__(
        self,
        cores: int,
        *,
        initializer: Callable[[], object] | None = None,
        warm_up: Callable[[], object] | None = None,
        preload: Sequence[str] = (),
    ) -> None:
        self.cores = max(1, cores)
        self._executor: ProcessPoolExecutor | None = None
        self._started = threading.Event()
        self._warming: list[Future[Any]] = []
        self._starter: threading.Thread | None = None
        if self.cores <= 1:
            self._started.set()
            return
        self._executor = ProcessPoolExecutor(max_workers=self.cores, mp_context=worker_context(preload),
                                             initializer=_start_worker, initargs=(initializer,))
        self._starter = threading.Thread(target=self._start, args=(warm_up or _ready,),
                                         name="hstlc-start-workers", daemon=True)
        self._starter.start()

    @property
    def inline(self) -> bool:
        """Whether jobs run in this process (one core)."""
        return self._executor is None

    def _start(self, warm_up: Callable[[], object]) -> None:
        """Start the ``cores`` processes (each submit starts one while none is idle) and warm them up."""
        assert self._executor is not None
        try:
            with worker_environment():  # also seen by this process meanwhile: harmless
                for _ in range(self.cores):
                    self._warming.append(self._executor.submit(warm_up))
        except Exception as exc:  # the next submit reports a broken pool
            log.debug("starting the worker processes failed: %s", exc)
        finally:
            self._started.set()

    def wait_until_warm(self, timeout: float | None = None) -> bool:
        """Block until every worker has started and run its warm-up (False if ``timeout`` seconds passed
        first). From then on :meth:`run` hands every job to the workers. True at once without workers."""
        if not self._started.wait(timeout):
            return False
        _, pending = wait(self._warming, timeout=timeout)
        return not pending

    def close(self) -> None:
        """Wait for the starter, then stop the processes (jobs not yet started are cancelled)."""
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(
        self,
        fn: Callable[[J], R],
        jobs: Iterable[J],
        *,
        ordered: bool = False,
        between: Callable[[], object] | None = None,
        depth: int | None = None,
        errors: Callable[[J, Exception], R] | None = None,
    ) -> Iterator[tuple[J, R]]:
        """``(job, fn(job))`` for every job: as each finishes, or in job order with ``ordered``.

        ``fn`` and the jobs must pickle (``fn`` a module-level function). At most ``depth`` jobs
        (default: one per worker, plus one) are in the workers at a time, so the last jobs are not stuck
        in a busy worker's queue while another is idle. While the workers are still starting, this
        process (already warm) runs jobs itself. ``between()`` is called before each job is run here and
        before each wait for, and hand-out of, the workers' results (at least every 5 s while waiting):
        the ingest checks there that it still holds its lock.

        An exception ``fn`` raises (here or in a worker), and a broken pool (a worker process died:
        ``BrokenProcessPool`` for the jobs it had and every job after), is raised from the iterator; with
        ``errors``, ``errors(job, exc)`` is that job's result instead and the run goes on.
        """
        check: Callable[[], object] = between or _ready
        queue: deque[tuple[int, J]] = deque(enumerate(jobs))
        executor = self._executor
        if executor is None:
            while queue:
                check()
                _, job = queue.popleft()
                yield job, self._call(fn, job, errors)
            return

        limit = max(1, depth if depth is not None else self.cores + 1)
        futures: dict[Future[R], tuple[int, J]] = {}
        ready: dict[int, tuple[J, R | _Failed]] = {}  # finished, waiting for their turn (ordered)
        turn = 0  # ordered: the index of the next job to hand out
        broken: Exception | None = None  # why no more jobs can be submitted

        def top_up() -> None:
            nonlocal broken
            while queue and len(futures) < limit and broken is None:
                index, job = queue[0]
                try:
                    future = executor.submit(fn, job)
                except Exception as exc:  # BrokenProcessPool: a worker died
                    broken = exc
                    return
                queue.popleft()
                futures[future] = (index, job)

        def deliver(index: int, job: J, outcome: R | _Failed) -> Iterator[tuple[J, R]]:
            nonlocal turn
            if not ordered:
                yield job, self._result(job, outcome, errors)
                return
            ready[index] = (job, outcome)
            while turn in ready:
                done_job, done_outcome = ready.pop(turn)
                turn += 1
                yield done_job, self._result(done_job, done_outcome, errors)

        try:
            while not self._started.is_set() and queue:
                # The workers are still being started (a submit would wait for them): run jobs here.
                check()
                index, job = queue.popleft()
                yield from deliver(index, job, self._attempt(fn, job))
            warming = list(self._warming)
            top_up()
            while futures or queue:
                check()
                warming = [f for f in warming if not f.done()]
                finished = sorted((f for f in futures if f.done()), key=lambda f: futures[f][0])
                if not finished and warming and queue and broken is None:
                    index, job = queue.popleft()  # the workers are still starting: run one here meanwhile
                    yield from deliver(index, job, self._attempt(fn, job))
                    continue
                if not futures:  # the pool broke: the jobs left fail with it
                    assert broken is not None
                    index, job = queue.popleft()
                    yield from deliver(index, job, _Failed(broken))
                    continue
                if not finished:
                    done, _ = wait(list(futures), timeout=5.0, return_when=FIRST_COMPLETED)
                    finished = sorted(done, key=lambda f: futures[f][0])
                for future in finished:
                    index, job = futures.pop(future)
                    top_up()
                    outcome: R | _Failed = self._outcome(future)
                    yield from deliver(index, job, outcome)
        finally:
            for future in futures:  # a run given up half-way: don't start the jobs still queued
                future.cancel()

    @staticmethod
    def _call(fn: Callable[[J], R], job: J, errors: Callable[[J, Exception], R] | None) -> R:
        if errors is None:
            return fn(job)
        try:
            return fn(job)
        except Exception as exc:
            return errors(job, exc)

    @staticmethod
    def _attempt(fn: Callable[[J], R], job: J) -> R | _Failed:
        try:
            return fn(job)
        except Exception as exc:
            return _Failed(exc)

    @staticmethod
    def _outcome(future: Future[R]) -> R | _Failed:
        try:
            return future.result()
        except Exception as exc:  # the job's own exception, or BrokenProcessPool
            return _Failed(exc)

    @staticmethod
    def _result(job: J, outcome: R | _Failed, errors: Callable[[J, Exception], R] | None) -> R:
        if not isinstance(outcome, _Failed):
            return outcome
        if errors is None:
            raise outcome.exc
        return errors(job, outcome.exc)


def run_jobs(
    fn: Callable[[J], R],
    jobs: Iterable[J],
    cores: int,
    *,
    ordered: bool = False,
    min_jobs_per_worker: int = 1,
    errors: Callable[[J, Exception], R] | None = None,
    between: Callable[[], object] | None = None,
    initializer: Callable[[], object] | None = None,
    warm_up: Callable[[], object] | None = None,
    preload: Sequence[str] = (),
) -> Iterator[tuple[J, R]]:
    """:meth:`WorkerPool.run` of ``fn`` over ``jobs`` in a pool of its own, of :func:`worker_count`
    ``(cores, len(jobs), min_jobs_per_worker)`` workers (one: here, in order), closed when the iterator
    ends or is closed."""
    todo = list(jobs)
    with WorkerPool(worker_count(cores, len(todo), min_jobs_per_worker), initializer=initializer,
                    warm_up=warm_up, preload=preload) as pool:
        yield from pool.run(fn, todo, ordered=ordered, between=between, errors=errors)


__all__ = [
    "REPORT_MODULES",
    "STATS_MODULES",
    "WORKER_MODULES",
    "WORKER_THREAD_LIMITS",
    "Progress",
    "ProgressCallback",
    "WorkerPool",
    "preload_modules",
    "run_jobs",
    "start_worker_server",
    "worker_context",
    "worker_count",
    "worker_environment",
]
