"""``hstlc check --move``: quarantine bad datasets through ingest's own filing path.

Each bad dataset's files move into ``bad_data_dir`` and its event files are recorded in ``bad_data``
exactly as ingest quarantines one (:func:`hstlc.ingestion.plan.quarantine_plan`: journal → move →
commit, by :class:`~hstlc.ingestion.filer.Filer`), under the ingest lock, so a ``check --move`` killed
half-way is finished by the next ingest and never races one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hstlc.catalog import Catalog
from hstlc.catalog import ingest_state as state
from hstlc.config import Settings
from hstlc.errors import FilingError, HstlcError
from hstlc.file_checks import CheckOutcome
from hstlc.filing import sha256_of
from hstlc.ingestion.filer import FaultHook, Filer
from hstlc.ingestion.plan import FilingPlan, quarantine_plan
from hstlc.ingestion.work import FileInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuarantineResult:
    """Where a bad dataset's files went (``moved``), or why they could not be moved (``error``)."""

    outcome: CheckOutcome
    moved: tuple[Path, ...] = ()
    error: HstlcError | None = None


def _plan(outcome: CheckOutcome, folder: Path, recorded: dict[str, Any]) -> FilingPlan:
    files = [FileInfo(str(p), p.name, sha256_of(p)) for p in outcome.files]
    record = recorded.get(outcome.rootname)
    return quarantine_plan(outcome.rootname, files, {f.name for f, _ in outcome.per_file},
                           outcome.result.reasons, folder, record.files if record is not None else None)


def quarantine(outcomes: Sequence[CheckOutcome], settings: Settings, *,
               fault: FaultHook | None = None) -> list[QuarantineResult]:
    """Move every bad dataset among ``outcomes`` into ``bad_data_dir`` and record it (see the module
    docstring); one result per bad dataset, in order. The catalog schema is created if missing.

    Raises :class:`~hstlc.errors.IngestLockedError` while an ingest runs on the same catalog. A dataset
    whose files cannot be moved is reported in its result (``error``), its files left where they were.
    """
    bad = [o for o in outcomes if o.bad]
    if not bad:
        return []
    folder = Path(settings.bad_data_dir)
    catalog = Catalog.from_url(settings.database_url)
    errors: dict[str, HstlcError] = {}
    done: set[str] = set()
    plans: dict[str, FilingPlan] = {}
    try:
        catalog.init_schema()
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:2000]
        with state.IngestLockHandle.acquire(catalog, command=command) as lock:

            def session() -> AbstractContextManager[Any]:
                lock.ensure_held()
                return catalog.session()

            def committed(outcome: CheckOutcome) -> Callable[[], None]:
                def record() -> None:
                    done.add(outcome.rootname)
                    log.info("%s: bad (%s); moved to %s", outcome.rootname, "; ".join(outcome.result.reasons),
                             folder)
                return record

            def failed(rootname: str, reason: str) -> None:
                errors.setdefault(rootname, FilingError(reason))

            filer = Filer(settings, session, failed, fault=fault)
            with catalog.session() as s:
                recorded = state.dataset_records(s, [o.rootname for o in bad])
            for outcome in bad:
                try:
                    plan = _plan(outcome, folder, recorded)
                except (HstlcError, OSError) as exc:
                    errors[outcome.rootname] = exc if isinstance(exc, HstlcError) else FilingError(
                        f"{outcome.path}: {exc.strerror or exc}")
                    continue
                plans[outcome.rootname] = plan
                filer.file(plan, committed(outcome))
            filer.flush()
    finally:
        catalog.dispose()
    results = []
    for outcome in bad:
        filed = plans.get(outcome.rootname)
        if outcome.rootname in done and filed is not None:
            moved = tuple(m.dest for m in filed.moves if Path(m.dest_dir) == folder)
            results.append(QuarantineResult(outcome, moved))
        else:
            error = errors.get(outcome.rootname) or FilingError(f"{outcome.path}: not moved")
            results.append(QuarantineResult(outcome, (), error))
    return results


__all__ = ["QuarantineResult", "quarantine"]
