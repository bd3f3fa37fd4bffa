"""``hstlc.cluster.DaskPool`` on a real ``distributed.LocalCluster`` of 2 worker processes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hstlc.cluster import MAX_BATCH, DaskPool, RemoteError, batch_size, run_batch, run_jobs
from hstlc.errors import ConfigError, InputFileError
from support import worker_jobs as jobs

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def pool() -> Iterator[DaskPool]:
    with DaskPool("local:2") as started:
        yield started


def test_batches_are_small_enough_to_balance_and_large_enough_to_amortise() -> None:
    assert batch_size(0, 2) == 1 and batch_size(8, 2) == 1 and batch_size(100, 2) == 13
    assert batch_size(10_000, 2) == MAX_BATCH and batch_size(10_000, 1000) == 3


def test_jobs_run_in_the_workers_in_order_or_as_they_finish(pool: DaskPool) -> None:
    assert pool.workers == 2 and pool.dashboard and pool.dashboard.startswith("http://")
    ordered = list(pool.run(jobs.square, range(50), ordered=True))
    assert [j for j, _ in ordered] == list(range(50))
    assert [r[0] for _, r in ordered] == [j * j for j in range(50)]
    here = __import__("os").getpid()
    assert {pid for _, (_, pid) in ordered}.isdisjoint({here})
    unordered = dict(pool.run(jobs.square, range(50)))
    assert sorted(unordered) == list(range(50))


def test_a_job_exception_is_that_jobs_result_not_the_batchs(pool: DaskPool) -> None:
    out = dict(pool.run(jobs.fail_on_three, range(8), errors=lambda job, exc: f"{type(exc).__name__}: {exc}"))
    assert out[3] == "ValueError: job 3 is bad" and out[7] == 7
    with pytest.raises(ValueError, match="job 3 is bad"):
        list(pool.run(jobs.fail_on_three, range(8), ordered=True))


def test_an_exception_that_cannot_travel_comes_back_as_text() -> None:
    class Local(Exception):  # defined in a function: cannot be pickled by reference
        pass

    def boom(job: int) -> int:
        raise Local(f"bad {job}")

    (ok, exc), = run_batch(boom, [1])
    assert not ok and isinstance(exc, RemoteError) and str(exc) == "Local: bad 1"
    (ok, exc), = run_batch(jobs.fail_on_three, [3])
    assert not ok and isinstance(exc, ValueError)


def test_the_initializer_runs_once_in_every_worker(pool: DaskPool) -> None:
    pool.initializer = jobs.warm
    try:
        seen = [r for _, r in pool.run(jobs.warmed, range(12))]
    finally:
        pool.initializer = None
    assert all(calls == [pid] for pid, calls in seen)  # once per worker process, before its first job


def test_a_folder_the_workers_do_not_see_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "not-shared"
    with pytest.raises(ConfigError, match=rf"does not see {missing}: the folders must be on a filesystem"):
        DaskPool("local:1", shared=[tmp_path, missing])


def test_a_standing_cluster_by_its_address_is_used_and_left_running(pool: DaskPool, tmp_path: Path) -> None:
    """``tcp://host:port``, as an archive team's cluster is given: the jobs run on its workers, the shared
    folders are checked there, and closing hstlc's pool leaves the cluster (not hstlc's) running."""
    address = pool.cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    for _ in range(2):  # a second run connects to the same, still running cluster
        with DaskPool(address, shared=[tmp_path]) as remote:
            assert remote.cluster is None and remote.workers == 2
            assert [r[0] for _, r in remote.run(jobs.square, range(6), ordered=True)] == [0, 1, 4, 9, 16, 25]
    assert pool.workers == 2 and dict(pool.run(jobs.square, [7]))[7][0] == 49


def test_bad_addresses_and_a_missing_distributed(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="'local:N' needs N ≥ 1"):
        DaskPool("local:zero")
    with pytest.raises(ConfigError, match="cannot connect to the Dask scheduler"):
        DaskPool("tcp://127.0.0.1:9", timeout=1.0)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'hstlc\[dask\]'"):
        DaskPool("local:1")


def test_run_jobs_without_a_scheduler_is_the_local_pool() -> None:
    here = _pid()
    results = [r for _, r in run_jobs(jobs.square, range(3), 1, ordered=True)]
    assert results == [(0, here), (1, here), (4, here)]
    assert issubclass(RemoteError, Exception) and not issubclass(RemoteError, InputFileError)


def _pid() -> int:
    import os

    return os.getpid()
