"""``hstlc ingest``: sweep → recover → discover → survey → triage → resolve → extract → composites.

The rooms of the package, in the order a run goes through them:

* :mod:`~hstlc.ingestion.run` — :func:`ingest`: the lock, the worker pool (:mod:`hstlc.workers`), the
  stages; :mod:`~hstlc.ingestion.stages` — :data:`~hstlc.ingestion.stages.STAGES`, each a function of
  the run;
* :mod:`~hstlc.ingestion.discovery` — which files in a folder form which datasets;
* :mod:`~hstlc.ingestion.work` — what worker processes do (read, check, extract, write products; no
  catalog);
* :mod:`~hstlc.ingestion.plan` — the filing journal's type (:class:`~hstlc.ingestion.plan.FilingPlan`)
  and the rules that decide where files go; :mod:`~hstlc.ingestion.filer` — the one owner of
  journal → move → commit; :mod:`~hstlc.ingestion.recovery` — cleaning up after a killed run;
* :mod:`~hstlc.ingestion.quarantine` — ``hstlc check --move`` through the same filer, under the lock;
* :mod:`~hstlc.ingestion.dry_run` — ``ingest --dry-run``; :mod:`~hstlc.ingestion.summary` — what a
  run did.

``num_cores`` worker processes read, check and extract (warmed up while the main process recovers and
discovers); with one core everything runs in order in the main process. The main process hands out the
work, files the results and is the only catalog writer.

Crash safety — every kill point is covered:

* products are written to a temporary name and renamed (:func:`hstlc.filing.write_atomically`); input
  files are moved with :func:`hstlc.filing.move_file` (rename, or verified copy; never an overwrite or a
  deletion of the only copy);
* before a dataset's files move, its *journal* — the planned moves and the catalog rows to write — is
  committed to ``datasets`` (status ``filing``/``quarantining``). Then the files move, then its catalog
  rows and its done-marker commit in ONE transaction. Datasets are filed in batches (up to
  :data:`~hstlc.ingestion.filer.FILING_BATCH`, by :class:`~hstlc.ingestion.filer.Filer`): one
  transaction journals a batch, the next commits its rows, each a handful of bulk statements, so the
  catalog costs ~2 % of an ingest's time. A run killed in between leaves the journal; the next run
  finishes it first (moves are idempotent: a file already at its destination with the planned sha256
  counts as moved), so files moved to ``filesystem_dir`` but not yet recorded are recorded;
* a STIS corrtag derived from a ``_tag`` is written into ``filesystem_dir/.hstlc-staging/`` (never the
  input directory) and filed through the journal with the dataset's files; one a killed run staged but
  never journalled is removed by the next run, which derives the same bytes again. The catalog lists a
  dataset's files by name, so a resumed run records exactly what an uninterrupted one does;
* composites to rebuild are queued (``composite_queue``) in the same transaction as the members'
  done-markers and taken off the queue in the transaction that points ``outputs.composite_*`` at the
  written composite, so a kill between the two only means the composite is rebuilt next time;
* a second ingest on the same catalog is refused while one runs (the lock in
  :mod:`hstlc.catalog.ingest_state`).

A re-run changes nothing: ingested files have left the directory, and a file whose name and sha256 match
what a dataset's done-marker recorded is left alone and reported as already ingested. A changed file
(new sha256) is re-ingested: rows and products are updated, and the previous version of a filed file is
kept under ``<folder>/superseded/<sha256 prefix>/`` rather than overwritten.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hstlc.ingestion.dry_run import IngestPlan, plan_ingest
    from hstlc.ingestion.filer import FaultHook
    from hstlc.ingestion.plan import FilingPlan, Move, fingerprint
    from hstlc.ingestion.quarantine import QuarantineResult
    from hstlc.ingestion.recovery import sweep_temporaries
    from hstlc.ingestion.run import ingest
    from hstlc.ingestion.summary import IngestSummary
    from hstlc.workers import Progress, ProgressCallback

#: Imported on first use: a worker process unpickling a job of :mod:`hstlc.ingestion.work` imports this
#: package, and must not import the catalog and SQLAlchemy with it (0.45 s per worker).
_LAZY = {
    "FaultHook": "hstlc.ingestion.filer",
    "FilingPlan": "hstlc.ingestion.plan",
    "IngestPlan": "hstlc.ingestion.dry_run",
    "IngestSummary": "hstlc.ingestion.summary",
    "Move": "hstlc.ingestion.plan",
    "Progress": "hstlc.workers",
    "ProgressCallback": "hstlc.workers",
    "QuarantineResult": "hstlc.ingestion.quarantine",
    "fingerprint": "hstlc.ingestion.plan",
    "ingest": "hstlc.ingestion.run",
    "plan_ingest": "hstlc.ingestion.dry_run",
    "sweep_temporaries": "hstlc.ingestion.recovery",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "FaultHook",
    "FilingPlan",
    "IngestPlan",
    "IngestSummary",
    "Move",
    "Progress",
    "ProgressCallback",
    "QuarantineResult",
    "fingerprint",
    "ingest",
    "plan_ingest",
    "sweep_temporaries",
]
