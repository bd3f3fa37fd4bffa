"""Benchmark ``hstlc check`` on a COS FUV pair with 10⁷ events in total (generated into a temp dir).

The data are generated in a child process so that the peak RSS printed is that of checking alone:
:func:`hstlc.file_checks.check_dataset` reads both TIME columns and the headers and runs the six checks.
Prints wall time, events per second and peak RSS.
Run: ``.venv/bin/python benchmarks/bench_check.py [N_EVENTS]``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(directory: Path, n_events: int) -> None:
    from hstlc.synthetic import make_cos_fuv

    exptime = 1000.0
    ds = make_cos_fuv(directory, exptime=exptime, source_rate=n_events / 2 / exptime, background_rate=0.0,
                      timeline=False, seed=1)
    total = sum(seg["n_events"] for seg in ds.truth["segments"].values())
    print(json.dumps({"files": [str(p) for p in ds.event_files], "events": total}))


def main(n_events: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        out = subprocess.run([sys.executable, __file__, "--generate", str(directory), str(n_events)],
                             check=True, capture_output=True, text=True).stdout
        info = json.loads(out.strip().splitlines()[-1])
        from hstlc.config import load_settings
        from hstlc.file_checks import check_dataset

        settings = load_settings(overrides={"home_dir": directory / "home"}).settings
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            outcome = check_dataset(info["files"][0], settings)
            best = min(best, time.perf_counter() - start)
        assert outcome.ok, outcome.result.reasons
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    total = info["events"]
    print(f"events: {total:,} in {len(info['files'])} files")
    print(f"check wall time (best of 3): {best:.3f} s")
    print(f"events/s: {total / best:,.0f}")
    print(f"peak RSS: {peak / 1024:.0f} MiB (after imports, before checking: {rss_before / 1024:.0f} MiB; "
          f"TIME columns: {total * 4 / 2**20:.0f} MiB)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--generate":
        generate(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 10_000_000)
