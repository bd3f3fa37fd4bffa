"""The filing journal's type: what a dataset's files do and which catalog rows then commit.

Before a dataset's files move, its :class:`FilingPlan` is committed to the ``datasets`` table (status
``filing`` or ``quarantining``), as JSON (:meth:`FilingPlan.to_json`). A run killed between the moves and
the commit of the rows leaves the plan there; the next run reads it back (:meth:`FilingPlan.from_json`)
and finishes it (:mod:`hstlc.ingestion.recovery`). The JSON has the shape earlier versions wrote
(``{"moves": [...], "rows": {"metadata": [...], "bad_data": [...], "dataset": {...}}}``), so a journal
left by a killed run of an older hstlc is still finished.

The builders here decide *what* happens to a dataset's files (:func:`plan_moves`, :func:`filing_plan`,
:func:`quarantine_plan`); carrying a plan out is :class:`hstlc.ingestion.filer.Filer`'s job.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hstlc.catalog.ingest_state import BAD, DONE, FILING, JOURNAL_STATUSES, QUARANTINING
from hstlc.errors import FilingError
from hstlc.filing import sha256_of
from hstlc.ingestion.work import FileInfo, recorded_shas
from hstlc.safe_paths import safe_join

log = logging.getLogger(__name__)

SUPERSEDED = "superseded"
"""Folder (inside a target's folder) that keeps earlier versions of files hstlc filed, by sha256 prefix."""

NAME_LENGTH = 255
"""Longest target name stored in the catalog (a longer, hostile header value is cut, with a warning)."""


@dataclass(frozen=True)
class Move:
    """One planned file move: ``src`` → ``dest_dir/name``, recognised as done by its ``sha256``.

    ``copy``: copy instead of move (``ingest --copy``: the user's file stays where it is).
    """

    src: str
    dest_dir: str
    name: str
    sha256: str
    copy: bool = False

    @property
    def dest(self) -> Path:
        return Path(self.dest_dir) / self.name

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"src": self.src, "dest_dir": self.dest_dir, "name": self.name,
                                "sha256": self.sha256}
        if self.copy:
            data["copy"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Move:
        return cls(str(data["src"]), str(data["dest_dir"]), str(data["name"]), str(data["sha256"]),
                   bool(data.get("copy")))


@dataclass(frozen=True)
class FilingPlan:
    """A dataset's journal: its ``status`` while filing (``filing``/``quarantining``), its ``moves`` in
    order, and the catalog rows committed once they are done.

    ``rows`` is what :func:`hstlc.catalog.ingest_state.commit_datasets` writes: ``metadata`` (one dict per
    event file), ``bad_data`` (one per event file of a quarantined dataset) and ``dataset`` (the marker:
    ``status``, ``fingerprint``, ``files``, ``primary_path``, ``targname``, ``config``).
    """

    rootname: str
    status: str
    moves: tuple[Move, ...] = ()
    metadata: tuple[Mapping[str, Any], ...] = ()
    bad_data: tuple[Mapping[str, Any], ...] = ()
    marker: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in JOURNAL_STATUSES:
            raise ValueError(f"not a journal status: {self.status!r}")

    @property
    def done_status(self) -> str:
        """The marker's status once committed (``done`` or ``bad``)."""
        return str(self.marker.get("status", DONE if self.status == FILING else BAD))

    @property
    def reasons(self) -> tuple[str, ...]:
        """The failing checks of a quarantined dataset (empty for one being filed)."""
        return tuple(self.bad_data[0]["reasons"]) if self.bad_data else ()

    def to_json(self) -> dict[str, Any]:
        rows: dict[str, Any] = {"dataset": dict(self.marker)}
        if self.metadata:
            rows["metadata"] = [dict(m) for m in self.metadata]
        if self.bad_data:
            rows["bad_data"] = [dict(b) for b in self.bad_data]
        return {"moves": [m.to_json() for m in self.moves], "rows": rows}

    @classmethod
    def from_json(cls, rootname: str, status: str, data: Mapping[str, Any]) -> FilingPlan:
        rows = data.get("rows") or {}
        return cls(
            rootname,
            status,
            tuple(Move.from_json(m) for m in data.get("moves", ())),
            tuple(rows.get("metadata", ())),
            tuple(rows.get("bad_data", ())),
            dict(rows.get("dataset") or {}),
        )


def fingerprint(files: Iterable[FileInfo]) -> str:
    """sha256 over the sorted ``name:sha256`` of a dataset's input files."""
    text = "\n".join(sorted(f"{f.name}:{f.sha256}" for f in files if f.role == "input"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def superseded_dir(folder: Path, sha: str) -> Path:
    """Where an earlier version (``sha``) of a file filed in ``folder`` is kept."""
    return safe_join(folder, SUPERSEDED, sha[:16])


def bounded_name(rootname: str, value: Any) -> Any:
    """``value`` cut to :data:`NAME_LENGTH` characters if it is a longer string (with a warning)."""
    if isinstance(value, str) and len(value) > NAME_LENGTH:
        log.warning("%s: target name of %d characters cut to %d for the catalog", rootname, len(value),
                    NAME_LENGTH)
        return value[:NAME_LENGTH]
    return value


def _copying(info: FileInfo, copy: bool) -> bool:
    """Whether ``info`` is copied rather than moved: a user's file under ``--copy`` (derived files are
    hstlc's own and always move)."""
    return copy and info.role == "input"


def plan_moves(files: Sequence[FileInfo], folder: Path, recorded_files: Any, *, copy: bool = False
               ) -> list[Move]:
    """The moves that file ``files`` into ``folder``, superseding hstlc's own older versions first.

    A file already in ``folder`` with the same sha256 needs no room (the move drops the source); one
    whose sha256 is what the catalog recorded (``recorded_files``: the dataset marker's ``files``) is an
    earlier version hstlc filed and moves into ``superseded/``. Raises :class:`FilingError` (before
    anything moves) if a different, unknown file is in the way.
    """
    recorded = recorded_shas(recorded_files)
    moves: list[Move] = []
    for info in files:
        dest = folder / info.name
        if dest.exists():
            present = sha256_of(dest)
            if present != info.sha256:
                if recorded.get(info.name) != present:
                    raise FilingError(
                        f"{info.name}: a different file already exists at {dest}; not overwritten "
                        "(move it away and ingest again)"
                    )
                moves.append(Move(str(dest), str(superseded_dir(folder, present)), info.name, present))
        moves.append(Move(info.path, str(folder), info.name, info.sha256, _copying(info, copy)))
    return moves


def file_records(files: Iterable[FileInfo], folder: Path) -> list[dict[str, Any]]:
    """The marker's ``files``: name, sha256, role and folder of each file, sorted by name."""
    return [{"name": f.name, "sha256": f.sha256, "role": f.role, "location": str(folder)}
            for f in sorted(files, key=lambda f: f.name)]


def quarantine_plan(rootname: str, files: Sequence[FileInfo], event_names: Iterable[str],
                    reasons: Sequence[str], folder: Path, recorded_files: Any, *, copy: bool = False
                    ) -> FilingPlan:
    """The plan that moves a bad dataset's ``files`` into ``folder`` (``bad_data_dir``) and records each
    of its event files (``event_names``) in ``bad_data`` with all failing ``reasons``."""
    events = set(event_names)
    bad = tuple({"filename": f.name, "reasons": list(reasons), "path": str(folder), "sha256": f.sha256}
                for f in files if f.name in events)
    marker = {"status": BAD, "fingerprint": fingerprint(files), "files": file_records(files, folder)}
    moves = plan_moves(files, folder, recorded_files, copy=copy)
    return FilingPlan(rootname, QUARANTINING, tuple(moves), bad_data=bad, marker=marker)


@dataclass(frozen=True)
class Extracted:
    """What filing a good dataset needs from its extraction (:class:`~hstlc.ingestion.work.ProcessResult`)."""

    product: Path
    derived: tuple[FileInfo, ...]
    extraction_file: str
    config: tuple[Any, ...]


def filing_plan(rootname: str, files: Sequence[FileInfo], observations: Sequence[Mapping[str, Any]],
                extracted: Extracted, targname: str, folder: Path, recorded_files: Any, *,
                copy: bool = False, tag_derived: str | None = None) -> FilingPlan:
    """The plan that files a good dataset into ``folder`` (``filesystem_dir/<TARGNAME>``) with its
    ``metadata`` rows (one per event file in ``observations``) and its done-marker.

    Files the extraction derived (``extracted.derived``, a STIS corrtag made from its ``_tag``) join the
    dataset; a given file of the same name (re-derived with ``--corrtag-extract``) is kept in
    ``superseded/``. ``tag_derived``: the name of a corrtag given beside its ``_tag``, recorded as derived.
    """
    derived = {f.name for f in extracted.derived}
    replaced = [f for f in files if f.name in derived]
    kept = [f for f in files if f.name not in derived] + list(extracted.derived)
    if tag_derived is not None and not extracted.derived:
        kept = [FileInfo(f.path, f.name, f.sha256, "derived") if f.name == tag_derived else f for f in kept]
    kept.sort(key=lambda f: f.name)  # the catalog records them in one order, whatever the run did
    moves = [Move(f.path, str(superseded_dir(folder, f.sha256)), f.name, f.sha256, _copying(f, copy))
             for f in replaced]
    moves += plan_moves(kept, folder, recorded_files, copy=copy)
    shas = {f.name: f.sha256 for f in kept}
    filed_as = bounded_name(rootname, targname)
    metadata = []
    for obs in observations:
        values = dict(obs)
        values["targname_orig"] = bounded_name(rootname, values.get("targname"))
        values["targname"] = filed_as
        values["path"] = str(folder)
        values["sha256"] = shas.get(values["filename"])
        values["outputs"] = {"individual_path": str(extracted.product.parent),
                             "individual_filename": extracted.product.name}
        metadata.append(values)
    marker = {
        "status": DONE,
        "fingerprint": fingerprint(kept),
        "files": file_records(kept, folder),
        "primary_path": str(folder / extracted.extraction_file),
        "targname": filed_as,
        "config": list(extracted.config),
    }
    return FilingPlan(rootname, FILING, tuple(moves), tuple(metadata), marker=marker)


__all__ = [
    "NAME_LENGTH",
    "SUPERSEDED",
    "Extracted",
    "FilingPlan",
    "Move",
    "bounded_name",
    "file_records",
    "filing_plan",
    "fingerprint",
    "plan_moves",
    "quarantine_plan",
    "superseded_dir",
]
