"""``build_report``: the figures and the static HTML report in ``plot_dir`` (the I/O edge of the report).

Layout of ``plot_dir``::

    index.html                      the report (exploratory tables, exposure, configurations, bad data)
    report-data.js                  the index's table rows (JSON in a script: loads from file://)
    targets/<stem>.html             one page per target: all its products, their verdicts and figures
    products/<stem>.html            one page per product
    figures/<stem>_lightcurve.png   lightcurve figure
    figures/<stem>_periodogram.png  periodogram figure (the three reporting bands of one search)
    .hstlc-report.json              manifest: per product the fingerprint its figures were made from

**Incremental.** A product's figures are remade only when its *fingerprint* changes: the stats row's
product sha256 and computation time, the product file's size and modification time, the verdict's
settings (:meth:`StatsOptions.key <hstlc.product_stats.StatsOptions.key>`), the statistics method's
:data:`~hstlc.science.variability.STATS_VERSION` and :data:`~hstlc.report.figures.FIGURE_VERSION` — or
when a figure file is missing.
``all_products=True`` remakes every figure. The HTML pages are always made again (they show the
catalog's current state), and written only where they changed (a report of 10,000 products rewrites
what a few new products changed, not 10,000 files). Figures and pages of products (and pages of targets)
no longer in the catalog are removed.

**Parallel.** Figure jobs run in up to ``num_cores`` worker processes (:func:`hstlc.workers.run_jobs`;
one job = read the product, recompute its period search with the settings'
:class:`~hstlc.product_stats.StatsOptions`, render two PNGs), forked by a fork server that has the plotting
stack imported (:data:`hstlc.workers.REPORT_MODULES`; ``spawn`` where there is no fork server); a worker
is only started for every :data:`MIN_JOBS_PER_WORKER` jobs, since its start-up costs more than a few
figures. Each worker writes its files atomically (temporary name, then rename). Only the main process
reads the catalog. A product that cannot be read or plotted is reported in :attr:`ReportResult.failed`
and shown on its page; it does not stop the run (nor does a crashed worker: its products are reported
as failed).

**Categories** are the verdicts ``hstlc stats`` stored (:func:`hstlc.report.html.classify`): interesting
(periodic or variable), boring (constant), null (no counts). A row ``hstlc stats`` would recompute (an
older method, or other verdict settings than ``settings``) is shown with its stored verdict and marked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hstlc import display as display_module
from hstlc.catalog.report_queries import ProductRow, ReportData, load_report_data
from hstlc.catalog.store import Catalog
from hstlc.cluster import run_jobs
from hstlc.config import Settings
from hstlc.errors import FilingError, HstlcError
from hstlc.filing import ensure_dir, write_atomically
from hstlc.product_stats import StatsOptions
from hstlc.report import html as html_module
from hstlc.report.figures import FIGURE_VERSION, FigureMaker, Fold, figure_png
from hstlc.report.html import (
    CATEGORIES,
    DATA_FILE,
    ProductEntry,
    classify,
    render_index,
    render_index_data,
    render_product_page,
    render_target_page,
)
from hstlc.safe_paths import safe_component
from hstlc.science.variability import STATS_VERSION
from hstlc.workers import REPORT_MODULES, Progress, ProgressCallback
from hstlc.workers import worker_count as _worker_count

log = logging.getLogger(__name__)

MANIFEST_NAME = ".hstlc-report.json"
MANIFEST_VERSION = 1
FIGURES_DIR = "figures"
PAGES_DIR = "products"
TARGETS_DIR = "targets"

HEADER_KEYS: tuple[str, ...] = (
    "TELESCOP", "INSTRUME", "DETECTOR", "TARGNAME", "HLSPTARG", "RA_TARG", "DEC_TARG", "RADESYS",
    "OPT_ELEM", "FILTER", "CENWAVE", "APERTURE", "PROPOSID", "ROOTNAME", "EXPSTART", "EXPEND", "EXPTIME",
    "XPOSURE", "DATE-OBS", "DATE-BEG", "DATE-END", "MJD-BEG", "MJD-END", "TIMESYS", "TIMEDEL", "STEPSIZE",
    "WMIN", "WMAX", "FLUXCAL", "FLUXNOTE", "HLSPNAME", "HLSPVER", "HSTLCVER", "FILETYPE", "DATE",
)
"""Product header keywords shown on a product page (those present, in this order)."""

MIN_JOBS_PER_WORKER = 4
"""A worker costs seconds of start-up (imports): fewer jobs than this per worker run serially."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_DOTS = re.compile(r"\.{2,}")


