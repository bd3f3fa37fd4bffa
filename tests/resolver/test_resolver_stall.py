"""Name resolution never stalls a run (issue 13, item 12).

Against local stand-ins for a broken network on 127.0.0.1 (nothing leaves the machine): a server that
accepts connections and never answers (:class:`BlackHole`), a port that refuses connections, and the
Sesame-like :class:`~test_sesame.SesameServer` (slow, failing or answering). Catalog tests run on every
backend (``catalog`` fixture).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Double,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    inspect,
    update,
)
from typer.testing import CliRunner

from hstlc.catalog import Base, Catalog
from hstlc.catalog.resolver_tables import (
    CachedSesame,
    get_sesame_cache,
    open_existing_catalog,
    put_sesame_cache,
)
from hstlc.catalog.schema import SesameCache, utcnow
from hstlc.config import load_settings
from hstlc.errors import ConfigError
from hstlc.resolver import ResolveProgress, Resolver, ResolverNotice, resolve_targets
from support.network import BlackHole
from support.network import refused_url as refused
from support.sesame import Reply, SesameServer, found_xml

NAMES = [f"NOSUCHSTAR{i}" for i in range(20)]


@pytest.fixture
def black_hole(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlackHole]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    hole = BlackHole()
    yield hole
    hole.close()


@pytest.fixture
def refused_url(monkeypatch: pytest.MonkeyPatch) -> str:
    """A URL on a port nobody listens on (the kernel refuses connections)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return refused()


def settings_for(tmp_path: Path, url: str, mirror: str | None = None, **overrides: Any):
    values: dict[str, Any] = {
        "home_dir": tmp_path / "home",
        "sesame_url": url,
        "sesame_mirrors": [mirror] if mirror else [],
        "sesame_timeout": 0.4,
        "sesame_retries": 2,  # retries must not apply to an unreachable URL
        "sesame_backoff": 0.2,
    }
    values.update(overrides)
    return load_settings(overrides=values).settings


def run(catalog: Catalog | None, settings: Any, names: list[str] = NAMES, **kwargs: Any):
    """resolve_many in a fresh Resolver (one run); returns (results, notices, progress, stats, seconds)."""
    notices: list[ResolverNotice] = []
    progress: list[ResolveProgress] = []
    start = time.monotonic()
    with Resolver(catalog=catalog, settings=settings, notice=notices.append, **kwargs) as resolver:
        results = resolver.resolve_many(names, progress=progress.append)
    return results, notices, progress, resolver.stats, time.monotonic() - start


def failures(catalog: Catalog, names: list[str] = NAMES) -> dict[str, CachedSesame]:
    with catalog.session() as session:
        return {q: c for q, c in get_sesame_cache(session, names).items() if c.failed_at is not None}


def age_failures(catalog: Catalog, hours: float) -> None:
    with catalog.session() as session:
        session.execute(update(SesameCache).values(failed_at=utcnow() - timedelta(hours=hours)))


# --- (b) stop asking after the first timeout or connection failure -----------------------------------


