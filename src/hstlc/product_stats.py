"""``hstlc stats`` as a library: variability statistics of lightcurve products, kept in the catalog.

:func:`compute_stats` (pure, from :mod:`hstlc.science.variability`) works on a ``LightCurve``;
:func:`stats_for_file` on one product file; :func:`run_stats` on every product the catalog's ``outputs``
table names, **incrementally**: a product is (re)computed only when its stats row is missing, was made
from a file with another sha256, by another version of the method or with other verdict settings
(:class:`StatsOptions`), or ``recompute_all`` is set. A missing or unreadable product is
reported in its :class:`StatsOutcome` and the run goes on. With ``settings.num_cores > 1`` products are
read and computed in worker processes (:func:`hstlc.workers.run_jobs`, one worker for every
:data:`MIN_PRODUCTS_PER_WORKER` products); the catalog is written by this process only, one transaction
per product (so an interrupted run keeps what it finished).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hstlc.catalog import Catalog
from hstlc.catalog.stats_queries import (
    PRODUCT_CHOICES,
    ProductChoice,
    ProductRef,
    list_products,
    record_stats,
    stats_fingerprints,
    stored_stats,
)
from hstlc.cluster import run_jobs
from hstlc.config import Settings
from hstlc.domain import LightCurve
from hstlc.errors import HstlcError, InputFileError
from hstlc.products import file_sha256, read_lightcurve
from hstlc.science.periodogram import BandResult
from hstlc.science.variability import LightCurveStats, compute_stats, stale_reason
from hstlc.science.verdict import settings_key
from hstlc.workers import STATS_MODULES, Progress, ProgressCallback

log = logging.getLogger(__name__)

Status = Literal["computed", "unchanged", "failed", "missing"]


@dataclass(frozen=True)
class StatsOutcome:
    """What happened to one product: ``computed`` (``values`` holds the stored columns), ``unchanged``
    (its stats are current; ``values`` holds them as stored), ``missing`` (the file is gone) or
    ``failed`` (``error`` says why)."""

    path: Path
    filename: str
    product_type: str | None
    status: Status
    product_sha256: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("computed", "unchanged")

    @property
    def verdict(self) -> str | None:
        """``periodic``, ``variable``, ``constant`` or ``no counts`` of a computed product."""
        details = self.values.get("details") or {}
        verdict = details.get("verdict") if isinstance(details, dict) else None
        return verdict if isinstance(verdict, str) else None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (``--json``)."""
        return {
            "product": self.filename,
            "path": str(self.path),
            "product_type": self.product_type,
            "status": self.status,
            "product_sha256": self.product_sha256,
            "error": self.error,
            "verdict": self.verdict,
            **self.values,
        }


def _finite(value: Any) -> Any:
    """Non-finite floats → ``None`` throughout (JSON columns and MySQL/PostgreSQL floats reject NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def stats_values(stats: LightCurveStats) -> dict[str, Any]:
    """The ``stats`` table values of ``stats`` (statistic columns and the ``details`` JSON)."""
    return _finite(stats.row())


@dataclass(frozen=True)
class StatsOptions:
    """The settings a verdict depends on (picklable, for worker processes). :meth:`key` names them in
    the catalog's ``stats.method_settings``, so changing one recomputes the stored verdicts."""

    flag_rule: str = "fap"
    fap_threshold: float = 1e-3
    variable_p: float = 1e-3
    power_threshold: float = 0.30
    poisson_factor_threshold: float = 1.5

    @classmethod
    def from_settings(cls, settings: Settings | None) -> StatsOptions:
        if settings is None:
            return cls()
        return cls(**settings.verdict_settings())

    def key(self) -> str:
        """:func:`~hstlc.science.verdict.settings_key` of these options."""
        return settings_key(
            flag_rule=self.flag_rule, fap_threshold=self.fap_threshold, variable_p=self.variable_p,
            power_threshold=self.power_threshold, poisson_factor_threshold=self.poisson_factor_threshold,
        )

    def compute(self, lc: LightCurve) -> LightCurveStats:
        """:func:`compute_stats` of ``lc`` with these options."""
        return compute_stats(
            lc, flag_rule=self.flag_rule,  # type: ignore[arg-type]
            fap_threshold=self.fap_threshold, variable_p=self.variable_p,
            power_threshold=self.power_threshold, poisson_factor_threshold=self.poisson_factor_threshold,
        )


