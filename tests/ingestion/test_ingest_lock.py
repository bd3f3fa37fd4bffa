"""The ingest lock: one ingest per catalog, on every backend; stale-lock takeover; lost-lock detection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from hstlc.catalog import Catalog
from hstlc.catalog.ingest_state import IngestLockedError, IngestLockHandle, lock_holder
from hstlc.catalog.schema import IngestLock, utcnow
from hstlc.errors import CatalogError
from support.ingest import dead_pid


def test_second_ingest_is_refused(catalog: Catalog) -> None:
    with IngestLockHandle.acquire(catalog, command="hstlc ingest A") as lock:
        holder = lock_holder(catalog)
        assert holder is not None and holder.owner == lock.owner and holder.command == "hstlc ingest A"
        refused = r"^another ingest is running on this catalog \(pid \d+ on "
        with pytest.raises(IngestLockedError, match=refused):
            IngestLockHandle.acquire(catalog)
    assert lock_holder(catalog) is None
    with IngestLockHandle.acquire(catalog):
        pass


def test_lock_of_a_dead_process_on_this_host_is_taken_over(catalog: Catalog) -> None:
    IngestLockHandle.acquire(catalog, pid=dead_pid(), heartbeat_seconds=3600)  # never released: "killed"
    with IngestLockHandle.acquire(catalog) as lock:
        holder = lock_holder(catalog)
        assert holder is not None and holder.owner == lock.owner


def test_other_host_lock_is_respected_until_its_heartbeat_is_stale(catalog: Catalog) -> None:
    IngestLockHandle.acquire(catalog, host="elsewhere.example", pid=1, heartbeat_seconds=3600)
    with pytest.raises(IngestLockedError, match=r"on elsewhere\.example"):
        IngestLockHandle.acquire(catalog, stale_after=600)
    with catalog.session() as session:
        session.execute(update(IngestLock).values(heartbeat_at=utcnow() - timedelta(seconds=700)))
    with IngestLockHandle.acquire(catalog, stale_after=600) as lock:
        assert lock_holder(catalog).owner == lock.owner  # type: ignore[union-attr]


def test_a_run_that_lost_its_lock_stops_writing(catalog: Catalog) -> None:
    first = IngestLockHandle.acquire(catalog, heartbeat_seconds=3600)
    with catalog.session() as session:  # someone took it over (e.g. after a long stall)
        session.execute(update(IngestLock).values(owner="someone-else"))
    first.heartbeat()
    with pytest.raises(CatalogError, match="the ingest lock was taken over by another run"):
        first.ensure_held()
    first.release()  # does not delete the other run's lock
    assert lock_holder(catalog).owner == "someone-else"  # type: ignore[union-attr]


@pytest.mark.slow
def test_heartbeat_thread_refreshes(catalog: Catalog) -> None:
    import time

    with IngestLockHandle.acquire(catalog, heartbeat_seconds=0.05):
        before = lock_holder(catalog).heartbeat_at  # type: ignore[union-attr]
        time.sleep(1.2)
        after = lock_holder(catalog).heartbeat_at  # type: ignore[union-attr]
    assert after > before
