"""Fuzz campaign: hostile mutants of generated real-format files through the readers ``check``/``ingest`` use.

Each mutant replaces one file of a good dataset (COS FUV segment A, COS NUV, STIS tag + x1d) and goes
through :func:`hstlc.readers.read_event_times` (what ``hstlc check`` reads) and
:func:`hstlc.readers.read_dataset` (what ``hstlc ingest`` reads). Outcomes: ``ok``, an ``HstlcError``
subclass (a clear verdict), ``internal:<type>`` (anything else: a bug), ``timeout``. Warnings are errors,
as in the test suite. Some mutants are gzip/bzip2 copies, among them decompression bombs: each is refused
after hstlc's real limit (1 GiB, a few seconds) unless ``--inflate-limit`` lowers it.

    python benchmarks/fuzz_inputs.py --mutants 10000 --seed 1 --timeout 10 --inflate-limit 64
"""

from __future__ import annotations

import argparse
import collections
import resource
import shutil
import signal
import tempfile
import time
import warnings
from pathlib import Path
from types import FrameType

import numpy as np

from hstlc.errors import HstlcError
from hstlc.readers import hdus, read_dataset, read_event_times
from hstlc.synthetic import make_cos_fuv, make_cos_nuv, make_stis_tag
from hstlc.synthetic.hostile import layout, mutate


class Timeout(BaseException):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Timeout


def bases(work: Path) -> list[tuple[Path, list[Path]]]:
    """(directory, files) of the good datasets the mutants are made from."""
    fuv = make_cos_fuv(work / "fuv", "lfuz01aaq", segments=("FUVA",), exptime=60.0, source_rate=30.0, seed=1)
    nuv = make_cos_nuv(work / "nuv", "lfuz02aaq", exptime=60.0, source_rate=30.0, seed=2)
    stis = make_stis_tag(work / "stis", "ofuz03aaq", exptime=60.0, source_rate=30.0, seed=3)
    out = []
    for ds in (fuv, nuv, stis):
        files = [Path(f) for f in ds.files]
        out.append((files[0].parent, files))
    return out


def run_one(path: Path, event_file: Path, timeout: float) -> str:
    """The outcome class of reading ``event_file`` (its dataset holding the mutant ``path``)."""
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", category=Warning, module="astropy.units")
            read_event_times(event_file)
            read_dataset(event_file)
        return "ok"
    except Timeout:
        return "timeout"
    except HstlcError as exc:
        return f"error:{type(exc).__name__}"
    except Exception as exc:  # classifying is the point
        return f"internal:{type(exc).__name__}: {str(exc)[:80]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per file")
    parser.add_argument("--show", type=int, default=10, help="how many slowest files / examples to show")
    parser.add_argument("--inflate-limit", type=int, default=0,
                        help="MiB a compressed mutant may decompress to (default: hstlc's own limit)")
    args = parser.parse_args()
    if args.inflate_limit > 0:
        hdus.MIN_INFLATED_LIMIT = args.inflate_limit << 20
    signal.signal(signal.SIGALRM, _alarm)
    rng = np.random.default_rng(args.seed)
    counts: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    slowest: list[tuple[float, str]] = []
    rss_jumps: list[tuple[int, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        good = [(d, files, [(f, f.read_bytes()) for f in files]) for d, files in bases(work)]
        layouts = {f: layout(b) for _, _, fb in good for f, b in fb}

        start = time.perf_counter()
        for n in range(args.mutants):
            _, files, blobs = good[n % len(good)]
            target, blob = blobs[int(rng.integers(len(blobs)))] if rng.random() < 0.3 else blobs[0]
            mutant, label = mutate(blob, rng, layouts[target])
            target.write_bytes(mutant)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            t0 = time.perf_counter()
            outcome = run_one(target, files[0], args.timeout)
            elapsed = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            target.write_bytes(blob)
            kind = outcome.split(":")[0] if not outcome.startswith("error") else outcome
            counts[kind] += 1
            name = f"#{n} {target.name} {label}"
            if kind in ("internal", "timeout"):
                examples.setdefault(outcome[:100], name)
            slowest.append((elapsed, f"{name} → {outcome[:60]}"))
            slowest = sorted(slowest, reverse=True)[: args.show]
            if after > before:
                rss_jumps.append((after, name))
            del mutant
        total = time.perf_counter() - start
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.mutants} mutants (seed {args.seed}) in {total:.1f} s")
    for kind, count in sorted(counts.items()):
        print(f"  {kind:40s} {count:6d}")
    if examples:
        print("internal errors / timeouts (first file of each):")
        for outcome, name in list(examples.items())[:40]:
            print(f"  {outcome}  [{name}]")
    print("slowest files:")
    for elapsed, name in slowest:
        print(f"  {elapsed:7.3f} s  {name}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS {peak / 1024:.0f} MiB" + (f" (last rise at {rss_jumps[-1][1]})" if rss_jumps else ""))


if __name__ == "__main__":
    main()
