"""Ingest throughput at 1 and 2 cores on generated data, and the share of wall time spent in the catalog.

    .venv/bin/python benchmarks/bench_ingest.py [--datasets 48] [--rate 150] [--exptime 1500] [--cores 1 2]
                                                [--repeat 3]

Generates COS FUV pairs (a few targets, so composites have several members) into a temporary folder,
then for each core count ingests a fresh copy into a fresh SQLite catalog and prints datasets per minute,
the speed-up over one core, and ``db_seconds / wall_seconds`` (time in catalog transactions in the main
process). With ``--repeat N`` the core counts alternate N times (a shared VM's noise hits both alike)
and the medians are compared. Targets: ≥ 1.8× from 1 to 2 cores; catalog < 5 % of wall time.

Each ingest runs in a new Python process started the way ``hstlc ingest`` starts: with several cores
the workers' fork server is started first, so that its imports run beside the process's own. A new
process per run, because otherwise a one-core run would reuse the caches and memory an earlier run in
the same process warmed, and a two-core run the fork server an earlier one started. The time measured
is that of the ``ingest()`` call (throughput); the whole process's time, start-up included, is printed
beside it, with its own speed-up.

The machine's own ceiling is measured in the same run (``--no-ceiling`` to skip it): two one-core
ingests of the whole set at once, in separate processes with separate catalogs, sharing nothing but
the machine. Their summed throughput over that of one alone is the most any two-core ingest could
reach here (two busy cores are slower than one: shared caches, memory bandwidth, the host's other
tenants); the two-core ingest's speed-up is also given as a fraction of it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()


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


def run_one(incoming: Path, home: Path, lref: Path, workers: str) -> dict[str, float | int]:
    """One ingest of ``incoming`` into a new catalog under ``home`` (in this process), started as
    ``hstlc ingest`` starts it; ``workers`` is a core count or a Dask scheduler address."""
    from hstlc.workers import start_worker_server

    scheduler = None if workers.isdigit() else workers
    cores = int(workers) if scheduler is None else 1
    if scheduler is None:
        start_worker_server(cores)
    from hstlc.catalog import Catalog
    from hstlc.config import load_settings
    from hstlc.ingestion import ingest

    overrides = {"home_dir": home, "lref_dir": lref, "resolver_offline": True, "scheduler_address": scheduler}
    settings = load_settings(overrides=overrides).settings
    catalog = Catalog.from_url(settings.database_url)
    catalog.init_schema()
    startup = time.perf_counter() - STARTED
    busy0, steal0 = cpu_times()
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    summary = ingest(incoming, settings=settings, catalog=catalog, cores=None if scheduler else cores)
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    busy1, steal1 = cpu_times()
    catalog.dispose()
    assert not summary.failed, summary.failed
    return {"datasets": len(summary.ingested), "composites": len(summary.composites),
            "wall": summary.wall_seconds, "db": summary.db_seconds, "resolve": summary.resolve_seconds,
            "cpu": busy1 - busy0, "steal": steal1 - steal0, "startup": startup,
            "writer_cpu": (own1.ru_utime + own1.ru_stime) - (own0.ru_utime + own0.ru_stime),
            "process": time.perf_counter() - STARTED}


def ingest_in_children(base: Path, sample: Path, lref: Path,
                       runs: list[tuple[str, int | str]]) -> list[dict[str, float | int]]:
    """Ingest a fresh copy of ``sample`` per ``(tag, cores or scheduler address)`` in ``runs``, each in its
    own new process, all at once; their reports in order."""
    folders = []
    for tag, _ in runs:
        folders.append(base / f"in-{tag}")
        shutil.copytree(sample, folders[-1])
    # Write the fresh copies out now: otherwise the kernel flushes their ~1 GB of dirty pages during the
    # measured run, taking CPU and fsync time from it (worst with every CPU busy).
    os.sync()
    children = [subprocess.Popen([sys.executable, __file__, "--one", str(folder), str(base / f"home-{tag}"),
                                  str(lref), str(cores)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
                for folder, (tag, cores) in zip(folders, runs, strict=True)]
    reports = []
    for child, (_, cores) in zip(children, runs, strict=True):
        out, err = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"the ingest with {cores} core(s) failed:\n{err}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return reports


def _cluster(scheduler: str) -> tuple[object | None, str]:
    """``local:N``: a LocalCluster of N single-threaded worker processes started here, once, and its
    address (the runs connect to it as to a standing cluster); otherwise the address as given."""
    if not scheduler.startswith("local:"):
        return None, scheduler
    import distributed

    from hstlc.workers import worker_environment

    with worker_environment():
        cluster = distributed.LocalCluster(n_workers=int(scheduler.removeprefix("local:")),
                                           threads_per_worker=1, processes=True, dashboard_address=None,
                                           silence_logs=logging.WARNING)
    return cluster, cluster.scheduler_address


def projection(datasets: int, work: float, writer: float, size: float) -> str:
    """The projected wall time of ``datasets`` datasets on N Dask workers, from this run's measurements:
    ``work`` seconds per dataset on one core (the 1-core ingest: reading, checks, extraction, filing),
    ``writer`` CPU seconds per dataset of the one catalog writer under Dask (collecting results, journal,
    moves, catalog), ``size`` bytes per dataset. The workers take ``work / N`` per dataset, the writer
    ``writer`` whatever N is: T ≈ datasets × max(work / N, writer); the shared filesystem must deliver
    ``size × N / work`` bytes/s for the workers to be the limit."""
    lines = [f"projection for {datasets:,} datasets (work {work:.3f} s/dataset on one core, writer CPU "
             f"{writer:.4f} s/dataset, {size / 1e6:.1f} MB/dataset): writer-bound beyond "
             f"N ≈ {work / writer:.0f} workers"]
    for workers in (2, 8, 32, 128, 512):
        per = max(work / workers, writer)
        bound = "writer" if writer >= work / workers else "workers"
        lines.append(f"  N={workers:>3}: {datasets * per / 3600:7.2f} h ({bound}-bound; shared filesystem "
                     f"≥ {size * workers / work / 1e6:,.0f} MB/s)")
    return "\n".join(lines)


def _label(mode: int | str, scheduler: str | None) -> str:
    return f"dask {scheduler}" if mode == "dask" else f"cores={mode}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=48)
    parser.add_argument("--rate", type=float, default=150.0, help="source counts/s per segment")
    parser.add_argument("--exptime", type=float, default=1500.0)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1, help="alternate the core counts this many times")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--no-ceiling", dest="ceiling", action="store_false",
                        help="skip measuring the machine's ceiling (two 1-core ingests at once)")
    parser.add_argument("--scheduler", help="also ingest on this Dask cluster: local:N (a LocalCluster of N "
                        "workers started once, before the runs, as a standing cluster is) or tcp://host:port")
    parser.add_argument("--project", type=int, default=50_000, metavar="DATASETS",
                        help="with --scheduler and 1 core: project the wall time of this many datasets")
    parser.add_argument("--one", nargs=4, metavar=("INCOMING", "HOME", "LREF", "WORKERS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.one:  # a child process: one measured ingest, reported as JSON
        incoming, home, lref, cores = args.one
        print(json.dumps(run_one(Path(incoming), Path(home), Path(lref), cores)))
        return

    base = Path(tempfile.mkdtemp(prefix="hstlc-bench-ingest-"))
    try:
        sample, lref = base / "sample", base / "lref"
        started = time.perf_counter()
        events = generate(sample, lref, datasets=args.datasets, rate=args.rate, exptime=args.exptime)
        size = sum(p.stat().st_size for p in sample.iterdir())
        print(f"generated {args.datasets} COS FUV pairs ({events or 'n/a'} events, {size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - started:.1f} s; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")
        cluster, address = _cluster(args.scheduler) if args.scheduler else (None, "")
        modes: list[int | str] = [*args.cores, *(["dask"] if args.scheduler else [])]
        walls: dict[int | str, list[float]] = {m: [] for m in modes}
        whole: dict[int | str, list[float]] = {m: [] for m in modes}
        shares: dict[int | str, list[float]] = {m: [] for m in modes}
        writers: dict[int | str, list[float]] = {m: [] for m in modes}
        ceilings: list[float] = []
        for attempt in range(args.repeat):
            for mode in modes:
                workers = address if mode == "dask" else mode
                (run,) = ingest_in_children(base, sample, lref, [(f"{mode}-{attempt}", workers)])
                n, wall = int(run["datasets"]), float(run["wall"])
                walls[mode].append(wall)
                whole[mode].append(float(run["process"]))
                shares[mode].append(run["db"] / wall)
                writers[mode].append(float(run["writer_cpu"]))
                print(f"{_label(mode, args.scheduler)}: {n} datasets + {run['composites']} composites in "
                      f"{wall:.1f} s = {60 * n / wall:.1f} datasets/min; catalog {run['db']:.2f} s = "
                      f"{100 * run['db'] / wall:.1f} % of wall time "
                      f"(name resolution {run['resolve']:.2f} s); "
                      f"machine CPU {run['cpu']:.1f} s (this process, the one catalog writer: "
                      f"{run['writer_cpu']:.1f} s), stolen by the hypervisor {run['steal']:.1f} s; "
                      f"whole process {run['process']:.1f} s (start-up {run['startup']:.1f} s)")
            if args.ceiling and 1 in args.cores:
                pair = ingest_in_children(base, sample, lref, [(f"c{attempt}a", 1), (f"c{attempt}b", 1)])
                solo = walls[1][-1]
                ceilings.append(sum(solo / float(r["wall"]) for r in pair))
                print(f"ceiling: two 1-core ingests at once took {float(pair[0]['wall']):.1f} s and "
                      f"{float(pair[1]['wall']):.1f} s (alone: {solo:.1f} s): "
                      f"{ceilings[-1]:.2f}× one's throughput")
        if cluster is not None:
            cluster.close()
        if "dask" in walls and 2 in walls:
            dask_walls, local = walls["dask"], walls[2]
            pairs = statistics.median(b / a for a, b in zip(dask_walls, local, strict=True))
            ratio = statistics.median(local) / statistics.median(dask_walls)
            share_dask, share_local = statistics.median(shares["dask"]), statistics.median(shares[2])
            print(f"Dask ({args.scheduler}) ÷ --cores 2 throughput: {ratio:.2f} (medians), {pairs:.2f} "
                  f"(median of the pairs' ratios); catalog share {100 * share_dask:.1f} % vs "
                  f"{100 * share_local:.1f} %; "
                  f"per dataset {statistics.median(dask_walls) / args.datasets:.3f} s vs "
                  f"{statistics.median(local) / args.datasets:.3f} s")
        if "dask" in walls and 1 in walls:
            writer = statistics.median(writers["dask"]) / args.datasets
            print(projection(args.project, statistics.median(walls[1]) / args.datasets, writer,
                             size / args.datasets))
        walls = {m: w for m, w in walls.items() if m != "dask"}
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
                    # Runs next to each other share the host's state (neighbours, caches): the ratio
                    # within each alternating pair cancels what the medians of each core count do not.
                    pairs = statistics.median(a / b for a, b in zip(walls[1], walls[cores], strict=True))
                    extra += f"; {pairs:.2f}× (median of the pairs' ratios)" if args.repeat > 1 else ""
                    print(f"speed-up 1 → {cores} cores: {medians[1] / wall:.2f}×{extra}; whole process "
                          f"{statistics.median(whole[1]) / statistics.median(whole[cores]):.2f}× (medians)")
                    if ceilings and cores == 2:
                        ceiling = statistics.median(ceilings)
                        print(f"machine ceiling for 2 cores (two 1-core ingests at once): {ceiling:.2f}× "
                              f"(median); the 2-core ingest reaches {medians[1] / wall / ceiling:.0%} of it")
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
