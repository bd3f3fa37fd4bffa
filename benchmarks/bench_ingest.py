"""Ingest throughput at 1 and 2 cores on generated data, and the share of wall time spent in the catalog.

    .venv/bin/python benchmarks/bench_ingest.py [--datasets 48] [--rate 150] [--exptime 1500] [--cores 1 2]
                                                [--repeat 3]

Generates COS FUV pairs (a few targets, so composites have several members) into a temporary folder,
then for each core count ingests a fresh copy into a fresh SQLite catalog and prints datasets per minute,
the speed-up over one core, and ``db_seconds / wall_seconds`` (time in catalog transactions in the main
process). With ``--repeat N`` the core counts alternate N times (a shared VM's noise hits both alike)
and the medians are compared. Targets: ≥ 1.8× from 1 to 2 cores; catalog < 5 % of wall time.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def generate(folder: Path, lref: Path, *, datasets: int, rate: float, exptime: float) -> int:
    from hstlc import synthetic as syn

    events = 0
    targets = ("WD0308-565", "GD71", "AD-LEO", "HD209458", "V-AM-CVN", "EX-HYA", "GJ-1214", "AU-MIC")
    for i in range(datasets):
        rootname = f"lb4m{i // 26:02d}{chr(97 + i % 26)}aq"
        ds = syn.make_cos_fuv(folder, rootname, targname=targets[i % len(targets)], expstart=55500.0 + i,
                              exptime=exptime, source_rate=rate, reference_dir=lref, timeline=False, seed=i)
        events += sum(int(v.get("n_events", 0)) for v in ds.truth.get("segments", {}).values()
                      if isinstance(v, dict))
    return events


def cpu_times() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine so far (Linux /proc/stat; zeros elsewhere).

    Steal is time the hypervisor gave this VM's CPUs to someone else: a run with much of it measured
    the neighbours as well as hstlc.
    """
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    busy = sum(fields[:3]) + sum(fields[5:7])  # user, nice, system, irq, softirq
    return busy / tick, (fields[7] if len(fields) > 7 else 0) / tick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=48)
    parser.add_argument("--rate", type=float, default=150.0, help="source counts/s per segment")
    parser.add_argument("--exptime", type=float, default=1500.0)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1, help="alternate the core counts this many times")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from hstlc.catalog import Catalog
    from hstlc.config import load_settings
    from hstlc.pipeline import ingest

    base = Path(tempfile.mkdtemp(prefix="hstlc-bench-ingest-"))
    try:
        sample, lref = base / "sample", base / "lref"
        started = time.perf_counter()
        events = generate(sample, lref, datasets=args.datasets, rate=args.rate, exptime=args.exptime)
        size = sum(p.stat().st_size for p in sample.iterdir())
        print(f"generated {args.datasets} COS FUV pairs ({events or 'n/a'} events, {size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - started:.1f} s; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")
        walls: dict[int, list[float]] = {c: [] for c in args.cores}
        shares: dict[int, list[float]] = {c: [] for c in args.cores}
        for attempt in range(args.repeat):
            for cores in args.cores:
                tag = f"{cores}-{attempt}"
                incoming = base / f"in-{tag}"
                shutil.copytree(sample, incoming)
                # Write the fresh copy out now: otherwise the kernel flushes its ~1 GB of dirty pages
                # during the measured run, taking CPU and fsync time from it (worst with every CPU busy).
                os.sync()
                settings = load_settings(overrides={"home_dir": base / f"home-{tag}", "lref_dir": lref,
                                                    "resolver_offline": True}).settings
                catalog = Catalog.from_url(settings.database_url)
                catalog.init_schema()
                busy0, steal0 = cpu_times()
                summary = ingest(incoming, settings=settings, catalog=catalog, cores=cores)
                busy1, steal1 = cpu_times()
                catalog.dispose()
                assert not summary.failed, summary.failed
                shutil.rmtree(incoming, ignore_errors=True)
                n = len(summary.ingested)
                walls[cores].append(summary.wall_seconds)
                shares[cores].append(summary.db_seconds / summary.wall_seconds)
                print(f"cores={cores}: {n} datasets + {len(summary.composites)} composites in "
                      f"{summary.wall_seconds:.1f} s = {60 * n / summary.wall_seconds:.1f} datasets/min; "
                      f"catalog {summary.db_seconds:.2f} s = "
                      f"{100 * summary.db_seconds / summary.wall_seconds:.1f} % of wall time "
                      f"(name resolution {summary.resolve_seconds:.2f} s); machine CPU "
                      f"{busy1 - busy0:.1f} s, stolen by the hypervisor {steal1 - steal0:.1f} s")
        medians = {c: statistics.median(w) for c, w in walls.items()}
        best = {c: min(w) for c, w in walls.items()}
        if args.repeat > 1:
            for cores, values in walls.items():
                print(f"cores={cores}: median {medians[cores]:.1f} s "
                      f"(range {min(values):.1f}–{max(values):.1f}) "
                      f"= {60 * args.datasets / medians[cores]:.1f} datasets/min; catalog median "
                      f"{100 * statistics.median(shares[cores]):.1f} % of wall time")
        if 1 in medians:
            for cores, wall in medians.items():
                if cores != 1:
                    extra = f" (medians); {best[1] / best[cores]:.2f}× (best runs)" if args.repeat > 1 else ""
                    print(f"speed-up 1 → {cores} cores: {medians[1] / wall:.2f}×{extra}")
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
