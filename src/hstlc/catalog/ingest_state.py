"""All of ingest's SQL beyond the upserts: the lock, done-markers and journals, composite membership.

**The ingest lock** is one row of ``ingest_lock`` (``name = 'ingest'``) holding a random owner token, the
host, the pid, the start time and a heartbeat. Taking it is an INSERT (the primary key makes a second
INSERT fail on every backend, across hosts); a run keeps it alive by updating ``heartbeat_at`` every
:data:`HEARTBEAT_SECONDS` from a background thread and deletes it at the end. A lock row is *stale* and
may be taken over when its holder is on this host and its pid is dead (a killed run), or when its
heartbeat is older than ``stale_after`` seconds (a holder on another host that died, or a recycled pid).
Takeover is a compare-and-swap ``UPDATE … WHERE owner = <old token>``: of two runs racing for a stale
lock exactly one wins. Heartbeats compare wall clocks, so hosts sharing a catalog are assumed to be
NTP-synchronised to well within ``stale_after`` (default 10 minutes). A run whose heartbeat finds the
row gone or owned by someone else has lost the lock and stops before its next catalog write.

**Datasets** (table ``datasets``): one row per rootname — its done-marker (``done``/``bad``), its failure
(``failed``), or its journal (``filing``/``quarantining``) while its files move: the journal holds the
moves and the catalog rows to commit, so a re-run finishes a killed run's work.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Update, delete, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from hstlc.catalog.schema import (
    BadData,
    CompositeQueue,
    IngestDataset,
    IngestLock,
    Metadata,
    Outputs,
    utcnow,
)
from hstlc.catalog.store import Catalog, bulk_upsert, normalise_reasons, select_in, with_targname_key
from hstlc.errors import CatalogError, IngestLockedError

log = logging.getLogger(__name__)

LOCK_NAME = "ingest"
HEARTBEAT_SECONDS = 15.0
STALE_AFTER_SECONDS = 600.0

#: Dataset statuses.
DONE = "done"
BAD = "bad"
FAILED = "failed"
FILING = "filing"
QUARANTINING = "quarantining"
JOURNAL_STATUSES = (FILING, QUARANTINING)


# ------------------------------------------------------------------------------------------- the lock


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


@dataclass(frozen=True)
class LockHolder:
    """Who holds the ingest lock."""

    owner: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    command: str | None

    def describe(self) -> str:
        return (
            f"pid {self.pid} on {self.host} since {self.started_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"heartbeat {self.heartbeat_at:%H:%M:%S}"
        )


def lock_holder(catalog: Catalog) -> LockHolder | None:
    """The current holder of the ingest lock, if any."""
    with catalog.session() as session:
        row = session.get(IngestLock, LOCK_NAME)
        if row is None:
            return None
        return LockHolder(row.owner, row.host, row.pid, row.started_at, row.heartbeat_at, row.command)


def _is_stale(holder: LockHolder, *, host: str, stale_after: float, now: datetime) -> str | None:
    """Why ``holder``'s lock may be taken over, or None if it is live."""
    if holder.host == host and not _pid_alive(holder.pid):
        return f"its process {holder.pid} on this host is gone"
    age = (now - holder.heartbeat_at).total_seconds()
    if age > stale_after:
        return f"its heartbeat is {age:.0f} s old (more than {stale_after:.0f} s)"
    return None


def _rowcount(session: Session, statement: Update) -> int:
    """The rows an UPDATE (without RETURNING) matched. ``Session.execute`` returns a ``CursorResult`` for
    it, which its signature does not promise (sqlalchemy/sqlalchemy#12913: cast, as SQLAlchemy advises)."""
    return cast("CursorResult[Any]", session.execute(statement)).rowcount


