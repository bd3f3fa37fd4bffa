"""What ``hstlc download`` asks MAST for and which of the answers it fetches (rules only, no I/O).

The original ``download_hstlc`` selection in today's MAST Search API: HST datasets of instrument COS or
STIS in TIME-TAG mode, already public (released before today), science exposures (``sci_aec = S``), not
of a calibration target (DARK, BIAS, DEUTERIUM, WAVE, ANY, NONE); of each, the event files (``_corrtag_a``,
``_corrtag_b``, ``_corrtag``, ``_tag``) and the ``_x1d``. A dataset already known — its rootname in the
catalog's ``metadata``, ``bad_data`` or ingest markers, or its file already in ``ingest_dir`` — is
skipped. A product name from MAST is used as a file name only when it is exactly
``<9-character rootname>_<kind>.fits``: nothing in a reply can name a file outside ``ingest_dir``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Target names of calibration exposures (the original's list).
CALIBRATION_TARGETS = frozenset({"DARK", "BIAS", "DEUTERIUM", "WAVE", "ANY", "NONE"})
INSTRUMENTS = ("COS", "STIS")
#: The file kinds fetched, in the order a dataset lists them.
KINDS = ("corrtag_a", "corrtag_b", "corrtag", "tag", "x1d")
EVENT_KINDS = frozenset(KINDS[:-1])
#: Search columns asked for (the ``sci_*`` columns the original queried, and what the summary shows).
COLUMNS = (
    "sci_data_set_name", "sci_targname", "sci_instrume", "sci_operating_mode", "sci_release_date",
    "sci_start_time", "sci_pep_id", "sci_aec",
)
SORT = ("sci_start_time", "sci_data_set_name")
_FILE_NAME = re.compile(r"([a-z0-9]{9})_(corrtag_a|corrtag_b|corrtag|tag|x1d)\.fits")


@dataclass(frozen=True)
class DownloadFilters:
    """The user's narrowing of the selection (``hstlc download --target/--proposal/--instrument/--since``)."""

    target: str | None = None
    proposal: int | None = None
    instrument: str | None = None
    since: dt.date | None = None

    def __post_init__(self) -> None:
        if self.instrument is not None and self.instrument.upper() not in INSTRUMENTS:
            raise ValueError(f"instrument must be one of {', '.join(INSTRUMENTS)}, not {self.instrument!r}")


def search_conditions(filters: DownloadFilters, today: dt.date) -> list[dict[str, str]]:
    """The MAST Search API conditions of the selection (MAST's syntax: ``a,b`` either, ``<d`` before)."""
    instrument = filters.instrument.upper() if filters.instrument else ",".join(INSTRUMENTS)
    conditions = [
        {"sci_instrume": instrument},
        {"sci_operating_mode": "TIME-TAG"},
        {"sci_aec": "S"},
        {"sci_release_date": f"<{today.isoformat()}"},
    ]
    if filters.target:
        conditions.append({"sci_targname": filters.target})
    if filters.proposal is not None:
        conditions.append({"sci_pep_id": str(int(filters.proposal))})
    if filters.since is not None:
        conditions.append({"sci_start_time": f">={filters.since.isoformat()}"})
    return conditions


@dataclass(frozen=True)
class Dataset:
    """One dataset of the search reply."""

    dataset_id: str
    targname: str
    instrument: str
    release_date: str
    start_time: str
    proposal: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Dataset:
        def text(key: str) -> str:
            value = row.get(key)
            return "" if value is None else str(value).strip()

        return cls(text("sci_data_set_name").upper(), text("sci_targname"), text("sci_instrume").upper(),
                   text("sci_release_date"), text("sci_start_time"), text("sci_pep_id"))


def reason_to_skip(dataset: Dataset, today: dt.date, filters: DownloadFilters) -> str | None:
    """Why a search row is not a dataset to fetch (MAST applied the same conditions; a reply is checked,
    not trusted), or None."""
    if not re.fullmatch(r"[A-Z0-9]{9}", dataset.dataset_id):
        return f"not an HST dataset name: {dataset.dataset_id[:40]!r}"
    if dataset.targname.upper() in CALIBRATION_TARGETS:
        return f"calibration target {dataset.targname}"
    wanted = {filters.instrument.upper()} if filters.instrument else set(INSTRUMENTS)
    if dataset.instrument not in wanted:
        return f"instrument {dataset.instrument or '?'}"
    released = dataset.release_date[:10]
    if not released or released >= today.isoformat():
        return f"not public before {today.isoformat()} (release {released or 'unknown'})"
    return None


