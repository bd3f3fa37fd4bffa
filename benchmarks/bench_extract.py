"""Benchmark of ``hstlc.extraction.extract_file`` on a COS FUV pair with 10⁷ events in total.

Not a test: run ``.venv/bin/python benchmarks/bench_extract.py [--events N] [--repeat R] [--keep DIR]``.

It writes a calibrated FUV pair (GTI gap, airglow, DQ-flagged events, FLUXTAB/TDSTAB) with
``hstlc.synthetic`` into a temporary folder, then measures, each in a fresh subprocess so the peak RSS
belongs to that measurement alone:

* **floor** — reading the needed columns of both files (``hstlc.readers.read_dataset``: TIME, XCORR,
  YCORR, WAVELENGTH, EPSILON, DQ, GTI) plus one weighted ``np.bincount`` of the events into time bins;
* **extract** — the whole ``extract_file`` (the same reading, selection, calibration, binning).

Reported: wall time (best of ``--repeat``), events/s, the ratio extract/floor (target ≤ 2.5), peak RSS
above the interpreter's baseline (after imports, from /proc VmHWM), the tracemalloc peak of the numpy
allocations (measured in a separate run: tracing slows allocation), and both compared with the bytes of
the columns read (target ≤ 2×).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def _rss_mb() -> float:
    """Peak resident set size of this process (MB). VmHWM is per address space, so unlike ru_maxrss it
    does not inherit the parent's peak across fork/exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def _child(mode: str, path: str, ref: str) -> None:
    import numpy as np

    from hstlc.extraction import ExtractionParams, extract_file
    from hstlc.readers import read_dataset

    baseline = _rss_mb()
    traced = mode.endswith("-traced")
    mode = mode.removesuffix("-traced")
    if traced:  # tracemalloc slows allocation-heavy code: a separate run measures memory only
        tracemalloc.start()
    t0 = time.perf_counter()
    if mode == "floor":
        dataset = read_dataset(path)
        column_bytes = sum(s.events.nbytes for s in dataset.segments)
        n = sum(len(s.events) for s in dataset.segments)
        for segment in dataset.segments:
            ev = segment.events
            idx = (ev.time // 2.0).astype(np.intp)
            np.bincount(idx, weights=ev.epsilon)
        result = {"events": n, "column_bytes": column_bytes}
    else:
        lc = extract_file(path, ExtractionParams(step=2.0), lref_dir=ref)
        result = {"bins": len(lc), "fluxcal": lc.meta.get("FLUXCAL")}
    elapsed = time.perf_counter() - t0
    peak = 0
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    result.update(
        {
            "seconds": elapsed,
            "peak_rss_mb": _rss_mb(),
            "baseline_rss_mb": baseline,
            "tracemalloc_mb": peak / 2**20,
        }
    )
    print(json.dumps(result))


def _run(mode: str, path: Path, ref: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), str(ref)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=1e7, help="total events of the FUV pair")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the data here and keep it")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "PATH", "REF"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    from hstlc.synthetic import make_cos_fuv

    exptime = 5000.0
    # ~92% source, ~8% background/airglow events; two segments.
    source_rate = 0.92 * args.events / 2 / (exptime - 300.0)
    background_rate = 0.06 * args.events / 2 / 1024 / (exptime - 300.0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        t0 = time.perf_counter()
        ds = make_cos_fuv(
            folder,
            reference_dir=folder / "ref",
            exptime=exptime,
            gti=[[0, 2000], [2300, exptime]],
            source_rate=source_rate,
            background_rate=background_rate,
            airglow=True,
            dq_fraction=0.02,
            seed=1,
        )
        gen = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in ds.event_files)
        print(f"generated {ds.event_files[0].name} + _b ({size / 2**20:.0f} MB on disk) in {gen:.1f} s")
        floors = [_run("floor", ds.event_files[0], folder / "ref") for _ in range(args.repeat)]
        extracts = [_run("extract", ds.event_files[0], folder / "ref") for _ in range(args.repeat)]
        traced = _run("extract-traced", ds.event_files[0], folder / "ref")
        floor_traced = _run("floor-traced", ds.event_files[0], folder / "ref")
    floor = min(floors, key=lambda r: r["seconds"])
    ext = min(extracts, key=lambda r: r["seconds"])
    n = floor["events"]
    col_mb = floor["column_bytes"] / 2**20
    ext_rss = max(r["peak_rss_mb"] - r["baseline_rss_mb"] for r in extracts)
    floor_rss = max(r["peak_rss_mb"] - r["baseline_rss_mb"] for r in floors)
    ext_tm = traced["tracemalloc_mb"]
    print(f"events                 : {n:,d} ({ext['bins']} bins of 2 s, FLUXCAL {ext['fluxcal']})")
    print(f"columns read           : {col_mb:.0f} MB")
    print(
        f"floor (read + bincount): {floor['seconds']:.3f} s   peak RSS +{floor_rss:.0f} MB   "
        f"tracemalloc peak {floor_traced['tracemalloc_mb']:.0f} MB"
    )
    print(
        f"extract_file           : {ext['seconds']:.3f} s   peak RSS +{ext_rss:.0f} MB   "
        f"tracemalloc peak {ext_tm:.0f} MB"
    )
    print(f"events/s               : {n / ext['seconds']:,.0f}")
    print(f"time ratio to floor    : {ext['seconds'] / floor['seconds']:.2f}  (target <= 2.5)")
    print(
        f"memory / column bytes  : RSS {ext_rss / col_mb:.2f}, "
        f"tracemalloc {ext_tm / col_mb:.2f}  (target <= 2)"
    )


if __name__ == "__main__":
    main()
