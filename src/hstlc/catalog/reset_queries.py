"""The catalog side of ``hstlc reset``: dropping and recreating tables, and forgetting filed datasets.

**Production tables** are what an ingest builds from the files: ``metadata``, ``outputs``, ``stats`` (the
original's three) and hstlc's ingest state for them, ``datasets`` and ``composite_queue``. A database reset
of them keeps ``bad_data`` (as the original did: known-bad files are not downloaded or ingested again),
the resolver's ``aliases`` and ``sesame_cache``, and the ingest lock (held by the reset itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.exc import SQLAlchemyError

from hstlc.catalog.ingest_state import BAD, DONE
from hstlc.catalog.schema import Base, CompositeQueue, IngestDataset, IngestLock, Metadata, Outputs, Stats
from hstlc.catalog.store import Catalog
from hstlc.errors import CatalogError

PRODUCTION_TABLES: tuple[str, ...] = ("metadata", "outputs", "stats", "datasets", "composite_queue")
#: Never dropped by a reset: the lock the reset holds.
LOCK_TABLE = IngestLock.__tablename__


def table_names() -> list[str]:
    """Every table of the schema, in creation order."""
    return [t.name for t in Base.metadata.sorted_tables]


def tables_to_reset(selection: str) -> list[str]:
    """The tables ``hstlc reset database --tables selection`` drops and recreates: ``production``,
    ``all`` (every table but the lock), or one table and the tables that depend on it (a table whose rows
    point at another's cannot outlive it)."""
    every = [name for name in table_names() if name != LOCK_TABLE]
    if selection == "production":
        return list(PRODUCTION_TABLES)
    if selection == "all":
        return every
    if selection not in every:
        raise CatalogError(f"no table {selection!r} to reset; choose production, all or one of "
                           f"{', '.join(every)}")
    chosen = {selection}
    changed = True
    while changed:  # add every table with a foreign key into a chosen one
        changed = False
        for table in Base.metadata.sorted_tables:
            if table.name not in chosen and any(fk.column.table.name in chosen for fk in table.foreign_keys):
                chosen.add(table.name)
                changed = True
    return [name for name in every if name in chosen]


def row_counts(catalog: Catalog, names: Sequence[str]) -> dict[str, int | None]:
    """Rows in each of ``names`` (None for a table that does not exist)."""
    status = catalog.status()
    return {name: status.get(name) for name in names}


def drop_and_recreate(catalog: Catalog, names: Sequence[str]) -> None:
    """Drop ``names`` (dependents first) and create them again, empty."""
    tables: list[Table] = [Base.metadata.tables[name] for name in names]
    try:
        Base.metadata.drop_all(catalog.engine, tables=tables, checkfirst=True)
        Base.metadata.create_all(catalog.engine, tables=tables, checkfirst=True)
    except SQLAlchemyError as exc:
        raise CatalogError(f"{catalog.url}: cannot reset {', '.join(names)} ({type(exc).__name__}: "
                           f"{str(getattr(exc, 'orig', None) or exc).splitlines()[0][:200]})") from exc


@dataclass(frozen=True)
class FiledFile:
    """One file of a filed dataset, as its ingest marker recorded it."""

    rootname: str
    name: str
    location: str
    sha256: str | None
    derived: bool
    """Made by hstlc (a STIS ``_corrtag`` derived from its ``_tag``), not the user's."""


def filed_files(catalog: Catalog) -> list[FiledFile]:
    """Every file of every dataset an ingest filed (marker ``done``), in rootname and name order."""
    out = []
    with catalog.session() as session:
        for rootname, files in session.execute(
            select(IngestDataset.rootname, IngestDataset.files).where(IngestDataset.status == DONE)
            .order_by(IngestDataset.rootname)
        ):
            for f in sorted(files or (), key=lambda f: str(f.get("name"))):
                out.append(FiledFile(rootname, str(f.get("name")), str(f.get("location") or ""),
                                     f.get("sha256"), f.get("role") == "derived"))
    return out


def product_paths(catalog: Catalog) -> list[tuple[str, str]]:
    """(folder, file name) of every lightcurve product the catalog lists (individual and composite)."""
    found: set[tuple[str, str]] = set()
    with catalog.session() as session:
        for row in session.execute(select(Outputs.individual_path, Outputs.individual_filename,
                                          Outputs.composite_path, Outputs.composite_filename)):
            for folder, name in ((row[0], row[1]), (row[2], row[3])):
                if folder and name:
                    found.add((folder, name))
        for folder, name in session.execute(select(Stats.lightcurve_path, Stats.lightcurve_filename)):
            if folder and name:
                found.add((folder, name))
    return sorted(found)


def forget_filed(catalog: Catalog) -> dict[str, int]:
    """In one transaction: delete every ``metadata``, ``outputs`` and ``stats`` row, the ``done`` ingest
    markers and the composite queue; ``bad_data`` and the markers of quarantined datasets stay. Returns
    rows deleted per table."""
    counts: dict[str, int] = {}
    statements: list[tuple[str, Any]] = [
        ("outputs", delete(Outputs)),
        ("metadata", delete(Metadata)),
        ("stats", delete(Stats)),
        ("datasets", delete(IngestDataset).where(IngestDataset.status != BAD)),
        ("composite_queue", delete(CompositeQueue)),
    ]
    with catalog.session() as session:
        for name, statement in statements:
            result = session.execute(statement)
            counts[name] = int(getattr(result, "rowcount", 0) or 0)
    return counts


__all__ = [
    "LOCK_TABLE",
    "PRODUCTION_TABLES",
    "FiledFile",
    "drop_and_recreate",
    "filed_files",
    "forget_filed",
    "product_paths",
    "row_counts",
    "table_names",
    "tables_to_reset",
]
