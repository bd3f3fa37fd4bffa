"""Everything the catalog holds about one name (``hstlc show NAME``).

``NAME`` is tried, in this order, as a product file name (``lb4m01aaq_curve.fits``, ``hlsp_hstlc_…``), an
input file name (``lb4m01aaq_corrtag_a.fits``, also a rejected one), a rootname (``lb4m01aaq``, any case),
and a target: its :func:`~hstlc.targets.name_key` (``hd 93521`` finds ``HD93521``), else the same key with
hyphens left out (``AZV-148`` finds ``AZV148``) when exactly one target has it. The entry holds

* the target's summary (the one ``hstlc targets`` prints) — of the target the name belongs to;
* its datasets: each with its ``metadata`` (original TARGNAME, proposal, EXPSTART, EXPTIME, configuration,
  segments) and where each of its files is on disk (the ingest record ``datasets.files``, else the
  ``metadata`` rows), and whether it is there;
* its products (a dataset's individual product and its composite; a target's every product), each with its
  stats, every periodogram band's best period and FAP from ``stats.details``, and why stale stats are;
* its rejected files (``bad_data``): the quality checks run before a target name is resolved, so rejected
  files are found by their rootname or file name, not by the target.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from hstlc.catalog.listings import (
    META,
    OUT,
    ProductSummary,
    TargetSummary,
    product_rows,
    target_rows,
)
from hstlc.catalog.schema import REASON_SEPARATOR, BadData, IngestDataset, Stats
from hstlc.catalog.store import select_in
from hstlc.errors import CatalogError
from hstlc.science.verdict import stale_reason
from hstlc.targets import name_key

if TYPE_CHECKING:
    from hstlc.catalog.store import Catalog

KINDS: tuple[str, ...] = ("product", "file", "dataset", "target")
"""What a name can be, in the order they are tried."""

#: Similar target names offered when a name is not found.
SUGGESTIONS = 5


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def _as_dict(row: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(row, f.name)) for f in fields(row)}


@dataclass(frozen=True, slots=True)
class DatasetFile:
    """One file of a dataset and where it is on disk."""

    name: str
    path: str
    role: str
    """``input`` (as ingested), ``derived`` (made by ingest, e.g. a STIS corrtag) or ``metadata`` (known
    from the ``metadata`` row only: a catalog ingested before the record of files existed)."""
    exists: bool

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class DatasetEntry:
    """One dataset (exposure): its header metadata, its products and its files."""

    rootname: str
    target: str | None
    targname_orig: str | None
    """TARGNAME as the observer wrote it (``target`` is the resolved name)."""
    instrument: str | None
    detector: str | None
    grating: str | None
    cenwave: int | None
    aperture: str | None
    segments: tuple[str, ...]
    proposal: int | None
    expstart: float | None
    expend: float | None
    exptime: float | None
    ra: float | None
    dec: float | None
    ingest_date: datetime | None
    individual_product: str | None
    composite_product: str | None
    files: tuple[DatasetFile, ...]

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class BandPeriod:
    """The best period of one periodogram band (``short``, ``med``, ``long``) and its FAP."""

    band: str
    best_period: float | None
    fap: float | None
    skipped: str | None
    """Why the band was not searched (``None`` when it was)."""

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class ProductEntry:
    """A product (as the products listing gives it), its bands, why its stats are stale, its datasets."""

    product: ProductSummary
    bands: tuple[BandPeriod, ...]
    stale_reason: str | None
    rootnames: tuple[str, ...]
    exists: bool
    """Whether the product file is on disk now."""

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class RejectedFile:
    """A ``bad_data`` row: a file the quality checks rejected, every failing reason, where it was put."""

    filename: str
    reasons: tuple[str, ...]
    path: str | None
    ingest_date: datetime | None
    exists: bool | None
    """Whether the file is on disk now in ``path`` (``None`` when no folder is recorded)."""

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class CatalogEntry:
    """What :func:`show_entry` found for a name (module docstring)."""

    name: str
    """The name as asked."""
    kind: str
    """One of :data:`KINDS`."""
    matched: str
    """The catalog's spelling: the product or file name, the rootname or the target."""
    target: TargetSummary | None
    datasets: tuple[DatasetEntry, ...]
    products: tuple[ProductEntry, ...]
    rejected: tuple[RejectedFile, ...]

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


# --- what the name is -------------------------------------------------------------------------------


def _scalar_rows(session: Session, statement: Any) -> list[Any]:
    return list(session.execute(statement).scalars().all())


