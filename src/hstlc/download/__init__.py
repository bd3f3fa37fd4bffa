"""``hstlc download``: fetch from MAST every COS/STIS TIME-TAG dataset the catalog does not know yet.

The rooms: :mod:`~hstlc.download.mast` speaks the MAST Search API; :mod:`~hstlc.download.selection` holds
the rules (what is asked for, which replies are fetched, which file names are safe);
:mod:`~hstlc.download.transfer` puts one file into ``ingest_dir`` without ever leaving a partial one
where ingest would see it. :func:`download` runs them: it searches page by page (sorted by start time)
until ``limit`` new datasets are found — a dataset is new when none of its files' rootnames is in the
catalog (``metadata``, ``bad_data``, a done ingest marker) or in ``ingest_dir`` — lists their files,
saves what MAST answered into ``download_dir`` (``mast_<time>.json``, for the record, as the original
saved its request results) and transfers the files, ``download_transfers`` at a time. One download runs
at a time per ``download_dir`` (a lock file there).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hstlc.catalog.download_queries import known_rootnames
from hstlc.catalog.store import Catalog
from hstlc.config import Settings
from hstlc.download.mast import MastClient
from hstlc.download.selection import (
    COLUMNS,
    SORT,
    Dataset,
    DatasetFiles,
    DownloadFilters,
    ProductFile,
    files_of,
    reason_to_skip,
    rootname_of,
    search_conditions,
)
from hstlc.download.transfer import Transfer, fetch, part_path
from hstlc.errors import DownloadError
from hstlc.filing import ensure_dir, write_atomically

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class DownloadProgress:
    """Files and bytes of a download so far (``item``: the file just finished or failed)."""

    files: int
    files_done: int
    files_failed: int
    bytes: int
    bytes_done: int
    item: str = ""
    message: str = ""


DownloadProgressCallback = Callable[[DownloadProgress], None]


@dataclass
class DownloadSummary:
    """What a download found, skipped, fetched and failed, and where the query record went."""

    found: int = 0
    """New datasets selected (at most the limit)."""
    known: list[str] = field(default_factory=list)
    """Datasets skipped because the catalog or ``ingest_dir`` already has them."""
    passed_over: dict[str, str] = field(default_factory=dict)
    """Search rows or files not fetched → why (calibration target, unsafe name, no event files …)."""
    planned: list[DatasetFiles] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    query_record: Path | None = None
    dry_run: bool = False
    limit: int = 0
    wall_seconds: float = 0.0

    @property
    def files(self) -> list[ProductFile]:
        return [f for d in self.planned for f in d.files]

    @property
    def failed(self) -> list[Transfer]:
        return [t for t in self.transfers if t.status == "failed"]

    @property
    def downloaded(self) -> list[Transfer]:
        return [t for t in self.transfers if t.status == "downloaded"]

    @property
    def bytes_downloaded(self) -> int:
        return sum(t.bytes for t in self.transfers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "limit": self.limit,
            "found": self.found,
            "skipped_known": self.known,
            "passed_over": self.passed_over,
            "datasets": [
                {"dataset": d.dataset.dataset_id, "targname": d.dataset.targname,
                 "instrument": d.dataset.instrument, "proposal": d.dataset.proposal,
                 "start_time": d.dataset.start_time,
                 "files": [{"name": f.name, "size": f.size} for f in d.files]}
                for d in self.planned
            ],
            "downloaded": [{"name": t.file.name, "bytes": t.bytes, "resumed_from": t.resumed}
                           for t in self.downloaded],
            "already_present": [t.file.name for t in self.transfers if t.status == "present"],
            "failed": [{"name": t.file.name, "reason": t.reason} for t in self.failed],
            "bytes_downloaded": self.bytes_downloaded,
            "query_record": str(self.query_record) if self.query_record else None,
            "wall_seconds": round(self.wall_seconds, 3),
        }


@contextmanager
def _download_lock(folder: Path) -> Iterator[None]:
    """One download at a time into ``folder``, the ``ingest_dir`` (two would append to the same partial
    files there): an exclusive ``flock`` on the folder itself, so no lock file is left among the user's.
    Where the filesystem has no such locks (some network filesystems), the download goes on unlocked."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DownloadError(f"{folder}: another 'hstlc download' is running into this folder; "
                                "wait for it to finish") from None
        except OSError as exc:
            log.warning("%s: cannot lock the folder (%s); make sure one download at a time runs into it",
                        folder, exc.strerror or exc)
        yield
    finally:
        os.close(fd)


