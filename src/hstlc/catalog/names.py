"""The resolver's SQL: the ``aliases`` table, the Sesame cache and matching names to catalog targets.

Functions take a session (the caller owns the transaction) and return plain values, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from hstlc.catalog.schema import NAME, Alias, Metadata, SesameCache, utcnow
from hstlc.catalog.store import Catalog

#: Largest IN-list sent in one statement (SQLite's historical limit is 999 parameters).
CHUNK = 500

#: The tables the resolver reads.
RESOLVER_TABLES = ("aliases", "metadata", "sesame_cache")


@dataclass(frozen=True)
class CachedSesame:
    """One ``sesame_cache`` row."""

    query: str
    found: bool
    aliases: tuple[str, ...]
    ra: float | None
    dec: float | None
    fetched_at: datetime


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


def get_sesame_cache(session: Session, queries: Iterable[str]) -> dict[str, CachedSesame]:
    """The cached replies of ``queries`` (by exact query string); absent queries are left out."""
    wanted = _unique(queries)
    found: dict[str, CachedSesame] = {}
    for chunk in _chunks(wanted):
        for row in session.execute(select(SesameCache).where(SesameCache.query.in_(chunk))).scalars():
            found[row.query] = CachedSesame(
                query=row.query,
                found=bool(row.found),
                aliases=tuple(str(a) for a in (row.aliases or [])),
                ra=row.ra,
                dec=row.dec,
                fetched_at=row.fetched_at,
            )
    # Collations that ignore case (MySQL) may return rows for other spellings: keep exact matches only.
    exact = set(wanted)
    return {q: c for q, c in found.items() if q in exact}


def put_sesame_cache(session: Session, entries: Iterable[CachedSesame]) -> int:
    """Insert or replace cached replies (natural key: the query); returns how many were written."""
    pending = {e.query: e for e in entries if e.query and len(e.query) <= NAME}
    if not pending:
        return 0
    existing: dict[str, SesameCache] = {}
    for chunk in _chunks(list(pending)):
        for row in session.execute(select(SesameCache).where(SesameCache.query.in_(chunk))).scalars():
            existing[row.query] = row
    for query, entry in pending.items():
        values: dict[str, Any] = {
            "found": entry.found,
            "aliases": list(entry.aliases),
            "ra": entry.ra,
            "dec": entry.dec,
            "fetched_at": entry.fetched_at,
        }
        row = existing.get(query)
        if row is None:
            session.add(SesameCache(query=query, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
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

    Never creates anything: a SQLite URL whose file is absent is reported as missing without connecting.
    Raises :class:`~hstlc.errors.CatalogError` when a server cannot be reached.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is not None and parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or (
            not database.startswith("file:") and not Path(database).expanduser().is_file()
        ):
            return None, "catalog not created yet (run 'hstlc db init')"
    catalog = Catalog.from_url(url)
    try:
        missing = [t for t in catalog.missing_tables() if t in RESOLVER_TABLES]
    except Exception:
        catalog.dispose()
        raise
    if missing:
        catalog.dispose()
        return None, f"catalog lacks table(s) {', '.join(missing)} (run 'hstlc db init')"
    return catalog, ""


__all__ = [
    "RESOLVER_TABLES",
    "CachedSesame",
    "TargetMatch",
    "get_sesame_cache",
    "load_aliases",
    "match_targname_keys",
    "open_existing_catalog",
    "put_sesame_cache",
    "upsert_alias",
]
