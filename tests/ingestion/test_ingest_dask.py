"""Ingest on a Dask ``LocalCluster`` of 2 worker processes (``scheduler_address = "local:2"``): the same
catalog, products and tree as one local core; a worker killed mid-run loses nothing."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from hstlc.catalog import Catalog
from hstlc.catalog.schema import Base
from hstlc.ingestion import ingest
from hstlc.workers import Progress
from support.ingest import (
    assert_products_equal,
    catalog_snapshot,
    copy_tree,
    make_sample,
    make_settings,
    sha,
    tree,
)

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from hstlc import synthetic as syn

    base = tmp_path_factory.mktemp("sample")
    make_sample(base / "incoming", base / "lref", extra=True)
    syn.make_stis_tag(base / "incoming", "o8k401010", targname="V-AM-CVN", exptime=150.0, source_rate=20.0,
                      reference_dir=base / "oref", seed=7)
    return base / "incoming", base


def _fresh(url: str) -> Catalog:
    catalog = Catalog.from_url(url)
    Base.metadata.drop_all(catalog.engine)
    catalog.init_schema()
    return catalog


@pytest.mark.slow
def test_a_dask_cluster_gives_the_catalog_products_and_tree_of_one_core(
    catalog_url: str, tmp_path: Path, sample: tuple[Path, Path]
) -> None:
    if catalog_url.startswith("mysql"):
        pytest.skip("SQLite and PostgreSQL are enough here: the catalog writes are the local pool's")
    incoming, base = sample
    results = []
    for how in ("cores", "dask"):
        catalog = _fresh(catalog_url)
        folder = copy_tree(incoming, tmp_path / f"in-{how}")
        extra = {"scheduler_address": "local:2"} if how == "dask" else {"num_cores": 1}
        settings = make_settings(tmp_path / f"home-{how}", base / "lref", oref_dir=base / "oref", **extra)
        notices: list[str] = []

        def note(update: Progress, notices: list[str] = notices) -> None:
            if update.message:
                notices.append(update.message)

        summary = ingest(folder, settings=settings, catalog=catalog, progress=note)
        assert not summary.failed and len(summary.ingested) == 6
        if how == "dask":
            assert summary.cores == 2
            assert any(n.startswith("Dask scheduler local:2: 2 worker(s), dashboard http") for n in notices)
        home = Path(settings.home_dir)
        results.append((catalog_snapshot(catalog, home), tree(home), home))
        catalog.dispose()
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]
    for rel in results[0][1]:
        if rel.startswith(("outputs", "composites")):
            assert_products_equal(results[0][2] / rel, results[1][2] / rel)


def _worker_pids() -> list[int]:
    """This process's children that are Dask worker processes (spawned by the LocalCluster's nannies)."""
    me = os.getpid()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me and b"spawn_main" in cmdline:
            pids.append(int(entry))
    return pids


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing(tmp_path: Path, sample: tuple[Path, Path]) -> None:
    incoming, base = sample
    folder = copy_tree(incoming, tmp_path / "in")
    inputs = Counter(sha(p) for p in folder.iterdir())
    settings = make_settings(tmp_path / "home", base / "lref", oref_dir=base / "oref",
                             scheduler_address="local:2")
    catalog = _fresh(f"sqlite:///{tmp_path / 'catalog.db'}")
    killed: list[int] = []

    def kill_one_worker(update: Progress) -> None:
        if update.phase == "extracting" and update.done == 1 and not killed:
            pids = _worker_pids()
            assert pids, "no Dask worker process found"
            os.kill(pids[0], signal.SIGKILL)  # the work it holds is lost with it: Dask runs it again
            killed.append(pids[0])

    summary = ingest(folder, settings=settings, catalog=catalog, progress=kill_one_worker)
    assert killed
    home = Path(settings.home_dir)
    # every good dataset ingested, or failed with its reason recorded (Dask reruns the lost work: here all 6)
    assert len(summary.ingested) + len(summary.failed) == 6, summary.failed
    assert all(reason for reason in summary.failed.values())

    present = Counter(sha(p) for root in (home / "filesystem", home / "bad_data", folder)
                      for p in root.rglob("*.fits") if p.is_file() and ".hstlc-staging" not in p.parts)
    assert {d: present[d] for d in inputs} == dict(inputs)  # every input file exactly once
    catalog.dispose()
