"""The catalog queries of ``hstlc download``: which datasets the catalog already knows."""

from __future__ import annotations

import re

from sqlalchemy import select

from hstlc.catalog.ingest_state import BAD, DONE, JOURNAL_STATUSES
from hstlc.catalog.schema import BadData, IngestDataset, Metadata
from hstlc.catalog.store import Catalog

_ROOTNAME = re.compile(r"[a-z0-9]{9}")


def _rootname(text: str | None) -> str | None:
    head = (text or "").strip().split("_", 1)[0].lower()
    return head if _ROOTNAME.fullmatch(head) else None


def known_rootnames(catalog: Catalog) -> set[str]:
    """Lower-case rootnames the catalog knows: ingested (``metadata``), quarantined (``bad_data``, by
    file name), or with an ingest marker that is done, bad or being filed (``datasets``). A dataset whose
    last ingest failed is not known: its files stayed where they were, and fetching them again is allowed."""
    statuses = (DONE, BAD, *JOURNAL_STATUSES)
    with catalog.session() as session:
        names = set(session.scalars(select(Metadata.rootname).distinct()))
        names.update(session.scalars(select(Metadata.filename)))
        names.update(session.scalars(select(BadData.filename)))
        names.update(session.scalars(select(IngestDataset.rootname).where(IngestDataset.status.in_(statuses))))
    return {r for r in (_rootname(n) for n in names) if r is not None}


__all__ = ["known_rootnames"]
