"""How long resolving 20 names takes when Sesame does not answer (issue 13, item 12).

Two local stand-ins for a broken network, both on 127.0.0.1 (nothing leaves the machine):

* **black hole** — a server that accepts every connection, reads the request and never answers;
* **refused** — a port nobody listens on (connection refused at once).

Each is used as ``sesame_url`` and as its one mirror (the default has one mirror), with the default
``sesame_timeout``, ``sesame_retries`` and ``sesame_backoff``, on a fresh SQLite catalog. Each scenario
runs ``Resolver.resolve_many`` twice (the second run shows what the negative cache saves) and prints
the wall time and the connections the server saw.
Run: ``.venv/bin/python benchmarks/bench_resolver.py [N_NAMES]``.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.network import BlackHole, refused_url


def run(url: str, names: list[str], home: Path) -> tuple[float, float]:
    from hstlc.catalog import Catalog
    from hstlc.config import load_settings
    from hstlc.resolver import Resolver

    mirror = url.replace("/sesame", "/mirror/sesame")  # another base URL on the same server
    overrides = {"home_dir": home, "sesame_url": url, "sesame_mirrors": [mirror]}
    settings = load_settings(overrides=overrides).settings
    catalog = Catalog.from_url(settings.database_url)
    catalog.init_schema()
    times = []
    try:
        for _ in range(2):
            start = time.perf_counter()
            with Resolver(catalog=catalog, settings=settings) as resolver:
                resolver.resolve_many(names)
            times.append(time.perf_counter() - start)
    finally:
        catalog.dispose()
    return times[0], times[1]


def main(n_names: int) -> None:
    logging.basicConfig(level=logging.WARNING, format="  log: %(message)s")
    names = [f"NOSUCHSTAR{i}" for i in range(n_names)]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        hole = BlackHole()
        try:
            first, second = run(hole.url(), names, Path(tmp) / "hole")
            results["accepts, never answers"] = (first, second, hole.connections)
        finally:
            hole.close()
        first, second = run(refused_url(), names, Path(tmp) / "refused")
        results["connection refused"] = (first, second, None)
    print(f"resolve_many of {n_names} names, default timeout/retries/backoff, one mirror:")
    for label, (first, second, connections) in results.items():
        seen = "" if connections is None else f", {connections} connection(s) accepted in all"
        print(f"  {label:24s} first run {first:7.2f} s, second run {second:7.2f} s{seen}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
