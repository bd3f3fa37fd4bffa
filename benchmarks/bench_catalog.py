"""Benchmark of the catalog's listings (issue 15): ``targets``, ``products --variable``, ``show NAME`` and
``export`` to CSV on a catalog of 100,000 ``metadata`` rows and 20,000 products with stats.

The rows are generated, not files (``tests/support/catalog_rows.py``: targets observed from once to
thousands of times, COS FUV pairs and NUV, STIS, gratings, proposals, a spread of verdicts, ``details`` of
the size ``hstlc stats`` writes, rejected files) and bulk-inserted into a fresh catalog: a SQLite file in a
temporary folder, and, with ``--url``, a scratch database created on that server (PostgreSQL or MariaDB)
and dropped afterwards. Each listing is timed ``--repeat`` times as a library call on a freshly opened
catalog (a new connection: cold database cache, warm page cache), then once more under ``tracemalloc`` for
its peak Python memory; a few run as the command a user types (``python -m hstlc …`` in a new process,
stdout to a file), with the process's peak RSS. Each time is compared with the target of 1 s.

    python benchmarks/bench_catalog.py [--rows 100000] [--stats 20000] [--repeat 3] [--json]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-sqlite]

The report's pages need their figures made from real product files, which these generated rows do not
have: ``benchmarks/bench_report.py --parts pages`` times them on a 10,000-product catalog whose figures
are made once from a sample and linked (target: 30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hstlc.catalog import Catalog
from hstlc.catalog.listings import CatalogFilter
from hstlc.export import export_products, export_targets
from support.catalog_rows import SETTINGS_KEY, CatalogRows, fill, generate

TARGET_SECONDS = 1.0


@dataclass
class Timing:
    """One timed case: wall times of each repeat (s), the rows it gave, its peak memory (MiB)."""

    backend: str
    case: str
    how: str
    seconds: list[float] = field(default_factory=list)
    rows: int = 0
    peak_mib: float = 0.0

    @property
    def worst(self) -> float:
        return max(self.seconds)

    def line(self) -> str:
        spread = (f"{min(self.seconds):.3f}–{self.worst:.3f}" if len(self.seconds) > 1
                  else f"{self.seconds[0]:.3f}")
        return (f"{self.backend:<10} {self.how:<8} {self.case:<46} {self.rows:>7} {spread:>13} "
                f"{self.worst / TARGET_SECONDS:>6.2f} {self.peak_mib:>8.1f}")


def time_library(backend: str, case: str, url: str, call: Callable[[Catalog], Any], repeat: int) -> Timing:
    """``call(catalog)`` on a freshly opened catalog, ``repeat`` times, then once for its peak memory."""
    timing = Timing(backend, case, "library")
    for _ in range(repeat):
        catalog = Catalog.open_existing(url)
        try:
            start = time.perf_counter()
            result = call(catalog)
            timing.seconds.append(time.perf_counter() - start)
        finally:
            catalog.dispose()
    timing.rows = _count(result)
    catalog = Catalog.open_existing(url)
    tracemalloc.start()
    try:
        call(catalog)
        timing.peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
        catalog.dispose()
    return timing


def _count(result: Any) -> int:
    if isinstance(result, list):
        return len(result)
    if hasattr(result, "rows"):  # an ExportResult
        return int(result.rows)
    return len(getattr(result, "datasets", ())) + len(getattr(result, "products", ()))


#: Runs ``python -m hstlc`` in this process and, at exit, writes its peak resident memory (``VmHWM``: of
#: this program only — a child's ``ru_maxrss`` would count the benchmark's own memory, copied at fork).
_PEAK_WRAPPER = (
    "import atexit, os, runpy, sys\n"
    "def _peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            open(os.environ['BENCH_PEAK_FILE'], 'w').write(line.split()[1])\n"
    "atexit.register(_peak)\n"
    "sys.argv = ['hstlc', *sys.argv[1:]]\n"
    "runpy.run_module('hstlc', run_name='__main__')\n"
)


def time_command(backend: str, case: str, url: str, args: list[str], folder: Path, repeat: int) -> Timing:
    """``python -m hstlc --db URL ARGS`` as a user runs it: a new process, stdout to a file; wall time and
    the process's peak resident memory."""
    timing = Timing(backend, case, "command")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    peak_file = folder / "peak.txt"
    env.update(COLUMNS="160", XDG_CONFIG_HOME=str(folder / "xdg"), BENCH_PEAK_FILE=str(peak_file))
    out = folder / "stdout.txt"
    for _ in range(repeat):
        with out.open("w", encoding="utf-8") as stdout:
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, "--db", url, *args], stdout=stdout,
                                  stderr=subprocess.PIPE, text=True, cwd=folder, env=env, check=False)
            timing.seconds.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"hstlc {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        if peak_file.exists():
            timing.peak_mib = max(timing.peak_mib, int(peak_file.read_text()) / 1024)
    lines = out.read_text(encoding="utf-8").count("\n")
    timing.rows = lines - 1 if "--csv" in args else lines
    return timing


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new, empty database on the server of ``url`` (dropped afterwards); yields its URL."""
    base = make_url(url)
    name = f"hstlc_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            if base.get_backend_name() == "postgresql":  # end the connections a pool may still hold
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def load(url: str, rows: CatalogRows) -> float:
    """Create the catalog at ``url`` and bulk-insert ``rows``; the seconds it took."""
    catalog = Catalog.from_url(url)
    try:
        catalog.init_schema()
        start = time.perf_counter()
        fill(catalog, rows)
        if catalog.engine.dialect.name == "postgresql":  # what autovacuum does to a loaded table soon after
            with catalog.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
        return time.perf_counter() - start
    finally:
        catalog.dispose()


def names_to_show(rows: CatalogRows) -> dict[str, str]:
    """The most observed target, a target observed a median number of times, and a rootname."""
    datasets = Counter(d["targname"] for d in rows.datasets)
    ranked = [t for t, _n in datasets.most_common()]
    return {"most observed target": ranked[0], "median target": ranked[len(ranked) // 2],
            "rootname": rows.datasets[len(rows.datasets) // 2]["rootname"]}


def run_backend(backend: str, url: str, rows: CatalogRows, repeat: int, folder: Path) -> list[Timing]:
    seconds = load(url, rows)
    print(f"{backend}: loaded {len(rows.metadata):,} metadata rows, {len(rows.outputs):,} outputs, "
          f"{len(rows.stats):,} stats, {len(rows.bad_data):,} bad_data in {seconds:.1f} s", flush=True)
    shown = names_to_show(rows)
    csv = folder / f"{backend}.csv"

    def show(name: str) -> Callable[[Catalog], Any]:
        return lambda catalog: catalog.show(name, settings_key=SETTINGS_KEY)

    def export(kind: str, filters: CatalogFilter) -> Callable[[Catalog], Any]:
        write = export_targets if kind == "targets" else export_products
        return lambda catalog: write(catalog, filters, csv, settings_key=SETTINGS_KEY, overwrite=True)

    cases: list[tuple[str, Callable[[Catalog], Any]]] = [
        ("targets", lambda c: c.targets(settings_key=SETTINGS_KEY)),
        ("products --variable",
         lambda c: c.products(CatalogFilter(variable=True), settings_key=SETTINGS_KEY)),
        ("targets --variable --grating G130M",
         lambda c: c.targets(CatalogFilter(variable=True, grating="G130M"), settings_key=SETTINGS_KEY)),
        ("products --name 'HD1*' --sort fap", lambda c: c.products(CatalogFilter(name="HD1*", sort="fap"),
                                                                    settings_key=SETTINGS_KEY)),
        ("products (all, incl. without stats)", lambda c: c.products(settings_key=SETTINGS_KEY)),
        (f"show {shown['most observed target']} (most observed)", show(shown["most observed target"])),
        (f"show {shown['median target']} (median target)", show(shown["median target"])),
        (f"show {shown['rootname']} (a rootname)", show(shown["rootname"])),
        ("export targets → CSV", export("targets", CatalogFilter())),
        ("export products --variable → CSV", export("products", CatalogFilter(variable=True))),
        ("export products (all) → CSV", export("products", CatalogFilter())),
    ]
    timings = []
    for case, call in cases:
        timings.append(time_library(backend, case, url, call, repeat))
        print(timings[-1].line(), flush=True)
    commands = [
        ("targets --csv", ["targets", "--csv"]),
        ("products --variable --csv", ["products", "--variable", "--csv"]),
        ("targets (table, piped)", ["targets"]),
        ("products --variable (table, piped)", ["products", "--variable"]),
        (f"show {shown['median target']} (table, piped)", ["show", shown["median target"]]),
        ("export products --variable -o p.csv", ["export", "products", "--variable", "-o", str(csv),
                                                  "--overwrite"]),
        ("--version (start-up alone)", ["--version"]),
    ]
    for case, args in commands:
        timings.append(time_command(backend, case, url, args, folder, repeat))
        print(timings[-1].line(), flush=True)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="metadata rows (default 100,000)")
    parser.add_argument("--stats", type=int, default=20_000, help="products with stats (default 20,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions of each case (default 3)")
    parser.add_argument("--url", action="append", default=[],
                        help="a PostgreSQL or MariaDB server URL: a scratch database is made there "
                             "(repeatable)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite catalog")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the results as JSON at the end")
    args = parser.parse_args()

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; generating rows…", flush=True)
    start = time.perf_counter()
    rows = generate(metadata_rows=args.rows, stats_products=args.stats, seed=args.seed)
    print(f"{len(rows.metadata):,} metadata rows ({len(rows.datasets):,} datasets, {len(rows.targets):,} "
          f"targets), {rows.products:,} products of which {len(rows.stats):,} with stats, generated in "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    print(f"{'backend':<10} {'how':<8} {'case':<46} {'rows':>7} {'wall s':>13} {'÷ 1 s':>6} {'peak MiB':>8}")
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="hstlc-bench-catalog-") as tmp:
        folder = Path(tmp)
        (folder / "xdg").mkdir()
        if not args.no_sqlite:
            timings += run_backend("sqlite", f"sqlite:///{folder / 'catalog.db'}", rows, args.repeat, folder)
        for url in args.url:
            backend = make_url(url).get_backend_name()
            with scratch_database(url) as scratch:
                timings += run_backend(backend, scratch, rows, args.repeat, folder)
    print("report pages: see benchmarks/bench_report.py --parts pages (they need figures from product files)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    library = [t for t in timings if t.how == "library"]
    slow = [t for t in library if t.worst > TARGET_SECONDS]
    print(f"library listings over {TARGET_SECONDS:g} s (worst of {args.repeat}): "
          + (", ".join(f"{t.backend} {t.case} {t.worst:.2f} s" for t in slow) or "none"))
    if args.json:
        print(json.dumps([{**asdict(t), "worst": t.worst,
                           "median": statistics.median(t.seconds)} for t in timings], indent=2))


if __name__ == "__main__":
    main()
