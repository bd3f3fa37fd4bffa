"""Benchmark of ``hstlc plot``: the report's pages at 10,000 products, figure making per product at one and
two cores (against the figure code of another git revision, measured in the same run), and the index of
10,000 products in headless Chromium.

What is built (in a temporary folder, removed at the end unless ``--keep``):

* **Sample products** (``--sample``, default 48): real product files in eight kinds that cycle — COS FUV
  one orbit at 2 s (constant), two orbits with a 10 min period (folded panel), COS NUV with a flare, STIS
  with ``FLUXCAL = UNCALIBRATED`` (no flux panel), a composite of two visits days apart (panels), a
  composite of eight visits (gaps cut), a faint source on a bright background at 10 s, and five orbits at
  2 s (7,500 bins: the ±1σ band) — with their catalog rows and the stats ``hstlc stats`` computes.
* **The big catalog** (``--products``, default 10,000): generated rows, not computed ones — 2,500
  targets, each with three individual products (an FUV pair: two ``metadata`` and ``outputs`` rows per
  dataset) and one composite; ``stats`` rows with varied values and the ``details`` JSON of a sample
  product of the same kind (~5 KB each, as real rows have). Each product file is a hard link to the
  sample product of its kind.

"Figures already made" means: every product of the big catalog has its two PNGs in ``figures/`` and a
manifest entry with its current fingerprint, exactly as a previous ``hstlc plot`` leaves them. The
harness gets there by running ``build_report`` once with the figure job replaced by one that hard-links
the sample product's figures (made by this code in (b)) — the only shortcut; every timed run is the
unmodified ``build_report`` (or the ``hstlc plot`` command).

Timed, each in a fresh process (wall time, throughput, peak RSS; ratio to the target):

(a) the pages of ``hstlc plot`` with the figures made: *cold* (no page on disk: every product page,
    target page, the rows file and the index written), *warm* (nothing changed: only the index
    written), and the whole ``hstlc plot`` command (warm, process start-up included). Target ≤ 30 s.
(b) figure making per product on one core: ``build_report(all_products=True)`` of the sample catalog;
    the figure phase is timed from the first to the last progress report (reading each product,
    recomputing its stats, drawing and writing two PNGs). The same for the code of ``--baseline`` (a
    git revision, default ``main``; ``git archive`` of its ``src/hstlc`` first on ``PYTHONPATH``),
    alternating new and old. Target ≤ 0.25 s.
(c) the same at two cores (worker start-up included).
(d) with ``--browser``: the index of (a) in headless Chromium — load (navigation to the load event), and
    in the page a click on a column header of the boring table (sorting every row) and a filter.

    python benchmarks/bench_report.py [--products 10000] [--sample 48] [--baseline main|none]
                                      [--repeat 2] [--browser] [--db URL] [--json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

PAGES_TARGET = 30.0
FIGURE_TARGET = 0.25
TARGETS = 2500
COMPUTED_AT = datetime(2025, 1, 1)

KINDS: tuple[dict[str, Any], ...] = (
    dict(kind="fuv", n=1000, rate=40.0, instrume="COS", detector="FUV", opt_elem="G130M", cenwave=1291),
    dict(kind="fuv-periodic", n=1000, orbits=2, rate=30.0, period=600.0, instrume="COS", detector="FUV",
         opt_elem="G160M", cenwave=1577),
    dict(kind="nuv-flare", n=1500, rate=500.0, flare=True, instrume="COS", detector="NUV", opt_elem="G185M",
         cenwave=1786),
    dict(kind="stis", n=1300, rate=25.0, instrume="STIS", detector="FUV-MAMA", opt_elem="G140L", cenwave=1425,
         fluxcal="UNCALIBRATED"),
    dict(kind="composite-2", n=1000, visits=(0.0, 3.5), rate=40.0, instrume="COS", detector="FUV",
         opt_elem="G130M", cenwave=1291),
    dict(kind="composite-8", n=600, visits=tuple(float(d) for d in range(0, 80, 10)), rate=40.0,
         instrume="COS", detector="FUV", opt_elem="G130M", cenwave=1291),
    dict(kind="faint", n=250, step=10.0, rate=0.5, background=1.0, instrume="COS", detector="FUV",
         opt_elem="G140L", cenwave=1105),
    dict(kind="long", n=1500, orbits=5, rate=60.0, instrume="COS", detector="FUV", opt_elem="G130M",
         cenwave=1291),
)


# ------------------------------------------------------------------------------------- sample products


def make_product(spec: dict[str, Any], seed: int) -> Any:
    """A lightcurve of ``spec``'s kind: Poisson counts in ``step`` bins, orbits of ``n`` bins 96 min
    apart, visits days apart, a sinusoid or a flare, a background measured in a 4× larger region."""
    from hstlc.domain import LightCurve

    rng = np.random.default_rng(seed)
    step = spec.get("step", 2.0)
    orbits = spec.get("orbits", 1)
    visits = spec.get("visits", (0.0,))
    times = []
    for day in visits:
        for orbit in range(orbits):
            times.append(day * 86400.0 + orbit * 5760.0 + np.arange(spec["n"]) * step)
    t = np.concatenate(times)
    n = t.size
    rate = np.full(n, spec["rate"])
    if spec.get("period"):
        rate = rate * (1.0 + 0.3 * np.sin(2 * np.pi * t / spec["period"]))
    if spec.get("flare"):
        rate = rate * (1.0 + 2.0 * np.exp(-np.clip(t - t[n // 3], 0, None) / 60.0) * (t >= t[n // 3]))
    background = spec.get("background", 0.0)
    bins = np.full(n, step)
    gross = rng.poisson((rate + background) * bins).astype(np.float64)
    measured = rng.poisson(background * 4.0 * bins).astype(np.float64)
    scaled = 0.25 * measured
    counts = gross - scaled
    error = np.sqrt(np.maximum(gross + 0.0625 * measured, 1.0))
    dataset = np.repeat(np.arange(1, len(visits) + 1, dtype=np.int32), orbits * spec["n"])
    net = counts / bins
    meta = {"STEPSIZE": step, "EXPSTART": 57000.0, "TARGNAME": f"SAMPLE-{seed}", "INSTRUME": spec["instrume"],
            "DETECTOR": spec["detector"], "OPT_ELEM": spec["opt_elem"], "CENWAVE": spec["cenwave"],
            "FLUXCAL": spec.get("fluxcal", "CALIBRATED")}
    return LightCurve(times=t, mjd=57000.0 + t / 86400.0, bins=bins, gross=gross, background=scaled,
                      counts=counts, net=net, error=error, flux=net * 1.3e-15,
                      flux_error=error / bins * 1.3e-15, signal_to_noise=counts / error, dataset=dataset,
                      meta=meta)


def build_sample(folder: Path, count: int) -> dict[str, Any]:
    """``count`` sample products in ``folder/products`` and their catalog (SQLite, ``folder/sample.db``):
    metadata, outputs and the stats ``hstlc stats`` computes. Returns their names, kinds, details."""
    from hstlc.catalog import Catalog, upsert_metadata, upsert_outputs, upsert_stats
    from hstlc.product_stats import StatsOptions
    from hstlc.products import file_sha256, write_lightcurve

    products = folder / "products"
    products.mkdir(parents=True)
    catalog = Catalog.from_url(f"sqlite:///{folder / 'sample.db'}")
    catalog.init_schema()
    options = StatsOptions()
    out: dict[str, Any] = {"products": []}
    try:
        with catalog.session() as session:
            for i in range(count):
                spec = KINDS[i % len(KINDS)]
                lc = make_product(spec, seed=i)
                composite = spec["kind"].startswith("composite")
                name = (f"hlsp_hstlc_hst_cos-fuv_sample-{i}_g130m_1291_psa_v1_sci.fits" if composite
                        else f"ls{i:04d}aaq_curve.fits")
                path = write_lightcurve(lc, products / name, overwrite=True)
                stats = options.compute(lc)
                upsert_stats(session, name, lightcurve_path=str(products),
                             product_type="composite" if composite else "individual",
                             product_sha256=file_sha256(path), method_settings=options.key(),
                             computed_at=COMPUTED_AT, **stats.row())
                for segment in ("a", "b"):
                    row = upsert_metadata(
                        session, f"ls{i:04d}aaq_corrtag_{segment}.fits", path=str(folder), telescop="HST",
                        instrume=spec["instrume"], detector=spec["detector"], targname=f"SAMPLE-{i}",
                        opt_elem=spec["opt_elem"], cenwave=spec["cenwave"], aperture="PSA",
                        rootname=f"ls{i:04d}aaq", proposid=15000, expstart=57000.0, expend=57000.1,
                        exptime=float(lc.bins.sum()),
                    )
                    upsert_outputs(session, row.id, individual_path=None if composite else str(products),
                                   individual_filename=None if composite else name,
                                   composite_path=str(products) if composite else None,
                                   composite_filename=name if composite else None)
                out["products"].append({"name": name, "kind": spec["kind"], "bins": len(lc),
                                        "details": stats.row()["details"], "verdict": stats.verdict})
    finally:
        catalog.dispose()
    return out


# ------------------------------------------------------------------------------------- the big catalog


def build_big(folder: Path, url: str, n: int, sample: dict[str, Any], sample_dir: Path) -> dict[str, Any]:
    """The catalog of ``n`` products (generated rows) at ``url``; each product file a hard link to the
    sample product of its kind."""
    from sqlalchemy import insert

    from hstlc.catalog import Catalog, Metadata, Outputs, Stats
    from hstlc.product_stats import StatsOptions

    rng = np.random.default_rng(15)
    products = folder / "products"
    products.mkdir(parents=True)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in sample["products"]:
        by_kind.setdefault(item["kind"], []).append(item)
    individual_kinds = [k for k in by_kind if not k.startswith("composite")]
    composite_kinds = [k for k in by_kind if k.startswith("composite")]
    key = StatsOptions().key()
    metadata: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    stats: list[dict[str, Any]] = []
    kinds: dict[str, str] = {}
    per_target = 4
    targets = max(1, n // per_target)
    made = 0
    for t in range(targets):
        target = f"TARGET-{t:04d}"
        composite = f"hlsp_hstlc_hst_cos-fuv_target-{t:04d}_g130m_1291_psa_v1_sci.fits"
        for d in range(per_target):
            if made >= n:
                break
            is_composite = d == per_target - 1
            kind = str(rng.choice(composite_kinds if is_composite else individual_kinds))
            source = by_kind[kind][0]
            name = composite if is_composite else f"l{t:04d}{d:02d}q_curve.fits"
            os.link(sample_dir / "products" / source["name"], products / name)
            kinds[name] = source["name"]
            verdict = str(rng.choice(["constant", "periodic", "variable", "no counts"],
                                     p=[0.7, 0.1, 0.15, 0.05]))
            details = dict(source["details"], verdict=verdict)
            stats.append(dict(
                lightcurve_path=str(products), lightcurve_filename=name,
                total=0.0 if verdict == "no counts" else float(rng.integers(10**3, 10**7)),
                mean=float(rng.uniform(1, 100)), mu=1.0, stdev=1.0, poisson_factor=float(rng.uniform(0.8, 3)),
                pearson_r=float(rng.uniform(-0.2, 0.2)), pearson_p=float(rng.uniform()),
                periodogram=verdict == "periodic", deliver=True, variable=verdict == "variable",
                best_period=float(rng.uniform(5, 36000)), fap=float(10 ** rng.uniform(-20, 0)),
                chi2_reduced=float(rng.uniform(0.5, 5)), chi2_p=float(rng.uniform()), method_version=None,
                method_settings=key, product_type="composite" if is_composite else "individual",
                product_sha256=f"{made:064x}", computed_at=COMPUTED_AT, details=details,
            ))
            made += 1
            if is_composite:
                continue
            root = f"l{t:04d}{d:02d}q"
            for segment in ("a", "b"):
                metadata.append(dict(
                    id=len(metadata) + 1, filename=f"{root}_corrtag_{segment}.fits", path=str(folder),
                    telescop="HST", instrume="COS", detector="FUV", targname=target, opt_elem="G130M",
                    cenwave=1291, aperture="PSA", rootname=root, segment=f"FUV{segment.upper()}",
                    proposid=15000 + t % 50, expstart=57000.0 + t + d / 10, expend=57000.05 + t + d / 10,
                    exptime=float(rng.uniform(500, 3000)), targname_key=target.replace("-", ""),
                ))
                outputs.append(dict(metadata_id=len(metadata), individual_path=str(products),
                                    individual_filename=name, composite_path=str(products),
                                    composite_filename=composite))
    catalog = Catalog.from_url(url)
    catalog.init_schema()
    try:
        with catalog.session() as session:
            for model, rows in ((Metadata, metadata), (Outputs, outputs), (Stats, stats)):
                for start in range(0, len(rows), 2000):
                    session.execute(insert(model), rows[start:start + 2000])
    finally:
        catalog.dispose()
    return {"products": made, "metadata": len(metadata), "sources": kinds}


# ------------------------------------------------------------------------------- the timed child runs


def _settings(home: Path, url: str, cores: int) -> Any:
    """The settings ``hstlc --home-dir HOME --db URL plot`` runs with (the report in ``HOME/plots``)."""
    from hstlc.config import load_settings

    overrides = {"home_dir": home, "db_connection_string": url, "num_cores": cores}
    return load_settings(overrides=overrides).settings


def _peak_mib() -> dict[str, float]:
    """Peak RSS of this process (at 2 cores the workers, forked by the fork server, are not counted)."""
    return {"peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def child(args: argparse.Namespace) -> None:
    """One timed run in this (fresh) process; prints its JSON."""
    from hstlc.catalog import Catalog
    from hstlc.report import build_report

    if args.child == "link":
        sources = json.loads(Path(args.sources).read_text())
        link_figures(args.url, Path(args.home), Path(args.sample_plot), sources)
        print(json.dumps({}))
        return
    settings = _settings(Path(args.home), args.url, args.cores)
    catalog = Catalog.from_url(args.url)
    marks: list[tuple[float, float]] = []
    start = time.perf_counter()

    def mark(update: Any) -> None:
        marks.append((time.perf_counter(), time.process_time()))

    try:
        result = build_report(catalog, settings, all_products=args.child == "figures", progress=mark)
    finally:
        catalog.dispose()
    wall = time.perf_counter() - start
    out: dict[str, Any] = {"wall": wall, "figures_written": len(result.figures_written),
                           "failed": len(result.failed), "products": result.counts["products"],
                           "pages_written": getattr(result, "pages_written", None), **_peak_mib()}
    if marks:  # the figure phase: from the first progress report to the last
        out["figure_phase"] = marks[-1][0] - marks[0][0]
        out["figure_cpu"] = marks[-1][1] - marks[0][1]  # this process's CPU: the figures at 1 core
    print(json.dumps(out))


def run_child(kind: str, home: Path, url: str, cores: int, *, pythonpath: Path | None = None,
              extra: tuple[str, ...] = ()) -> dict[str, Any]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    command = [sys.executable, __file__, "--child", kind, "--home", str(home), "--url", url, "--cores",
               str(cores), *extra]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def link_figures(url: str, home: Path, sample_plot: Path, sources: dict[str, str]) -> None:
    """'Figures already made': one build_report whose figure job hard-links the sample's figures of the
    same kind instead of drawing (see the module docstring)."""
    from hstlc.catalog import Catalog
    from hstlc.report import builder

    manifest = json.loads((sample_plot / builder.MANIFEST_NAME).read_text())["products"]

    def link(job: Any) -> Any:
        entry = manifest[sources[job.filename]]
        pairs = ((entry["lightcurve"], job.lightcurve_png), (entry["periodogram"], job.periodogram_png))
        for made, there in pairs:
            os.link(sample_plot / made, there)
        return builder.FigureOutcome(job.filename, header=dict(entry.get("header", [])))

    original = builder.render_figures
    builder.render_figures = link
    catalog = Catalog.from_url(url)
    try:
        result = builder.build_report(catalog, _settings(home, url, 1))
        assert not result.failed, result.failed[:3]
    finally:
        builder.render_figures = original
        catalog.dispose()


def remove_pages(plot_dir: Path) -> None:
    for folder in ("products", "targets"):
        shutil.rmtree(plot_dir / folder, ignore_errors=True)
    for name in ("index.html", "report-data.js"):
        (plot_dir / name).unlink(missing_ok=True)


def baseline_source(ref: str, folder: Path) -> Path:
    """``src`` of git revision ``ref`` (its hstlc package), for PYTHONPATH."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src/hstlc"], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


