"""Download throughput of ``hstlc download`` against the MAST test server on 127.0.0.1 (no internet).

Not a test: run ``.venv/bin/python benchmarks/bench_download.py [--datasets 24] [--transfers 1 4 8]
[--link-mbps 100] [--repeat 3]``.

Generates COS FUV datasets (``_corrtag_a/_b`` + ``_x1d``) with the project's generator, serves them with the
MAST Search API of ``tests/support/mast.py`` and downloads the whole selection into a fresh folder for each
number of parallel transfers, twice over: from the server as fast as it can send (this machine's loopback:
what hstlc itself costs) and through a link limited per connection (``--link-mbps``, the server pausing
between 64 KiB chunks: what parallel transfers buy against a remote archive, whose per-connection rate is
bounded by latency). Prints files/s, MB/s, peak RSS (this process: hstlc and the test server,
which reads each file it serves into memory) and the speed-up over one transfer, the medians of ``--repeat``
runs; every run's files are checked against the originals' sha256.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.mast import MastDataset, serve_mast


def archive(folder: Path, n: int, rate: float) -> list[MastDataset]:
    from hstlc import synthetic as syn

    out = []
    for i in range(n):
        root = f"lb4m{i // 26:02d}{chr(97 + i % 26)}aq"
        ds = syn.make_cos_fuv(folder / root, root, exptime=1000.0, source_rate=rate, x1d=True,
                              reference_dir=folder / "lref", seed=i, timeline=False)
        files = sorted([*ds.event_files, *([ds.x1d] if ds.x1d else [])])
        out.append(MastDataset(root.upper(), "WD0308-565", "COS", files,
                               start_time=f"2014-06-{1 + i % 28:02d}T00:{i % 60:02d}:00"))
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_once(url: str, home: Path, transfers: int, expected: dict[str, str]) -> tuple[float, int, int]:
    from hstlc.config import load_settings
    from hstlc.download import download

    settings = load_settings(overrides={"home_dir": home, "mast_url": url, "download_transfers": transfers,
                                        "download_limit": 0}).settings
    t0 = time.perf_counter()
    summary = download(settings, today=dt.date(2026, 12, 7))
    wall = time.perf_counter() - t0
    got = {p.name: digest(p) for p in settings.ingest_dir.iterdir()}
    if summary.failed or got != expected:
        raise SystemExit(f"transfers={transfers}: wrong result ({len(summary.failed)} failed)")
    return wall, len(got), summary.bytes_downloaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=24)
    parser.add_argument("--rate", type=float, default=300.0, help="source counts/s per segment (file size)")
    parser.add_argument("--transfers", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--link-mbps", type=float, default=100.0, help="per-connection link for the 2nd pass")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        datasets = archive(root / "files", args.datasets, args.rate)
        expected = {f.name: digest(f) for d in datasets for f in d.files}
        size = sum(f.stat().st_size for d in datasets for f in d.files)
        print(f"{len(expected)} files, {size / 1e6:.1f} MB, generated in {time.perf_counter() - t0:.1f} s")
        pause = 65536 * 8 / (args.link_mbps * 1e6)  # seconds per 64 KiB chunk on the limited link
        passes = (("loopback, unthrottled", 0.0), (f"{args.link_mbps:g} Mbit/s per connection", pause))
        for label, delay in passes:
            print(f"\n{label}")
            base = None
            for transfers in args.transfers:
                walls = []
                for k in range(args.repeat):
                    server_gen = serve_mast(datasets)
                    server = next(server_gen)
                    server.faults.chunk_delay = delay
                    try:
                        wall, files, nbytes = run_once(server.url, root / f"home-{label[:4]}-{transfers}-{k}",
                                                       transfers, expected)
                    finally:
                        server_gen.close()
                    walls.append(wall)
                wall = statistics.median(walls)
                base = base or wall
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"  transfers={transfers:2d}: {wall:6.2f} s (range {min(walls):.2f}–{max(walls):.2f}), "
                      f"{files / wall:6.1f} files/s, {nbytes / wall / 1e6:7.1f} MB/s, speed-up "
                      f"{base / wall:4.2f}×, peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
