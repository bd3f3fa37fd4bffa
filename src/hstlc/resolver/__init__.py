"""Target-name resolution: which catalog target an observer's TARGNAME belongs to.

The order (issue 4):

1. the **alias table** — packaged ``hstlc/data/aliases.csv`` < catalog ``aliases`` table < the user's
   ``alias_file`` (later sources win);
2. the **normalisation rules** of :mod:`hstlc.resolver.names` (``AZV-148`` → ``AZV148``,
   ``CALLISTO-COPY`` → ``CALLISTO``); the alias table is consulted again for the rewritten name;
3. if the (rewritten) name is already a catalog target, it is kept as it is — no network;
4. **Sesame** aliases (cached in ``sesame_cache`` for ``resolver_cache_days``);
5. an alias equal, by :func:`~hstlc.resolver.names.name_key`, to a ``metadata.targname`` is adopted
   (one indexed query on ``targname_key``; with several, the target with most files, then the
   alphabetically first, and the note says so);
6. otherwise the (rewritten) name.

Network and XML problems never raise: they are logged as warnings and resolution goes on without Sesame
(after three consecutive Sesame failures in one batch the rest of the batch skips it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, Literal

import requests

from hstlc.catalog import Catalog
from hstlc.catalog import names as catalog_names
from hstlc.catalog.names import CachedSesame, TargetMatch
from hstlc.catalog.schema import utcnow
from hstlc.config import Settings
from hstlc.errors import CatalogError
from hstlc.resolver.aliases import (
    PACKAGED,
    AliasEntry,
    AliasTable,
    append_alias,
    packaged_aliases,
    parse_alias_spec,
    read_alias_file,
    validate_entry,
)
from hstlc.resolver.names import apply_rules, name_key
from hstlc.resolver.sesame import SesameError, SesameResult, fetch_sesame, new_session

log = logging.getLogger(__name__)

Method = Literal["table", "rule", "sesame+catalog", "unchanged"]
METHODS: tuple[str, ...] = ("table", "rule", "sesame+catalog", "unchanged")

#: Consecutive Sesame failures after which a batch stops asking it.
MAX_CONSECUTIVE_FAILURES = 3
#: Cached replies are written to the catalog in groups of this many.
CACHE_WRITE_BATCH = 100


@dataclass(frozen=True)
class Resolution:
    """How one name was resolved.

    ``method`` is ``table``, ``rule``, ``sesame+catalog`` or ``unchanged``; ``aliases`` are the Sesame
    identifiers seen (empty when Sesame was not asked); ``note`` explains the choice or the failure.
    """

    input: str
    resolved: str
    method: Method
    aliases: tuple[str, ...] = ()
    note: str = ""

    @property
    def changed(self) -> bool:
        return self.resolved != self.input

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        return data


@dataclass(frozen=True)
class _SesameAnswer:
    result: SesameResult | None
    note: str


def _source_label(entry: AliasEntry) -> str:
    if entry.source in (PACKAGED, "catalog"):
        return f"{entry.source} alias table"
    return f"alias file {entry.source}"


def load_alias_table(settings: Settings, catalog: Catalog | None) -> AliasTable:
    """The merged alias table: packaged < catalog ``aliases`` < the user's ``alias_file``."""
    entries: list[AliasEntry] = list(packaged_aliases())
    if catalog is not None:
        with catalog.session() as session:
            rows = catalog_names.load_aliases(session)
        for alias, targname in rows:
            entries.append(AliasEntry(alias.upper(), targname, "catalog"))
    assert settings.alias_file is not None
    entries.extend(read_alias_file(settings.alias_file))
    return AliasTable(entries)


