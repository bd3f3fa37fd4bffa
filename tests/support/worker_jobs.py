"""Jobs for ``test_workers.py``: module-level functions, so worker processes can unpickle them (no tests
here). A fork server's children get the test process's ``sys.path`` (``tests/`` is on it: pyproject's
``pythonpath``), so they import this module as ``support.worker_jobs``."""

from __future__ import annotations

import multiprocessing
import os
import time

from hstlc.workers import WORKER_THREAD_LIMITS


def in_worker() -> bool:
    """Whether this runs in a worker process (a child), not in the test process."""
    return multiprocessing.parent_process() is not None


def square(job: int) -> tuple[int, int]:
    """``(job², pid)``."""
    return job * job, os.getpid()


def sleepy_square(job: tuple[int, float]) -> int:
    """``job[0]²`` after sleeping ``job[1]`` seconds."""
    time.sleep(job[1])
    return job[0] * job[0]


def fail_on_three(job: int) -> int:
    if job == 3:
        raise ValueError(f"job {job} is bad")
    return job


def die_on_two(job: int) -> int:
    """Job 2 kills the worker process that runs it (a crash no ``except`` sees); in the test process it
    raises instead, so a test never kills pytest."""
    if job == 2:
        if in_worker():
            os._exit(3)
        raise RuntimeError("job 2 ran in the test process")
    time.sleep(0.2)
    return job


def thread_limits(job: int) -> tuple[dict[str, str | None], int]:
    """The thread-limit variables this process sees, and its pid."""
    return {key: os.environ.get(key) for key in WORKER_THREAD_LIMITS}, os.getpid()


def sys_path_has_tests(job: int) -> bool:
    import sys

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/
    return any(os.path.abspath(p or ".") == here for p in sys.path)


WARMED: list[int] = []


def warm() -> None:
    """An initializer or warm-up: records the pid (in the worker's own copy of this module)."""
    WARMED.append(os.getpid())


def warmed(job: int) -> tuple[int, list[int]]:
    """This process's pid, and the pids :func:`warm` recorded here."""
    return os.getpid(), list(WARMED)
