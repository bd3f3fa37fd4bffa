"""The resolver's SQL: the ``aliases`` table, the Sesame cache and matching names to catalog targets.

Functions take a session (the caller owns the transaction) and return plain values, never ORM rows.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from hstlc.catalog.schema import NAME, NO_REPLY, Alias, Metadata, SesameCache, utcnow
from hstlc.catalog.store import Catalog, sqlite_file_missing

#: Largest IN-list sent in one statement (SQLite's historical limit is 999 parameters).
CHUNK = 500

#: The tables the resolver reads.
RESOLVER_TABLES = ("aliases", "metadata", "sesame_cache")


#: The negative-cache columns of ``sesame_cache`` (added after the first release).
FAILURE_COLUMNS = ("failed_at", "failure")


@dataclass(frozen=True)
class CachedSesame:
    """One ``sesame_cache`` row: the last reply (if any) and the last failure (if later than it)."""

    query: str
    found: bool
    aliases: tuple[str, ...]
    ra: float | None
    dec: float | None
    fetched_at: datetime | None
    """When the reply was fetched; ``None`` when no reply was ever received (only a failure)."""
    failed_at: datetime | None = None
    """When the last lookup failed (``None`` when the last lookup got a reply)."""
    failure: str | None = None

    @property
    def has_reply(self) -> bool:
        return self.fetched_at is not None


@dataclass(frozen=True)
class SesameFailure:
    """A failed lookup for the negative cache: when, and why."""

    query: str
    failed_at: datetime
    failure: str


@dataclass(frozen=True)
class TargetMatch:
    """A catalog target name whose ``targname_key`` matched, and how many metadata rows carry it."""

    key: str
    targname: str
    rows: int


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i and len(i) <= NAME))


# --- aliases -----------------------------------------------------------------------------------------


def load_aliases(session: Session) -> list[tuple[str, str]]:
    """Every ``(alias, targname)`` of the catalog's alias table, oldest first."""
    rows = session.execute(select(Alias.alias, Alias.targname).order_by(Alias.added, Alias.id))
    return [(alias, targname) for alias, targname in rows]


def upsert_alias(session: Session, alias: str, targname: str, source: str | None = None) -> bool:
    """Insert or update the alias-table entry of ``alias``; True if a row was added or changed."""
    row = session.execute(select(Alias).where(Alias.alias == alias)).scalar_one_or_none()
    if row is None:
        session.add(Alias(alias=alias, targname=targname, source=source, added=utcnow()))
        session.flush()
        return True
    if row.targname == targname:
        return False
    row.targname, row.source, row.added = targname, source, utcnow()
    session.flush()
    return True


# --- the Sesame cache --------------------------------------------------------------------------------


_HAS_FAILURE_COLUMNS: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def has_failure_columns(session: Session) -> bool:
    """Whether ``sesame_cache`` has the negative-cache columns (an older catalog not yet upgraded lacks
    them; :func:`open_existing_catalog` and ``init_schema`` add them). Remembered per engine once true."""
    engine = session.get_bind()
    if not isinstance(engine, Engine):
        engine = engine.engine
    if _HAS_FAILURE_COLUMNS.get(engine):
        return True
    present = {c["name"] for c in inspect(session.connection()).get_columns(SesameCache.__tablename__)}
    if set(FAILURE_COLUMNS) <= present:
        _HAS_FAILURE_COLUMNS[engine] = True
        return True
    return False


def get_sesame_cache(session: Session, queries: Iterable[str]) -> dict[str, CachedSesame]:
    """The cached replies and failures of ``queries`` (by exact query string); absent ones are left out.

    Works on an older catalog without the negative-cache columns too (then no failure is reported).
    """
    wanted = _unique(queries)
    found: dict[str, CachedSesame] = {}
    t = SesameCache.__table__.c
    columns = [t.query, t.found, t.aliases, t.ra, t.dec, t.fetched_at]
    with_failures = bool(wanted) and has_failure_columns(session)
    if with_failures:
        columns += [t.failed_at, t.failure]
    for chunk in _chunks(wanted):
        for row in session.execute(select(*columns).where(t.query.in_(chunk))):
            fetched_at = None if row.fetched_at is None or row.fetched_at <= NO_REPLY else row.fetched_at
            failed_at = row.failed_at if with_failures else None
            if failed_at is not None and fetched_at is not None and failed_at < fetched_at:
                failed_at = None  # a reply newer than the failure (written by an older hstlc) wins
            found[row.query] = CachedSesame(
                query=row.query,
                found=bool(row.found) and fetched_at is not None,
                aliases=tuple(str(a) for a in (row.aliases or [])) if fetched_at is not None else (),
                ra=row.ra,
                dec=row.dec,
                fetched_at=fetched_at,
                failed_at=failed_at,
                failure=(row.failure or "") if failed_at is not None else None,
            )
    # Collations that ignore case (MySQL) may return rows for other spellings: keep exact matches only.
    exact = set(wanted)
    return {q: c for q, c in found.items() if q in exact}


