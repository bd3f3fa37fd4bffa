"""The catalog's listings as files (``hstlc export``): CSV, ECSV, JSON, VOTable or FITS.

The rows are those of :meth:`Catalog.targets <hstlc.catalog.store.Catalog.targets>` and
:meth:`Catalog.products <hstlc.catalog.store.Catalog.products>` with the same filter; the format follows
from the file's extension (:data:`FORMATS`). Tables are written with astropy's writers, one column per row
field, with units and descriptions (VOTable, FITS, ECSV keep them), lists (instruments, proposals) joined
with commas, and absent values masked (empty in CSV, null in VOTable and FITS, ``null`` in JSON) — so
TOPCAT, astropy and pandas read them as they are. JSON is a list of records, as ``--json`` prints.

A file is written whole or not at all (:func:`hstlc.filing.write_atomically`), and an existing file is
replaced only with ``overwrite``.
"""

from __future__ import annotations

import json
import math
import os
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hstlc.catalog.listings import (
    PRODUCT_COLUMNS,
    TARGET_COLUMNS,
    CatalogFilter,
    ColumnInfo,
    ProductSummary,
    TargetSummary,
)
from hstlc.catalog.store import Catalog
from hstlc.errors import FilingError
from hstlc.filing import write_atomically

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".ecsv": "ecsv",
    ".json": "json",
    ".vot": "votable",
    ".votable": "votable",
    ".xml": "votable",
    ".fits": "fits",
    ".fit": "fits",
    ".fts": "fits",
}
"""File extension → format."""

#: astropy's name of each table format.
_ASTROPY_FORMATS = {"csv": "ascii.csv", "ecsv": "ascii.ecsv", "votable": "votable", "fits": "fits"}
#: A format's name for people.
FORMAT_NAMES = {"csv": "CSV", "ecsv": "ECSV", "json": "JSON", "votable": "VOTable", "fits": "FITS"}


@dataclass(frozen=True)
class ExportResult:
    """A written export: where, in which format, how many rows."""

    path: Path
    format: str
    rows: int


def export_format(path: str | Path) -> str:
    """The format of ``path`` from its extension (:data:`FORMATS`); :class:`ValueError` for another.

    >>> export_format("targets.VOT"), export_format("p.fits")
    ('votable', 'fits')
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValueError(f"{path}: unknown file type {suffix or '(no extension)'!r}; use one of {known}")
    return FORMATS[suffix]


def _kind(annotation: Any) -> type:
    """The column type of a row field's annotation: bool, int, float or str (text for the rest)."""
    if typing.get_origin(annotation) is tuple:
        return str  # joined with commas
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    first = args[0]
    return first if first in (bool, int, float) else str


def _column_kinds(row_type: type) -> dict[str, type]:
    return {name: _kind(hint) for name, hint in typing.get_type_hints(row_type).items()}


