"""resolve_target / resolve_targets against the catalog (every backend) and a local Sesame server."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

import pytest

from hstlc.catalog import Catalog, upsert_metadata
from hstlc.catalog.resolver_tables import (
    CachedSesame,
    get_sesame_cache,
    load_aliases,
    match_targname_keys,
    open_existing_catalog,
    put_sesame_cache,
)
from hstlc.catalog.schema import utcnow
from hstlc.resolver import Resolver, add_alias, resolve_target, resolve_targets
from support.sesame import Reply, SesameServer, billion_laughs_xml, found_xml, xxe_xml


def add_targets(catalog: Catalog, **files_per_target: int) -> None:
    """Metadata rows: ``NGC224=3`` makes three files of target NGC224."""
    with catalog.session() as session:
        for targname, count in files_per_target.items():
            for i in range(count):
                filename = f"{targname.lower()}_{i}_corrtag_a.fits"
                upsert_metadata(session, filename, path="/x", targname=targname)


def cached(catalog: Catalog, *queries: str) -> dict[str, CachedSesame]:
    with catalog.session() as session:
        return get_sesame_cache(session, queries)


# --- adopting a catalog target -------------------------------------------------------------------------


def test_alias_matches_catalog_target_despite_spacing_and_case(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    add_targets(catalog, NGC224=2, HD209458=1)
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31", "Ngc   224", "NAME Andromeda Galaxy"))
    settings = sesame.settings(tmp_path)
    r = resolve_target("M31", catalog=catalog, settings=settings)
    assert (r.input, r.resolved, r.method) == ("M31", "NGC224", "sesame+catalog")
    assert r.aliases == ("M 31", "Ngc 224", "NAME Andromeda Galaxy")
    assert r.note == "Sesame alias 'Ngc 224' is catalog target NGC224"
    assert sesame.names() == ["M31"]


@pytest.mark.parametrize(
    ("files", "chosen", "listed"),
    [
        ({"M31": 1, "NGC224": 3}, "NGC224", "NGC224 (3 files), M31 (1 file)"),
        ({"M31": 2, "NGC224": 2}, "M31", "M31 (2 files), NGC224 (2 files)"),
    ],
    ids=["most-files", "tie-alphabetical"],
)
def test_several_matches_choose_deterministically_and_say_so(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path, files: dict[str, int], chosen: str, listed: str
) -> None:
    add_targets(catalog, **files)
    sesame.replies["ANDROMEDA"] = Reply(body=found_xml("ANDROMEDA", "NAME Andromeda", "M  31", "NGC  224"))
    r = resolve_target("ANDROMEDA", catalog=catalog, settings=sesame.settings(tmp_path))
    assert (r.resolved, r.method) == (chosen, "sesame+catalog")
    assert r.note == (
        f"2 catalog targets match Sesame aliases: {listed}; chose {chosen} (most files, then alphabetical)"
    )


def test_rule_then_sesame_match(catalog: Catalog, sesame: SesameServer, tmp_path: Path) -> None:
    add_targets(catalog, V376PEG=1)
    sesame.replies["HD209458"] = Reply(body=found_xml("HD209458", "HD 209458", "V* V376 Peg"))
    r = resolve_target("HD-209458", catalog=catalog, settings=sesame.settings(tmp_path))
    assert (r.resolved, r.method) == ("V376PEG", "sesame+catalog")
    assert r.note == "rule catalog-hyphen; Sesame alias 'V* V376 Peg' is catalog target V376PEG"
    assert sesame.names() == ["HD209458"]  # Sesame is asked the rewritten name


def test_a_catalog_target_is_kept_without_asking_sesame(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    add_targets(catalog, HD209458=1)
    r = resolve_target("HD-209458", catalog=catalog, settings=sesame.settings(tmp_path))
    assert (r.resolved, r.method) == ("HD209458", "rule")
    assert r.note == "rule catalog-hyphen; already a catalog target"
    assert sesame.count == 0


def test_found_but_no_catalog_match_keeps_the_name(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31", "NGC  224"))
    r = resolve_target("M31", catalog=catalog, settings=sesame.settings(tmp_path))
    assert (r.resolved, r.method, r.aliases) == ("M31", "unchanged", ("M 31", "NGC 224"))
    assert r.note == "none of 2 Sesame alias(es) is a catalog target"


def test_one_indexed_query_matches_keys(catalog: Catalog) -> None:
    add_targets(catalog, NGC224=2, M31=1)
    with catalog.session() as session:
        matches = match_targname_keys(session, ["NGC224", "M31", "X", "NGC224"])
    found = sorted((m.key, m.targname, m.rows) for m in matches)
    assert found == [("M31", "M31", 1), ("NGC224", "NGC224", 2)]


# --- the cache -----------------------------------------------------------------------------------------


def test_nothing_found_is_cached_and_reused(catalog: Catalog, sesame: SesameServer, tmp_path: Path) -> None:
    settings = sesame.settings(tmp_path)
    first = resolve_target("NOSUCHSTAR", catalog=catalog, settings=settings)
    assert (first.resolved, first.method, first.note) == ("NOSUCHSTAR", "unchanged", "Sesame: nothing found")
    entry = cached(catalog, "NOSUCHSTAR")["NOSUCHSTAR"]
    assert (entry.found, entry.aliases) == (False, ())
    assert abs(entry.fetched_at - utcnow()) < timedelta(minutes=1)
    second = resolve_target("NOSUCHSTAR", catalog=catalog, settings=settings)
    assert sesame.count == 1  # the second resolution made no request
    assert second.resolved == "NOSUCHSTAR"
    assert second.note == f"Sesame: nothing found; Sesame reply cached {entry.fetched_at:%Y-%m-%d}"


def test_found_is_cached_with_position(catalog: Catalog, sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31", "NGC  224"))
    settings = sesame.settings(tmp_path)
    resolve_target("M31", catalog=catalog, settings=settings)
    add_targets(catalog, NGC224=1)  # a later ingest adds the target: the cached aliases now match
    r = resolve_target("M31", catalog=catalog, settings=settings)
    assert (r.resolved, r.method) == ("NGC224", "sesame+catalog")
    assert sesame.count == 1
    entry = cached(catalog, "M31")["M31"]
    assert (entry.found, entry.aliases) == (True, ("M 31", "NGC 224"))
    assert (entry.ra, entry.dec) == (pytest.approx(10.68470833, abs=1e-9), pytest.approx(41.26875, abs=1e-9))


def test_refresh_and_expiry_bypass_the_cache(catalog: Catalog, sesame: SesameServer, tmp_path: Path) -> None:
    settings = sesame.settings(tmp_path)
    resolve_target("X1", catalog=catalog, settings=settings)
    resolve_target("X1", catalog=catalog, settings=settings, refresh=True)
    assert sesame.count == 2
    expired = sesame.settings(tmp_path, resolver_cache_days=0)
    resolve_target("X1", catalog=catalog, settings=expired)
    assert sesame.count == 3


def test_offline_makes_no_request_but_uses_the_cache(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    add_targets(catalog, NGC224=1)
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31", "NGC  224"))
    offline = sesame.settings(tmp_path, resolver_offline=True)
    r = resolve_target("M31", catalog=catalog, settings=offline)
    assert (r.resolved, r.method, r.note) == ("M31", "unchanged", "offline: Sesame not consulted")
    assert sesame.count == 0
    resolve_target("M31", catalog=catalog, settings=sesame.settings(tmp_path))  # fills the cache
    with catalog.session() as session:  # age the entry beyond resolver_cache_days
        entry = get_sesame_cache(session, ["M31"])["M31"]
        aged = CachedSesame(**{**entry.__dict__, "fetched_at": utcnow() - timedelta(days=400)})
        put_sesame_cache(session, [aged])
    r = resolve_target("M31", catalog=catalog, settings=offline)
    assert (r.resolved, r.method) == ("NGC224", "sesame+catalog")
    assert r.note.endswith("offline: Sesame not consulted; used the expired reply cached "
                           f"{(utcnow() - timedelta(days=400)):%Y-%m-%d}")
    assert sesame.count == 1


def test_without_catalog_nothing_is_cached(sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31"))
    settings = sesame.settings(tmp_path)
    for _ in range(2):
        r = resolve_target("M31", catalog=None, settings=settings)
        assert (r.resolved, r.method, r.aliases) == ("M31", "unchanged", ("M 31",))
        assert r.note == "1 Sesame alias(es); no catalog to match them against"
    assert sesame.count == 2
    assert not (tmp_path / "home" / "hstlc.db").exists()


# --- failures never raise --------------------------------------------------------------------------------


def test_http_500_logs_a_warning_and_keeps_the_name(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sesame.settings(tmp_path, sesame_url=sesame.url("/fail/sesame"), sesame_retries=1)
    with caplog.at_level(logging.WARNING, logger="hstlc"):
        r = resolve_target("AZV-148", catalog=catalog, settings=settings)
    host = sesame.base[7:]
    assert (r.resolved, r.method) == ("AZV148", "rule")
    assert r.note == f"rule catalog-hyphen; Sesame failed ({host}: HTTP 500; {host}: HTTP 500)"
    assert [rec.getMessage() for rec in caplog.records] == [
        f"AZV148: Sesame failed ({host}: HTTP 500; {host}: HTTP 500); continuing without Sesame aliases"
    ]
    entry = cached(catalog, "AZV148")["AZV148"]  # the failure is cached (no reply): see the negative cache
    assert (entry.has_reply, entry.found, entry.aliases) == (False, False, ())
    assert entry.failure == f"Sesame failed ({host}: HTTP 500; {host}: HTTP 500)"
    assert entry.failed_at is not None and abs(entry.failed_at - utcnow()) < timedelta(minutes=1)


def test_failure_falls_back_to_an_expired_cache_entry(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    add_targets(catalog, NGC224=1)
    old = utcnow() - timedelta(days=90)
    with catalog.session() as session:
        put_sesame_cache(session, [CachedSesame("M31", True, ("M 31", "NGC 224"), 10.7, 41.3, old)])
    settings = sesame.settings(tmp_path, sesame_url=sesame.url("/fail/sesame"))
    r = resolve_target("M31", catalog=catalog, settings=settings)
    assert (r.resolved, r.method) == ("NGC224", "sesame+catalog")
    assert r.note.endswith(f"used the expired reply cached {old:%Y-%m-%d}")
    assert sesame.count == 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["malformed", "xxe", "bomb", "slow", "too-long"])
def test_bad_replies_never_raise(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42", encoding="utf-8")
    replies = {
        "malformed": Reply(body=b"<Sesame><Target><Resolver name='S'><jradeg>1</jradeg>"),
        "xxe": Reply(body=xxe_xml(secret)),
        "bomb": Reply(body=billion_laughs_xml()),
        "slow": Reply(body=found_xml("M31", "M  31"), delay=3.0),
        "too-long": Reply(body=found_xml("M31", *(f"NAME {i:06d}" for i in range(5000)))),
    }
    sesame.replies["M31"] = replies[kind]
    settings = sesame.settings(tmp_path, sesame_timeout=0.3, sesame_max_bytes=20_000)
    start = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="hstlc"):
        r = resolve_target("M31", catalog=catalog, settings=settings)
    assert time.monotonic() - start < 2.5
    assert (r.resolved, r.method, r.aliases) == ("M31", "unchanged", ())
    verb = "unreachable" if kind == "slow" else "failed"  # a timeout is "unreachable"
    assert r.note.startswith(f"Sesame {verb} ({sesame.base[7:]}: ")
    assert any(rec.levelno == logging.WARNING for rec in caplog.records)
    entry = cached(catalog, "M31")["M31"]  # only the failure is cached
    assert not entry.has_reply and entry.failed_at is not None
    assert "TOP-SECRET-42" not in repr(r) + caplog.text + repr(entry)


def test_repeated_failures_stop_asking_for_the_rest_of_the_batch(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    settings = sesame.settings(tmp_path, sesame_url=sesame.url("/fail/sesame"))
    results = resolve_targets([f"STAR{i}" for i in range(6)], catalog=catalog, settings=settings)
    assert sesame.count == 3
    assert results["STAR5"].note == "Sesame skipped after repeated failures"


# --- batches -------------------------------------------------------------------------------------------


def test_batch_resolves_each_distinct_name_once(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path
) -> None:
    names = ["HD-209458", "HD209458", "HD-209458", "SATURN1", "P330-E"]
    results = resolve_targets(names, catalog=catalog, settings=sesame.settings(tmp_path))
    assert list(results) == ["HD-209458", "HD209458", "SATURN1", "P330-E"]
    assert [r.resolved for r in results.values()] == ["HD209458", "HD209458", "SATURN", "P330E"]
    assert sorted(sesame.names()) == ["HD209458", "SATURN"]  # the table hit needs no Sesame


@pytest.mark.slow
def test_thousand_names_twice_second_pass_makes_no_request(
    catalog: Catalog, sesame: SesameServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_targets(catalog, **{f"KNOWN{i}": 1 for i in range(50)})
    for i in range(0, 1000, 10):  # every tenth star has an alias that is a catalog target
        sesame.replies[f"STAR{i}"] = Reply(body=found_xml(f"STAR{i}", f"STAR  {i}", f"Known {i // 20}"))
    names = [f"STAR{i}" for i in range(1000)]
    settings = sesame.settings(tmp_path)

    start = time.perf_counter()
    first = resolve_targets(names, catalog=catalog, settings=settings)
    first_time = time.perf_counter() - start
    assert sesame.count == 1000

    start = time.perf_counter()
    second = resolve_targets(names, catalog=catalog, settings=settings)
    second_time = time.perf_counter() - start
    assert sesame.count == 1000  # zero requests in the second pass

    assert {n: r.resolved for n, r in first.items()} == {n: r.resolved for n, r in second.items()}
    assert first["STAR40"].resolved == "KNOWN2" and first["STAR41"].resolved == "STAR41"
    assert sum(r.method == "sesame+catalog" for r in second.values()) == 100
    with capsys.disabled():
        backend = catalog.engine.url.get_backend_name()
        print(f"\n[{backend}] 1000 names: first pass {first_time:.2f} s (1000 requests), "
              f"second pass {second_time:.2f} s (0 requests)")


def test_resolver_object_reuses_state(catalog: Catalog, sesame: SesameServer, tmp_path: Path) -> None:
    with Resolver(catalog=catalog, settings=sesame.settings(tmp_path)) as resolver:
        for _ in range(3):
            assert resolver.resolve("NOSUCHSTAR").resolved == "NOSUCHSTAR"
    assert sesame.count == 1
    assert cached(catalog, "NOSUCHSTAR")["NOSUCHSTAR"].found is False


# --- the catalog alias table ---------------------------------------------------------------------------


def test_catalog_aliases_override_packaged_and_user_file_overrides_catalog(
    catalog: Catalog, tmp_path: Path
) -> None:
    from hstlc.config import load_settings

    settings = load_settings(overrides={"home_dir": tmp_path / "home", "resolver_offline": True}).settings
    added = add_alias("P330-E=CAT-P330E", settings=settings, catalog=catalog)
    assert (added.alias, added.targname, added.written_to_file) == ("P330-E", "CAT-P330E", True)
    assert added.catalog == "added"
    assert add_alias("P330-E=CAT-P330E", settings=settings, catalog=catalog).catalog == "unchanged"
    with catalog.session() as session:
        assert load_aliases(session) == [("P330-E", "CAT-P330E")]
    settings.alias_file.unlink()  # only the catalog entry now
    r = resolve_target("p330-e", catalog=catalog, settings=settings)
    assert (r.resolved, r.method, r.note) == ("CAT-P330E", "table", "catalog alias table")
    settings.alias_file.write_text("alias,targname\nP330-E,USER-P330E\n", encoding="utf-8")
    r = resolve_target("P330-E", catalog=catalog, settings=settings)
    assert r.resolved == "USER-P330E"


def test_open_existing_catalog_never_creates(tmp_path: Path, catalog_url: str) -> None:
    missing = f"sqlite:///{tmp_path / 'nowhere' / 'hstlc.db'}"
    assert open_existing_catalog(missing) == (None, "catalog not created yet (run 'hstlc db init')")
    assert not (tmp_path / "nowhere").exists()
    if catalog_url.startswith("sqlite"):
        Path(catalog_url.removeprefix("sqlite:///")).touch()
    found, why = open_existing_catalog(catalog_url)
    assert found is None and why.startswith("catalog lacks table(s) aliases, metadata, sesame_cache")
    created = Catalog.from_url(catalog_url)
    created.init_schema()
    created.dispose()
    found, why = open_existing_catalog(catalog_url)
    assert found is not None and why == ""
    found.dispose()
