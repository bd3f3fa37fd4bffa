"""Where ingest's worker processes come from: a fork server that imports the work's modules once.

Standard library only, so that ``hstlc ingest`` can start the server (:func:`start_worker_server`)
before it imports the pipeline itself: the server's imports (about a second of CPU: astropy, numpy)
then run beside the command's own instead of after them.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
from collections.abc import Iterator
from contextlib import contextmanager

#: Thread pools of numerical libraries in worker processes: one thread each, since the workers already
#: use every core (BLAS/OpenMP threads of several processes spinning on the same cores made each
#: extraction three times slower in our measurements).
WORKER_THREAD_LIMITS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: Modules the worker processes need, imported once by the fork server (where there is one). astropy
#: imports ``astropy.table`` and ``astropy.time`` only when the first product is written (0.3 s):
#: once here instead of once in every worker. ``__main__`` (multiprocessing's own default) is the
#: program's main script, which every worker would otherwise re-run on start: for the ``hstlc``
#: command that imports the CLI (typer, rich), 0.12 s per worker. Everything a worker is sent (the
#: functions of :mod:`hstlc.pipeline_work` and their jobs) unpickles without importing the pipeline,
#: the catalog or SQLAlchemy: importing them cost each worker 0.45 s before its first dataset.
WORKER_MODULES = ["__main__", "hstlc.pipeline_work", "hstlc.extraction", "hstlc.file_checks",
                  "hstlc.products", "hstlc.readers", "hstlc.stis_corrtag", "astropy.table", "astropy.time"]


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


def worker_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where available (the server imports the work's modules once and forks clean,
    thread-free workers from itself), else ``spawn``. Both start workers from a fresh interpreter, never
    from a fork of the ingesting process (with its catalog connections and heartbeat thread)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(WORKER_MODULES)
        return context
    return multiprocessing.get_context("spawn")


def start_worker_server(cores: int) -> bool:
    """Start the fork server now for an ingest with ``cores`` workers (nothing to start for one core,
    or on a platform without a fork server: False). It imports :data:`WORKER_MODULES` in the
    background and serves every worker pool this process makes later; returns at once. Call it
    before the process starts threads of its own."""
    if cores <= 1:
        return False
    context = worker_context()
    if context.get_start_method() != "forkserver":
        return False
    from multiprocessing import forkserver

    with worker_environment():
        forkserver.ensure_running()
    return True


__all__ = ["WORKER_MODULES", "WORKER_THREAD_LIMITS", "start_worker_server", "worker_context",
           "worker_environment"]