def _text(value: Any) -> str:
    """A value of a text column: tuples joined with commas, times in ISO format."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def rows_table(
    rows: Sequence[TargetSummary] | Sequence[ProductSummary],
    columns: Sequence[ColumnInfo],
    row_type: type,
    *,
    ascii_only: bool = False,
) -> Any:
    """An astropy ``Table`` of ``rows``: one column per :class:`ColumnInfo`, with its unit and
    description; ``None`` masked; tuples joined with commas, times as ISO text (the values of
    ``to_dict(flat=True)``). ``ascii_only`` (FITS, whose text is ASCII) writes any other character as its
    Python escape (``\\xc9`` for É). Built column by column from arrays."""
    import numpy as np
    from astropy.table import MaskedColumn, Table

    kinds = _column_kinds(row_type)
    table = Table()
    for info in columns:
        kind = kinds[info.name]
        values = [getattr(row, info.name) for row in rows]
        mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        if kind is str:
            texts = ["" if v is None else _text(v) for v in values]
            if ascii_only:
                texts = [t.encode("ascii", "backslashreplace").decode("ascii") for t in texts]
            data = np.array(texts, dtype=f"U{max([1, *map(len, texts)])}")
        else:
            fill = {bool: False, int: 0, float: math.nan}[kind]
            dtype = {bool: bool, int: np.int64, float: np.float64}[kind]
            data = np.fromiter((fill if v is None else v for v in values), dtype=dtype, count=len(values))
        table[info.name] = MaskedColumn(data, mask=mask, unit=info.unit, description=info.description,
                                        copy=False)
    return table


#: What can be exported: the row type and its columns.
LISTINGS: dict[str, tuple[type, tuple[ColumnInfo, ...]]] = {
    "targets": (TargetSummary, TARGET_COLUMNS),
    "products": (ProductSummary, PRODUCT_COLUMNS),
}


def write_rows(
    rows: Sequence[TargetSummary] | Sequence[ProductSummary],
    path: str | Path,
    *,
    listing: str,
    overwrite: bool = False,
) -> ExportResult:
    """Write ``rows`` of ``listing`` (``targets`` or ``products``) to ``path`` in the format of its
    extension; no rows give a table with the columns and no row.

    Raises :class:`ValueError` for an unknown extension or listing, and
    :class:`~hstlc.errors.FilingError` when the file exists (without ``overwrite``), its folder does not,
    or it cannot be written.
    """
    if listing not in LISTINGS:
        raise ValueError(f"listing: {listing!r} is not one of {', '.join(LISTINGS)}")
    row_type, columns = LISTINGS[listing]
    target = _writable(path, overwrite)
    fmt = export_format(target)

    def write(temporary: Path) -> None:
        if fmt == "json":
            text = json.dumps([row.to_dict() for row in rows], indent=2, ensure_ascii=False)
            temporary.write_text(text + "\n", encoding="utf-8")
            return
        table = rows_table(rows, columns, row_type, ascii_only=fmt == "fits")
        table.write(temporary, format=_ASTROPY_FORMATS[fmt])

    try:
        write_atomically(
            target,
            write,
            overwrite=overwrite,
            exists_message=f"{target}: exists; give --overwrite to replace it",
        )
    except OSError as exc:
        raise FilingError(f"{target}: cannot write ({exc.strerror or exc})") from None
    return ExportResult(target, fmt, len(rows))


def _writable(path: str | Path, overwrite: bool) -> Path:
    """``path`` if a listing can be written there: a known extension, an existing folder, and no file
    yet unless ``overwrite`` (checked before the catalog is asked)."""
    target = Path(path)
    export_format(target)
    if not target.parent.is_dir():
        raise FilingError(f"{target}: folder {target.parent} does not exist")
    if target.is_dir():
        raise FilingError(f"{target}: is a folder; expected a file name")
    if not overwrite and os.path.lexists(target):
        raise FilingError(f"{target}: exists; give --overwrite to replace it")
    return target


def export_targets(
    catalog: Catalog,
    filters: CatalogFilter | None,
    path: str | Path,
    *,
    settings_key: str | None = None,
    overwrite: bool = False,
) -> ExportResult:
    """The targets ``filters`` selects, written to ``path`` (:func:`write_rows`)."""
    _writable(path, overwrite)
    rows = catalog.targets(filters, settings_key=settings_key)
    return write_rows(rows, path, listing="targets", overwrite=overwrite)


def export_products(
    catalog: Catalog,
    filters: CatalogFilter | None,
    path: str | Path,
    *,
    settings_key: str | None = None,
    overwrite: bool = False,
) -> ExportResult:
    """The products ``filters`` selects, written to ``path`` (:func:`write_rows`)."""
    _writable(path, overwrite)
    rows = catalog.products(filters, settings_key=settings_key)
    return write_rows(rows, path, listing="products", overwrite=overwrite)


__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "LISTINGS",
    "ExportResult",
    "export_format",
    "export_products",
    "export_targets",
    "rows_table",
    "write_rows",
]
