"""The kill test: ``hstlc ingest`` as a subprocess, SIGKILLed at random moments, then re-run to completion.

The final catalog (rows, ignoring ids and dates), products (data) and file tree must equal those of an
uninterrupted run, and every input file must be present exactly once (by sha256).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from hstlc.catalog import Catalog
from hstlc.catalog.ingest_state import lock_holder
from hstlc.catalog.schema import Base
from test_ingest_support import (
    assert_products_equal,
    catalog_snapshot,
    copy_tree,
    make_sample,
    sha,
    tree,
)

KILLS = 4


def _command(home: Path, url: str, incoming: Path, lref: Path, cores: int) -> list[str]:
    return [sys.executable, "-m", "hstlc", "--home-dir", str(home), "--db", url, "-q", "ingest",
            str(incoming), "--offline", "--cores", str(cores), "--json"]


def _env(lref: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    env.update(HSTLC_LREF_DIR=str(lref), HSTLC_STEP="10", COLUMNS="200")
    return env


def _fresh(url: str) -> Catalog:
    catalog = Catalog.from_url(url)
    Base.metadata.drop_all(catalog.engine)
    catalog.init_schema()
    return catalog


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sigkill_at_random_moments_then_rerun_equals_an_uninterrupted_run(
    catalog_url: str, tmp_path: Path
) -> None:
    sample, lref = tmp_path / "sample", tmp_path / "lref"
    make_sample(sample, lref, extra=True)
    inputs = Counter(sha(p) for p in sample.iterdir())

    # The uninterrupted run (on the same backend), timed to choose the kill moments.
    ref_in, ref_home = copy_tree(sample, tmp_path / "ref-in"), tmp_path / "ref-home"
    catalog = _fresh(catalog_url)
    done = subprocess.run(_command(ref_home, catalog_url, ref_in, lref, 1), env=_env(lref),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    work = json.loads(done.stdout)["wall_seconds"]  # the ingest itself, without interpreter start-up
    expected = catalog_snapshot(catalog, ref_home)
    expected_tree, expected_left = tree(ref_home), tree(ref_in)
    catalog.dispose()

    # The same ingest, killed (with its workers) at random moments, then run to completion.
    incoming, home = copy_tree(sample, tmp_path / "in"), tmp_path / "home"
    catalog = _fresh(catalog_url)
    rng = random.Random(20241125)
    killed_during_work = 0
    for attempt in range(KILLS):
        cores = 2 if attempt % 2 == 0 else 1
        proc = subprocess.Popen(_command(home, catalog_url, incoming, lref, cores), env=_env(lref),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        # Kill points spread over the ingest's work (reading, extraction, filing, composites): wait
        # until it holds the ingest lock, then a random part of an uninterrupted run's duration.
        while proc.poll() is None and lock_holder(catalog) is None:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.1) * work)
        if proc.poll() is None:
            killed_during_work += 1
        with contextlib.suppress(ProcessLookupError):  # the run (and its workers) may be over already
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    final = subprocess.run(_command(home, catalog_url, incoming, lref, 1), env=_env(lref),
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert killed_during_work >= 2

    assert catalog_snapshot(catalog, home) == expected
    assert tree(home) == expected_tree
    assert tree(incoming) == expected_left
    for rel in expected_tree:
        if rel.startswith(("outputs", "composites")):
            assert_products_equal(home / rel, ref_home / rel)
    # Every input file exactly once (by content) among the filed, quarantined and left-over files.
    present = Counter(
        sha(p) for root in (home / "filesystem", home / "bad_data", incoming) for p in root.rglob("*.fits")
    )
    assert {digest: present[digest] for digest in inputs} == dict(inputs)
    catalog.dispose()