def page_stem(filename: str) -> str:
    """A file-name and URL-safe stem for a product's page and figures.

    Letters, digits and ``._+-`` are kept; anything else becomes ``_``; runs of dots become one; no leading
    dot; at most 120 characters. When the name had to change, a short hash of the original is appended so
    two different names never share a stem.
    """
    base = filename[:-5] if filename.lower().endswith(".fits") else filename
    clean = _DOTS.sub(".", _UNSAFE.sub("_", base)).lstrip(".") or "product"
    if clean != base or len(clean) > 120:
        digest = hashlib.sha256(filename.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        clean = f"{clean[:120]}-{digest}"
    return clean


def target_stems(names: Iterable[str | None]) -> dict[str | None, str]:
    """A file-name and URL-safe stem for each target's page (:func:`hstlc.safe_paths.safe_component` of
    the name; ``UNKNOWN`` for none). Two names whose stems differ only in case (they would share a file
    on a case-insensitive disk) get a short hash of the name appended, the first in sorted order excepted.
    """
    stems: dict[str | None, str] = {}
    seen: set[str] = set()
    for name in sorted(set(names), key=lambda n: (n is not None, n or "")):
        stem = safe_component(name or "", max_length=100, fallback="UNKNOWN")
        if stem.lower() in seen:
            digest = hashlib.sha256((name or "").encode("utf-8", "surrogatepass")).hexdigest()[:10]
            stem = f"{stem[:88]}-{digest}"
        seen.add(stem.lower())
        stems[name] = stem
    return stems


@dataclass(frozen=True)
class FigureJob:
    """One product's figures: what a worker needs (plain, picklable values)."""

    filename: str
    product: str
    lightcurve_png: str
    periodogram_png: str
    title: str
    options: StatsOptions
    """The verdict settings the periodogram is recomputed and drawn with."""


@dataclass(frozen=True)
class FigureOutcome:
    filename: str
    error: str | None = None
    header: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class ReportResult:
    """What :func:`build_report` wrote."""

    index: Path
    pages: tuple[Path, ...]
    figures_written: tuple[Path, ...]
    figures_up_to_date: int
    """Products whose figures were already current (not remade)."""
    failed: tuple[tuple[str, str], ...]
    """(product file name, reason) of products whose figures could not be made."""
    counts: Mapping[str, int]
    """Products per category (interesting, boring, null), ``products`` and ``bad_data``."""
    removed: tuple[Path, ...] = ()
    """Pages and figures of products (and pages of targets) no longer in the catalog."""
    target_pages: tuple[Path, ...] = ()
    data: Path | None = None
    """The index's rows (:data:`~hstlc.report.html.DATA_FILE`)."""
    pages_written: int = 0
    """Pages (index, targets, products) written because they were new or changed; the others were
    already on disk as they are."""


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (:func:`hstlc.filing.write_atomically`, replacing the old page
    or figure: readers see the old file or the new one); ``durable=False``: without the fsyncs."""
    try:
        write_atomically(path, lambda temporary: temporary.write_bytes(data), overwrite=True, durable=durable)
    except OSError as exc:
        raise FilingError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_page(path: Path, text: str) -> tuple[int, bool]:
    """Write a page atomically unless the file already holds exactly ``text``; returns its size in bytes
    and whether it was written.

    Pages are not fsync'ed (figures are): they are made again from the catalog whenever the manifest,
    whose size check catches a page a power cut emptied, says so (:func:`page_key`)."""
    data = text.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return len(data), False
    except OSError:
        pass
    write_atomic(path, data, durable=False)
    return len(data), True


_HTML_CODE = hashlib.sha256(b"".join(Path(str(m.__file__)).read_bytes()
                                     for m in (html_module, display_module))).hexdigest()
"""The code that writes the pages (the HTML and the way numbers are shown): a page is made again when it
changes."""


def page_key(*parts: Any) -> str:
    """What a page is made from, as one hash (with the pages' code, :data:`MANIFEST_VERSION` and the
    statistics' :data:`~hstlc.science.variability.STATS_VERSION`, which decides the stale mark): a page
    whose key and size match the manifest's is left as it is, without being made again."""
    text = json.dumps([_HTML_CODE, MANIFEST_VERSION, STATS_VERSION, *parts], default=str,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _row_parts(row: ProductRow) -> list[Any]:
    """Everything of a catalog row a page shows except ``details`` (whose changes change ``computed_at``
    and the product's fingerprint)."""
    return [getattr(row, f.name) for f in fields(row) if f.name != "details"]


def _unchanged(path: Path, key: str, previous_key: Any, previous_size: Any) -> bool:
    """Whether the page at ``path`` is on disk as the previous run made it from the same inputs."""
    if previous_key != key:
        return False
    try:
        return path.stat().st_size == previous_size
    except OSError:
        return False


def _header_summary(meta: Mapping[str, Any]) -> dict[str, str]:
    upper = {str(k).upper(): v for k, v in meta.items()}
    out: dict[str, str] = {}
    for key in HEADER_KEYS:
        value = upper.get(key)
        if value is None or value == "":
            continue
        text = " ".join(str(value).split())
        out[key] = text if len(text) <= 200 else text[:199] + "…"
    return out


_MAKER: FigureMaker | None = None
"""The process's figure maker (its figures are reused from one product to the next: see
:class:`~hstlc.report.figures.FigureMaker`); made on the first job a process runs."""


def render_figures(job: FigureJob) -> FigureOutcome:
    """Read one product, recompute its stats with the job's options, and make its lightcurve PNG (folded
    at the best period when that is significant) and its periodogram PNG (atomic writes). Runs in a
    worker.

    Errors a product can cause (unreadable file, bad values) come back in the outcome, not raised.
    """
    from hstlc.products import read_lightcurve

    global _MAKER
    if _MAKER is None:
        _MAKER = FigureMaker()
    start = time.perf_counter()
    options = job.options
    try:
        lc = read_lightcurve(job.product)
        stats = options.compute(lc)
        figure = _MAKER.lightcurve(lc, title=job.title, fold=Fold.of(stats))
        write_atomic(Path(job.lightcurve_png), figure_png(figure))
        figure = _MAKER.periodogram(
            stats.bands, title=job.title, fap_threshold=options.fap_threshold, flag_rule=options.flag_rule,
            power_threshold=options.power_threshold,
        )
        write_atomic(Path(job.periodogram_png), figure_png(figure))
    except (HstlcError, ValueError, OSError) as exc:
        return FigureOutcome(job.filename, error=str(exc) or type(exc).__name__,
                             seconds=time.perf_counter() - start)
    return FigureOutcome(job.filename, header=_header_summary(lc.meta), seconds=time.perf_counter() - start)


def fingerprint(row: ProductRow, options: StatsOptions) -> str:
    """What a product's figures depend on (see the module docstring): a change of the method or of the
    verdict's settings redraws them."""
    try:
        info = row.path.stat()
        size, mtime = info.st_size, info.st_mtime_ns
    except OSError:
        size, mtime = None, None
    parts = [
        FIGURE_VERSION, STATS_VERSION, options.key(), row.product_sha256,
        row.computed_at.isoformat() if row.computed_at else None, size, mtime,
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _load_manifest(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The previous run's products (file name → entry) and target pages (path → key and size)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, {}
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable report manifest (%s); remaking every figure", path, exc)
        return {}, {}
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        return {}, {}
    products = data.get("products")
    targets = data.get("targets")
    return (
        {k: v for k, v in products.items() if isinstance(v, dict)} if isinstance(products, dict) else {},
        {k: v for k, v in targets.items() if isinstance(v, dict)} if isinstance(targets, dict) else {},
    )


def worker_count(cores: int, jobs: int) -> int:
    """Worker processes for ``jobs`` figure jobs: at most ``cores``, at least ``MIN_JOBS_PER_WORKER`` each."""
    return _worker_count(cores, jobs, MIN_JOBS_PER_WORKER)


def _worker_failed(job: FigureJob, exc: Exception) -> FigureOutcome:
    """A crashed worker (or a bug) must not lose the other products' figures: this one is reported."""
    return FigureOutcome(job.filename, error=f"worker failed: {type(exc).__name__}: {exc}")


def _run_jobs(
    jobs: list[FigureJob], settings: Settings, progress: ProgressCallback | None
) -> list[FigureOutcome]:
    """Every job's outcome, as they finish, from ``num_cores`` local processes or the Dask cluster of
    ``scheduler_address`` (whose workers must see the products and ``plot_dir``); ``progress`` (phase
    ``figures``) once before the first and after each."""
    total, failed = len(jobs), 0
    if progress:
        progress(Progress("figures", total, 0))
    outcomes: list[FigureOutcome] = []
    folders = sorted({Path(j.product).parent for j in jobs} | {Path(j.lightcurve_png).parent for j in jobs})
    for job, outcome in run_jobs(render_figures, jobs, settings.num_cores,
                                 min_jobs_per_worker=MIN_JOBS_PER_WORKER, errors=_worker_failed,
                                 preload=REPORT_MODULES, scheduler=settings.scheduler_address,
                                 shared=folders):
        outcomes.append(outcome)
        failed += outcome.error is not None
        if progress:
            progress(Progress("figures", total, len(outcomes), failed, job.filename))
    return outcomes


def _title(row: ProductRow) -> str:
    target = row.targname or ""
    config = " ".join(str(v) for v in (row.instrume, row.detector, row.opt_elem, row.cenwave) if v)
    return " — ".join(p for p in (target, config, row.filename) if p)


def build_report(
    catalog: Catalog,
    settings: Settings,
    *,
    all_products: bool = False,
    progress: ProgressCallback | None = None,
) -> ReportResult:
    """Make the figures (changed products only, unless ``all_products``) and rebuild the HTML report.

    ``progress`` gets a :class:`~hstlc.workers.Progress` (phase ``figures``) once with ``done = 0`` before
    the first figure job and after each (``item``: its product file name).

    Returns the paths written, per-category counts, and the products whose figures failed.
    """
    data: ReportData = load_report_data(catalog)
    assert settings.plot_dir is not None
    plot_dir = Path(settings.plot_dir)
    figures_dir, pages_dir, targets_dir = plot_dir / FIGURES_DIR, plot_dir / PAGES_DIR, plot_dir / TARGETS_DIR
    for folder in (plot_dir, figures_dir, pages_dir, targets_dir):
        ensure_dir(folder, group=settings.file_group, dir_mode=settings.file_mode)
    manifest_path = plot_dir / MANIFEST_NAME
    old, old_targets = _load_manifest(manifest_path)
    options = StatsOptions.from_settings(settings)

    jobs: list[FigureJob] = []
    current: dict[str, dict[str, Any]] = {}
    up_to_date = 0
    for row in data.products:
        stem = page_stem(row.filename)
        # a manifest entry (JSON): later also "error" (str | None) and "header" (a list of [key, value])
        entry: dict[str, Any] = {
            "stem": stem,
            "fingerprint": fingerprint(row, options),
            "lightcurve": f"{FIGURES_DIR}/{stem}_lightcurve.png",
            "periodogram": f"{FIGURES_DIR}/{stem}_periodogram.png",
            "page": f"{PAGES_DIR}/{stem}.html",
        }
        previous = old.get(row.filename, {})
        fresh = (
            not all_products
            and previous.get("fingerprint") == entry["fingerprint"]
            and previous.get("stem") == stem
            and not previous.get("error")
            and (plot_dir / entry["lightcurve"]).is_file()
            and (plot_dir / entry["periodogram"]).is_file()
        )
        if fresh:
            entry["header"] = previous.get("header", [])
            up_to_date += 1
        else:
            jobs.append(
                FigureJob(
                    filename=row.filename,
                    product=str(row.path),
                    lightcurve_png=str(plot_dir / entry["lightcurve"]),
                    periodogram_png=str(plot_dir / entry["periodogram"]),
                    title=_title(row),
                    options=options,
                )
            )
        current[row.filename] = entry

    log.info("report: %d product(s), %d figure job(s), %d up to date, %d core(s)",
             len(data.products), len(jobs), up_to_date, settings.num_cores)
    figures_written: list[Path] = []
    failed: list[tuple[str, str]] = []
    for outcome in _run_jobs(jobs, settings, progress):
        entry = current[outcome.filename]
        if outcome.error:
            log.warning("%s: figures not made: %s", outcome.filename, outcome.error)
            failed.append((outcome.filename, outcome.error))
            entry["error"] = outcome.error
            entry["fingerprint"] = None
        else:
            log.debug("%s: figures made in %.2f s", outcome.filename, outcome.seconds)
            entry["header"] = [[k, v] for k, v in outcome.header.items()]  # a list keeps HEADER_KEYS order
            figures_written.extend((plot_dir / entry["lightcurve"], plot_dir / entry["periodogram"]))

    generated = datetime.now(timezone.utc).replace(microsecond=0)
    stems = target_stems(row.targname for row in data.products)
    target_pages = {name: f"{TARGETS_DIR}/{stem}.html" for name, stem in stems.items()}
    entries: list[ProductEntry] = []
    for row in data.products:
        entry = current[row.filename]
        error = entry.get("error")
        has_figures = not error and (plot_dir / entry["lightcurve"]).is_file()
        entries.append(
            ProductEntry(
                row=row,
                page=entry["page"],
                lightcurve_png=entry["lightcurve"] if has_figures else None,
                periodogram_png=entry["periodogram"] if has_figures else None,
                header={str(k): str(v) for k, v in entry.get("header") or [] if isinstance(k, str)},
                figure_error=error,
                target_page=target_pages[row.targname],
            )
        )

    key = options.key()
    written = 0
    pages: list[Path] = []
    by_target: dict[str | None, list[tuple[ProductEntry, str]]] = {}
    for item in entries:
        # the pages live one folder down: their links go one folder up
        local = _one_folder_down(item)
        entry = current[item.row.filename]
        earlier = old.get(item.row.filename) or {}
        entry["page_key"] = page_key(key, entry["fingerprint"], _row_parts(item.row), local.lightcurve_png,
                                     local.figure_error, local.target_page, sorted(local.header.items()))
        by_target.setdefault(item.row.targname, []).append((local, entry["page_key"]))
        path = plot_dir / item.page
        if _unchanged(path, entry["page_key"], earlier.get("page_key"), earlier.get("page_size")):
            entry["page_size"] = earlier["page_size"]
        else:
            entry["page_size"], changed = write_page(path, render_product_page(local, settings_key=key))
            written += changed
        pages.append(path)
    exposure = {t: (e, n) for t, e, n in data.exposure_by_target}
    targets: list[Path] = []
    target_manifest: dict[str, dict[str, Any]] = {}
    for name, group in by_target.items():
        group.sort(key=lambda g: (g[0].row.product_type != "composite", g[0].row.expstart or 0.0,
                                  g[0].row.filename))
        rel = target_pages[name]
        spent = exposure.get(name or "(none)")
        target_key = page_key(key, name, spent, [k for _, k in group])
        earlier = old_targets.get(rel) or {}
        if _unchanged(plot_dir / rel, target_key, earlier.get("key"), earlier.get("size")):
            target_manifest[rel] = {"key": target_key, "size": earlier["size"]}
        else:
            text = render_target_page(name, [e for e, _ in group], settings_key=key, exposure=spent)
            size, changed = write_page(plot_dir / rel, text)
            target_manifest[rel] = {"key": target_key, "size": size}
            written += changed
        targets.append(plot_dir / rel)
    linked = {name: page for name, page in target_pages.items() if name}
    data_path = plot_dir / DATA_FILE
    written += write_page(data_path, render_index_data(data, entries, settings_key=key,
                                                       flag_rule=options.flag_rule, target_pages=linked))[1]
    index = plot_dir / "index.html"
    write_atomic(index, render_index(data, entries, settings_key=key, generated=generated).encode("utf-8"),
                 durable=False)
    written += 1

    removed = _remove_stale(plot_dir, old, current)
    removed += _remove_stale_targets(plot_dir, old_targets, set(target_pages.values()))
    manifest = {"version": MANIFEST_VERSION, "products": current, "targets": target_manifest}
    write_atomic(manifest_path, json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode("utf-8"))

    counts = {c: 0 for c in CATEGORIES}
    for row in data.products:
        counts[classify(row)] += 1
    counts["products"] = len(data.products)
    counts["bad_data"] = len(data.bad_data)
    return ReportResult(
        index=index,
        pages=tuple(pages),
        figures_written=tuple(figures_written),
        figures_up_to_date=up_to_date,
        failed=tuple(failed),
        counts=counts,
        removed=tuple(removed),
        target_pages=tuple(targets),
        data=data_path,
        pages_written=written,
    )


def _one_folder_down(item: ProductEntry) -> ProductEntry:
    """``item`` with its links made relative to a page in a sub-folder of the report."""

    def up(path: str | None) -> str | None:
        return f"../{path}" if path else None

    return ProductEntry(
        row=item.row,
        page=f"../{item.page}",
        lightcurve_png=up(item.lightcurve_png),
        periodogram_png=up(item.periodogram_png),
        header=item.header,
        figure_error=item.figure_error,
        target_page=up(item.target_page),
    )


def _remove_stale(plot_dir: Path, old: Mapping[str, Mapping[str, Any]],
                  current: Mapping[str, Mapping[str, Any]]) -> list[Path]:
    """Delete the pages and figures the previous run made that no current product uses."""
    keep = {plot_dir / str(e[k]) for e in current.values() for k in ("lightcurve", "periodogram", "page")}
    removed = []
    for entry in old.values():
        for key in ("lightcurve", "periodogram", "page"):
            rel = entry.get(key)
            if not isinstance(rel, str):
                continue
            path = plot_dir / rel
            # only files inside our own sub-folders, never anything a manifest entry could point elsewhere
            if path in keep or path.parent not in (plot_dir / FIGURES_DIR, plot_dir / PAGES_DIR):
                continue
            if ".." in Path(rel).parts or not path.is_file():
                continue
            path.unlink()
            removed.append(path)
    return removed


def _remove_stale_targets(plot_dir: Path, old: Mapping[str, Any], current: set[str]) -> list[Path]:
    """Delete the target pages the previous run made for targets no longer in the catalog (only files
    directly in ``targets/``)."""
    removed = []
    for rel in old:
        path = plot_dir / rel
        if rel in current or path.parent != plot_dir / TARGETS_DIR or ".." in Path(rel).parts:
            continue
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


__all__ = [
    "FIGURES_DIR",
    "HEADER_KEYS",
    "MANIFEST_NAME",
    "PAGES_DIR",
    "TARGETS_DIR",
    "FigureJob",
    "FigureOutcome",
    "ProgressCallback",
    "ReportResult",
    "build_report",
    "fingerprint",
    "page_key",
    "page_stem",
    "render_figures",
    "target_stems",
    "worker_count",
    "write_atomic",
    "write_page",
]
