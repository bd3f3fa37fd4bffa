"""The kill test: ``hstlc ingest`` as a subprocess, SIGKILLed at random moments, then re-run to completion.

The final catalog (rows, ignoring ids and dates), products (data) and file tree must equal those of an
uninterrupted run, and every input file must be present exactly once (by sha256). It runs with two worker
processes and the input folder on another filesystem than the hstlc home where the machine has one
(``/dev/shm``), so every move is a copy → fsync → verify → rename. ``benchmarks/kill_campaign.py`` runs
the same campaign with ≥ 50 kills.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support.kill import campaign, make_kill_sample, other_filesystem

TRIALS, KILLS = 2, 3


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_at_random_moments_then_rerun_equals_an_uninterrupted_run(
    catalog_url: str, tmp_path: Path
) -> None:
    sample, refs = tmp_path / "sample", tmp_path / "refs"
    make_kill_sample(sample, refs)
    inputs = other_filesystem(tmp_path) or tmp_path / "inputs"  # cross-filesystem moves where possible
    try:
        def url(name: str) -> str:
            return f"sqlite:///{tmp_path / name}.db" if catalog_url.startswith("sqlite") else catalog_url

        _, trials = campaign(sample, refs, tmp_path, inputs, url, trials=TRIALS, kills=KILLS, cores=2,
                             seed=20241125, keep_failed=True)
    finally:
        shutil.rmtree(inputs, ignore_errors=True)
    assert sum(t.killed_during_work for t in trials) >= 2
    assert [t.differences for t in trials] == [[] for _ in trials]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_writer_killed_under_a_dask_cluster_then_rerun_equals_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    """The same campaign with the work on a ``LocalCluster`` of 2 workers (``--scheduler local:2``): the
    process SIGKILLed is the one catalog writer (its cluster goes with its process group)."""
    pytest.importorskip("distributed")
    sample, refs = tmp_path / "sample", tmp_path / "refs"
    make_kill_sample(sample, refs)

    def url(name: str) -> str:
        return f"sqlite:///{tmp_path / name}.db"

    _, trials = campaign(sample, refs, tmp_path, tmp_path / "inputs", url, trials=1, kills=KILLS,
                         cores=2, seed=20261207, keep_failed=True, scheduler="local:2")
    assert sum(t.killed_during_work for t in trials) >= 2
    assert [t.differences for t in trials] == [[] for _ in trials]
