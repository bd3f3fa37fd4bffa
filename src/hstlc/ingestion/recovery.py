"""What a run does first: clean up after a killed one.

- :func:`sweep_temporaries` removes the temporary files hstlc's own interrupted writes left in its
  folders (``.hstlc-tmp-*``, see :func:`hstlc.filing.write_atomically`);
- :func:`finish_journals` finishes the filing a killed run started (its journals in the catalog);
- :func:`clear_staging` removes derived STIS corrtags a killed run staged but never journalled (the next
  extraction derives the same bytes again); one a journal still names stays.

All three run under the ingest lock only.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path

from hstlc.errors import HstlcError
from hstlc.filing import TEMP_PREFIX
from hstlc.ingestion.filer import Filer, SessionFactory, journals
from hstlc.ingestion.plan import FilingPlan

log = logging.getLogger(__name__)

#: Temporary names of products written by hstlc before every write went through
#: :func:`hstlc.filing.write_atomically` (``.<name>.<12 hex>.tmp``). Nothing writes them any more; the
#: sweeper still removes them so that files left by a run of an older version that was killed go too.
_LEGACY_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")


def _is_our_temporary(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) or _LEGACY_TEMPORARY.fullmatch(name) is not None


def sweep_temporaries(folders: Iterable[Path], *, depth: int = 2) -> int:
    """Remove temporary files our own interrupted writes left (``TEMP_PREFIX``, i.e. ``.hstlc-tmp-*``;
    also the ``.<name>.<hex>.tmp`` of older versions); returns how many.

    Only runs under the ingest lock, in hstlc's own folders, and only on names no user file has.
    """
    removed = 0

    def visit(folder: Path, level: int) -> None:
        nonlocal removed
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if level < depth:
                    visit(Path(entry.path), level + 1)
                continue
            if _is_our_temporary(entry.name) and entry.is_file(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                    removed += 1
                    log.debug("removed a stale temporary file %s", entry.path)
                except OSError:
                    pass

    for folder in folders:
        if folder.is_dir():
            visit(folder, 1)
    return removed


def finish_journals(filer: Filer, session: SessionFactory,
                    finished: Callable[[FilingPlan], None], failed: Callable[[str, str], None]) -> None:
    """Finish every journal an interrupted run left: ``finished(plan)`` for each one done,
    ``failed(rootname, reason)`` for one that could not be (its journal stays)."""
    for plan in list(journals(session)):
        log.info("%s: finishing the %s an interrupted run started", plan.rootname, plan.status)
        try:
            filer.finish(plan)
        except (HstlcError, OSError) as exc:
            log.error("%s: %s", plan.rootname, exc)
            failed(plan.rootname, f"{exc} (interrupted {plan.status} could not be finished)")
            continue
        finished(plan)


def clear_staging(folder: Path, session: SessionFactory) -> None:
    """Remove the files in the staging ``folder`` that no journal names."""
    if not folder.is_dir():
        return
    named = {Path(move.src) for plan in journals(session) for move in plan.moves}
    for path in folder.iterdir():
        if path.is_file() and not path.is_symlink() and path not in named:
            with suppress(OSError):
                path.unlink()
                log.debug("removed %s, staged by an interrupted run", path)


__all__ = ["clear_staging", "finish_journals", "sweep_temporaries"]