def stats_for_file(path: str | os.PathLike[str], settings: Settings | None = None) -> LightCurveStats:
    """The statistics of one product file (no catalog). Raises :class:`InputFileError` if unreadable."""
    source = Path(path)
    lc = read_lightcurve(source)
    try:
        return StatsOptions.from_settings(settings).compute(lc)
    except ValueError as exc:
        raise InputFileError(source, f"cannot compute statistics ({exc})") from None


WorkResult = tuple[Status, str | None, dict[str, Any], str | None]
"""``(status, product sha256, stats values, error)`` of one product."""

#: Products to compute per worker process before a process pool pays for its start-up.
MIN_PRODUCTS_PER_WORKER = 2


def _fingerprint(path: Path, known_sha: str | None) -> WorkResult | str:
    """The product's sha256 if it must be computed, else its final result (missing, unreadable, unchanged)."""
    if not path.is_file():
        return "missing", None, {}, f"{path.name}: no such file ({path})"
    try:
        sha = file_sha256(path)
    except HstlcError as exc:
        return "failed", None, {}, str(exc)
    if known_sha is not None and sha == known_sha:
        return "unchanged", sha, {}, None
    return sha


def _compute(path: Path, sha: str, options: StatsOptions) -> WorkResult:
    """Read one product and compute its stats (runs in a worker process or inline)."""
    try:
        stats = options.compute(read_lightcurve(path))
    except HstlcError as exc:
        return "failed", None, {}, str(exc)
    except ValueError as exc:
        return "failed", None, {}, f"{path.name}: cannot compute statistics ({exc})"
    return "computed", sha, {**stats_values(stats), "method_settings": options.key()}, None


def _work(path: Path, known_sha: str | None, options: StatsOptions) -> WorkResult:
    first = _fingerprint(path, known_sha)
    return first if not isinstance(first, str) else _compute(path, first, options)


ComputeJob = tuple[ProductRef, str, StatsOptions]
"""A product to compute, its sha256 and the options (picklable, for a worker process)."""


def _compute_job(job: ComputeJob) -> WorkResult:
    product, sha, options = job
    return _compute(product.path, sha, options)


def _job_failed(job: ComputeJob, exc: Exception) -> WorkResult:
    """A job its worker could not run (the worker process died, on every retry): that product failed, the
    others go on."""
    return "failed", None, {}, f"{job[0].path.name}: {exc}"


def _results(
    todo: list[tuple[ProductRef, str | None]], options: StatsOptions, settings: Settings
) -> Iterator[tuple[ProductRef, WorkResult]]:
    """Hash every product here; compute the new or changed ones inline or in worker processes (one for
    every :data:`MIN_PRODUCTS_PER_WORKER` products, at most ``num_cores``; or on the Dask cluster of
    ``scheduler_address``), in order."""
    pending: list[ComputeJob] = []
    for product, known in todo:
        first = _fingerprint(product.path, known)
        if isinstance(first, str):
            pending.append((product, first, options))
        else:
            yield product, first
    folders = {p.path.parent for p, _, _ in pending}
    for (product, _, _), result in run_jobs(_compute_job, pending, settings.num_cores, ordered=True,
                                            min_jobs_per_worker=MIN_PRODUCTS_PER_WORKER,
                                            preload=STATS_MODULES, scheduler=settings.scheduler_address,
                                            shared=sorted(folders), errors=_job_failed):
        yield product, result