class IngestLockHandle:
    """The held ingest lock: a heartbeat thread keeps it alive until :meth:`release`.

    Use as a context manager (``with IngestLockHandle.acquire(catalog) as lock: ...``).
    """

    def __init__(self, catalog: Catalog, owner: str, *, heartbeat_seconds: float) -> None:
        self.catalog = catalog
        self.owner = owner
        self.heartbeat_seconds = heartbeat_seconds
        self._stop = threading.Event()
        self._lost: str | None = None
        self._thread = threading.Thread(target=self._beat, name="hstlc-ingest-heartbeat", daemon=True)
        self._thread.start()

    @classmethod
    def acquire(
        cls,
        catalog: Catalog,
        *,
        command: str | None = None,
        stale_after: float = STALE_AFTER_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        host: str | None = None,
        pid: int | None = None,
    ) -> IngestLockHandle:
        """Take the ingest lock or raise :class:`IngestLockedError` naming the holder."""
        host = host or socket.gethostname()
        pid = os.getpid() if pid is None else pid
        owner = uuid.uuid4().hex
        now = utcnow()
        values = {"owner": owner, "host": host, "pid": pid, "started_at": now, "heartbeat_at": now,
                  "command": command}
        try:
            with catalog.session() as session:
                session.add(IngestLock(name=LOCK_NAME, **values))
            return cls(catalog, owner, heartbeat_seconds=heartbeat_seconds)
        except CatalogError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
        holder = lock_holder(catalog)
        if holder is None:  # released between our INSERT and our look: try once more
            return cls.acquire(catalog, command=command, stale_after=stale_after,
                               heartbeat_seconds=heartbeat_seconds, host=host, pid=pid)
        why = _is_stale(holder, host=host, stale_after=stale_after, now=utcnow())
        if why is None:
            raise IngestLockedError(
                f"another ingest is running on this catalog ({holder.describe()}); "
                f"wait for it (a dead one's lock is taken over after {stale_after:.0f} s)"
            )
        with catalog.session() as session:
            taken = _rowcount(session, (
                update(IngestLock)
                .where(IngestLock.name == LOCK_NAME, IngestLock.owner == holder.owner)
                .values(**values)
            ))
        if taken != 1:
            raise IngestLockedError(
                "another ingest is running on this catalog (it took over a stale lock at the same moment)"
            )
        log.warning("took over a stale ingest lock (%s): %s", holder.describe(), why)
        return cls(catalog, owner, heartbeat_seconds=heartbeat_seconds)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                self.heartbeat()
            except (CatalogError, SQLAlchemyError) as exc:  # a transient failure: try again next beat
                log.warning("ingest lock heartbeat failed: %s", exc)

    def heartbeat(self) -> None:
        """Refresh the heartbeat; notes a lost lock (checked by :meth:`ensure_held`)."""
        with self.catalog.session() as session:
            n = _rowcount(session, (
                update(IngestLock)
                .where(IngestLock.name == LOCK_NAME, IngestLock.owner == self.owner)
                .values(heartbeat_at=utcnow())
            ))
        if n != 1 and self._lost is None:
            self._lost = "the ingest lock was taken over by another run"
            log.error(self._lost)

    def ensure_held(self) -> None:
        """Raise :class:`CatalogError` if the lock was lost (so no more catalog writes happen)."""
        if self._lost:
            raise CatalogError(f"{self.catalog.url}: {self._lost}; stopping (re-run ingest to continue)")

    def release(self) -> None:
        """Stop the heartbeat and delete the lock row (only if still ours)."""
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            with self.catalog.session() as session:
                session.execute(
                    delete(IngestLock).where(IngestLock.name == LOCK_NAME, IngestLock.owner == self.owner)
                )
        except CatalogError as exc:
            log.warning("could not release the ingest lock: %s", exc)

    def __enter__(self) -> IngestLockHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# ------------------------------------------------------------------------------------------ datasets


