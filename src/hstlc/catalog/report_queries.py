"""Every catalog query the HTML report needs, returning plain frozen rows (no ORM objects escape).

A *dataset* is one exposure: FUV pairs have one ``metadata`` row per segment file with the same
rootname, so datasets are counted as distinct ``coalesce(rootname, filename)`` and an exposure time is
taken once per dataset (its largest value over the dataset's rows).

A product's ``verdict`` is the one ``hstlc stats`` stored (``details["verdict"]``); a row made before the
verdict was stored gets it from its columns by the same rule (``verdict_of``), and is ``stale``
(``hstlc stats`` recomputes it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hstlc.catalog.schema import BadData, Metadata, Outputs, Stats
from hstlc.catalog.store import Catalog
from hstlc.science.variability import VERDICTS, stale_reason, verdict_of


@dataclass(frozen=True)
class ProductRow:
    """One lightcurve product with stats, joined with what the catalog knows about its datasets.

    ``verdict`` is ``details["verdict"]`` when the row stored one, else
    :func:`~hstlc.science.variability.verdict_of` the columns (left empty to have it filled in).
    ``variable`` is ``None`` for rows made before the χ² test existed.
    """

    filename: str
    path: Path
    product_type: str
    total: float | None = None
    mean: float | None = None
    mu: float | None = None
    stdev: float | None = None
    poisson_factor: float | None = None
    pearson_r: float | None = None
    pearson_p: float | None = None
    periodogram: bool = False
    deliver: bool = False
    variable: bool | None = None
    best_period: float | None = None
    fap: float | None = None
    chi2_reduced: float | None = None
    chi2_p: float | None = None
    method_version: int | None = None
    method_settings: str | None = None
    verdict: str = ""
    product_sha256: str | None = None
    computed_at: datetime | None = None
    details: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)
    targname: str | None = None
    instrume: str | None = None
    detector: str | None = None
    opt_elem: str | None = None
    cenwave: int | None = None
    aperture: str | None = None
    rootnames: tuple[str, ...] = ()
    proposids: tuple[int, ...] = ()
    exptime: float | None = None
    expstart: float | None = None
    expend: float | None = None
    ra_targ: float | None = None
    dec_targ: float | None = None

    def __post_init__(self) -> None:
        if self.verdict:
            return
        stored = self.details.get("verdict") if self.details else None
        has_counts = self.total is not None and self.total > 0
        verdict = stored if stored in VERDICTS else verdict_of(
            has_counts=has_counts, periodogram=self.periodogram, variable=self.variable
        )
        object.__setattr__(self, "verdict", verdict)

    @property
    def stale(self) -> bool:
        """True if the row was made by an older statistics method (``hstlc stats`` recomputes it)."""
        return stale_reason(self.method_version, self.method_settings) is not None


@dataclass(frozen=True)
class BadDataRow:
    filename: str
    reason: str
    ingest_date: datetime | None
    path: str | None


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, read in one transaction."""

    products: tuple[ProductRow, ...]
    exposure_by_target: tuple[tuple[str, float, int], ...]
    """(target, cumulative exposure in s, datasets), largest exposure first."""
    configurations: tuple[tuple[str, str, str, int, int], ...]
    """(instrume, detector, opt_elem, cenwave, datasets), ordered by instrument/detector then count."""
    opt_elements: tuple[tuple[str, str, int], ...]
    """(opt_elem, instrume, datasets), ordered by opt_elem then instrument."""
    bad_data: tuple[BadDataRow, ...]
    datasets: int
    """Distinct datasets in ``metadata``."""


def product_path(lightcurve_path: str, filename: str) -> Path:
    """The product file of a stats row (``lightcurve_path`` may be the file itself or its folder)."""
    path = Path(lightcurve_path)
    return path if path.name == filename else path / filename


def _dataset_key() -> Any:
    return func.coalesce(Metadata.rootname, Metadata.filename)