def _product_named(session: Session, name: str) -> str | None:
    """The product file name as stored (a collation that ignores case may find another spelling)."""
    for column in (Stats.lightcurve_filename, OUT.c.individual_filename, OUT.c.composite_filename):
        found = _scalar_rows(session, select(column).where(column == name).limit(1))
        if found:
            return str(found[0])
    return None


def _file_named(session: Session, name: str) -> tuple[str | None, str | None]:
    """(the input file ``name`` as stored, its rootname) — the rootname ``None`` for a rejected file."""
    found = session.execute(
        select(META.c.filename, func.coalesce(META.c.rootname, META.c.filename))
        .where(META.c.filename == name)
        .limit(1)
    ).first()
    if found is not None:
        return str(found[0]), str(found[1])
    rejected = _scalar_rows(session, select(BadData.filename).where(BadData.filename == name).limit(1))
    return (str(rejected[0]), None) if rejected else (None, None)


def _like_prefix(prefix: str) -> str:
    return "".join("!" + c if c in "%_!" else c for c in prefix) + "%"


def _rejected_like(rootnames: Sequence[str]) -> ColumnElement[bool]:
    return or_(*[BadData.filename.like(_like_prefix(r), escape="!") for r in rootnames])


def _rootname_named(session: Session, name: str) -> str | None:
    """The rootname as stored: of a dataset in the catalog, or of rejected files."""
    for candidate in dict.fromkeys((name, name.lower())):
        for column in (META.c.rootname, IngestDataset.rootname):
            found = _scalar_rows(session, select(column).where(column == candidate).limit(1))
            if found:
                return str(found[0])
        rejected = _scalar_rows(session, select(BadData.filename)
                                .where(_rejected_like([candidate + "_"])).limit(1))  # a whole rootname
        if rejected:
            return str(rejected[0])[: len(candidate)]
    return None


def _loose_key() -> Any:
    return func.replace(func.coalesce(META.c.targname_key, func.upper(META.c.targname)), "-", "")


def _target_named(session: Session, name: str) -> str | None:
    key = name_key(name)
    if not key:
        return None
    exact = _scalar_rows(
        session,
        select(META.c.targname)
        .where(META.c.targname_key == key)
        .group_by(META.c.targname)
        .order_by(META.c.targname),
    )
    if not exact:
        exact = _scalar_rows(session, select(META.c.targname).where(META.c.targname == name).limit(1))
    if len(exact) == 1:
        return str(exact[0])
    if len(exact) > 1:
        raise CatalogError(f"{name}: several targets have this name ({', '.join(exact)}); give one exactly")
    loose = _scalar_rows(
        session,
        select(META.c.targname)
        .where(_loose_key() == key.replace("-", ""))
        .group_by(META.c.targname)
        .order_by(META.c.targname),
    )
    if len(loose) > 1:
        raise CatalogError(f"{name}: several targets match ({', '.join(loose)}); give one exactly")
    return str(loose[0]) if loose else None


def _suggestions(session: Session, name: str) -> list[str]:
    key = name_key(name).replace("-", "")
    if not key:
        return []
    pattern = "%" + "".join("!" + c if c in "%_!" else c for c in key) + "%"
    return [
        str(t)
        for t in _scalar_rows(
            session,
            select(META.c.targname)
            .where(_loose_key().like(pattern, escape="!"))
            .group_by(META.c.targname)
            .order_by(META.c.targname)
            .limit(SUGGESTIONS),
        )
    ]


# --- what is known about it -------------------------------------------------------------------------


def _metadata_rows(session: Session, condition: ColumnElement[bool]) -> list[Any]:
    statement = (
        select(
            META.c.rootname,
            META.c.filename,
            META.c.path,
            META.c.targname,
            META.c.targname_orig,
            META.c.instrume,
            META.c.detector,
            META.c.opt_elem,
            META.c.cenwave,
            META.c.aperture,
            META.c.segment,
            META.c.proposid,
            META.c.expstart,
            META.c.expend,
            META.c.exptime,
            META.c.ra_targ,
            META.c.dec_targ,
            META.c.ingest_date,
            OUT.c.individual_filename,
            OUT.c.composite_filename,
        )
        .select_from(META.outerjoin(OUT, OUT.c.metadata_id == META.c.id))
        .where(condition)
        .order_by(META.c.expstart, META.c.filename)
    )
    return list(session.execute(statement).all())