def _present_rootnames(folder: Path) -> set[str]:
    """Rootnames of the files already in ``ingest_dir`` (partial downloads aside)."""
    if not folder.is_dir():
        return set()
    names = (e.name for e in os.scandir(folder) if not e.name.startswith(".") and e.is_file())
    return {r for r in (rootname_of(n) for n in names) if r is not None}


def _select(client: MastClient, filters: DownloadFilters, today: dt.date, limit: int, known: set[str],
            present: set[str], summary: DownloadSummary) -> list[dict[str, Any]]:
    """Fill ``summary`` with the datasets to fetch (at most ``limit``; 0 = all); returns the search rows
    seen, for the record."""
    rows_seen: list[dict[str, Any]] = []
    pending: list[Dataset] = []

    def settle(batch: list[Dataset]) -> None:
        if not batch:
            return
        products = client.products([d.dataset_id for d in batch])
        for dataset_id, entry in files_of(batch, products).items():
            for name, reason in entry.passed_over.items():
                summary.passed_over[f"{dataset_id}/{name}"] = reason
            new = [f for f in entry.files if f.rootname not in known and f.rootname not in present]
            if entry.files and not new:
                summary.known.append(dataset_id)
            elif not new:
                summary.passed_over[dataset_id] = "MAST lists no event file for it"
            elif not limit or len(summary.planned) < limit:
                entry.files = new
                summary.planned.append(entry)

    for row in client.search_all(search_conditions(filters, today), COLUMNS, sort_by=SORT):
        rows_seen.append(row)
        dataset = Dataset.from_row(row)
        reason = reason_to_skip(dataset, today, filters)
        if reason is not None:
            summary.passed_over[dataset.dataset_id or f"row {len(rows_seen)}"] = reason
            continue
        if dataset.dataset_id.lower() in known:
            summary.known.append(dataset.dataset_id)
            continue
        pending.append(dataset)
        if len(pending) >= 100:
            settle(pending)
            pending = []
        if limit and len(summary.planned) >= limit:
            break
    settle(pending)
    summary.found = len(summary.planned)
    return rows_seen


def _record(settings: Settings, conditions: list[dict[str, str]], rows: list[dict[str, Any]],
            summary: DownloadSummary) -> Path:
    """Save the query and MAST's answer into ``download_dir`` (JSON), as the original kept its results."""
    folder = ensure_dir(settings.download_dir, group=settings.file_group, dir_mode=settings.file_mode)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
    target = folder / f"mast_{stamp}.json"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"mast_{stamp}_{n}.json"
    document = {
        "api": f"{settings.mast_url.rstrip('/')}/search/hst/api/v0.1/search",
        "conditions": conditions,
        "columns": list(COLUMNS),
        "rows": rows,
        "selected": [{"dataset": d.dataset.dataset_id, "files": [f.name for f in d.files]}
                     for d in summary.planned],
    }
    data = json.dumps(document, indent=1, default=str).encode()
    write_atomically(target, lambda tmp: tmp.write_bytes(data), overwrite=False)
    return target


