"""The catalog queries of ``hstlc stats``: which products exist, what their stats were computed from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hstlc.catalog.schema import Outputs, Stats
from hstlc.catalog.store import select_in, upsert_stats

ProductChoice = Literal["individual", "composite", "both"]
PRODUCT_CHOICES: tuple[str, ...] = ("individual", "composite", "both")


@dataclass(frozen=True)
class ProductRef:
    """A lightcurve product recorded in ``outputs``: its full path, file name and type."""

    path: Path
    filename: str
    product_type: str


@dataclass(frozen=True)
class StatsFingerprint:
    """What a product's stored stats were computed from (and by which version of the method)."""

    product_sha256: str | None
    product_type: str | None
    method_version: int | None = None
    """``None`` for rows made before the statistics method had a version."""
    method_settings: str | None = None
    """The verdict settings the row was made with (``None`` for rows made before they were recorded)."""


def _product_path(folder: str | None, filename: str) -> Path:
    """``outputs`` keeps the folder (as the original did) or, from some writers, the full path."""
    base = Path(folder) if folder else Path()
    return base if base.name == filename else base / filename


def list_products(session: Session, products: ProductChoice = "both") -> list[ProductRef]:
    """Every distinct individual and/or composite product named in ``outputs``, sorted by file name.

    A composite is shared by all its members' rows and is listed once.
    """
    if products not in PRODUCT_CHOICES:
        raise ValueError(f"products must be one of {', '.join(PRODUCT_CHOICES)}, got {products!r}")
    found: dict[str, ProductRef] = {}
    if products in ("individual", "both"):
        rows = session.execute(
            select(Outputs.individual_path, Outputs.individual_filename).where(
                Outputs.individual_filename.is_not(None)
            )
        )
        for folder, filename in rows:
            if filename is not None:  # always (the query asks for named rows): narrows the column's type
                ref = ProductRef(_product_path(folder, filename), filename, "individual")
                found.setdefault(filename, ref)
    if products in ("composite", "both"):
        rows = session.execute(
            select(Outputs.composite_path, Outputs.composite_filename).where(
                Outputs.composite_filename.is_not(None)
            )
        )
        for folder, filename in rows:
            if filename is not None:  # always (the query asks for named rows): narrows the column's type
                ref = ProductRef(_product_path(folder, filename), filename, "composite")
                found.setdefault(filename, ref)
    return [found[name] for name in sorted(found)]


def stats_fingerprints(session: Session) -> dict[str, StatsFingerprint]:
    """``lightcurve_filename`` → the sha256, type, method version and verdict settings of its stored stats."""
    rows = session.execute(
        select(Stats.lightcurve_filename, Stats.product_sha256, Stats.product_type, Stats.method_version,
               Stats.method_settings)
    )
    return {name: StatsFingerprint(sha, kind, version, method) for name, sha, kind, version, method in rows}


#: The ``stats`` columns a stored verdict is read back with (what ``record_stats`` writes).
STORED_COLUMNS: tuple[str, ...] = (
    "total", "mean", "mu", "stdev", "poisson_factor", "pearson_r", "pearson_p", "periodogram", "deliver",
    "variable", "best_period", "fap", "chi2_reduced", "chi2_p", "method_version", "method_settings",
    "details",
)


def stored_stats(session: Session, filenames: list[str]) -> dict[str, dict[str, Any]]:
    """``lightcurve_filename`` → the stored statistic columns (and ``details``) of each of ``filenames``."""
    columns = [getattr(Stats, name) for name in STORED_COLUMNS]
    statement = select(Stats.lightcurve_filename, *columns)
    rows = select_in(session, statement, Stats.lightcurve_filename, filenames)
    return {row[0]: dict(zip(STORED_COLUMNS, row[1:], strict=True)) for row in rows}


def record_stats(
    session: Session,
    product: ProductRef,
    *,
    product_sha256: str,
    values: dict[str, Any],
) -> Stats:
    """Upsert the ``stats`` row of ``product`` with ``values`` (the statistic columns and ``details``)."""
    return upsert_stats(
        session,
        product.filename,
        lightcurve_path=str(product.path.parent),
        product_type=product.product_type,
        product_sha256=product_sha256,
        **values,
    )


__all__ = [
    "PRODUCT_CHOICES",
    "STORED_COLUMNS",
    "ProductChoice",
    "ProductRef",
    "StatsFingerprint",
    "list_products",
    "record_stats",
    "stats_fingerprints",
    "stored_stats",
]
