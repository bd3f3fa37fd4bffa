"""The kill campaign (no tests here): ``hstlc ingest`` as a subprocess, SIGKILLed at random moments, then
re-run to completion, compared with an uninterrupted run. Used by ``test_kill.py`` (a few kills per
backend) and ``benchmarks/kill_campaign.py`` (≥ 50 kills).

The sample has COS FUV pairs (one FUV composite of three members), a B-only FUV, a quarantined dataset and
a STIS ``_tag`` whose corrtag ingest derives: so kills land in reading, extraction, corrtag derivation,
quarantine, filing moves and composites. The input folder can be on another filesystem than the hstlc
home (every move is then copy → fsync → verify → rename).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hstlc.catalog import Catalog
from hstlc.catalog.ingest_state import lock_holder
from hstlc.catalog.schema import Base
from support.ingest import assert_products_equal, catalog_snapshot, copy_tree, make_sample, sha, tree

STIS = {"exptime": 150.0, "source_rate": 20.0, "background_rate": 0.001}


def make_kill_sample(sample: Path, refs: Path) -> None:
    """The sample (see the module docstring) in ``sample``; references in ``refs/lref``, ``refs/oref``."""
    from hstlc import synthetic as syn

    make_sample(sample, refs / "lref", extra=True)
    syn.make_stis_reference_files(refs / "oref")
    syn.make_stis_tag(sample, "o8k401010", targname="V-AM-CVN", seed=7, **STIS)


def other_filesystem(near: Path) -> Path | None:
    """A fresh folder on a filesystem other than ``near``'s (``/dev/shm``, the usual tmpfs), or None."""
    for base in ("/dev/shm", tempfile.gettempdir()):
        with contextlib.suppress(OSError):
            usable = os.path.isdir(base) and os.access(base, os.W_OK)
            if usable and os.stat(base).st_dev != os.stat(near).st_dev:
                return Path(tempfile.mkdtemp(prefix="hstlc-kill-", dir=base))
    return None


def command(home: Path, url: str, incoming: Path, cores: int, scheduler: str | None = None) -> list[str]:
    workers = ["--scheduler", scheduler] if scheduler else ["--cores", str(cores)]
    return [sys.executable, "-m", "hstlc", "--home-dir", str(home), "--db", url, "-q", "ingest",
            str(incoming), "--offline", *workers, "--json"]