def _recorded_files(session: Session, rootnames: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    statement = select(IngestDataset.rootname, IngestDataset.files)
    found: dict[str, list[dict[str, Any]]] = {}
    for rootname, files in select_in(session, statement, IngestDataset.rootname, list(rootnames)):
        if isinstance(files, list):
            found[rootname] = [f for f in files if isinstance(f, dict) and f.get("name")]
    return found


def _first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _datasets(session: Session, rows: Sequence[Any]) -> list[DatasetEntry]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.rootname or row.filename].append(row)
    recorded = _recorded_files(session, list(grouped))
    out = []
    for rootname, members in grouped.items():
        files = [
            (
                str(f["name"]),
                os.path.join(str(f.get("location") or ""), str(f["name"])),
                str(f.get("role") or ""),
            )
            for f in recorded.get(rootname, [])
        ] or [(m.filename, os.path.join(m.path or "", m.filename), "metadata") for m in members]
        exptimes = [m.exptime for m in members if m.exptime is not None]
        out.append(
            DatasetEntry(
                rootname=rootname,
                target=_first(m.targname for m in members),
                targname_orig=_first(m.targname_orig for m in members),
                instrument=_first(m.instrume for m in members),
                detector=_first(m.detector for m in members),
                grating=_first(m.opt_elem for m in members),
                cenwave=_first(m.cenwave for m in members),
                aperture=_first(m.aperture for m in members),
                segments=tuple(sorted({m.segment for m in members if m.segment and m.segment != "N/A"})),
                proposal=_first(m.proposid for m in members),
                expstart=_first(m.expstart for m in members),
                expend=_first(m.expend for m in members),
                exptime=max(exptimes) if exptimes else None,
                ra=_first(m.ra_targ for m in members),
                dec=_first(m.dec_targ for m in members),
                ingest_date=_first(m.ingest_date for m in members),
                individual_product=_first(m.individual_filename for m in members),
                composite_product=_first(m.composite_filename for m in members),
                files=tuple(
                    DatasetFile(name, path, role, os.path.exists(path)) for name, path, role in files
                ),
            )
        )
    return out


def bands_of(details: Mapping[str, Any] | None) -> tuple[BandPeriod, ...]:
    """Each periodogram band's best period, FAP and skip reason from a ``stats.details`` value (the
    current ``{"bands": {name: {...}}}`` form, or the first release's ``{name: {...}}``).

    >>> bands_of({"bands": {"short": {"best_period": 150.0, "fap": 1e-9, "skipped": None}}})
    (BandPeriod(band='short', best_period=150.0, fap=1e-09, skipped=None),)
    >>> bands_of({"med": {"best_period": 12.5, "fap": 0.5}}), bands_of(None)
    ((BandPeriod(band='med', best_period=12.5, fap=0.5, skipped=None),), ())
    """
    if not isinstance(details, Mapping):
        return ()
    nested = details.get("bands")
    bands: Mapping[str, Any] = nested if isinstance(nested, Mapping) else details
    out = []
    for band, values in bands.items():
        if isinstance(values, Mapping) and ("best_period" in values or "skipped" in values):
            period, fap, skipped = values.get("best_period"), values.get("fap"), values.get("skipped")
            out.append(
                BandPeriod(
                    str(band),
                    float(period) if isinstance(period, (int, float)) else None,
                    float(fap) if isinstance(fap, (int, float)) else None,
                    str(skipped) if skipped else None,
                )
            )
    return tuple(out)


def _members(session: Session, names: Sequence[str]) -> dict[str, set[str]]:
    """The datasets (rootnames) of each product of ``names``."""
    found: dict[str, set[str]] = defaultdict(set)
    dataset = func.coalesce(META.c.rootname, META.c.filename)
    joined = OUT.join(META, META.c.id == OUT.c.metadata_id)
    for column in (OUT.c.individual_filename, OUT.c.composite_filename):
        statement = select(column, dataset).select_from(joined).group_by(column, dataset)
        for product, rootname in select_in(session, statement, column, list(names)):
            found[product].add(rootname)
    return found