@dataclass(frozen=True)
class ProductFile:
    """One file of a dataset to fetch: its name (safe), rootname, kind, size and checksum from MAST."""

    name: str
    rootname: str
    kind: str
    dataset_id: str
    size: int | None
    checksum: tuple[str, str] | None = None
    """(algorithm, hex digest) when MAST gives one (``sha256`` or ``md5``)."""


def file_name_problem(name: str) -> str | None:
    """None if ``name`` is a product file name hstlc fetches, else why not (checked before any path is
    made from it)."""
    if _FILE_NAME.fullmatch(name):
        return None
    if "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
        return "unsafe file name (a path, not a name)"
    return "not an event or x1d file"


def product_file(row: Mapping[str, Any]) -> ProductFile | str:
    """The :class:`ProductFile` of one product row, or the reason it is not fetched."""
    raw = row.get("filename")
    if not isinstance(raw, str) or not raw:
        return "no file name"
    name = raw.strip()
    problem = file_name_problem(name)
    if problem is not None:
        return problem
    match = _FILE_NAME.fullmatch(name)
    assert match is not None
    size = row.get("size")
    checksum = None
    for algorithm in ("sha256", "md5"):
        value = row.get(algorithm) or row.get(f"{algorithm}sum") or row.get(f"checksum_{algorithm}")
        if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{32,64}", value):
            checksum = (algorithm, value.lower())
            break
    return ProductFile(
        name=name, rootname=match.group(1), kind=match.group(2),
        dataset_id=str(row.get("dataset") or "").strip().upper(),
        size=int(size) if isinstance(size, int | float) and size >= 0 else None, checksum=checksum,
    )


@dataclass
class DatasetFiles:
    """A dataset's files to fetch, and the product rows passed over (name → reason)."""

    dataset: Dataset
    files: list[ProductFile] = field(default_factory=list)
    passed_over: dict[str, str] = field(default_factory=dict)


def files_of(datasets: Iterable[Dataset], products: Iterable[Mapping[str, Any]]) -> dict[str, DatasetFiles]:
    """Each dataset's files to fetch (event files and x1d, each name once, in :data:`KINDS` order). A
    rootname's x1d is fetched only beside its event files."""
    out = {d.dataset_id: DatasetFiles(d) for d in datasets}
    seen: set[str] = set()
    for row in products:
        parsed = product_file(row)
        owner = str(row.get("dataset") or "").strip().upper()
        entry = out.get(owner)
        if entry is None:
            continue
        name = str(row.get("filename", ""))[:80]
        if isinstance(parsed, str):
            if parsed != "not an event or x1d file":
                entry.passed_over[name] = parsed
            continue
        if parsed.name in seen:
            continue
        seen.add(parsed.name)
        entry.files.append(parsed)
    for entry in out.values():
        with_events = {f.rootname for f in entry.files if f.kind in EVENT_KINDS}
        entry.files = sorted((f for f in entry.files if f.kind in EVENT_KINDS or f.rootname in with_events),
                             key=lambda f: (f.rootname, KINDS.index(f.kind)))
    return out


def rootname_of(file_name: str) -> str | None:
    """The lower-case rootname of an HST file name (``lb4m01aaq_corrtag_a.fits`` → ``lb4m01aaq``)."""
    head = file_name.split("_", 1)[0].lower()
    return head if re.fullmatch(r"[a-z0-9]{9}", head) else None


__all__ = [
    "CALIBRATION_TARGETS",
    "COLUMNS",
    "INSTRUMENTS",
    "KINDS",
    "SORT",
    "Dataset",
    "DatasetFiles",
    "DownloadFilters",
    "ProductFile",
    "file_name_problem",
    "files_of",
    "product_file",
    "reason_to_skip",
    "rootname_of",
    "search_conditions",
]
