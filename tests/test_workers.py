"""hstlc.workers: the one worker pool (inline for one core, processes otherwise) and the one progress type.

The jobs live in ``workers_jobs.py``: what a worker process runs must be importable by name.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool

import pytest

from hstlc.workers import (
    REPORT_MODULES,
    STATS_MODULES,
    WORKER_MODULES,
    WORKER_THREAD_LIMITS,
    Progress,
    WorkerPool,
    preload_modules,
    run_jobs,
    worker_context,
    worker_count,
)
from support import worker_jobs as jobs

WARM_TIMEOUT = 120.0


def _warm_pool(cores: int = 2, *, initializer: Callable[[], object] | None = None,
               warm_up: Callable[[], object] | None = None) -> WorkerPool:
    pool = WorkerPool(cores, initializer=initializer, warm_up=warm_up)
    assert pool.wait_until_warm(WARM_TIMEOUT), "the workers did not start"
    return pool


def test_progress_is_a_frozen_record_with_defaults() -> None:
    update = Progress("stats", total=4, done=1)
    assert (update.failed, update.item, update.message) == (0, "", "")
    assert Progress("reading", 3, 2, 1, "lb4m01aaq", "note") == Progress(
        phase="reading", total=3, done=2, failed=1, item="lb4m01aaq", message="note")
    with pytest.raises(dataclasses.FrozenInstanceError):
        update.done = 2  # type: ignore[misc]


def test_one_core_runs_every_job_here_in_order() -> None:
    calls: list[int] = []
    with WorkerPool(1) as pool:
        assert pool.inline
        out = list(pool.run(jobs.square, [3, 1, 2], between=lambda: calls.append(1)))
    assert out == [(3, (9, os.getpid())), (1, (1, os.getpid())), (2, (4, os.getpid()))]
    assert len(calls) == 3  # before each job


@pytest.mark.slow
def test_two_workers_run_the_jobs_in_worker_processes() -> None:
    with _warm_pool(2) as pool:
        assert not pool.inline
        out = dict(pool.run(jobs.square, range(10)))
        again = dict(pool.run(jobs.square, range(3)))  # one pool serves several runs (as the ingest's)
    assert {job: value for job, (value, _) in out.items()} == {i: i * i for i in range(10)}
    pids = {pid for _, pid in [*out.values(), *again.values()]}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert {job: value for job, (value, _) in again.items()} == {0: 0, 1: 1, 2: 4}


def test_while_the_workers_start_this_process_runs_jobs_itself() -> None:
    # A pool's first jobs do not wait for its workers' imports: results are the same wherever they ran.
    with WorkerPool(2) as pool:
        out = list(pool.run(jobs.square, range(6), ordered=True))
    assert [(job, value) for job, (value, _) in out] == [(i, i * i) for i in range(6)]


@pytest.mark.slow
def test_unordered_yields_as_jobs_finish_and_ordered_in_job_order() -> None:
    work = [(0, 1.5), *((i, 0.0) for i in range(1, 6))]
    with _warm_pool(2) as pool:
        unordered = [job for job, _ in pool.run(jobs.sleepy_square, work)]
        ordered = list(pool.run(jobs.sleepy_square, work, ordered=True))
    assert unordered[-1] == (0, 1.5) and sorted(unordered) == work  # the slow first job comes last
    assert ordered == [(job, job[0] ** 2) for job in work]


def test_depth_bounds_the_jobs_in_the_workers() -> None:
    with _warm_pool(2) as pool:
        out = list(pool.run(jobs.square, range(8), depth=1, ordered=True))
    assert [job for job, _ in out] == list(range(8))


def test_between_is_called_before_jobs_and_hand_outs_and_can_stop_the_run() -> None:
    calls: list[int] = []
    with _warm_pool(2) as pool:
        assert len(list(pool.run(jobs.square, range(5), between=lambda: calls.append(1)))) == 5
        assert len(calls) >= 1

        class LockLost(Exception):
            pass

        def lose_after_two() -> None:
            calls.append(1)
            if len(calls) > 2:
                raise LockLost("the lock is gone")

        calls.clear()
        with pytest.raises(LockLost):
            list(pool.run(jobs.square, range(50), between=lose_after_two))
    with WorkerPool(1) as inline:
        calls.clear()
        with pytest.raises(LockLost):
            list(inline.run(jobs.square, range(50), between=lose_after_two))
        assert len(calls) == 3


@pytest.mark.parametrize("cores", [1, 2])
def test_a_job_exception_is_raised_unless_errors_makes_it_a_result(cores: int) -> None:
    with WorkerPool(cores) as pool:
        pool.wait_until_warm(WARM_TIMEOUT)
        with pytest.raises(ValueError, match="job 3 is bad"):
            list(pool.run(jobs.fail_on_three, range(6)))
        out = dict(pool.run(jobs.fail_on_three, range(6), errors=lambda job, exc: -job))
        ordered = list(pool.run(jobs.fail_on_three, range(6), ordered=True, errors=lambda job, exc: -job))
    assert out == {0: 0, 1: 1, 2: 2, 3: -3, 4: 4, 5: 5}
    assert ordered == [(0, 0), (1, 1), (2, 2), (3, -3), (4, 4), (5, 5)]


def test_ordered_raises_a_job_exception_in_its_turn() -> None:
    seen: list[int] = []
    with _warm_pool(2) as pool, pytest.raises(ValueError):
        for job, _ in pool.run(jobs.fail_on_three, range(6), ordered=True):
            seen.append(job)
    assert seen == [0, 1, 2]


def test_a_killed_worker_breaks_the_pool_and_errors_gets_every_job_left() -> None:
    reasons: dict[int, BaseException] = {}

    def failed(job: int, exc: Exception) -> int:
        reasons[job] = exc
        return -1

    with _warm_pool(2) as pool:
        out = dict(pool.run(jobs.die_on_two, range(8), errors=failed))
    assert set(out) == set(range(8))
    assert out[2] == -1 and isinstance(reasons[2], BrokenProcessPool)
    assert all(isinstance(exc, BrokenProcessPool) for exc in reasons.values())
    assert all(out[job] == job for job in out if job not in reasons)

    with _warm_pool(2) as pool, pytest.raises(BrokenProcessPool):
        list(pool.run(jobs.die_on_two, range(8)))


def test_workers_get_the_thread_limits_and_this_process_keeps_its_environment() -> None:
    before = {key: os.environ.get(key) for key in WORKER_THREAD_LIMITS}
    with _warm_pool(2) as pool:
        out = list(pool.run(jobs.thread_limits, range(4)))
    for _, (environment, pid) in out:
        assert pid != os.getpid() and environment == WORKER_THREAD_LIMITS
    assert {key: os.environ.get(key) for key in WORKER_THREAD_LIMITS} == before


@pytest.mark.slow
def test_a_fork_server_started_in_a_fresh_process_gives_workers_the_thread_limits() -> None:
    # The fork server's environment is the workers' (it forks them): it must start under the limits
    # even when a pool, not start_worker_server, starts it; the calling process keeps its own.
    script = (
        "import os\n"
        "from hstlc.workers import WorkerPool, start_worker_server\n"
        "os.environ.pop('OMP_NUM_THREADS', None)\n"
        "assert not start_worker_server(1)\n"
        "if __name__ == '__main__':\n"
        "    with WorkerPool(2) as pool:\n"
        "        pool.wait_until_warm()\n"
        "        (_, value), = pool.run(os.getenv, ['OMP_NUM_THREADS'])\n"
        "        print(value, os.getenv('OMP_NUM_THREADS'))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         timeout=WARM_TIMEOUT)
    assert out.stdout.split() == ["1", "None"]


def test_initializer_runs_once_in_each_worker_and_warm_up_in_the_workers() -> None:
    with _warm_pool(2, initializer=jobs.warm) as pool:
        out = list(pool.run(jobs.warmed, range(6)))
    for _, (pid, pids) in out:
        assert pid != os.getpid() and pids == [pid]
    # Each of the starter's ``cores`` warm-ups starts a process, unless a worker that finished its own
    # takes it first: a warm-up runs in the workers, not necessarily in each.
    with _warm_pool(2, warm_up=jobs.warm) as pool:
        out = list(pool.run(jobs.warmed, range(6)))
    assert any(pids for _, (_, pids) in out)
    assert all(set(pids) <= {pid} for _, (pid, pids) in out)
    assert jobs.WARMED == []  # not in this process


def test_forkserver_children_get_this_process_sys_path() -> None:
    with _warm_pool(2) as pool:
        assert all(found for _, found in pool.run(jobs.sys_path_has_tests, range(2)))


def test_run_jobs_sizes_its_pool_by_jobs_per_worker() -> None:
    assert worker_count(1, 100) == 1
    assert worker_count(4, 3, 4) == 1 and worker_count(4, 8, 4) == 2 and worker_count(4, 400, 4) == 4
    assert worker_count(2, 3, 2) == 1 and worker_count(2, 4, 2) == 2 and worker_count(8, 0) == 1
    here = os.getpid()
    # fewer jobs than min_jobs_per_worker × 2: one worker, i.e. everything here, in order
    assert [pid for _, (_, pid) in run_jobs(jobs.square, range(3), 2, min_jobs_per_worker=2)] == [here] * 3
    out = list(run_jobs(jobs.square, range(12), 2, ordered=True, errors=lambda job, exc: (-1, -1)))
    assert [(job, value) for job, (value, _) in out] == [(i, i * i) for i in range(12)]


def test_preload_lists() -> None:
    assert preload_modules() == WORKER_MODULES
    union = preload_modules([*STATS_MODULES, *REPORT_MODULES])
    assert union[: len(WORKER_MODULES)] == WORKER_MODULES and len(union) == len(set(union))
    assert set(REPORT_MODULES) | set(WORKER_MODULES) == set(preload_modules(REPORT_MODULES))
    assert worker_context().get_start_method() in ("forkserver", "spawn")  # never plain fork


@pytest.mark.parametrize("module", sorted({*WORKER_MODULES, *STATS_MODULES, *REPORT_MODULES} - {"__main__"}))
def test_every_preloaded_module_exists(module: str) -> None:
    # The fork server skips a preload it cannot import without a word: a renamed module would only make
    # every worker import it itself.
    import importlib.util

    assert importlib.util.find_spec(module) is not None, module


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux's /proc")
def test_the_fork_server_runs_under_the_thread_limits_and_without_threads() -> None:
    # Forking a process with threads is unsafe. Without the limits, numpy's and scipy's OpenBLAS give
    # the server two threads (on 2 cores) while it imports; with them, none. The server started by a
    # pool, with every preload, has the limits in its environment even when the caller's has none.
    script = (
        "import os\n"
        "from multiprocessing import forkserver\n"
        "from hstlc.workers import REPORT_MODULES, STATS_MODULES, WorkerPool\n"
        "if __name__ == '__main__':\n"
        "    with WorkerPool(2, preload=[*STATS_MODULES, *REPORT_MODULES]) as pool:\n"
        "        pool.wait_until_warm()\n"
        "        server = forkserver._forkserver._forkserver_pid\n"
        "        if server is None:\n"
        "            print('no fork server')\n"
        "        else:\n"
        "            with open(f'/proc/{server}/environ', 'rb') as f:\n"
        "                print(len(os.listdir(f'/proc/{server}/task')), *sorted(\n"
        "                    e.decode() for e in f.read().split(b'\\0') if e.endswith(b'_NUM_THREADS=1')))\n"
    )
    environment = {k: v for k, v in os.environ.items() if k not in WORKER_THREAD_LIMITS}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         timeout=WARM_TIMEOUT, env=environment)
    if out.stdout.strip() == "no fork server":
        pytest.skip("this platform has no fork server")
    assert out.stdout.split() == ["1", *sorted(f"{k}=1" for k in WORKER_THREAD_LIMITS)]
