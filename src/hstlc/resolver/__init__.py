"""Target-name resolution: which catalog target an observer's TARGNAME belongs to.

The order (issue 4):

1. the **alias table** — packaged ``hstlc/data/aliases.csv`` < catalog ``aliases`` table < the user's
   ``alias_file`` (later sources win);
2. the **normalisation rules** of :mod:`hstlc.resolver.rules` (``AZV-148`` → ``AZV148``,
   ``CALLISTO-COPY`` → ``CALLISTO``); the alias table is consulted again for the rewritten name;
3. if the (rewritten) name is already a catalog target, it is kept as it is — no network;
4. **Sesame** aliases (cached in ``sesame_cache`` for ``resolver_cache_days``, "nothing found" too;
   a failed lookup is cached for ``resolver_retry_hours`` and not retried meanwhile);
5. an alias equal, by :func:`~hstlc.resolver.rules.name_key`, to a ``metadata.targname`` is adopted
   (one indexed query on ``targname_key``; with several, the target with most files, then the
   alphabetically first, and the note says so);
6. otherwise the (rewritten) name.

Network and XML problems never raise: they are logged as warnings and resolution goes on without Sesame.
A run never stalls on it: a :class:`Resolver` (one run) stops asking Sesame after the first time it is
unreachable (refused, unresolved or silent for ``sesame_timeout`` on every URL), after three failures
in a row, or once it has waited ``resolver_budget`` seconds in all; the names not asked keep their
(rewritten) names. Its ``notice`` callback hears once when Sesame is first asked and once when it is
no longer asked; ``resolve_many(names, progress=...)`` reports each name as it is done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any, Literal

import requests

from hstlc.catalog import Catalog
from hstlc.catalog import resolver_tables as catalog_names
from hstlc.catalog.resolver_tables import CachedSesame, SesameFailure, TargetMatch
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
from hstlc.resolver.rules import apply_rules, name_key
from hstlc.resolver.sesame import SesameClient, SesameError, SesameResult

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


@dataclass(frozen=True)
class ResolveProgress:
    """One name finished by :meth:`Resolver.resolve_many`: what its ``progress`` callback receives."""

    done: int
    """Distinct names finished so far (1 … total)."""
    total: int
    """Distinct names in the batch."""
    name: str
    resolution: Resolution
    asked: bool
    """Whether Sesame was asked about this name (a network request was made)."""
    sesame_seconds: float
    """Seconds spent waiting for Sesame so far in this run."""


NoticeKind = Literal["online", "stopped"]


@dataclass(frozen=True)
class ResolverNotice:
    """A run-level event, sent once each to the Resolver's ``notice`` callback (and logged).

    ``online``: Sesame is about to be asked for the first time in the run; ``names`` is how many
    (distinct queries) may need it. ``stopped``: Sesame is not asked again in this run; ``names`` is
    how many of the batch's remaining names it will not be asked about, ``reason`` is ``unreachable``,
    ``failures`` (several failures in a row) or ``budget`` (``resolver_budget`` spent).
    """

    kind: NoticeKind
    message: str
    names: int
    reason: str = ""


@dataclass
class ResolverStats:
    """What a Resolver did with Sesame so far (one run)."""

    asked: int = 0
    """Names Sesame was asked about."""
    requests: int = 0
    """HTTP requests sent."""
    failed: int = 0
    """Names whose lookup failed."""
    negative_cached: int = 0
    """Names not asked because a lookup failed less than ``resolver_retry_hours`` ago."""
    skipped: int = 0
    """Names not asked because Sesame had stopped for this run (see ``stopped``)."""
    sesame_seconds: float = 0.0
    """Seconds spent waiting for Sesame (requests and retry back-off)."""
    stopped: str | None = None
    """Why Sesame is not asked any more in this run (``None``: it still is)."""


@dataclass(frozen=True)
class _Pending:
    """A name the alias table, the rules and the catalog's targets did not settle: Sesame's turn."""

    candidate: str
    method: Method
    notes: list[str]
    key: str


class Resolver:
    """Resolves names with shared state: the alias table, one Sesame client and the Sesame cache.

    Use one per run (``with Resolver(...) as r: r.resolve_many(names, progress=...)``). Within a run
    Sesame is asked at most until the first time it proves unreachable, three failures in a row, or
    ``resolver_budget`` seconds of waiting; then the remaining names keep their names and ``notice``
    hears about it once. Replies and failures are written to the catalog's ``sesame_cache`` in groups
    and on :meth:`close`; a failure is not retried for ``resolver_retry_hours`` (``refresh`` asks
    anyway).
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
        notice: Callable[[ResolverNotice], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self.refresh = refresh
        self.offline = settings.resolver_offline if offline is None else offline
        self.table = load_alias_table(settings, catalog)
        self.notice = notice
        self.stats = ResolverStats()
        self._client = SesameClient(settings, session=http, sleep=sleep)
        self._answers: dict[str, _SesameAnswer] = {}
        self._cached: dict[str, CachedSesame | None] = {}
        self._targets: dict[str, list[TargetMatch]] = {}
        self._pending: list[CachedSesame] = []
        self._pending_failures: list[SesameFailure] = []
        self._failures = 0
        self._online = False
        self._stop_note = ""
        self._stop_kind = ""
        self._batch: list[str] = []
        self._index = 0

    # --- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Write pending cache entries and close the HTTP session."""
        self.flush()
        self._client.close()

    def flush(self) -> None:
        """Write the replies and failures so far to ``sesame_cache`` (a failure to write only warns)."""
        if self.catalog is None:
            self._pending.clear()
            self._pending_failures.clear()
            return
        if not self._pending and not self._pending_failures:
            return
        pending, self._pending = self._pending, []
        failures, self._pending_failures = self._pending_failures, []
        try:
            with self.catalog.session() as session:
                catalog_names.put_sesame_cache(session, pending)
                catalog_names.put_sesame_failures(session, failures)
        except CatalogError as exc:
            log.warning("could not cache %d Sesame repl(ies) and %d failure(s): %s", len(pending),
                        len(failures), exc)

    # --- resolution ---------------------------------------------------------------------------------

    def resolve_many(
        self,
        names: Iterable[str],
        *,
        progress: Callable[[ResolveProgress], None] | None = None,
    ) -> dict[str, Resolution]:
        """Resolve each distinct name once (``{name: Resolution}`` in first-seen order).

        Catalog lookups for the whole batch are prefetched; ``progress`` is called after each distinct
        name with a :class:`ResolveProgress`.
        """
        distinct = list(dict.fromkeys(names))
        self._prefetch(distinct)
        results: dict[str, Resolution] = {}
        self._batch = distinct
        try:
            for index, name in enumerate(distinct):
                self._index = index
                asked = self.stats.asked
                results[name] = self.resolve(name)
                if len(self._pending) + len(self._pending_failures) >= CACHE_WRITE_BATCH:
                    self.flush()
                if progress is not None:
                    progress(ResolveProgress(index + 1, len(distinct), name, results[name],
                                             self.stats.asked > asked, self.stats.sesame_seconds))
        finally:
            self._batch, self._index = [], 0
            self.flush()
        return results

    def resolve(self, name: str) -> Resolution:
        """Resolve one name (see the module docstring for the order)."""
        local = self._local(name)
        if isinstance(local, Resolution):
            return local
        candidate, method, notes, key = local.candidate, local.method, local.notes, local.key

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

    def _local(self, name: str) -> Resolution | _Pending:
        """Steps 1–3 (alias table, rules, catalog target): a Resolution, or what Sesame is to be asked."""
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
        return _Pending(candidate, method, notes, key)

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

    def _fresh(self, cached: CachedSesame | None) -> bool:
        """A cached reply young enough to use without asking (never with ``refresh``)."""
        if cached is None or cached.fetched_at is None or self.refresh:
            return False
        return utcnow() - cached.fetched_at <= timedelta(days=self.settings.resolver_cache_days)

    def _recent_failure(self, cached: CachedSesame | None) -> bool:
        """A failed lookup younger than ``resolver_retry_hours`` (ignored with ``refresh``)."""
        if cached is None or cached.failed_at is None or self.refresh:
            return False
        return utcnow() - cached.failed_at < timedelta(hours=self.settings.resolver_retry_hours)

    def _needs_network(self, names: Iterable[str]) -> int:
        """How many distinct Sesame queries ``names`` would still send (none when offline)."""
        if self.offline:
            return 0
        queries: set[str] = set()
        for name in names:
            local = self._local(name)
            if isinstance(local, Resolution) or local.candidate in self._answers:
                continue
            cached = self._cached_reply(local.candidate)
            if not self._fresh(cached) and not self._recent_failure(cached):
                queries.add(local.candidate)
        return len(queries)

    def _remaining(self, current: str, *, asked: bool) -> int:
        """Sesame queries the rest of the batch would send: after the current name, which was ``asked``
        (its query ``current`` is then not counted again), or from it on."""
        if not asked:
            return self._needs_network(self._batch[self._index:]) if self._batch else 1
        placeholder = _SesameAnswer(None, "")
        self._answers.setdefault(current, placeholder)  # replaced by _sesame with the real answer
        try:
            return self._needs_network(self._batch[self._index + 1:])
        finally:
            if self._answers[current] is placeholder:
                del self._answers[current]

    def _emit(self, event: ResolverNotice, level: int) -> None:
        log.log(level, "%s", event.message)
        if self.notice is not None:
            self.notice(event)

    def _go_online(self) -> None:
        self._online = True
        waiting = max(1, self._needs_network(self._batch[self._index:])) if self._batch else 1
        budget = self.settings.resolver_budget
        message = f"asking CDS Sesame about {waiting} name(s) (at most {budget:g} s in all, resolver_budget)"
        self._emit(ResolverNotice("online", message, waiting), logging.INFO)

    def _halt(self, query: str, reason: str, why: str, note: str, *, asked: bool = True) -> None:
        """Stop asking Sesame for the rest of the run; tell ``notice`` (and the log) once."""
        self._stop_kind, self._stop_note = reason, note
        self.stats.stopped = why
        remaining = self._remaining(query, asked=asked)
        hours = self.settings.resolver_retry_hours
        if reason == "budget":
            tail = "keep their header names for now; a later run asks Sesame about them"
        elif self.catalog is not None and hours > 0:
            tail = (f"keep their header names; re-run after {hours:g} h (resolver_retry_hours) "
                    "or use --offline")
        else:
            tail = "keep their header names; re-run later or use --offline"
        if remaining:
            message = f"{why}: the remaining {remaining} name(s) {tail}"
        else:
            message = f"{why}: not asking Sesame again in this run"
        self._emit(ResolverNotice("stopped", message, remaining, reason),
                   logging.WARNING if remaining or reason == "unreachable" else logging.INFO)

    def _record_failure(self, query: str, why: str) -> None:
        """Remember a failed lookup (the negative cache), keeping any earlier reply."""
        now = utcnow()
        old = self._cached.get(query)
        self._cached[query] = (
            CachedSesame(query, False, (), None, None, None, now, why) if old is None
            else replace(old, failed_at=now, failure=why)
        )
        if self.catalog is not None and self.settings.resolver_retry_hours > 0:
            self._pending_failures.append(SesameFailure(query, now, why))

    def _ask_sesame(self, query: str) -> _SesameAnswer:
        cached = self._cached_reply(query)
        if self._fresh(cached):
            assert cached is not None and cached.fetched_at is not None
            return _SesameAnswer(_from_cache(cached), f"Sesame reply cached {cached.fetched_at:%Y-%m-%d}")
        if self.offline:
            return self._fallback(cached, "offline: Sesame not consulted")
        if self._recent_failure(cached):
            assert cached is not None and cached.failed_at is not None
            self.stats.negative_cached += 1
            retry = cached.failed_at + timedelta(hours=self.settings.resolver_retry_hours)
            return self._fallback(cached, f"{cached.failure} at {cached.failed_at:%Y-%m-%d %H:%M} UTC; "
                                  f"not retried before {retry:%Y-%m-%d %H:%M} UTC "
                                  "(resolver_retry_hours; --refresh asks now)")
        budget = self.settings.resolver_budget
        waited = self.stats.sesame_seconds
        if not self._stop_kind and waited >= budget - 0.05:
            spent = f"Sesame time budget spent ({waited:.1f} s of resolver_budget={budget:g} s)"
            self._halt(query, "budget", spent, f"Sesame not asked: resolver_budget={budget:g} s spent",
                       asked=False)
        if self._stop_kind:
            self.stats.skipped += 1
            if self._stop_kind != "budget":  # Sesame is failing: this name waits like a failed one
                stopped = (self.stats.stopped or "").removeprefix("Sesame ")
                self._record_failure(query, f"Sesame not asked, {stopped}")
            return self._fallback(cached, self._stop_note)
        if not self._online:
            self._go_online()
        self.stats.asked += 1
        started = time.monotonic()
        deadline = started + budget - self.stats.sesame_seconds
        requests_before = self._client.requests
        try:
            result = self._client.fetch(query, deadline=deadline)
        except SesameError as exc:
            return self._failed(query, cached, exc)
        finally:
            self.stats.sesame_seconds += time.monotonic() - started
            self.stats.requests += self._client.requests - requests_before
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

    def _failed(self, query: str, cached: CachedSesame | None, exc: SesameError) -> _SesameAnswer:
        why = str(exc).removeprefix(f"{query}: ")
        self.stats.failed += 1
        budget = self.settings.resolver_budget
        if exc.kind == "budget":  # not the name's fault: not negative-cached
            self._halt(query, "budget", f"Sesame time budget spent (resolver_budget={budget:g} s)",
                       f"Sesame not asked: resolver_budget={budget:g} s spent")
            return self._fallback(cached, why)
        self._record_failure(query, why)
        if exc.kind == "unreachable":
            self._halt(query, "unreachable", f"Sesame unreachable ({self._client.unreachable()})",
                       "Sesame not asked: unreachable earlier in this run")
            return self._fallback(cached, why)
        log.warning("%s; continuing without Sesame aliases", exc)
        self._failures += 1
        if self._failures >= MAX_CONSECUTIVE_FAILURES:
            self._halt(query, "failures", f"Sesame failed {self._failures} times in a row",
                       "Sesame skipped after repeated failures")
        return self._fallback(cached, why)

    @staticmethod
    def _fallback(cached: CachedSesame | None, why: str) -> _SesameAnswer:
        if cached is None or cached.fetched_at is None:
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
    progress: Callable[[ResolveProgress], None] | None = None,
    notice: Callable[[ResolverNotice], None] | None = None,
) -> dict[str, Resolution]:
    """Resolve many names, each distinct name once: ``{name: Resolution}`` in first-seen order.

    ``progress`` and ``notice`` are as for :meth:`Resolver.resolve_many` and :class:`Resolver`.
    """
    with Resolver(catalog=catalog, settings=settings, refresh=refresh, offline=offline,
                  notice=notice) as resolver:
        return resolver.resolve_many(names, progress=progress)


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
    "NoticeKind",
    "Resolution",
    "ResolveProgress",
    "Resolver",
    "ResolverNotice",
    "ResolverStats",
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