def run_stats(
    catalog: Catalog,
    settings: Settings,
    *,
    products: ProductChoice = "both",
    recompute_all: bool = False,
    progress: ProgressCallback | None = None,
) -> list[StatsOutcome]:
    """Compute and store the stats of every new or changed product in the catalog (see module docstring).

    ``progress`` gets a :class:`~hstlc.workers.Progress` (phase ``stats``) after each product, ``item``
    its file name, ``failed`` the products so far that failed or are missing.
    Returns one :class:`StatsOutcome` per product, sorted by file name.
    """
    if products not in PRODUCT_CHOICES:
        raise ValueError(f"products must be one of {', '.join(PRODUCT_CHOICES)}, got {products!r}")
    catalog.check_schema()
    with catalog.session() as session:
        refs = list_products(session, products)
        known = stats_fingerprints(session)
    log.info("%d %s product(s) in the catalog", len(refs), products)

    options = StatsOptions.from_settings(settings)
    todo: list[tuple[ProductRef, str | None]] = []
    for ref in refs:
        fingerprint = known.get(ref.filename)
        current = None
        if (
            not recompute_all
            and fingerprint is not None
            and fingerprint.product_type == ref.product_type
            and stale_reason(fingerprint.method_version, fingerprint.method_settings, options.key()) is None
        ):
            current = fingerprint.product_sha256
        todo.append((ref, current))

    outcomes: list[StatsOutcome] = []
    failed = 0
    stored: dict[str, dict[str, Any]] = {}
    current_names = [ref.filename for ref, sha in todo if sha is not None]
    if current_names:  # what an unchanged product's verdict is: read back, not recomputed
        with catalog.session() as session:
            stored = stored_stats(session, current_names)
    for done, (ref, (status, sha, values, error)) in enumerate(
        _results(todo, options, settings), start=1
    ):
        if status == "computed":
            assert sha is not None
            with catalog.session() as session:
                record_stats(session, ref, product_sha256=sha, values=values)
            log.info("%s: stats computed (%s)", ref.filename, (values.get("details") or {}).get("verdict"))
        elif status == "unchanged":
            log.debug("%s: unchanged since its stats were computed", ref.filename)
            values = _finite(stored.get(ref.filename, {}))
        else:
            log.warning("%s", error)
        outcome = StatsOutcome(ref.path, ref.filename, ref.product_type, status, sha, values, error)
        outcomes.append(outcome)
        failed += not outcome.ok
        if progress is not None:
            progress(Progress("stats", len(todo), done, failed, ref.filename))
    return sorted(outcomes, key=lambda o: o.filename)


def stats_for_files(
    paths: list[str | os.PathLike[str]] | list[Path], settings: Settings | None = None
) -> list[StatsOutcome]:
    """:func:`stats_for_file` for each path, as outcomes (an unreadable file is ``failed``, not raised)."""
    options = StatsOptions.from_settings(settings)
    outcomes = []
    for item in paths:
        path = Path(item)
        status, sha, values, error = _work(path, None, options)
        outcomes.append(StatsOutcome(path, path.name, None, status, sha, values, error))
    return outcomes


def band_summary(outcome_or_stats: StatsOutcome | LightCurveStats, name: str) -> dict[str, Any] | None:
    """The summary dict of band ``name`` (best_period, fap, skipped …) of a computed outcome or stats."""
    if isinstance(outcome_or_stats, LightCurveStats):
        band: BandResult = outcome_or_stats.band(name)
        return _finite(band.summary())
    details = outcome_or_stats.values.get("details") or {}
    summary = details.get("bands", {}).get(name)
    return summary if isinstance(summary, dict) else None


__all__ = [
    "LightCurveStats",
    "StatsOptions",
    "StatsOutcome",
    "band_summary",
    "compute_stats",
    "run_stats",
    "stats_for_file",
    "stats_for_files",
    "stats_values",
]