# ---------------------------------------------------------------------------------------- the browser


def browser_timings(index: Path, profile: Path) -> dict[str, Any]:
    from support.chromium import CHROMIUM, Browser, click_header, set_filter

    if CHROMIUM is None:
        return {"skipped": "no chromium"}
    profile.mkdir()
    browser = Browser(CHROMIUM, profile, timeout=120.0)
    try:
        browser.open_page()
        start = time.perf_counter()
        browser.navigate(index.as_uri())
        load = time.perf_counter() - start
        rows = browser.evaluate("(() => { const t = document.getElementById('table-boring'); return"
                                " t.hstlcShown ? t.hstlcShown().length : t.tBodies[0].rows.length; })()")
        timing = ("(() => { const h = Array.from(document.querySelectorAll('#table-boring th'))"
                  ".find(x => x.textContent.trim() === %s); const t0 = performance.now(); h.click();"
                  " return performance.now() - t0; })()")
        sort_period = browser.evaluate(timing % json.dumps("best period"))
        sort_target = browser.evaluate(timing % json.dumps("target"))
        filtered = set_filter(browser, "table-boring", "target-0042")
        cleared = set_filter(browser, "table-boring", "")
        click_header(browser, "table-boring", "FAP")  # a real click, for the errors check below
        errors = browser.errors()
        external = [u for u in browser.requests() if not u.startswith("file://")]
    finally:
        browser.close()
    return {"load_s": load, "rows_boring": rows, "sort_best_period_ms": sort_period,
            "sort_target_ms": sort_target, "filter_ms": filtered, "filter_clear_ms": cleared,
            "console_errors": len(errors),
            "non_file_requests": len(external)}


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=48)
    parser.add_argument("--baseline", default="main", help="git revision of the old figure code, or 'none'")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--parts", default="figures,pages", help="figures, pages or both (comma-separated)")
    parser.add_argument("--db", help="an empty database URL for the big catalog (default: SQLite)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--child", choices=("figures", "pages", "link"), help=argparse.SUPPRESS)
    parser.add_argument("--sources", help=argparse.SUPPRESS)
    parser.add_argument("--sample-plot", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--cores", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"products": args.products, "sample": args.sample, "load": os.getloadavg()}
    try:
        t0 = time.perf_counter()
        sample = build_sample(work / "sample", args.sample)
        sample_url = f"sqlite:///{work / 'sample' / 'sample.db'}"
        results["sample_bins"] = statistics.median(p["bins"] for p in sample["products"])
        results["setup_sample_s"] = time.perf_counter() - t0

        parts = set(args.parts.split(","))
        # (b), (c): figures, new and old code alternating
        old_src = None
        if args.baseline != "none":
            old_src = baseline_source(args.baseline, work / "baseline")
        figures: dict[str, list[dict[str, Any]]] = {}
        for rep in range(args.repeat if "figures" in parts else 0):
            for cores in (1, 2):
                for label, path in (("new", None), ("old", old_src)):
                    if label == "old" and path is None:
                        continue
                    home = work / "sample" / f"home-{label}-{cores}-{rep}"
                    run = run_child("figures", home, sample_url, cores, pythonpath=path)
                    run["per_product"] = run["figure_phase"] / args.sample
                    run["cpu_per_product"] = run["figure_cpu"] / args.sample
                    figures.setdefault(f"{label}-{cores}", []).append(run)
        results["figures"] = figures
        sample_plot = work / "sample" / "home-new-1-0" / "plots"
        if "pages" not in parts:
            return finish(results, args)
        if "figures" not in parts:  # the sample's figures are still needed, once
            run_child("figures", work / "sample" / "home-new-1-0", sample_url, 1)

        # (a): the pages of 10,000 products with the figures made
        url = args.db or f"sqlite:///{work / 'big' / 'big.db'}"
        (work / "big").mkdir(exist_ok=True)
        t0 = time.perf_counter()
        big = build_big(work / "big", url, args.products, sample, work / "sample")
        home = work / "big" / "home"
        plot_dir = home / "plots"
        link_figures(url, home, sample_plot, big["sources"])
        results["setup_big_s"] = time.perf_counter() - t0
        results["metadata_rows"] = big["metadata"]
        pages: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": [], "command": []}
        for _ in range(args.repeat):
            remove_pages(plot_dir)
            pages["cold"].append(run_child("pages", home, url, 1))
            pages["warm"].append(run_child("pages", home, url, 1))
            start = time.perf_counter()
            hstlc = str(Path(sys.executable).with_name("hstlc"))
            command = [hstlc, "--home-dir", str(home), "--db", url, "plot"]
            subprocess.run(command, check=True, capture_output=True)
            pages["command"].append({"wall": time.perf_counter() - start})
        if old_src is not None:  # the baseline's pages of the same catalog, its figures linked the same way
            (work / "sources.json").write_text(json.dumps(big["sources"]))
            old_home = work / "big" / "home-baseline"
            run_child("link", old_home, url, 1, pythonpath=old_src,
                      extra=("--sources", str(work / "sources.json"), "--sample-plot", str(sample_plot)))
            pages["baseline"] = [run_child("pages", old_home, url, 1, pythonpath=old_src)
                                 for _ in range(args.repeat)]
            assert all(r["figures_written"] == 0 for r in pages["baseline"]), "the baseline drew figures"
        results["pages"] = pages
        results["index_bytes"] = (plot_dir / "index.html").stat().st_size
        results["data_bytes"] = (plot_dir / "report-data.js").stat().st_size

        old_index = work / "big" / "home-baseline" / "plots" / "index.html"
        results["index_bytes_baseline"] = old_index.stat().st_size if old_src is not None else None
        if args.browser:
            results["browser"] = [browser_timings(plot_dir / "index.html", work / f"chromium-{i}")
                                  for i in range(args.repeat)]
            if old_src is not None:
                results["browser_baseline"] = [browser_timings(old_index, work / f"chromium-old-{i}")
                                               for i in range(args.repeat)]
    finally:
        if args.db:
            from hstlc.catalog import Base, Catalog

            catalog = Catalog.from_url(args.db)
            Base.metadata.drop_all(catalog.engine)
            catalog.dispose()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    finish(results, args)


def finish(results: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(results, indent=1, default=str))
        return
    report(results)


def _range(values: list[float], fmt: str = "{:.3f}") -> str:
    low, high = min(values), max(values)
    return fmt.format(low) if fmt.format(low) == fmt.format(high) else f"{fmt.format(low)}–{fmt.format(high)}"


def report(results: dict[str, Any]) -> None:
    load = ", ".join(f"{x:.2f}" for x in results["load"])
    print(f"hstlc plot benchmark: {results['products']:,} products, {results['sample']} sample products "
          f"(median {results['sample_bins']:.0f} bins); load average at start {load}")
    print(f"setup: sample {results['setup_sample_s']:.1f} s", end="")
    if "setup_big_s" in results:
        print(f", big catalog and linked figures {results['setup_big_s']:.1f} s "
              f"({results['metadata_rows']:,} metadata rows)", end="")
    print()
    if results.get("figures"):
        report_figures(results)
    if results.get("pages"):
        report_pages(results)


def report_figures(results: dict[str, Any]) -> None:
    print("\n(b, c) figure making, s per product (read, stats, two PNGs), ranges over runs:")
    for key, runs in results["figures"].items():
        label, cores = key.split("-")
        per = [r["per_product"] for r in runs]
        ratio = f"{max(per) / FIGURE_TARGET:.2f}" if cores == "1" else "–"
        name = "this code" if label == "new" else "baseline "
        cpu = f", CPU {_range([r['cpu_per_product'] for r in runs])} s" if cores == "1" else ""
        print(f"  {name} {cores} core(s): {_range(per)} s/product wall{cpu} "
              f"({_range([1 / p for p in per], '{:.1f}')} products/s), peak RSS "
              f"{_range([r['peak_rss_mib'] for r in runs], '{:.0f}')} MiB (main process); "
              f"worst ÷ target {ratio}")
    if "old-1" in results["figures"]:
        new = [r["per_product"] for r in results["figures"]["new-1"]]
        old = [r["per_product"] for r in results["figures"]["old-1"]]
        print(f"  old ÷ new at 1 core: {statistics.median(old) / statistics.median(new):.2f}×")
    if "new-2" in results["figures"]:
        one = statistics.median(r["per_product"] for r in results["figures"]["new-1"])
        two = statistics.median(r["per_product"] for r in results["figures"]["new-2"])
        print(f"  speed-up at 2 cores (this code, worker start-up included): {one / two:.2f}×")


def report_pages(results: dict[str, Any]) -> None:
    print(f"\n(a) report pages of {results['products']:,} products, figures already made (target ≤ "
          f"{PAGES_TARGET:.0f} s):")
    for key, runs in results["pages"].items():
        walls = [r["wall"] for r in runs]
        extra = ""
        if key != "command":
            peak = _range([r["peak_rss_mib"] for r in runs], "{:.0f}")
            extra = f", peak RSS {peak} MiB"
            if runs[0].get("pages_written") is not None:
                written = _range([float(r["pages_written"]) for r in runs], "{:.0f}")
                extra = f", {written} pages written{extra}"
        what = {"cold": "every page new", "warm": "nothing changed",
                "command": "`hstlc plot`, whole process, warm",
                "baseline": "baseline code (writes every page every run)"}
        rate = results["products"] / max(walls)
        print(f"  {what[key]}: {_range(walls, '{:.1f}')} s ({rate:,.0f} products/s{extra}); worst ÷ target "
              f"{max(walls) / PAGES_TARGET:.2f}")
    print(f"  index.html {results['index_bytes'] / 1024:.0f} KiB, report-data.js "
          f"{results['data_bytes'] / 2**20:.1f} MiB")
    if results.get("index_bytes_baseline"):
        size = results["index_bytes_baseline"] / 2**20
        print(f"  the baseline's index.html (every row in it): {size:.1f} MiB")
    for key, label in (("browser", "this code"), ("browser_baseline", "the baseline's index")):
        if key in results:
            report_browser(results, results[key], label)


def report_browser(results: dict[str, Any], runs: list[dict[str, Any]], label: str) -> None:
    if "skipped" in runs[0]:
        print("\n(d) browser: skipped (no chromium)")
        return
    print(f"\n(d) {label}: index.html of {results['products']:,} products in headless Chromium "
          f"({runs[0]['rows_boring']:,} rows in the boring table):")
    print(f"  load {_range([r['load_s'] for r in runs], '{:.2f}')} s; sort by best period "
          f"{_range([r['sort_best_period_ms'] for r in runs], '{:.0f}')} ms, by target "
          f"{_range([r['sort_target_ms'] for r in runs], '{:.0f}')} ms; filter "
          f"{_range([r['filter_ms'] for r in runs], '{:.0f}')} ms; console errors "
          f"{sum(r['console_errors'] for r in runs)}, non-file requests "
          f"{sum(r['non_file_requests'] for r in runs)}")


if __name__ == "__main__":
    main()