def _members(session: Session) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Metadata rows per individual product file name and per composite product file name."""
    rows = session.execute(
        select(
            Outputs.individual_filename,
            Outputs.composite_filename,
            Metadata.targname,
            Metadata.instrume,
            Metadata.detector,
            Metadata.opt_elem,
            Metadata.cenwave,
            Metadata.aperture,
            _dataset_key().label("dataset"),
            Metadata.proposid,
            Metadata.exptime,
            Metadata.expstart,
            Metadata.expend,
            Metadata.ra_targ,
            Metadata.dec_targ,
        ).join(Metadata, Outputs.metadata_id == Metadata.id)
    ).all()
    individual: dict[str, list[Any]] = defaultdict(list)
    composite: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.individual_filename:
            individual[row.individual_filename].append(row)
        if row.composite_filename:
            composite[row.composite_filename].append(row)
    return individual, composite


def _common(values: list[Any]) -> Any:
    distinct = {v for v in values if v is not None}
    if len(distinct) == 1:
        return distinct.pop()
    return "MULTI" if distinct and all(isinstance(v, str) for v in distinct) else None


def _summarise(members: list[Any]) -> dict[str, Any]:
    if not members:
        return {}
    per_dataset: dict[str, float] = {}
    for m in members:
        if m.exptime is not None:
            per_dataset[m.dataset] = max(per_dataset.get(m.dataset, 0.0), float(m.exptime))
    starts = [m.expstart for m in members if m.expstart is not None]
    ends = [m.expend for m in members if m.expend is not None]
    return {
        "targname": _common([m.targname for m in members]),
        "instrume": _common([m.instrume for m in members]),
        "detector": _common([m.detector for m in members]),
        "opt_elem": _common([m.opt_elem for m in members]),
        "cenwave": _common([m.cenwave for m in members]),
        "aperture": _common([m.aperture for m in members]),
        "rootnames": tuple(sorted({str(m.dataset) for m in members})),
        "proposids": tuple(sorted({int(m.proposid) for m in members if m.proposid is not None})),
        "exptime": sum(per_dataset.values()) if per_dataset else None,
        "expstart": min(starts) if starts else None,
        "expend": max(ends) if ends else None,
        "ra_targ": members[0].ra_targ,
        "dec_targ": members[0].dec_targ,
    }


def product_rows(session: Session) -> list[ProductRow]:
    """Every product with a ``stats`` row, with its datasets' metadata, ordered by file name."""
    individual, composite = _members(session)
    out: list[ProductRow] = []
    for stats in session.execute(select(Stats).order_by(Stats.lightcurve_filename)).scalars():
        name = stats.lightcurve_filename
        kind = stats.product_type or ("composite" if name in composite else "individual")
        members = composite.get(name) if kind == "composite" else individual.get(name)
        out.append(
            ProductRow(
                filename=name,
                path=product_path(stats.lightcurve_path, name),
                product_type=kind,
                total=stats.total,
                mean=stats.mean,
                mu=stats.mu,
                stdev=stats.stdev,
                poisson_factor=stats.poisson_factor,
                pearson_r=stats.pearson_r,
                pearson_p=stats.pearson_p,
                periodogram=bool(stats.periodogram),
                deliver=bool(stats.deliver),
                variable=stats.variable,
                best_period=stats.best_period,
                fap=stats.fap,
                chi2_reduced=stats.chi2_reduced,
                chi2_p=stats.chi2_p,
                method_version=stats.method_version,
                method_settings=stats.method_settings,
                product_sha256=stats.product_sha256,
                computed_at=stats.computed_at,
                details=dict(stats.details) if isinstance(stats.details, dict) else None,
                **_summarise(members or []),
            )
        )
    return out


def exposure_by_target(session: Session) -> list[tuple[str, float, int]]:
    """Cumulative exposure time per target (each dataset counted once), largest first."""
    per_dataset = (
        select(
            Metadata.targname.label("targname"),
            _dataset_key().label("dataset"),
            func.max(Metadata.exptime).label("exptime"),
        )
        .group_by(Metadata.targname, _dataset_key())
        .subquery()
    )
    rows = session.execute(
        select(
            per_dataset.c.targname,
            func.sum(per_dataset.c.exptime),
            func.count(per_dataset.c.dataset),
        ).group_by(per_dataset.c.targname)
    ).all()
    result = [(t or "(none)", float(e or 0.0), int(n)) for t, e, n in rows]
    return sorted(result, key=lambda r: (-r[1], r[0]))


def configurations(session: Session) -> list[tuple[str, str, str, int, int]]:
    """Datasets per instrument/detector and grating/cenwave."""
    rows = session.execute(
        select(
            Metadata.instrume,
            Metadata.detector,
            Metadata.opt_elem,
            Metadata.cenwave,
            func.count(func.distinct(_dataset_key())),
        ).group_by(Metadata.instrume, Metadata.detector, Metadata.opt_elem, Metadata.cenwave)
    ).all()
    result = [(i or "", d or "", o or "", int(c or 0), int(n)) for i, d, o, c, n in rows]
    return sorted(result, key=lambda r: (r[0], r[1], -r[4], r[2], r[3]))


def opt_elements(session: Session) -> list[tuple[str, str, int]]:
    """Datasets per optical element and instrument."""
    rows = session.execute(
        select(Metadata.opt_elem, Metadata.instrume, func.count(func.distinct(_dataset_key()))).group_by(
            Metadata.opt_elem, Metadata.instrume
        )
    ).all()
    return sorted(((o or "", i or "", int(n)) for o, i, n in rows), key=lambda r: (r[0], r[1]))


def bad_data_rows(session: Session) -> list[BadDataRow]:
    rows = session.execute(select(BadData).order_by(BadData.filename)).scalars()
    return [BadDataRow(r.filename, r.reason, r.ingest_date, r.path) for r in rows]


def dataset_count(session: Session) -> int:
    return int(session.execute(select(func.count(func.distinct(_dataset_key())))).scalar_one())


def load_report_data(catalog: Catalog) -> ReportData:
    """Read everything the report shows in one transaction (the catalog must have its tables)."""
    catalog.check_schema()
    with catalog.session() as session:
        return ReportData(
            products=tuple(product_rows(session)),
            exposure_by_target=tuple(exposure_by_target(session)),
            configurations=tuple(configurations(session)),
            opt_elements=tuple(opt_elements(session)),
            bad_data=tuple(bad_data_rows(session)),
            datasets=dataset_count(session),
        )


__all__ = [
    "BadDataRow",
    "ProductRow",
    "ReportData",
    "bad_data_rows",
    "configurations",
    "dataset_count",
    "exposure_by_target",
    "load_report_data",
    "opt_elements",
    "product_path",
    "product_rows",
]