def _existing_rows(session: Session, queries: list[str]) -> dict[str, SesameCache]:
    existing: dict[str, SesameCache] = {}
    for chunk in _chunks(queries):
        for row in session.execute(select(SesameCache).where(SesameCache.query.in_(chunk))).scalars():
            existing[row.query] = row
    return existing


def put_sesame_cache(session: Session, entries: Iterable[CachedSesame]) -> int:
    """Insert or replace cached replies (natural key: the query); returns how many were written.

    An entry's ``failed_at``/``failure`` are written as given (a reply normally clears the failure);
    an entry without a reply (``fetched_at`` ``None``) is stored with ``fetched_at`` :data:`NO_REPLY`.
    """
    pending = {e.query: e for e in entries if e.query and len(e.query) <= NAME}
    if not pending:
        return 0
    existing = _existing_rows(session, list(pending))
    for query, entry in pending.items():
        values: dict[str, Any] = {
            "found": entry.found,
            "aliases": list(entry.aliases),
            "ra": entry.ra,
            "dec": entry.dec,
            "fetched_at": NO_REPLY if entry.fetched_at is None else entry.fetched_at,
            "failed_at": entry.failed_at,
            "failure": entry.failure,
        }
        row = existing.get(query)
        if row is None:
            session.add(SesameCache(query=query, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
    session.flush()
    return len(pending)


def put_sesame_failures(session: Session, failures: Iterable[SesameFailure]) -> int:
    """Record failed lookups (the negative cache), keeping any earlier reply of the same query.

    A query without a row gets one with no reply (``fetched_at`` :data:`NO_REPLY`). Returns how many
    were written.
    """
    pending = {f.query: f for f in failures if f.query and len(f.query) <= NAME}
    if not pending:
        return 0
    existing = _existing_rows(session, list(pending))
    for query, failure in pending.items():
        row = existing.get(query)
        if row is None:
            session.add(SesameCache(query=query, found=False, aliases=[], fetched_at=NO_REPLY,
                                    failed_at=failure.failed_at, failure=failure.failure))
        else:
            row.failed_at, row.failure = failure.failed_at, failure.failure
    session.flush()
    return len(pending)


# --- matching names to catalog targets ---------------------------------------------------------------


def match_targname_keys(session: Session, keys: Iterable[str]) -> list[TargetMatch]:
    """Catalog targets whose ``targname_key`` is one of ``keys``, with their row counts.

    One grouped query on the indexed ``targname_key`` column per 500 keys (normally exactly one).
    """
    wanted = _unique(keys)
    exact = set(wanted)
    matches: list[TargetMatch] = []
    for chunk in _chunks(wanted):
        statement = (
            select(Metadata.targname_key, Metadata.targname, func.count())
            .where(Metadata.targname_key.in_(chunk))
            .group_by(Metadata.targname_key, Metadata.targname)
        )
        for key, targname, rows in session.execute(statement):
            if key in exact and targname:
                matches.append(TargetMatch(key=key, targname=targname, rows=int(rows)))
    return matches


# --- opening the catalog only when it exists ---------------------------------------------------------


def open_existing_catalog(url: str) -> tuple[Catalog | None, str]:
    """The catalog at ``url`` if it exists and has the resolver's tables, else ``(None, why)``.

    Never creates a database or a table: a SQLite URL whose file is absent is reported as missing
    without connecting. An existing catalog from an older release gains the columns this release
    defines (:meth:`~hstlc.catalog.store.Catalog.upgrade_schema`, as ``check_schema`` does).
    Raises :class:`~hstlc.errors.CatalogError` when a server cannot be reached.
    """
    if sqlite_file_missing(url):
        return None, "catalog not created yet (run 'hstlc db init')"
    catalog = Catalog.from_url(url)
    try:
        missing = [t for t in catalog.missing_tables() if t in RESOLVER_TABLES]
        if not missing:
            catalog.upgrade_schema()  # an older catalog gains the negative-cache columns (one inspection)
    except Exception:
        catalog.dispose()
        raise
    if missing:
        catalog.dispose()
        return None, f"catalog lacks table(s) {', '.join(missing)} (run 'hstlc db init')"
    return catalog, ""


__all__ = [
    "FAILURE_COLUMNS",
    "RESOLVER_TABLES",
    "CachedSesame",
    "SesameFailure",
    "TargetMatch",
    "get_sesame_cache",
    "has_failure_columns",
    "load_aliases",
    "match_targname_keys",
    "open_existing_catalog",
    "put_sesame_cache",
    "put_sesame_failures",
    "upsert_alias",
]
