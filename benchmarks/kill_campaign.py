"""Kill campaign: ``hstlc ingest --cores 2`` SIGKILLed at random moments, then run to completion.

Each trial copies the sample (COS FUV pairs with a composite, a B-only FUV, a quarantined dataset, a STIS
``_tag`` whose corrtag ingest derives) into an input folder on another filesystem than the hstlc home
(``/dev/shm`` where it exists: every move is copy → fsync → verify → rename), kills ``--kills`` runs at
random moments, runs once more to completion and compares the catalog rows, the file trees and the
products' data with an uninterrupted run. Prints kills, kills that landed during the work, trials identical.

    python benchmarks/kill_campaign.py --trials 17 --kills 3 --seed 1 [--db URL]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.kill import campaign, make_kill_sample, other_filesystem


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=17)
    parser.add_argument("--kills", type=int, default=3, help="killed runs per trial before the final run")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default=None, help="catalog URL (default: a SQLite file per trial)")
    parser.add_argument("--same-filesystem", action="store_true", help="keep the inputs beside the home")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hstlc-kill-campaign-"))
    inputs = None if args.same_filesystem else other_filesystem(work)
    cross = inputs is not None
    inputs = inputs or work / "inputs"
    started = time.perf_counter()
    try:
        make_kill_sample(work / "sample", work / "refs")

        def url(name: str) -> str:
            return args.db or f"sqlite:///{work / name}.db"

        reference, trials = campaign(work / "sample", work / "refs", work, inputs, url, trials=args.trials,
                                     kills=args.kills, cores=args.cores, seed=args.seed, keep_failed=True)
    finally:
        shutil.rmtree(inputs, ignore_errors=True)
    wall = time.perf_counter() - started
    kills = sum(len(t.kills) for t in trials)
    during = sum(t.killed_during_work for t in trials)
    identical = sum(t.identical for t in trials)
    print(f"inputs on another filesystem: {'yes' if cross else 'no'}; cores {args.cores}; "
          f"catalog {args.db or 'SQLite'}")
    print(f"uninterrupted ingest: {reference.work:.2f} s")
    print(f"kills: {kills} ({during} while the ingest was running), trials: {len(trials)}, "
          f"identical final state: {identical}/{len(trials)}")
    for n, trial in enumerate(trials):
        for line in trial.differences:
            print(f"  trial {n} (kills at {trial.kills} s): {line}")
    print(f"wall time: {wall:.0f} s")
    if identical == len(trials):
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"failed trials kept under {work}")
    return 0 if identical == len(trials) else 1


if __name__ == "__main__":
    raise SystemExit(main())
