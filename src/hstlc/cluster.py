"""The worker pool on a Dask cluster: the same jobs as :class:`hstlc.workers.WorkerPool`, on many machines.

:class:`DaskPool` has :class:`~hstlc.workers.WorkerPool`'s ``run`` and is a context manager, so the
ingest stages, ``hstlc stats`` and ``hstlc plot`` hand their jobs to it unchanged: the science runs in the
same functions, only elsewhere. The calling process stays the only catalog writer; it collects results as
they complete and files them as it always does.

* ``scheduler_address``: ``tcp://host:8786`` (an existing cluster: its workers must see the same
  ``ingest_dir``/``filesystem_dir``/``outputs_dir``… paths, checked at start) or ``local:N`` (a
  ``distributed.LocalCluster`` of N single-threaded worker processes on this machine).
* Jobs go in batches (:func:`batch_size`: several per worker so the slow ones even out, at most
  :data:`MAX_BATCH`), at most two batches per worker in flight (memory), each batch one Dask task with
  ``retries`` (a task lost with a worker that died is run again elsewhere). A job's own exception is its
  result, never the batch's; a batch that still fails after its retries fails each of its jobs with the
  reason, and the run goes on.
* Products are written by the workers, as with local processes (to a temporary name, renamed into place:
  :func:`hstlc.filing.write_atomically`), so only small results cross the network.

``distributed`` is an optional dependency (``pip install 'hstlc[dask]'``); without it a
:class:`~hstlc.errors.ConfigError` says what to install.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from hstlc.errors import ConfigError, HstlcError
from hstlc.workers import WORKER_THREAD_LIMITS, worker_environment
from hstlc.workers import run_jobs as local_run_jobs

log = logging.getLogger(__name__)

J = TypeVar("J")
R = TypeVar("R")

#: Most jobs one Dask task runs.
MAX_BATCH = 32
#: Batches per worker the jobs are cut into (at least): enough that a slow batch does not leave the
#: other workers idle at the end.
BATCHES_PER_WORKER = 4
#: Times a task lost with its worker is run again (Dask's ``retries``).
RETRIES = 2


def batch_size(jobs: int, workers: int) -> int:
    """Jobs per task: ``jobs`` cut into at least :data:`BATCHES_PER_WORKER` batches per worker, at most
    :data:`MAX_BATCH` jobs each, at least one."""
    return max(1, min(MAX_BATCH, math.ceil(jobs / max(1, workers * BATCHES_PER_WORKER))))


class RemoteError(HstlcError):
    """A job's exception that could not travel back from its worker as itself (kept as its text)."""


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it pickles, else a :class:`RemoteError` with its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RemoteError(f"{type(exc).__name__}: {exc}")


_prepared: set[Callable[[], object] | None] = set()


def run_batch(fn: Callable[[Any], Any], jobs: Sequence[Any],
              initializer: Callable[[], object] | None = None) -> list[tuple[bool, Any]]:
    """Run ``fn`` on each job (in a worker); ``(True, result)`` or ``(False, exception)`` per job. The
    first batch a worker process runs sets its thread limits and calls ``initializer`` (once per process
    and initializer: also on workers that join the cluster later)."""
    if initializer not in _prepared:
        os.environ.update(WORKER_THREAD_LIMITS)
        if initializer is not None:
            initializer()
        _prepared.add(initializer)
    out: list[tuple[bool, Any]] = []
    for job in jobs:
        try:
            out.append((True, fn(job)))
        except Exception as exc:  # the job's own failure: its result, not the batch's
            out.append((False, _portable(exc)))
    return out


def _sees(paths: Sequence[str]) -> list[str]:
    """The ``paths`` that are not folders from where this runs (a worker)."""
    return [p for p in paths if not os.path.isdir(p)]