@pytest.mark.slow
def test_silent_server_costs_one_timeout_per_url_then_stops(
    catalog: Catalog, black_hole: BlackHole, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, black_hole.url(), black_hole.url("/mirror"))
    with caplog.at_level(logging.INFO, logger="hstlc"):
        results, notices, _, stats, seconds = run(catalog, settings)
    assert black_hole.connections == 2  # one per URL: no retry, no second name
    assert seconds < 2 * 0.4 + 1.0
    host = black_hole.url()[7:].split("/")[0]
    why = f"Sesame unreachable ({host}: no reply within sesame_timeout=0.4 s)"
    assert [(n.kind, n.names, n.reason) for n in notices] == [
        ("online", 20, ""), ("stopped", 19, "unreachable"),
    ]
    assert notices[0].message == "asking CDS Sesame about 20 name(s) (at most 60 s in all, resolver_budget)"
    assert notices[1].message == (
        f"{why}: the remaining 19 name(s) keep their header names; re-run after 6 h (resolver_retry_hours) "
        "or use --offline"
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [notices[1].message]  # logged once, not once per name
    assert all(r.resolved == r.input and r.method == "unchanged" for r in results.values())
    assert results["NOSUCHSTAR0"].note == why
    assert results["NOSUCHSTAR7"].note == "Sesame not asked: unreachable earlier in this run"
    assert (stats.asked, stats.requests, stats.failed, stats.skipped) == (1, 2, 1, 19)
    assert stats.stopped == why


def test_refused_connections_stop_at_once(catalog: Catalog, refused_url: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, refused_url, refused_url.replace("/sesame", "/mirror"))
    sleeps: list[float] = []
    results, notices, _, stats, seconds = run(catalog, settings, sleep=sleeps.append)
    assert seconds < 1.0
    assert sleeps == []  # no back-off: a refused connection is not retried
    assert notices[-1].kind == "stopped" and notices[-1].names == 19
    assert "connection failed (connection refused)" in notices[-1].message
    assert (stats.asked, stats.requests, stats.skipped) == (1, 2, 19)
    assert len(results) == 20


@pytest.mark.slow
def test_an_unreachable_url_is_skipped_for_the_rest_of_the_run(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    def handler(path: str, name: str) -> Reply:
        if path.startswith("/silent"):
            return Reply(body=found_xml(name, name), delay=5.0)
        return Reply(body=found_xml(name, f"{name} A"))

    sesame.handler = handler
    settings = settings_for(tmp_path, sesame.url("/silent"), sesame.url("/mirror"))
    results, notices, _, stats, seconds = run(catalog, settings, names=NAMES[:10])
    paths = [p.partition("?")[0] for p in sesame.raw_requests]
    assert paths.count("/silent") == 1 and paths.count("/mirror") == 10
    assert seconds < 0.4 + 1.0
    assert [n.kind for n in notices] == ["online"]  # the mirror answers: Sesame never stops
    assert all(r.aliases for r in results.values())
    assert stats.failed == 0


# --- (a) the negative cache ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_run_within_the_window_makes_no_request_and_after_it_asks_again(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    answering = threading.Event()

    def handler(path: str, name: str) -> Reply:
        if answering.is_set():
            return Reply(body=found_xml(name, f"{name} A"))
        return Reply(body=b"", delay=5.0)  # accepts the request, never answers in time

    sesame.handler = handler
    settings = settings_for(tmp_path, sesame.url())
    _, notices, _, _, _ = run(catalog, settings)
    assert sesame.count == 1 and notices[-1].reason == "unreachable"
    assert sorted(failures(catalog)) == sorted(NAMES)  # the one asked and the 19 not asked

    second, notices, progress, stats, seconds = run(catalog, settings)
    assert sesame.count == 1  # no request at all
    assert notices == [] and stats.negative_cached == 20 and seconds < 1.0
    assert not any(p.asked for p in progress)
    note = second["NOSUCHSTAR0"].note
    host = sesame.base[7:]
    assert note.startswith(f"Sesame unreachable ({host}: no reply within sesame_timeout=0.4 s) at ")
    assert note.endswith("UTC (resolver_retry_hours; --refresh asks now)")
    assert second["NOSUCHSTAR3"].note.startswith("Sesame not asked, unreachable (")

    answering.set()
    age_failures(catalog, 5.9)  # still inside the 6 h window
    run(catalog, settings)
    assert sesame.count == 1
    age_failures(catalog, 6.1)  # past it: asked again, and the replies replace the failures
    third, notices, _, stats, _ = run(catalog, settings)
    assert sesame.count == 21 and stats.asked == 20
    assert [n.kind for n in notices] == ["online"]
    assert third["NOSUCHSTAR3"].aliases == ("NOSUCHSTAR3 A",)
    assert failures(catalog) == {}
    with catalog.session() as session:
        entry = get_sesame_cache(session, ["NOSUCHSTAR3"])["NOSUCHSTAR3"]
    assert entry.found and entry.fetched_at is not None and entry.failure is None


def test_refresh_ignores_the_negative_cache(catalog: Catalog, sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(500, b"busy")
    settings = settings_for(tmp_path, sesame.url(), sesame_retries=0)
    run(catalog, settings, names=["M31"])
    run(catalog, settings, names=["M31"])
    assert sesame.count == 1
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31"))
    results, *_ = run(catalog, settings, names=["M31"], refresh=True)
    assert sesame.count == 2 and results["M31"].aliases == ("M 31",)


def test_a_failure_keeps_the_expired_reply_for_fallback(
    catalog: Catalog, refused_url: str, tmp_path: Path
) -> None:
    old = utcnow() - timedelta(days=90)
    with catalog.session() as session:
        put_sesame_cache(session, [CachedSesame("M31", True, ("M 31", "NGC 224"), 10.7, 41.3, old)])
    settings = settings_for(tmp_path, refused_url)
    for _ in range(2):  # the second run answers from the negative cache and the old reply
        results, *_ = run(catalog, settings, names=["M31"])
        assert results["M31"].aliases == ("M 31", "NGC 224")
        assert results["M31"].note.endswith(f"used the expired reply cached {old:%Y-%m-%d}")
    with catalog.session() as session:
        entry = get_sesame_cache(session, ["M31"])["M31"]
    assert (entry.found, entry.aliases) == (True, ("M 31", "NGC 224"))
    assert entry.fetched_at is not None and abs(entry.fetched_at - old) < timedelta(seconds=1)
    assert entry.failed_at is not None and "connection refused" in (entry.failure or "")


def test_retry_hours_zero_asks_every_run(catalog: Catalog, sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(500, b"busy")
    settings = settings_for(tmp_path, sesame.url(), sesame_retries=0, resolver_retry_hours=0)
    for _ in range(3):
        run(catalog, settings, names=["M31"])
    assert sesame.count == 3
    assert failures(catalog, ["M31"]) == {}


def test_repeated_failures_negative_cache_the_rest_of_the_batch(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, sesame.url("/fail/sesame"), sesame_retries=0)
    with caplog.at_level(logging.WARNING, logger="hstlc"):
        results, notices, *_ = run(catalog, settings, names=NAMES[:6])
    assert sesame.count == 3
    assert notices[-1].reason == "failures" and notices[-1].names == 3
    assert notices[-1].message.startswith("Sesame failed 3 times in a row: the remaining 3 name(s)")
    assert results["NOSUCHSTAR5"].note == "Sesame skipped after repeated failures"
    assert len(failures(catalog, NAMES[:6])) == 6
    run(catalog, settings, names=NAMES[:6])
    assert sesame.count == 3


def test_nothing_found_is_an_answer_cached_for_resolver_cache_days(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, sesame.url(), resolver_retry_hours=0)
    run(catalog, settings, names=["NOSUCHSTAR0"])
    results, *_ = run(catalog, settings, names=["NOSUCHSTAR0"])
    assert sesame.count == 1
    assert results["NOSUCHSTAR0"].note.startswith("Sesame: nothing found; Sesame reply cached ")
    assert failures(catalog, ["NOSUCHSTAR0"]) == {}


# --- (c) progress and (d) the time budget --------------------------------------------------------------


def test_progress_reports_every_distinct_name(catalog: Catalog, sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31"))
    settings = settings_for(tmp_path, sesame.url())
    names = ["P330-E", "M31", "HD-209458", "M31", "SATURN1"]
    results, _, progress, *_ = run(catalog, settings, names=names)
    assert [(p.done, p.total, p.name) for p in progress] == [
        (1, 4, "P330-E"), (2, 4, "M31"), (3, 4, "HD-209458"), (4, 4, "SATURN1"),
    ]
    assert [p.asked for p in progress] == [False, True, True, True]  # P330-E is in the alias table
    assert [p.resolution for p in progress] == [results[p.name] for p in progress]
    assert progress[-1].sesame_seconds > 0
    again, _, progress, *_ = run(catalog, settings, names=names)
    assert not any(p.asked for p in progress)
    assert {n: r.resolved for n, r in again.items()} == {n: r.resolved for n, r in results.items()}


@pytest.mark.slow
def test_the_budget_bounds_a_slow_sesame(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in NAMES:
        sesame.replies[name] = Reply(body=found_xml(name, f"{name} A"), delay=0.3)
    settings = settings_for(tmp_path, sesame.url(), sesame_timeout=5.0, resolver_budget=1.0)
    with caplog.at_level(logging.WARNING, logger="hstlc"):
        results, notices, _, stats, seconds = run(catalog, settings)
    # The budget bounds the waiting for Sesame (at most one request of 0.3 s past it); the run's own
    # catalog work comes on top (seconds on a loaded server), yet far below the 6 s of asking all 20.
    assert stats.sesame_seconds < 1.0 + 0.5
    assert seconds < 4.0
    assert 1 <= stats.asked < 8 and sesame.count == stats.requests
    answered = [n for n, r in results.items() if r.aliases]
    assert 1 <= len(answered) <= stats.asked
    stopped = notices[-1]
    assert stopped.kind == "stopped" and stopped.reason == "budget"
    assert stopped.names == 20 - stats.asked
    assert stopped.message.startswith("Sesame time budget spent (")
    assert stopped.message.endswith(
        f"the remaining {stopped.names} name(s) keep their header names for now; "
        "a later run asks Sesame about them"
    )
    assert results[NAMES[-1]].note == "Sesame not asked: resolver_budget=1 s spent"
    assert failures(catalog) == {}  # running out of time is nobody's fault: no negative cache
    # the next run goes on where this one stopped
    for name in NAMES:
        sesame.replies[name] = Reply(body=found_xml(name, f"{name} A"))
    before = sesame.count
    second, *_ = run(catalog, settings)
    assert sesame.count - before == 20 - len(answered)
    assert all(r.aliases for r in second.values())


def test_budget_setting_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="resolver_budget: Input should be greater than 0"):
        load_settings(overrides={"home_dir": tmp_path, "resolver_budget": 0})
    with pytest.raises(ConfigError, match="resolver_retry_hours: Input should be greater than or equal to 0"):
        load_settings(overrides={"home_dir": tmp_path, "resolver_retry_hours": -1})


@pytest.mark.slow
def test_without_a_catalog_the_run_still_stops(black_hole: BlackHole, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, black_hole.url())
    results = resolve_targets(NAMES, catalog=None, settings=settings)
    assert black_hole.connections == 1 and len(results) == 20
    results = resolve_targets(NAMES, catalog=None, settings=settings)
    assert black_hole.connections == 2  # nothing to remember failures in: one timeout per run


def test_offline_sends_no_notice(catalog: Catalog, black_hole: BlackHole, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, black_hole.url(), resolver_offline=True)
    _, notices, progress, _, _ = run(catalog, settings)
    assert notices == [] and len(progress) == 20 and black_hole.connections == 0
    assert failures(catalog) == {}


# --- the command line: an explicit lookup ----------------------------------------------------------------


def test_cli_resolve_respects_the_negative_cache_and_refresh_overrides_it(
    sesame: SesameServer, tmp_path: Path
) -> None:
    from hstlc.cli import app

    home = tmp_path / "home"
    catalog = Catalog.from_url(f"sqlite:///{home / 'hstlc.db'}")
    catalog.init_schema()
    sesame.replies["M31"] = Reply(body=b"", delay=5.0)
    env = {"HSTLC_SESAME_URL": sesame.url(), "HSTLC_SESAME_MIRRORS": "", "HSTLC_SESAME_RETRIES": "0",
           "HSTLC_SESAME_TIMEOUT": "0.3"}
    runner = CliRunner()
    resolve = ["--home-dir", str(home), "resolve", "M31", "--json"]
    try:
        first = runner.invoke(app, resolve, env=env)
        assert first.exit_code == 0 and sesame.count == 1
        assert "Sesame unreachable" in first.output
        second = runner.invoke(app, resolve, env=env)
        assert second.exit_code == 0 and sesame.count == 1
        assert "not retried before" in second.output and "--refresh asks now" in second.output
        sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31"))
        third = runner.invoke(app, [*resolve, "--refresh"], env=env)
        assert third.exit_code == 0 and sesame.count == 2
        assert '"M 31"' in third.output
    finally:
        catalog.dispose()


# --- catalogs made before the negative cache ---------------------------------------------------------------


def _old_sesame_cache(metadata: MetaData) -> Table:
    """``sesame_cache`` as the previous release created it (no failed_at, failure)."""
    return Table(
        "sesame_cache",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("query", String(255), nullable=False),
        Column("found", Boolean, nullable=False),
        Column("aliases", JSON),
        Column("ra", Double),
        Column("dec", Double),
        Column("fetched_at", DateTime, nullable=False),
        UniqueConstraint("query", name="uq_sesame_cache_query"),
    )


def test_an_older_catalog_is_read_as_is_and_upgraded_when_opened(
    catalog_url: str, refused_url: str, tmp_path: Path
) -> None:
    catalog = Catalog.from_url(catalog_url)
    try:
        old = MetaData()
        _old_sesame_cache(old)
        old.create_all(catalog.engine)
        Base.metadata.create_all(catalog.engine)  # every other table as now
        with catalog.engine.begin() as connection:
            connection.execute(old.tables["sesame_cache"].insert().values(
                query="M31", found=True, aliases=["M 31"], ra=1.0, dec=2.0, fetched_at=utcnow()))
        # read-only use (ingest --dry-run): no upgrade needed to read the cache
        with catalog.session() as session:
            entry = get_sesame_cache(session, ["M31"])["M31"]
        assert (entry.found, entry.aliases, entry.failed_at) == (True, ("M 31",), None)
        columns = {c["name"] for c in inspect(catalog.engine).get_columns("sesame_cache")}
        assert "failed_at" not in columns
    finally:
        catalog.dispose()
    opened, why = open_existing_catalog(catalog_url)
    assert opened is not None and why == ""
    try:
        columns = {c["name"] for c in inspect(opened.engine).get_columns("sesame_cache")}
        assert {"failed_at", "failure"} <= columns
        settings = settings_for(tmp_path, refused_url)
        results, *_ = run(opened, settings, names=["M31", "NOSUCHSTAR0"])
        assert results["M31"].aliases == ("M 31",)
        assert sorted(failures(opened, ["M31", "NOSUCHSTAR0"])) == ["NOSUCHSTAR0"]
    finally:
        opened.dispose()