def download(
    settings: Settings,
    *,
    catalog: Catalog | None = None,
    filters: DownloadFilters | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    progress: DownloadProgressCallback | None = None,
    today: dt.date | None = None,
) -> DownloadSummary:
    """Fetch the new COS/STIS TIME-TAG datasets from MAST into ``settings.ingest_dir`` (module docstring).

    ``catalog``: whose datasets are skipped as known (None: no catalog yet, nothing is known).
    ``limit``: new datasets at most (default ``settings.download_limit``; 0 = all).
    ``dry_run``: ask MAST and say what would be fetched, write nothing. Raises
    :class:`~hstlc.errors.DownloadError` when MAST cannot be asked; a file that cannot be fetched is a
    failed transfer in the summary and the others go on.
    """
    started = time.perf_counter()
    filters = filters or DownloadFilters()
    today = today or dt.datetime.now(dt.timezone.utc).date()
    limit = settings.download_limit if limit is None else max(0, int(limit))
    summary = DownloadSummary(dry_run=dry_run, limit=limit)
    ingest_dir = settings.ingest_dir
    with MastClient(settings, pool=settings.download_transfers) as client:
        conditions = search_conditions(filters, today)
        known = known_rootnames(catalog) if catalog is not None else set()
        rows = _select(client, filters, today, limit, known, _present_rootnames(ingest_dir), summary)
        log.info("MAST: %d new dataset(s) selected, %d already known, %d passed over", summary.found,
                 len(summary.known), len(summary.passed_over))
        if dry_run:
            summary.wall_seconds = time.perf_counter() - started
            return summary
        ensure_dir(ingest_dir, group=settings.file_group, dir_mode=settings.file_mode)
        with _download_lock(ingest_dir):
            summary.query_record = _record(settings, conditions, rows, summary)
            summary.transfers = _transfer_all(client, summary.files, ingest_dir, settings.download_transfers,
                                              progress)
    summary.wall_seconds = time.perf_counter() - started
    log.info("download: %d file(s) fetched (%d bytes), %d already present, %d failed in %.1f s",
             len(summary.downloaded), summary.bytes_downloaded,
             sum(t.status == "present" for t in summary.transfers), len(summary.failed), summary.wall_seconds)
    return summary


def _transfer_all(client: MastClient, files: list[ProductFile], folder: Path, transfers: int,
                  progress: DownloadProgressCallback | None) -> list[Transfer]:
    """Fetch ``files`` ``transfers`` at a time; results in the order of ``files``."""
    total_bytes = sum(f.size or 0 for f in files)
    lock = threading.Lock()
    state = {"done": 0, "failed": 0, "bytes": sum(_partial_size(folder, f) for f in files)}

    def report(item: str = "") -> None:
        if progress is not None:
            progress(DownloadProgress(len(files), state["done"], state["failed"], total_bytes, state["bytes"],
                                      item))

    def on_bytes(n: int) -> None:
        with lock:
            state["bytes"] += n
        report()

    report()
    results: dict[int, Transfer] = {}
    with ThreadPoolExecutor(max_workers=max(1, transfers), thread_name_prefix="hstlc-download") as pool:
        futures = {pool.submit(fetch, client, f, folder, on_bytes=on_bytes): i for i, f in enumerate(files)}
        try:
            for future in as_completed(futures):
                i = futures[future]
                transfer = future.result()
                results[i] = transfer
                with lock:
                    state["done"] += 1
                    state["failed"] += transfer.status == "failed"
                    if transfer.status == "present":
                        state["bytes"] += files[i].size or 0
                if transfer.status == "failed":
                    log.error("%s", transfer.reason)
                report(transfer.file.name)
        except BaseException:  # Ctrl-C: the transfers under way finish their file (or resume next run)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [results[i] for i in range(len(files))]


def _partial_size(folder: Path, file: ProductFile) -> int:
    part = part_path(folder, file.name)
    return part.stat().st_size if part.is_file() else 0


__all__ = [
    "DownloadFilters",
    "DownloadProgress",
    "DownloadProgressCallback",
    "DownloadSummary",
    "download",
]