class Resolver:
    """Resolves names with shared state: the alias table, an HTTP session and the Sesame cache.

    Use one per batch (``with Resolver(...) as r: r.resolve_many(names)``); cached Sesame replies are
    written to the catalog in groups and on :meth:`close`.
    """

    def __init__(
        self,
        *,
        catalog: Catalog | None,
        settings: Settings,
        refresh: bool = False,
        offline: bool | None = None,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.refresh = refresh
        self.offline = settings.resolver_offline if offline is None else offline
        self.table = load_alias_table(settings, catalog)
        self._http = http
        self._own_http = http is None
        self._sleep = sleep
        self._answers: dict[str, _SesameAnswer] = {}
        self._cached: dict[str, CachedSesame | None] = {}
        self._targets: dict[str, list[TargetMatch]] = {}
        self._pending: list[CachedSesame] = []
        self._failures = 0
        self._disabled = False

    # --- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Write pending cache entries and close the HTTP session."""
        self.flush()
        if self._http is not None and self._own_http:
            self._http.close()
            self._http = None

    def flush(self) -> None:
        """Write the Sesame replies fetched so far to ``sesame_cache`` (a failure is only a warning)."""
        if not self._pending or self.catalog is None:
            self._pending.clear()
            return
        pending, self._pending = self._pending, []
        try:
            with self.catalog.session() as session:
                catalog_names.put_sesame_cache(session, pending)
        except CatalogError as exc:
            log.warning("could not cache %d Sesame repl(ies): %s", len(pending), exc)

    # --- resolution ---------------------------------------------------------------------------------

    def resolve_many(self, names: Iterable[str]) -> dict[str, Resolution]:
        """Resolve each distinct name once; catalog lookups for the whole batch are prefetched."""
        distinct = list(dict.fromkeys(names))
        self._prefetch(distinct)
        results: dict[str, Resolution] = {}
        for name in distinct:
            results[name] = self.resolve(name)
            if len(self._pending) >= CACHE_WRITE_BATCH:
                self.flush()
        self.flush()
        return results

    def resolve(self, name: str) -> Resolution:
        """Resolve one name (see the module docstring for the order)."""
        text = name.strip()
        if not text:
            return Resolution(name, name, "unchanged", (), "empty name")
        entry = self.table.lookup(text)
        if entry is not None:
            return Resolution(name, entry.targname, "table", (), _source_label(entry))
        candidate, fired = apply_rules(text)
        notes: list[str] = []
        if fired:
            entry = self.table.lookup(candidate)
            if entry is not None:
                note = f"rule {', '.join(fired)} gave {candidate}; {_source_label(entry)} maps it"
                return Resolution(name, entry.targname, "table", (), note)
            notes.append(f"rule {', '.join(fired)}")
        method: Method = "rule" if fired else "unchanged"
        key = name_key(candidate)

        if self.catalog is not None and self._catalog_targets([key]):
            notes.append("already a catalog target")
            return Resolution(name, candidate, method, (), "; ".join(notes))

        answer = self._sesame(candidate)
        result = answer.result
        aliases = result.aliases if result is not None else ()
        if result is not None and result.found and self.catalog is not None:
            first_alias: dict[str, str] = {}
            for alias in aliases:
                first_alias.setdefault(name_key(alias), alias)
            first_alias.pop(key, None)
            matches = self._catalog_targets(list(first_alias))
            if matches:
                chosen, why = _choose(matches, first_alias)
                notes.append(why)
                if answer.note:
                    notes.append(answer.note)
                return Resolution(name, chosen, "sesame+catalog", aliases, "; ".join(notes))
            notes.append(f"none of {len(aliases)} Sesame alias(es) is a catalog target")
        elif result is not None and result.found:
            notes.append(f"{len(aliases)} Sesame alias(es); no catalog to match them against")
        elif result is not None:
            notes.append("Sesame: nothing found")
        if answer.note:
            notes.append(answer.note)
        return Resolution(name, candidate, method, aliases, "; ".join(notes))

    # --- catalog ------------------------------------------------------------------------------------

    def _prefetch(self, names: list[str]) -> None:
        if self.catalog is None:
            return
        candidates: list[str] = []
        for name in names:
            text = name.strip()
            if not text or self.table.lookup(text) is not None:
                continue
            candidate, _ = apply_rules(text)
            if self.table.lookup(candidate) is None:
                candidates.append(candidate)
        keys = [name_key(c) for c in candidates if name_key(c) not in self._targets]
        if keys:
            with self.catalog.session() as session:
                matches = catalog_names.match_targname_keys(session, keys)
            for key in keys:
                self._targets[key] = []
            for match in matches:
                self._targets[match.key].append(match)
        queries = [c for c in candidates if not self._targets.get(name_key(c)) and c not in self._cached]
        if queries:
            with self.catalog.session() as session:
                cached = catalog_names.get_sesame_cache(session, queries)
            for query in queries:
                self._cached[query] = cached.get(query)

    def _catalog_targets(self, keys: list[str]) -> list[TargetMatch]:
        assert self.catalog is not None
        missing = [k for k in keys if k not in self._targets]
        if missing:
            with self.catalog.session() as session:
                matches = catalog_names.match_targname_keys(session, missing)
            for key in missing:
                self._targets[key] = []
            for match in matches:
                self._targets[match.key].append(match)
        return [m for k in dict.fromkeys(keys) for m in self._targets.get(k, [])]

    def _cached_reply(self, query: str) -> CachedSesame | None:
        if self.catalog is None:
            return None
        if query not in self._cached:
            with self.catalog.session() as session:
                self._cached[query] = catalog_names.get_sesame_cache(session, [query]).get(query)
        return self._cached[query]

    # --- Sesame -------------------------------------------------------------------------------------

    def _sesame(self, query: str) -> _SesameAnswer:
        if query not in self._answers:
            self._answers[query] = self._ask_sesame(query)
        return self._answers[query]

    def _ask_sesame(self, query: str) -> _SesameAnswer:
        cached = self._cached_reply(query)
        if cached is not None:
            age = utcnow() - cached.fetched_at
            fresh = age <= timedelta(days=self.settings.resolver_cache_days)
            if fresh and not self.refresh:
                return _SesameAnswer(_from_cache(cached), f"Sesame reply cached {cached.fetched_at:%Y-%m-%d}")
        if self.offline:
            return self._fallback(cached, "offline: Sesame not consulted")
        if self._disabled:
            return self._fallback(cached, "Sesame skipped after repeated failures")
        if self._http is None:
            self._http = new_session()
        try:
            result = fetch_sesame(query, settings=self.settings, session=self._http, sleep=self._sleep)
        except SesameError as exc:
            self._failures += 1
            log.warning("%s; continuing without Sesame aliases", exc)
            if self._failures >= MAX_CONSECUTIVE_FAILURES and not self._disabled:
                self._disabled = True
                log.warning(
                    "Sesame failed %d times in a row: not asking it again in this run", self._failures
                )
            return self._fallback(cached, str(exc).removeprefix(f"{query}: "))
        self._failures = 0
        entry = CachedSesame(
            query=result.query,
            found=result.found,
            aliases=result.aliases,
            ra=result.ra,
            dec=result.dec,
            fetched_at=utcnow(),
        )
        self._cached[query] = entry
        if self.catalog is not None:
            self._pending.append(entry)
        return _SesameAnswer(result, "")

    @staticmethod
    def _fallback(cached: CachedSesame | None, why: str) -> _SesameAnswer:
        if cached is None:
            return _SesameAnswer(None, why)
        note = f"{why}; used the expired reply cached {cached.fetched_at:%Y-%m-%d}"
        return _SesameAnswer(_from_cache(cached), note)


def _from_cache(cached: CachedSesame) -> SesameResult:
    return SesameResult(cached.query, cached.found, cached.aliases, cached.ra, cached.dec)


def _choose(matches: list[TargetMatch], first_alias: dict[str, str]) -> tuple[str, str]:
    """The catalog target to adopt: most metadata rows, then alphabetical; and the sentence saying so."""
    rows: dict[str, int] = {}
    via: dict[str, str] = {}
    for match in matches:
        rows[match.targname] = rows.get(match.targname, 0) + match.rows
        via.setdefault(match.targname, first_alias.get(match.key, match.key))
    ranked = sorted(rows.items(), key=lambda item: (-item[1], item[0]))
    chosen = ranked[0][0]
    if len(ranked) == 1:
        return chosen, f"Sesame alias {via[chosen]!r} is catalog target {chosen}"
    listed = ", ".join(f"{t} ({n} file{'s' if n != 1 else ''})" for t, n in ranked)
    return chosen, (
        f"{len(ranked)} catalog targets match Sesame aliases: {listed}; chose {chosen} "
        "(most files, then alphabetical)"
    )


# --- the library API ingest uses -------------------------------------------------------------------


def resolve_target(
    name: str,
    *,
    catalog: Catalog | None,
    settings: Settings,
    refresh: bool = False,
    offline: bool | None = None,
) -> Resolution:
    """Resolve one target name. Never raises for network or XML problems (see the module docstring)."""
    with Resolver(catalog=catalog, settings=settings, refresh=refresh, offline=offline) as resolver:
        return resolver.resolve(name)


def resolve_targets(
    names: Iterable[str],
    *,
    catalog: Catalog | None,
    settings: Settings,
    refresh: bool = False,
    offline: bool | None = None,
) -> dict[str, Resolution]:
    """Resolve many names, each distinct name once: ``{name: Resolution}`` in first-seen order."""
    with Resolver(catalog=catalog, settings=settings, refresh=refresh, offline=offline) as resolver:
        return resolver.resolve_many(names)


def open_catalog(settings: Settings) -> tuple[Catalog | None, str]:
    """The configured catalog if it exists and is initialised (never created here), else ``(None, why)``."""
    return catalog_names.open_existing_catalog(settings.database_url)


@dataclass(frozen=True)
class AddedAlias:
    """The outcome of :func:`add_alias`."""

    alias: str
    targname: str
    file: str
    written_to_file: bool
    catalog: str
    """``added``, ``unchanged`` or why the catalog was not updated."""


def add_alias(spec: str, *, settings: Settings, catalog: Catalog | None) -> AddedAlias:
    """Add ``"ALIAS=TARGNAME"`` to the user's alias file and, when given, the catalog ``aliases`` table."""
    alias, targname = parse_alias_spec(spec)
    assert settings.alias_file is not None
    written = append_alias(settings.alias_file, alias, targname)
    if catalog is None:
        status = "no catalog"
    else:
        with catalog.session() as session:
            changed = catalog_names.upsert_alias(session, alias, targname, source="hstlc resolve --add")
        status = "added" if changed else "unchanged"
    log.info("alias %s → %s (file %s: %s; catalog: %s)", alias, targname, settings.alias_file,
             "written" if written else "already there", status)
    return AddedAlias(alias, targname, str(settings.alias_file), written, status)


__all__ = [
    "METHODS",
    "AddedAlias",
    "AliasEntry",
    "AliasTable",
    "Method",
    "Resolution",
    "Resolver",
    "SesameError",
    "SesameResult",
    "add_alias",
    "apply_rules",
    "load_alias_table",
    "name_key",
    "open_catalog",
    "parse_alias_spec",
    "resolve_target",
    "resolve_targets",
    "validate_entry",
]
