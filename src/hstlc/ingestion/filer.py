"""The one owner of filing: journal → move → commit, in batches.

Every change ingest (and ``hstlc check --move``) makes to a user's files goes through :class:`Filer`:

1. the :class:`~hstlc.ingestion.plan.FilingPlan` of up to :data:`FILING_BATCH` datasets (or what
   arrived within :data:`FILING_BATCH_SECONDS`) is committed as their journal in ONE transaction;
2. their files move (:func:`hstlc.filing.move_file`, or :func:`~hstlc.filing.copy_file` with
   ``--copy``: rename, or verified copy; never an overwrite nor the deletion of the only copy);
3. their catalog rows and done-markers commit in ONE transaction — together with the next batch's
   journal and any failures waiting to be recorded (group commit: two transactions per batch, not per
   dataset, so the catalog costs ~2 % of an ingest).

A run killed between 1 and 3 leaves the journal, which the next run finishes first
(:func:`hstlc.ingestion.recovery.finish_journals`; a move is idempotent: a file already at its
destination with the planned sha256 counts as moved).

Tests and fault-injection campaigns pass a :data:`FaultHook`: it is called before each step with the
step's name (``"journal"``, ``"move"``, ``"commit"``), the dataset and, for a move, the :class:`Move`; it
may raise (an ``OSError`` stands for a failing disk, a ``BaseException`` for a kill).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hstlc.catalog import ingest_state as state
from hstlc.config import Settings
from hstlc.errors import FilingError, HstlcError
from hstlc.filing import apply_group, copy_file, move_file, sha256_of
from hstlc.ingestion.plan import FilingPlan, Move
from hstlc.ingestion.work import file_mode

log = logging.getLogger(__name__)

#: Datasets filed per batch, and the longest a finished dataset waits for its batch (seconds).
FILING_BATCH = 16
FILING_BATCH_SECONDS = 2.0

FaultHook = Callable[[str, str, "Move | None"], None]
"""``hook(step, rootname, move)`` before each filing step (see the module docstring)."""

SessionFactory = Callable[[], AbstractContextManager[Any]]
Committed = Callable[[], None]
Failed = Callable[[str, str], None]

KEPT = "filing journal kept; re-run ingest to finish"


@dataclass(frozen=True)
class _Waiting:
    plan: FilingPlan
    committed: Committed


def carry_out(move: Move, settings: Settings, *, verify: bool) -> None:
    """Carry out one planned move; idempotent (a completed move is recognised by its sha256).

    ``verify``: check the source still has the planned sha256 first (a journal finished by a later run:
    the user may have changed the file meanwhile). Raises :class:`FilingError` or ``OSError``.
    """
    src, dest = Path(move.src), move.dest
    dest_dir = Path(move.dest_dir)
    group = settings.file_group
    if dest.exists() and src.absolute() != dest.absolute():
        same_inode = src.exists() and os.path.samefile(src, dest)
        if same_inode or sha256_of(dest) == move.sha256:
            if not move.copy and src.exists() and (same_inode or sha256_of(src) == move.sha256):
                move_file(src, dest_dir, group=group, dir_mode=settings.file_mode)  # identical: drops src
            return
    if not src.exists():
        raise FilingError(f"{move.name}: neither at {src} nor (with sha256 {move.sha256[:12]}…) at {dest}")
    if verify and sha256_of(src) != move.sha256:
        verb = "copy" if move.copy else "move"
        raise FilingError(f"{src}: changed since the interrupted run planned to {verb} it; left in place")
    moved = (copy_file if move.copy else move_file)(src, dest_dir, group=group, dir_mode=settings.file_mode)
    try:
        os.chmod(moved, file_mode(settings))
    except OSError as exc:
        log.warning("%s: cannot set mode (%s)", moved, exc.strerror or exc)
    apply_group(moved, group)


class Filer:
    """Files datasets through their journal, in batches (see the module docstring).

    ``session``: opens one catalog transaction (the caller checks the lock and times it);
    ``on_failure(rootname, reason)``: told when a dataset could not be filed (its journal, if written,
    stays for the next run); ``fault``: the :data:`FaultHook`.
    """

    def __init__(self, settings: Settings, session: SessionFactory, on_failure: Failed, *,
                 fault: FaultHook | None = None) -> None:
        self.settings = settings
        self._session = session
        self._on_failure = on_failure
        self._fault = fault
        self._batch: list[_Waiting] = []
        self._batch_started = 0.0
        self._moved: list[_Waiting] = []  # files in place: rows wait for the next commit
        self._failures: list[tuple[str, str, str | None]] = []

    # --- public -------------------------------------------------------------------------------------

    def file(self, plan: FilingPlan, committed: Committed) -> None:
        """Queue ``plan``; ``committed`` runs once its rows are committed (a failure goes to on_failure)."""
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append(_Waiting(plan, committed))
        if len(self._batch) >= FILING_BATCH or time.monotonic() - self._batch_started >= FILING_BATCH_SECONDS:
            self.file_batch()

    def record_failure(self, rootname: str, reason: str, fingerprint: str | None = None) -> None:
        """Record in the catalog, with the next transaction, that ``rootname`` failed (its files stay)."""
        self._failures.append((rootname, reason, fingerprint))

    def file_batch(self) -> None:
        """Journal the waiting batch (with the rows of the one before) and carry out its moves."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        self._hook("journal", batch[0].plan.rootname)
        journals = [(w.plan.rootname, w.plan.status, w.plan.to_json()) for w in batch]
        if not self._commit(lambda session: state.write_journals(session, journals)):
            for waiting in batch:
                self._on_failure(waiting.plan.rootname, "could not write its filing journal to the catalog")
            return
        for waiting in batch:
            try:
                for move in waiting.plan.moves:
                    self._hook("move", waiting.plan.rootname, move)
                    carry_out(move, self.settings, verify=False)
            except (HstlcError, OSError) as exc:
                # The journal stays: the next run finishes the moves (or reports the problem again).
                log.error("%s: %s", waiting.plan.rootname, exc)
                self._on_failure(waiting.plan.rootname, f"{exc} ({KEPT})")
                continue
            self._moved.append(waiting)

    def flush(self) -> bool:
        """File the waiting batch and commit everything waiting; False if the catalog refused."""
        self.file_batch()
        return self._commit(None)

    def finish(self, plan: FilingPlan) -> None:
        """Finish a journal an interrupted run left: verify and carry out its moves, commit its rows.
        Raises :class:`HstlcError` or ``OSError`` (the journal then stays)."""
        for move in plan.moves:
            self._hook("move", plan.rootname, move)
            carry_out(move, self.settings, verify=True)
        self._hook("commit", plan.rootname)
        with self._session() as session:
            state.commit_dataset(session, plan.rootname, plan.to_json())

    # --- private ------------------------------------------------------------------------------------

    def _hook(self, step: str, rootname: str, move: Move | None = None) -> None:
        if self._fault is not None:
            self._fault(step, rootname, move)

    def _commit(self, then: Callable[[Any], None] | None) -> bool:
        """Commit the datasets whose files are in place (rows + done-marker), the failures waiting, and
        ``then``, in ONE transaction. On a catalog error the waiting datasets are reported as failed
        (their journals stay) and False is returned."""
        moved, self._moved = self._moved, []
        failures, self._failures = self._failures, []
        if not moved and not failures and then is None:
            return True
        if moved:
            self._hook("commit", moved[0].plan.rootname)
        try:
            with self._session() as session:
                state.commit_datasets(session, [(w.plan.rootname, w.plan.to_json()) for w in moved])
                for rootname, reason, digest in failures:
                    state.record_failure(session, rootname, reason, fingerprint=digest)
                if then is not None:
                    then(session)
        except HstlcError as exc:
            for waiting in moved:
                log.error("%s: %s", waiting.plan.rootname, exc)
                self._on_failure(waiting.plan.rootname, f"{exc} ({KEPT})")
            for rootname, _, _ in failures:
                log.error("%s: could not record the failure in the catalog (%s)", rootname, exc)
            return False
        for waiting in moved:
            waiting.committed()
        return True


def journals(session_factory: SessionFactory) -> Iterator[FilingPlan]:
    """The journals interrupted runs left, as plans (in rootname order)."""
    with session_factory() as session:
        pending = [(j.rootname, j.status, j.plan) for j in state.journals(session)]
    for rootname, status, data in pending:
        if data:
            yield FilingPlan.from_json(rootname, status, data)


__all__ = ["FILING_BATCH", "FILING_BATCH_SECONDS", "FaultHook", "Filer", "carry_out", "journals"]