class DaskPool:
    """Jobs on the Dask cluster at ``address`` (module docstring). ``shared``: folders every worker must
    see (a :class:`~hstlc.errors.ConfigError` names the worker and the folder otherwise)."""

    def __init__(
        self,
        address: str,
        *,
        initializer: Callable[[], object] | None = None,
        shared: Sequence[os.PathLike[str] | str] = (),
        timeout: float = 30.0,
    ) -> None:
        try:
            import distributed
        except ImportError:
            raise ConfigError(
                f"scheduler_address {address!r} needs Dask: pip install 'hstlc[dask]' (the distributed "
                "package)"
            ) from None
        self._distributed = distributed
        self.cluster: Any = None
        if address.startswith("local:"):
            try:
                n = int(address.removeprefix("local:"))
            except ValueError:
                n = 0
            if n < 1:
                raise ConfigError(f"scheduler_address {address!r}: 'local:N' needs N ≥ 1 worker processes")
            with worker_environment():
                self.cluster = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                    silence_logs=logging.ERROR,
                )
        self.address = address
        self.initializer = initializer
        try:  # from here on a failure (or Ctrl-C) closes what was started: no worker processes left behind
            if self.cluster is not None:
                self.client = distributed.Client(self.cluster, set_as_default=False)
            else:
                try:
                    self.client = distributed.Client(address, timeout=timeout, set_as_default=False)
                except (OSError, TimeoutError) as exc:
                    raise ConfigError(f"scheduler_address {address!r}: cannot connect to the Dask scheduler "
                                      f"({exc})") from None
            self._check_shared([str(p) for p in shared])
            log.info("%s", self.notice)
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        # nthreads lists every worker (scheduler_info() lists at most 5 on some distributed releases)
        return max(1, len(self.client.nthreads()))

    @property
    def notice(self) -> str:
        """One line for the user: the cluster, its workers and its dashboard."""
        dashboard = self.dashboard
        return f"Dask scheduler {self.address}: {self.workers} worker(s)" + (
            f", dashboard {dashboard}" if dashboard else "")

    @property
    def dashboard(self) -> str | None:
        link = self.client.dashboard_link
        return str(link) if link else None

    def _check_shared(self, paths: list[str]) -> None:
        if not paths:
            return
        for worker, missing in self.client.run(_sees, paths).items():
            if missing:
                raise ConfigError(f"Dask worker {worker} does not see {missing[0]}: the folders must be on a "
                                  "filesystem every worker shares, at the same path")

    def close(self) -> None:
        client, cluster = getattr(self, "client", None), self.cluster
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        self.cluster = None

    def __enter__(self) -> DaskPool:
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
        """``(job, fn(job))`` for every job, as :meth:`hstlc.workers.WorkerPool.run` gives them (as batches
        complete, or in job order with ``ordered``); ``between()`` is called while waiting (every 0.1 s at
        most) and before each result is handed out. ``depth`` caps the batches in flight (default two per
        worker). A job's exception, or its batch's after the retries, is raised from the iterator, or with
        ``errors`` becomes that job's result."""
        check: Callable[[], object] = between or (lambda: None)
        todo = list(jobs)
        size = batch_size(len(todo), self.workers)
        batches = [(i, todo[i : i + size]) for i in range(0, len(todo), size)]
        limit = max(1, depth if depth is not None else 2 * self.workers)
        pending: dict[Any, tuple[int, list[J]]] = {}
        ready: dict[int, list[tuple[J, tuple[bool, Any]]]] = {}
        turn = 0
        queue = list(reversed(batches))

        def top_up() -> None:
            while queue and len(pending) < limit:
                start, batch = queue.pop()
                future = self.client.submit(run_batch, fn, batch, self.initializer, retries=RETRIES,
                                            pure=False)
                pending[future] = (start, batch)

        def outcome(future: Any, batch: list[J]) -> list[tuple[J, tuple[bool, Any]]]:
            try:
                results = future.result()
            except Exception as exc:  # the batch itself failed (its worker died every time: KilledWorker)
                reason = RemoteError(f"its Dask task failed after {RETRIES} retries "
                                     f"({type(exc).__name__}: {exc})")
                return [(job, (False, reason)) for job in batch]
            return list(zip(batch, results, strict=True))

        def hand_out(job: J, result: tuple[bool, Any]) -> tuple[J, R]:
            ok, value = result
            if ok:
                return job, value
            if errors is None:
                raise value
            return job, errors(job, value)

        try:
            top_up()
            pause = 0.0
            while pending:
                check()
                done = [f for f in pending if f.done()]
                if not done:  # poll (the client's own waits need a default client; this one is not)
                    pause = min(0.1, pause + 0.005)
                    time.sleep(pause)
                    continue
                pause = 0.0
                for future in sorted(done, key=lambda f: pending[f][0]):
                    start, batch = pending.pop(future)
                    results = outcome(future, batch)
                    top_up()
                    if not ordered:
                        for job, result in results:
                            check()
                            yield hand_out(job, result)
                        continue
                    ready[start] = results
                    while turn < len(todo) and turn in ready:
                        chunk = ready.pop(turn)
                        turn += len(chunk)
                        for job, result in chunk:
                            check()
                            yield hand_out(job, result)
        finally:
            for future in pending:
                future.cancel()


def run_jobs(
    fn: Callable[[J], R],
    jobs: Iterable[J],
    cores: int,
    *,
    scheduler: str | None = None,
    shared: Sequence[os.PathLike[str] | str] = (),
    ordered: bool = False,
    min_jobs_per_worker: int = 1,
    errors: Callable[[J, Exception], R] | None = None,
    between: Callable[[], object] | None = None,
    initializer: Callable[[], object] | None = None,
    warm_up: Callable[[], object] | None = None,
    preload: Sequence[str] = (),
) -> Iterator[tuple[J, R]]:
    """:func:`hstlc.workers.run_jobs`, or with ``scheduler`` the same on that Dask cluster (a
    :class:`DaskPool` opened for these jobs: ``cores``, ``min_jobs_per_worker``, ``warm_up`` and
    ``preload`` are then the cluster's business)."""
    if not scheduler:
        yield from local_run_jobs(fn, jobs, cores, ordered=ordered, min_jobs_per_worker=min_jobs_per_worker,
                                  errors=errors, between=between, initializer=initializer, warm_up=warm_up,
                                  preload=preload)
        return
    todo = list(jobs)
    if not todo:  # nothing to do (an incremental stats or plot): no cluster to start or reach
        return
    with DaskPool(scheduler, initializer=initializer, shared=shared) as pool:
        yield from pool.run(fn, todo, ordered=ordered, between=between, errors=errors)


__all__ = [
    "BATCHES_PER_WORKER", "MAX_BATCH", "DaskPool", "RemoteError", "batch_size", "run_batch", "run_jobs",
]
