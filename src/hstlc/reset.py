"""``hstlc reset``: start the catalog or the filed data over, as the original's ``reset_hstlc_database`` and
``reset_hstlc_filesystem`` did — under the ingest lock, so never under a running ingest.

* :func:`reset_database` drops and recreates tables: the production tables (``metadata``, ``outputs``,
  ``stats`` and the ingest state built with them; ``bad_data`` kept), all of them, or one (and the tables
  that depend on it). See :mod:`hstlc.catalog.reset_queries`.
* :func:`reset_filesystem` puts every filed dataset back into ``ingest_dir`` with ingest's own no-loss
  move (:func:`hstlc.filing.move_file`: a rename, or a verified copy; never over a different file),
  removes what hstlc made from them (the lightcurve products the catalog lists and the STIS ``_corrtag``
  files it derived), and then forgets them in the catalog in one transaction — so the next ``hstlc
  ingest`` rebuilds the same catalog, products and tree. Quarantined datasets stay in ``bad_data_dir`` and
  in ``bad_data``. A reset that is interrupted is finished by running it again: a file already back in
  ``ingest_dir`` counts as moved.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hstlc.catalog import ingest_state as state
from hstlc.catalog.reset_queries import (
    drop_and_recreate,
    filed_files,
    forget_filed,
    product_paths,
    row_counts,
    tables_to_reset,
)
from hstlc.catalog.store import Catalog
from hstlc.config import Settings
from hstlc.errors import FilingError
from hstlc.filing import ensure_dir, fsync_directory, move_file, sha256_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseReset:
    """Tables dropped and recreated, with the rows each held."""

    url: str
    tables: dict[str, int | None]

    def to_dict(self) -> dict[str, Any]:
        return {"catalog": self.url, "tables": self.tables}


def reset_database(
    catalog: Catalog, tables: str = "production", *, command: str | None = None
) -> DatabaseReset:
    """Drop and recreate ``tables`` (``production``, ``all`` or a table name; see
    :func:`hstlc.catalog.reset_queries.tables_to_reset`) while holding the ingest lock. Raises
    :class:`~hstlc.errors.IngestLockedError` while an ingest runs."""
    names = tables_to_reset(tables)
    catalog.init_schema()  # the lock table, on a catalog never ingested into
    with state.IngestLockHandle.acquire(catalog, command=command or f"hstlc reset database {tables}"):
        counts = row_counts(catalog, names)
        drop_and_recreate(catalog, names)
    log.info("reset %s in %s (%s)", ", ".join(names), catalog.url,
             ", ".join(f"{n}: {c if c is not None else 'absent'}" for n, c in counts.items()))
    return DatabaseReset(catalog.url, counts)


@dataclass
class FilesystemReset:
    """What a filesystem reset did."""

    moved: list[Path] = field(default_factory=list)
    """Files put back into ``ingest_dir`` (or found there already)."""
    removed: list[Path] = field(default_factory=list)
    """hstlc's own files removed: products and derived STIS corrtags."""
    missing: list[str] = field(default_factory=list)
    """Files the catalog lists that are neither filed nor in ``ingest_dir`` (nothing could be moved)."""
    forgotten: dict[str, int] = field(default_factory=dict)
    """Catalog rows deleted per table."""
    datasets: int = 0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "datasets": self.datasets,
            "moved": [str(p) for p in self.moved],
            "removed": [str(p) for p in self.removed],
            "missing": self.missing,
            "catalog_rows_deleted": self.forgotten,
            "wall_seconds": round(self.wall_seconds, 3),
        }


def _unlink(path: Path, out: FilesystemReset) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FilingError(f"{path}: cannot remove ({exc.strerror or exc})") from None
    out.removed.append(path)


def reset_filesystem(settings: Settings, catalog: Catalog, *, command: str | None = None) -> FilesystemReset:
    """Put every filed dataset back into ``settings.ingest_dir`` and forget it (module docstring).

    Stops at the first file it cannot move (a :class:`~hstlc.errors.FilingError` naming it: e.g. a
    different file of that name in ``ingest_dir``), before the catalog changes; run it again once that is
    resolved. Raises :class:`~hstlc.errors.IngestLockedError` while an ingest runs.
    """
    started = time.perf_counter()
    out = FilesystemReset()
    catalog.init_schema()
    with state.IngestLockHandle.acquire(catalog, command=command or "hstlc reset filesystem") as lock:
        with catalog.session() as session:
            unfinished = [plan.rootname for plan in state.journals(session)]
        if unfinished:  # their files are half-moved: only the ingest's recovery knows where each one is
            raise FilingError(f"an interrupted ingest left {len(unfinished)} dataset(s) half-filed "
                              f"({', '.join(unfinished[:5])}); run 'hstlc ingest' to finish them, then reset")
        files = filed_files(catalog)
        out.datasets = len({f.rootname for f in files})
        incoming = ensure_dir(settings.ingest_dir, group=settings.file_group, dir_mode=settings.file_mode)
        for f in files:
            lock.ensure_held()
            source = Path(f.location) / f.name
            back = incoming / f.name
            if f.derived:
                _unlink(source, out)  # made by hstlc from the _tag: the next ingest derives it again
                continue
            if source.is_file():
                out.moved.append(move_file(source, incoming, group=settings.file_group,
                                           dir_mode=settings.file_mode))
            elif back.is_file() and (f.sha256 is None or sha256_of(back) == f.sha256):
                out.moved.append(back)  # an interrupted reset got this far
            else:
                out.missing.append(str(source))
                log.error("%s: listed in the catalog but not found (nor in %s)", source, incoming)
        for where, name in product_paths(catalog):
            _unlink(Path(where) / name, out)
        for emptied in {p.parent for p in out.removed}:
            if emptied.is_dir():
                fsync_directory(emptied)
        lock.ensure_held()
        out.forgotten = forget_filed(catalog)
        for root in (settings.filesystem_dir, settings.outputs_dir, settings.composite_dir):
            _remove_empty_folders(root)
    out.wall_seconds = time.perf_counter() - started
    log.info("reset filesystem: %d dataset(s), %d file(s) back in %s, %d file(s) removed, %d missing",
             out.datasets, len(out.moved), settings.ingest_dir, len(out.removed), len(out.missing))
    return out


def _remove_empty_folders(root: Path) -> None:
    """Remove the folders under ``root`` (not ``root`` itself) that the reset emptied."""
    if not root.is_dir():
        return
    for walked, _dirs, _files in sorted(os.walk(root), key=lambda w: -len(w[0])):
        path = Path(walked)
        if path != root:
            with suppress(OSError):  # not empty: the user's, or superseded versions kept
                path.rmdir()


__all__ = ["DatabaseReset", "FilesystemReset", "reset_database", "reset_filesystem"]