def config_key(config: Sequence[Any]) -> str:
    """Stable key of a composite configuration (instrume, detector, targname, opt_elem, cenwave, aperture)."""
    text = json.dumps([None if v is None else str(v) for v in config], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dataset_records(session: Session, rootnames: Iterable[str]) -> dict[str, IngestDataset]:
    """The ``datasets`` rows of ``rootnames`` (those that exist), by rootname."""
    names = sorted(set(rootnames))
    found: dict[str, IngestDataset] = {}
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        for row in session.execute(select(IngestDataset).where(IngestDataset.rootname.in_(chunk))).scalars():
            found[row.rootname] = row
    return found


def journals(session: Session) -> list[IngestDataset]:
    """Datasets whose files were being moved when a run stopped (their plan is to be finished)."""
    return list(
        session.execute(
            select(IngestDataset)
            .where(IngestDataset.status.in_(JOURNAL_STATUSES))
            .order_by(IngestDataset.rootname)
        ).scalars()
    )


def _upsert_dataset(session: Session, rootname: str, **values: Any) -> None:
    bulk_upsert(session, IngestDataset, "rootname", [{"rootname": rootname, **values}])


def write_journals(session: Session, journals: Sequence[tuple[str, str, Mapping[str, Any]]]) -> None:
    """Record that each dataset's files are about to move: ``(rootname, status, plan)`` with the
    journal status and the plan (moves and rows to commit), in a few statements."""
    for _, status, _ in journals:
        if status not in JOURNAL_STATUSES:
            raise ValueError(f"not a journal status: {status}")
    rows = [{"rootname": root, "status": status, "plan": dict(plan)} for root, status, plan in journals]
    bulk_upsert(session, IngestDataset, "rootname", rows)


def record_failure(session: Session, rootname: str, reason: str, *, fingerprint: str | None = None) -> None:
    """Record that ``rootname`` failed (left where it was). A done-marker of an earlier version is kept."""
    status = session.execute(
        select(IngestDataset.status).where(IngestDataset.rootname == rootname)
    ).scalar_one_or_none()
    if status in (DONE, BAD, *JOURNAL_STATUSES):
        # Keep the record of what is catalogued (or being finished); the failure goes to the log/summary.
        return
    _upsert_dataset(session, rootname, status=FAILED, reason=reason, fingerprint=fingerprint)


def commit_dataset(session: Session, rootname: str, plan: Mapping[str, Any]) -> None:
    """Write a dataset's catalog rows and its done-marker (call inside one transaction, files in place).

    ``plan["rows"]`` holds ``metadata`` (list of dicts: ``filename`` plus column values and an
    ``outputs`` dict), ``bad_data`` (list of dicts: ``filename``, ``reasons`` plus column values) and
    ``dataset`` (the marker's ``status``, ``fingerprint``, ``files``, ``primary_path``, ``targname`` and
    ``config``). A configuration the dataset leaves is queued for a rebuild as well as the one it joins.
    """
    commit_datasets(session, [(rootname, plan)])


def commit_datasets(session: Session, plans: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """:func:`commit_dataset` for several datasets with a fixed number of statements (bulk upserts)."""
    if not plans:
        return
    now = utcnow()
    metadata: list[dict[str, Any]] = []
    outputs: dict[str, dict[str, Any]] = {}
    bad: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    joined: dict[str, list[Any]] = {}
    for rootname, plan in plans:
        rows = plan["rows"]
        for meta in rows.get("metadata", []):
            values = with_targname_key({k: v for k, v in meta.items() if k != "outputs"})
            metadata.append({**values, "ingest_date": now})
            if meta.get("outputs"):
                outputs[meta["filename"]] = dict(meta["outputs"])
        for entry in rows.get("bad_data", []):
            values = {k: v for k, v in entry.items() if k != "reasons"}
            bad.append({"ingest_date": now, **values, "reason": normalise_reasons(entry["reasons"])})
        marker = rows["dataset"]
        config = marker.get("config")
        key = config_key(config) if config else None
        markers.append({
            "rootname": rootname, "status": marker["status"], "fingerprint": marker.get("fingerprint"),
            "files": marker.get("files"), "primary_path": marker.get("primary_path"),
            "targname": marker.get("targname"), "config_key": key, "config": list(config) if config else None,
            "reason": None, "plan": None,
        })
        if config and key:
            joined[key] = list(config)
    bulk_upsert(session, Metadata, "filename", metadata)
    if outputs:
        names = list(outputs)
        ids = dict(select_in(session, select(Metadata.filename, Metadata.id), Metadata.filename, names))
        bulk_upsert(session, Outputs, "metadata_id",
                    [{"metadata_id": ids[name], **values} for name, values in outputs.items()])
    bulk_upsert(session, BadData, "filename", bad)
    # A configuration a dataset leaves lost a member: queue it too.
    roots = [m["rootname"] for m in markers]
    new_keys = {m["rootname"]: m["config_key"] for m in markers}
    queue: dict[str, list[Any]] = {}
    statement = select(IngestDataset.rootname, IngestDataset.config_key, IngestDataset.config)
    for root, old_key, old_config in select_in(session, statement, IngestDataset.rootname, roots):
        if old_key and old_config and old_key != new_keys.get(root):
            queue[old_key] = list(old_config)
    queue.update(joined)
    bulk_upsert(session, IngestDataset, "rootname", markers)
    _queue(session, queue)


def _queue(session: Session, configs: Mapping[str, Sequence[Any]]) -> None:
    """Put configurations (config_key → config) on the composite queue unless they are on it."""
    keys = list(configs)
    present = {k for (k,) in select_in(session, select(CompositeQueue.config_key), CompositeQueue.config_key,
                                        keys)}
    missing = [{"config_key": k, "config": [None if v is None else v for v in configs[k]]}
               for k in keys if k not in present]
    if missing:
        session.execute(insert(CompositeQueue), missing)


# ---------------------------------------------------------------------------------------- composites


@dataclass(frozen=True)
class CompositeMember:
    rootname: str
    primary_path: str
    expstart: float | None


def queued_composites(session: Session) -> list[tuple[str, list[Any]]]:
    """The configurations whose composite must be (re)built: (config_key, config), in a stable order."""
    rows = session.execute(select(CompositeQueue).order_by(CompositeQueue.config_key)).scalars()
    return [(row.config_key, list(row.config)) for row in rows]


def composite_members(session: Session, key: str) -> list[CompositeMember]:
    """The done datasets of a configuration, in time order (EXPSTART, then rootname)."""
    datasets = list(
        session.execute(
            select(IngestDataset)
            .where(IngestDataset.config_key == key, IngestDataset.status == DONE)
            .order_by(IngestDataset.rootname)
        ).scalars()
    )
    if not datasets:
        return []
    starts: dict[str, float | None] = {}
    roots = [d.rootname for d in datasets]
    for root, expstart in session.execute(
        select(Metadata.rootname, Metadata.expstart).where(Metadata.rootname.in_(roots))
    ):
        if root is not None and expstart is not None:  # root: always (the query matched it)
            starts[root] = min(expstart, starts.get(root) or expstart)
    members = [CompositeMember(d.rootname, d.primary_path or "", starts.get(d.rootname)) for d in datasets]
    return sorted(members, key=lambda m: (m.expstart if m.expstart is not None else float("inf"), m.rootname))


def record_composite(
    session: Session, key: str, rootnames: Sequence[str], *, path: str | None, filename: str | None
) -> None:
    """Point every member's ``outputs.composite_*`` at the composite and take it off the queue."""
    for start in range(0, len(rootnames), 500):
        chunk = list(rootnames[start : start + 500])
        ids = session.execute(select(Metadata.id).where(Metadata.rootname.in_(chunk))).scalars().all()
        if ids:
            session.execute(
                update(Outputs)
                .where(Outputs.metadata_id.in_(ids))
                .values(composite_path=path, composite_filename=filename)
            )
    session.execute(delete(CompositeQueue).where(CompositeQueue.config_key == key))


def dequeue_composite(session: Session, key: str) -> None:
    session.execute(delete(CompositeQueue).where(CompositeQueue.config_key == key))


__all__ = [
    "BAD",
    "DONE",
    "FAILED",
    "FILING",
    "HEARTBEAT_SECONDS",
    "JOURNAL_STATUSES",
    "QUARANTINING",
    "STALE_AFTER_SECONDS",
    "CompositeMember",
    "IngestLockHandle",
    "IngestLockedError",
    "LockHolder",
    "commit_dataset",
    "commit_datasets",
    "composite_members",
    "config_key",
    "dataset_records",
    "dequeue_composite",
    "journals",
    "lock_holder",
    "queued_composites",
    "record_composite",
    "record_failure",
    "write_journals",
]
