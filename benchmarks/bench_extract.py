"""Extraction speed as a user meets it: ``hstlc extract`` beside the floor and the original engine.

Not a test: run ``.venv/bin/python benchmarks/bench_extract.py [--events 1e7] [--repeat 3]
[--seed-python /path/seed/bin/python] [--keep DIR]``.

It writes two calibrated COS FUV pairs with ``hstlc.synthetic`` (GTI gap, airglow, DQ-flagged events,
FLUXTAB/TDSTAB): a big one of ``--events`` events and a small one of 2,000. Every measurement is a whole
process, started as a user starts it, run ``--repeat`` times in turn on both pairs (page cache warm); the
**marginal** time is the median on the big pair minus the median on the small one, so start-up cancels:

* **hstlc** — ``hstlc extract BIG_corrtag_a.fits -o OUT --overwrite --lref-dir REF`` (the console script);
* **floor** — a Python process that imports only numpy, memory-maps each file's EVENTS table, copies the
  six columns extraction needs (TIME, XCORR, YCORR, WAVELENGTH, EPSILON, DQ) into native arrays and makes
  one weighted ``np.bincount`` of the events into 2 s bins: what any extraction must at least do;
* **original** (with ``--seed-python``) — STScI's ``lightcurve`` 0.6.2 engine, ``lightcurve.io.read(path,
  step=1)``, in its own virtual environment (it needs numpy < 2, astropy < 6; see README "Benchmarks").

Reported: each command's median wall time on both pairs and the marginal time; the ratios original ÷ hstlc
(target ≥ 10) and hstlc ÷ floor (target ≤ 2.5); hstlc's start-up (its whole process on the small pair,
target ≤ 1.0 s); the peak RSS of hstlc on the big pair above the small one, against the bytes of the six
columns (target ≤ 1.2×); and the sha256 of the big product's data, so runs of two versions can be compared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = ("TIME", "XCORR", "YCORR", "WAVELENGTH", "EPSILON", "DQ")
SMALL_EVENTS = 2000
ORIGINAL = "import sys\nfrom lightcurve import io\nio.read(sys.argv[1], step=1)\n"


# --- the floor: numpy only --------------------------------------------------------------------------------


def _cards(raw: bytes) -> dict[str, str]:
    cards = {}
    for i in range(0, len(raw), 80):
        card = raw[i : i + 80].decode("ascii")
        if card[8:10] == "= ":
            cards[card[:8].strip()] = card[10:].split("/")[0].strip().strip("'").strip()
    return cards


def _events_table(path: Path) -> tuple[int, int, int, dict[str, str]]:
    """(data offset, rows, row width, header cards) of the EVENTS binary table (no FITS library)."""
    with open(path, "rb") as f:
        offset = 0
        while True:
            header = b""
            while True:
                block = f.read(2880)
                if len(block) < 2880:
                    raise ValueError(f"{path}: no EVENTS table")
                header += block
                if any(block[i : i + 8] == b"END     " for i in range(0, 2880, 80)):
                    break
            cards = _cards(header)
            offset += len(header)
            naxis = int(cards.get("NAXIS", "0"))
            size = 0
            if naxis:
                size = int(cards.get("BITPIX", "8").lstrip("-")) // 8
                for k in range(1, naxis + 1):
                    size *= int(cards[f"NAXIS{k}"])
                size += int(cards.get("PCOUNT", "0"))
            if cards.get("EXTNAME") == "EVENTS":
                return offset, int(cards["NAXIS2"]), int(cards["NAXIS1"]), cards
            offset += -(-size // 2880) * 2880
            f.seek(offset)


def floor(path: Path) -> None:
    """Memory-map the EVENTS table, copy the six columns out as native arrays, one weighted bincount."""
    import numpy as np

    sizes = {"E": (">f4", 4), "J": (">i4", 4), "I": (">i2", 2), "D": (">f8", 8), "B": ("u1", 1),
             "K": (">i8", 8), "L": ("u1", 1), "A": ("S1", 1)}
    names, formats, offsets, position = [], [], [], 0
    files = [path, path.with_name(path.name.replace("_corrtag_a", "_corrtag_b"))]
    for event_file in files:
        data_offset, rows, width, cards = _events_table(event_file)
        n_fields = int(cards["TFIELDS"])
        names, formats, offsets, position = [], [], [], 0
        for k in range(1, n_fields + 1):
            tform = cards[f"TFORM{k}"]
            repeat = int(tform[:-1] or 1)
            dtype, nbytes = sizes[tform[-1]]
            if cards[f"TTYPE{k}"] in COLUMNS:
                names.append(cards[f"TTYPE{k}"])
                formats.append(dtype)
                offsets.append(position)
            position += repeat * nbytes
        table = np.memmap(event_file, mode="r", offset=data_offset, shape=(rows,),
                          dtype=np.dtype({"names": names, "formats": formats, "offsets": offsets,
                                          "itemsize": width}))
        columns = {name: np.array(table[name], dtype=table.dtype[name].newbyteorder("=")) for name in names}
        np.bincount((columns["TIME"] * 0.5).astype(np.intp), weights=columns["EPSILON"])


# --- measurement ------------------------------------------------------------------------------------------


def _child(*args: object) -> str:
    """Run ``--child ARGS…`` of this script in a new process; its last line of output."""
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], check=True,
                         capture_output=True, text=True).stdout.strip()
    return out.splitlines()[-1] if out else ""


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one whole process. The peak is the kernel's high-water mark, which
    counts the memory of the process it was forked from: this process imports nothing large."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{stderr}")
    return wall, usage.ru_maxrss / 1024.0


def _generate(folder: Path, events: float, ref: Path) -> None:
    from hstlc.synthetic import make_cos_fuv

    exptime = 5000.0
    # ~92 % source, ~6 % background, the rest airglow; two segments.
    make_cos_fuv(
        folder, "lb4m01aaq", reference_dir=ref, exptime=exptime, gti=[[0, 2000], [2300, exptime]],
        source_rate=0.92 * events / 2 / (exptime - 300.0),
        background_rate=0.06 * events / 2 / 1024 / (exptime - 300.0),
        airglow=True, dq_fraction=0.02, seed=1,
    )


def _original_references(ref: Path, cenwave: int) -> Path:
    """A copy of ``ref`` for the original engine: its TDS lookup wants one row per OPT_ELEM, APERTURE and
    SEGMENT (it predates the CENWAVE column calcos ≥ 2020 matches on), so the TDSTAB keeps the exposure's
    CENWAVE rows only; the tables are otherwise the same."""
    import numpy as np
    from astropy.io import fits

    out = ref.with_name("ref-original")
    out.mkdir(exist_ok=True)
    for table in ref.glob("*.fits"):
        with fits.open(table) as hdul:
            if "_tds" in table.name:
                rows = hdul[1].data[hdul[1].data["CENWAVE"] == cenwave]
                # It also interpolates over all 60 WAVELENGTH entries, padding included (§5.2: only the
                # first NWL are valid): continue the valid ones flat so it sees the same curve.
                for row in rows:
                    nwl = int(row["NWL"])
                    wave = row["WAVELENGTH"]
                    wave[nwl:] = wave[nwl - 1] + 1.0 + np.arange(len(wave) - nwl)
                    for name in ("SLOPE", "INTERCEPT"):
                        row[name][:, nwl:] = row[name][:, nwl - 1 : nwl]
                hdul[1] = fits.BinTableHDU(rows, header=hdul[1].header)
            hdul.writeto(out / table.name, overwrite=True)
    return out


def _product_digest(path: Path) -> str:
    from astropy.io import fits

    with fits.open(path) as hdul:
        return hashlib.sha256(hdul[1].data.tobytes()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=1e7, help="events of the big FUV pair (2 segments)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command on each pair (median)")
    parser.add_argument("--seed-python", type=Path, help="python of a venv with lightcurve 0.6.2")
    parser.add_argument("--keep", type=Path, help="write the data here and keep it (reused when present)")
    parser.add_argument("--json", action="store_true", help="also print the numbers as JSON")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # work done in its own process, so this one stays small (see _run)
        job, *rest = args.child
        if job == "floor":
            floor(Path(rest[0]))
        elif job == "generate":
            _generate(Path(rest[0]), float(rest[1]), Path(rest[2]))
        elif job == "original-references":
            print(_original_references(Path(rest[0]), int(rest[1])))
        elif job == "digest":
            print(_product_digest(Path(rest[0])))
        return

    hstlc = Path(sys.executable).with_name("hstlc")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        ref = folder / "ref"
        pairs = {}
        t0 = time.perf_counter()
        for name, n in (("big", args.events), ("small", SMALL_EVENTS)):
            existing = folder / name / "lb4m01aaq_corrtag_a.fits"
            if not existing.exists():
                _child("generate", folder / name, n, ref)
            pairs[name] = existing
        big_files = [pairs["big"], pairs["big"].with_name("lb4m01aaq_corrtag_b.fits")]
        size = sum(p.stat().st_size for p in big_files)
        print(f"data: {size / 2**20:.0f} MB FUV pair ({time.perf_counter() - t0:.1f} s to generate or find)")
        for p in big_files:  # warm the page cache (in another process: this one stays small)
            subprocess.run(["cat", str(p)], stdout=subprocess.DEVNULL, check=True)
        env = dict(os.environ, lref=str(ref), OMP_NUM_THREADS="1")
        commands = {
            "hstlc": lambda f: [str(hstlc), "extract", str(f), "-o", str(folder / f"out-{f.parent.name}"),
                                "--overwrite", "--lref-dir", str(ref)],
            "floor": lambda f: [sys.executable, __file__, "--child", "floor", str(f)],
        }
        envs = {"hstlc": env, "floor": env}
        if args.seed_python:
            commands["original"] = lambda f: [str(args.seed_python), "-c", ORIGINAL, str(f)]
            envs["original"] = dict(env, lref=_child("original-references", ref, 1291))
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.repeat):
            for name, command in commands.items():
                for pair in ("big", "small"):
                    runs.setdefault((name, pair), []).append(_run(command(pairs[pair]), envs[name]))
        digest = _child("digest", folder / "out-big" / "lb4m01aaq_curve.fits")

    def median(name: str, pair: str, k: int = 0) -> float:
        return statistics.median(r[k] for r in runs[(name, pair)])

    result: dict[str, float | str] = {"product_sha256": digest}
    print(f"{'command':10s} {'big (s)':>9s} {'small (s)':>9s} {'marginal (s)':>12s} "
          f"{'peak RSS big/small (MiB)':>26s}")
    for name in commands:
        big, small = median(name, "big"), median(name, "small")
        rss_big, rss_small = median(name, "big", 1), median(name, "small", 1)
        result[f"{name}_marginal_s"] = big - small
        result[f"{name}_small_s"] = small
        result[f"{name}_rss_extra_mib"] = rss_big - rss_small
        print(f"{name:10s} {big:9.3f} {small:9.3f} {big - small:12.3f} {rss_big:13.0f} / {rss_small:.0f}")
    events = args.events
    column_mib = events * 22 / 2**20  # TIME, XCORR, YCORR, WAVELENGTH, EPSILON (4 bytes), DQ (2 bytes)
    hstlc_m, floor_m = result["hstlc_marginal_s"], result["floor_marginal_s"]
    print(f"events/s (hstlc marginal)        : {events / hstlc_m:,.0f}")
    print(f"hstlc ÷ floor                     : {hstlc_m / floor_m:.2f}  (target ≤ 2.5)")
    if "original_marginal_s" in result:
        ratio = result["original_marginal_s"] / hstlc_m
        print(f"original ÷ hstlc                  : {ratio:.1f}  (target ≥ 10)")
    print(f"hstlc start-up (small pair, whole): {result['hstlc_small_s']:.2f} s  (target ≤ 1.0)")
    extra = result["hstlc_rss_extra_mib"]
    print(f"hstlc peak RSS above the small run: {extra:.0f} MiB = {extra / column_mib:.2f} × the "
          f"{column_mib:.0f} MiB of columns  (target ≤ 1.2)")
    print(f"big product's data sha256         : {digest}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