def _products(
    session: Session,
    names: Sequence[str],
    target: str | None,
    settings_key: str | None,
    members: Mapping[str, set[str]],
) -> list[ProductEntry]:
    if not names:
        return []
    if target is not None:  # every product of the target (one condition, however many there are)
        rows = product_rows(session, settings_key=settings_key, targets=[target])
    else:
        rows = product_rows(session, settings_key=settings_key, only=names)
    statement = select(Stats.lightcurve_filename, Stats.details, Stats.method_version, Stats.method_settings)
    stored: dict[str, tuple[Any, int | None, str | None]] = {
        name: (details, version, settings)
        for name, details, version, settings in select_in(
            session, statement, Stats.lightcurve_filename, [r.filename for r in rows if r.has_stats]
        )
    }
    out = []
    for row in rows:
        details, version, settings = stored.get(row.filename, (None, None, None))
        reason = stale_reason(version, settings, settings_key) if row.filename in stored else None
        members_of = tuple(sorted(members.get(row.filename, set())))
        out.append(ProductEntry(row, bands_of(details), reason, members_of, os.path.exists(row.path)))
    return out


def _rejected(session: Session, rootnames: Sequence[str], filename: str | None) -> list[RejectedFile]:
    """The ``bad_data`` rows of files named ``<rootname>_…`` for ``rootnames``, and of ``filename``."""
    statement = select(BadData.filename, BadData.reason, BadData.path, BadData.ingest_date)
    rows: dict[str, Any] = {}
    by_length: dict[int, list[str]] = defaultdict(list)
    for rootname in dict.fromkeys(rootnames):
        by_length[len(rootname) + 1].append(rootname + "_")
    for length, prefixes in by_length.items():
        head = func.substr(BadData.filename, 1, length)
        for row in select_in(session, statement, head, prefixes):
            rows[row.filename] = row
    if filename is not None:
        for row in session.execute(statement.where(BadData.filename == filename)):
            rows[row.filename] = row
    return [
        RejectedFile(r.filename, tuple(x for x in (r.reason or "").split(REASON_SEPARATOR) if x), r.path,
                     r.ingest_date, os.path.exists(os.path.join(r.path, r.filename)) if r.path else None)
        for _name, r in sorted(rows.items())
    ]


def entry(session: Session, name: str, *, settings_key: str | None = None) -> CatalogEntry:
    """What the catalog holds about ``name`` (module docstring); :class:`CatalogError` when nothing."""
    asked = name.strip()
    if not asked:
        raise CatalogError("show: give a target, rootname or file name")
    product = _product_named(session, asked)
    filename, rootname = (None, None) if product else _file_named(session, asked)
    dataset = None if product or filename else _rootname_named(session, asked)
    target = None if product or filename or dataset else _target_named(session, asked)
    if product:
        kind, matched = "product", product
        condition = or_(OUT.c.individual_filename == product, OUT.c.composite_filename == product)
    elif filename:
        kind, matched = "file", filename
        condition = func.coalesce(META.c.rootname, META.c.filename) == rootname
    elif dataset:
        kind, matched = "dataset", dataset
        condition = func.coalesce(META.c.rootname, META.c.filename) == dataset
    elif target:
        kind, matched = "target", target
        condition = META.c.targname == target
    else:
        similar = _suggestions(session, asked)
        hint = f" (similar target names: {', '.join(similar)})" if similar else ""
        raise CatalogError(f"{asked}: no target, rootname, product or file of that name in the catalog{hint}")

    rows = [] if kind == "file" and rootname is None else _metadata_rows(session, condition)
    datasets = _datasets(session, rows)
    members: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for product_name in (row.individual_filename, row.composite_filename):
            if product_name:
                members[product_name].add(row.rootname or row.filename)
    names = [product] if product else sorted(members)
    if kind in ("dataset", "file"):  # its composite has other datasets too
        members = _members(session, names)
    products = _products(session, names, target if kind == "target" else None, settings_key, members)
    targets = sorted({d.target for d in datasets if d.target})
    summary = None
    if len(targets) == 1:
        found = target_rows(session, settings_key=settings_key, only=targets)
        summary = found[0] if found else None
    rootnames = [d.rootname for d in datasets] or ([dataset] if dataset else [])
    rejected = _rejected(session, rootnames if kind != "product" else [], filename)
    return CatalogEntry(asked, kind, matched, summary, tuple(datasets), tuple(products), tuple(rejected))


def show_entry(catalog: Catalog, name: str, *, settings_key: str | None = None) -> CatalogEntry:
    """:func:`entry` in one read transaction."""
    with catalog.session() as session:
        return entry(session, name, settings_key=settings_key)


__all__ = [
    "KINDS",
    "BandPeriod",
    "CatalogEntry",
    "DatasetEntry",
    "DatasetFile",
    "ProductEntry",
    "RejectedFile",
    "bands_of",
    "entry",
    "show_entry",
]