def environment(refs: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    env.update(HSTLC_LREF_DIR=str(refs / "lref"), HSTLC_OREF_DIR=str(refs / "oref"), HSTLC_STEP="10",
               COLUMNS="200")
    return env


def fresh_catalog(url: str) -> Catalog:
    catalog = Catalog.from_url(url)
    Base.metadata.drop_all(catalog.engine)
    catalog.init_schema()
    return catalog


@dataclass
class Reference:
    """An uninterrupted run: its duration (to choose kill moments) and what it left."""

    work: float
    snapshot: dict[str, Any]
    home_tree: list[str]
    left_tree: list[str]
    home: Path


@dataclass
class Trial:
    kills: list[float] = field(default_factory=list)
    """Seconds after the run took the ingest lock at which each kill came."""
    killed_during_work: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.differences


def holds_lock(catalog: Catalog, pid: int) -> bool:
    """Whether process ``pid`` holds the ingest lock."""
    holder = lock_holder(catalog)
    return holder is not None and holder.pid == pid


def reference_run(sample: Path, refs: Path, url: str, home: Path, incoming: Path, *, cores: int,
                  scheduler: str | None = None) -> Reference:
    copy_tree(sample, incoming)
    catalog = fresh_catalog(url)
    try:
        done = subprocess.run(command(home, url, incoming, cores, scheduler), env=environment(refs),
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise AssertionError(f"the uninterrupted run failed ({done.returncode}): {done.stderr}")
        work = json.loads(done.stdout)["wall_seconds"]  # the ingest itself, without interpreter start-up
        return Reference(work, catalog_snapshot(catalog, home), tree(home), tree(incoming), home)
    finally:
        catalog.dispose()


def kill_trial(
    sample: Path, refs: Path, url: str, home: Path, incoming: Path, reference: Reference, *,
    kills: int, cores: int, rng: random.Random, scheduler: str | None = None,
) -> Trial:
    """``kills`` runs of the same ingest, each SIGKILLed (with its workers) at a random moment, then one run
    to completion; the differences from ``reference`` (none: identical)."""
    copy_tree(sample, incoming)
    inputs = Counter(sha(p) for p in sample.iterdir())
    catalog = fresh_catalog(url)
    env = environment(refs)
    trial = Trial()
    try:
        for _ in range(kills):
            proc = subprocess.Popen(command(home, url, incoming, cores, scheduler), env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            # Kill points spread over the ingest's work: wait until this process holds the ingest lock (the
            # lock row of the previous, killed run is still there until it is taken over), then a random part
            # of the uninterrupted run's duration.
            while proc.poll() is None and not holds_lock(catalog, proc.pid):
                time.sleep(0.01)
            delay = rng.uniform(0.0, 0.8) * reference.work  # a rerun has less left to do
            time.sleep(delay)
            if proc.poll() is None:
                trial.killed_during_work += 1
            trial.kills.append(round(delay, 3))
            with contextlib.suppress(ProcessLookupError):  # the run (and its workers) may be over already
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        final = subprocess.run(command(home, url, incoming, cores, scheduler), env=env, capture_output=True,
                               text=True, timeout=300)
        diff = trial.differences
        if final.returncode != 0:
            diff.append(f"the final run exited {final.returncode}: {final.stderr.strip()[-500:]}")
        snapshot = catalog_snapshot(catalog, home)
        for key, rows in reference.snapshot.items():
            if snapshot.get(key) != rows:
                want, got = set(map(repr, rows)), set(map(repr, snapshot.get(key, [])))
                diff.append(f"catalog {key}: missing {sorted(want - got)[:3]}, "
                            f"extra {sorted(got - want)[:3]}")
        if tree(home) != reference.home_tree:
            diff.append(f"home tree: {sorted(set(tree(home)) ^ set(reference.home_tree))}")
        if tree(incoming) != reference.left_tree:
            diff.append(f"input folder: {sorted(set(tree(incoming)) ^ set(reference.left_tree))}")
        for rel in reference.home_tree:
            if rel.startswith(("outputs", "composites")) and (home / rel).is_file():
                try:
                    assert_products_equal(home / rel, reference.home / rel)
                except AssertionError as exc:
                    diff.append(f"{rel}: {str(exc).splitlines()[0]}")
        # Every input file exactly once (by content) among the filed, quarantined and left-over files.
        present = Counter(sha(p) for root in (home / "filesystem", home / "bad_data", incoming)
                          for p in root.rglob("*.fits") if p.is_file())
        counts = {digest: present[digest] for digest in inputs}
        if counts != dict(inputs):
            diff.append(f"input files not present exactly once: {counts}")
        return trial
    finally:
        catalog.dispose()


def campaign(
    sample: Path, refs: Path, work_dir: Path, input_dir: Path, catalog_url: Callable[[str], str], *,
    trials: int, kills: int, cores: int, seed: int, keep_failed: bool = False, scheduler: str | None = None,
) -> tuple[Reference, list[Trial]]:
    """One uninterrupted run, then ``trials`` kill trials; homes under ``work_dir``, inputs under
    ``input_dir``; ``catalog_url(name)`` gives each run its own catalog."""
    reference = reference_run(sample, refs, catalog_url("reference"), work_dir / "ref-home",
                              input_dir / "ref-in", cores=cores, scheduler=scheduler)
    rng = random.Random(seed)
    results = []
    for n in range(trials):
        home, incoming = work_dir / f"home-{n}", input_dir / f"in-{n}"
        trial = kill_trial(sample, refs, catalog_url(f"trial{n}"), home, incoming, reference, kills=kills,
                           cores=cores, rng=rng, scheduler=scheduler)
        results.append(trial)
        if trial.identical or not keep_failed:
            shutil.rmtree(home, ignore_errors=True)
            shutil.rmtree(incoming, ignore_errors=True)
    return reference, results
