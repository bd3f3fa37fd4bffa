"""The Sesame client against a real HTTP server on 127.0.0.1 (never the internet; the server is
:mod:`support.sesame`)."""

from __future__ import annotations

import re
import time
import tracemalloc
from pathlib import Path

import pytest

from hstlc.config import load_settings
from hstlc.resolver.sesame import (
    SesameClient,
    SesameError,
    SesameResult,
    fetch_sesame,
    parse_sesame_xml,
    sesame_bases,
    sesame_url,
)
from support.sesame import (
    Reply,
    SesameServer,
    billion_laughs_xml,
    found_xml,
    nothing_found_xml,
    sesame_xml,
    xxe_xml,
)

# --- parsing -------------------------------------------------------------------------------------------


def test_found_collects_aliases_from_every_resolver() -> None:
    xml = sesame_xml(
        "M31",
        {"name": "Sca=Simbad (CfA, via client/server)", "oname": "M  31", "aliases": ["M  31", "NGC  224"],
         "ra": 10.68470833, "dec": 41.26875},
        {"name": "N=NED", "oname": "MESSIER 031", "aliases": ["MESSIER 031", "UGC 00454"],
         "ra": 10.6847, "dec": 41.2690},
        {"name": "V=VizieR", "info": "*** Nothing found ***"},
    )
    result = parse_sesame_xml(xml, "M31")
    assert result == SesameResult("M31", True, ("M 31", "NGC 224", "MESSIER 031", "UGC 00454"),
                                  10.68470833, 41.26875)


def test_tag_case_and_namespaces_do_not_matter() -> None:
    xml = (b'<sesame xmlns="urn:x"><target><resolver name="S"><JRADEG>1.5</JRADEG><jdedeg>-2</jdedeg>'
           b"<ALIAS>HD 209458</ALIAS><alias>V* V376 Peg</alias></resolver></target></sesame>")
    result = parse_sesame_xml(xml, "HD209458")
    assert result.found and result.aliases == ("HD 209458", "V* V376 Peg")
    assert (result.ra, result.dec) == (1.5, -2.0)


@pytest.mark.parametrize(
    "xml",
    [
        nothing_found_xml("NOSUCHSTAR"),
        b'<?xml version="1.0"?><Sesame><Target option="I"><name>NOSUCHSTAR</name></Target></Sesame>',
        b"<Sesame><Target><name>X</name><Resolver name='S'><INFO>*** nothing FOUND ***</INFO>"
        b"<jradeg>1</jradeg><jdedeg>2</jdedeg><alias>X 1</alias></Resolver></Target></Sesame>",
        b"<Sesame><Target><Resolver name='S'><jradeg>1</jradeg><alias>ONLY RA</alias></Resolver>"
        b"</Target></Sesame>",
        b"<Sesame><Target><Resolver name='S'><jradeg>nan</jradeg><jdedeg>2</jdedeg></Resolver>"
        b"</Target></Sesame>",
    ],
    ids=["info-nothing-found", "target-without-resolver", "info-wins-over-position", "no-dec", "nan"],
)
def test_nothing_found_shapes(xml: bytes) -> None:
    result = parse_sesame_xml(xml, "NOSUCHSTAR")
    assert result.found is False
    assert result.aliases == ()


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<Sesame><Target><Resolver>", "not well-formed XML"),
        (b"", "not well-formed XML"),
        (b"<html><body>Service unavailable</body></html>", "not a Sesame document (root element <html>)"),
    ],
)
def test_malformed_replies_raise(xml: bytes, message: str) -> None:
    with pytest.raises(SesameError, match=re.escape(message)):
        parse_sesame_xml(xml, "M31")


def test_xxe_is_refused_without_reading_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42", encoding="utf-8")
    with pytest.raises(SesameError, match="refused an unsafe Sesame reply") as info:
        parse_sesame_xml(xxe_xml(secret), "M31")
    assert "TOP-SECRET-42" not in str(info.value)


def test_entity_bomb_is_refused_quickly_in_little_memory() -> None:
    xml = billion_laughs_xml()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(SesameError, match="refused an unsafe Sesame reply"):
            parse_sesame_xml(xml, "M31")
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 5_000_000  # expanded, the bomb would be 3 GB


# --- the HTTP client -------------------------------------------------------------------------------------


def test_url_percent_encodes_plus_and_blanks() -> None:
    assert sesame_url("http://h/s", "2MASSJ09215939+4509126") == "http://h/s?2MASSJ09215939%2B4509126"
    assert sesame_url("http://h/s", "NGC 224/x&y") == "http://h/s?NGC%20224%2Fx%26y"


def test_plus_reaches_the_server_encoded(sesame: SesameServer, tmp_path: Path) -> None:
    name = "2MASSJ09215939+4509126"
    sesame.replies[name] = Reply(body=found_xml(name, "2MASS J09215939+4509126"))
    result = fetch_sesame(name, settings=sesame.settings(tmp_path))
    assert result.found and result.aliases == ("2MASS J09215939+4509126",)
    assert sesame.raw_requests == ["/sesame/-oxpI/SNV?2MASSJ09215939%2B4509126"]


def test_found_and_nothing_found_over_http(sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31", "NGC  224"))
    settings = sesame.settings(tmp_path)
    assert fetch_sesame("M31", settings=settings).aliases == ("M 31", "NGC 224")
    assert fetch_sesame("NOSUCHSTAR", settings=settings).found is False
    assert sesame.count == 2


def test_http_500_is_retried_with_backoff_then_fails(sesame: SesameServer, tmp_path: Path) -> None:
    settings = sesame.settings(tmp_path, sesame_url=sesame.url("/fail/sesame"), sesame_retries=2,
                               sesame_backoff=0.25)
    sleeps: list[float] = []
    with pytest.raises(SesameError) as info:
        fetch_sesame("M31", settings=settings, sleep=sleeps.append)
    assert sesame.count == 3
    assert sleeps == [0.25, 0.5]
    assert str(info.value) == (
        f"M31: Sesame failed ({sesame.base[7:]}: HTTP 500; {sesame.base[7:]}: HTTP 500; "
        f"{sesame.base[7:]}: HTTP 500)"
    )


def test_mirror_fallback(sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31"))
    settings = sesame.settings(tmp_path, sesame_url=sesame.url("/fail/sesame"),
                               sesame_mirrors=[sesame.url("/mirror/sesame")], sesame_retries=1)
    result = fetch_sesame("M31", settings=settings)
    assert result.found
    paths = [p.partition("?")[0] for p in sesame.raw_requests]
    assert paths == ["/fail/sesame", "/fail/sesame", "/mirror/sesame"]


def test_client_errors_and_bad_xml_go_to_the_next_mirror_without_retry(
    sesame: SesameServer, tmp_path: Path
) -> None:
    def handler(path: str, name: str) -> Reply:
        if path.startswith("/notfound"):
            return Reply(404, b"no")
        if path.startswith("/garbage"):
            return Reply(body=b"<Sesame><Target>")
        return Reply(body=found_xml(name, "M  31"))

    sesame.handler = handler
    settings = sesame.settings(tmp_path, sesame_url=sesame.url("/notfound"),
                               sesame_mirrors=[sesame.url("/garbage"), sesame.url("/ok")], sesame_retries=3)
    assert fetch_sesame("M31", settings=settings).found
    assert [p.partition("?")[0] for p in sesame.raw_requests] == ["/notfound", "/garbage", "/ok"]


def test_reply_slower_than_the_timeout(sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31"), delay=3.0)
    settings = sesame.settings(tmp_path, sesame_timeout=0.3)
    start = time.monotonic()
    with pytest.raises(SesameError, match=r"no reply within sesame_timeout=0.3 s"):
        fetch_sesame("M31", settings=settings)
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("content_length", [True, False], ids=["declared", "streamed"])
def test_over_long_reply_is_abandoned(sesame: SesameServer, tmp_path: Path, content_length: bool) -> None:
    padding = "".join(f"<alias>NAME {i:07d}</alias>" for i in range(20_000))  # ~500 kB
    body = found_xml("M31", "M  31").replace(b"</Resolver>", padding.encode() + b"</Resolver>")
    sesame.replies["M31"] = Reply(body=body, content_length=content_length)
    settings = sesame.settings(tmp_path, sesame_max_bytes=50_000)
    with pytest.raises(SesameError, match=r"sesame_max_bytes=50000"):
        fetch_sesame("M31", settings=settings)
    assert sesame.count == 1  # an over-long reply is not retried


def test_unreachable_server_fails_cleanly(tmp_path: Path) -> None:
    settings = load_settings(overrides={"home_dir": tmp_path, "sesame_url": "http://127.0.0.1:9/sesame",
                                        "sesame_mirrors": [], "sesame_retries": 0}).settings
    with pytest.raises(SesameError, match=r"127.0.0.1:9: connection failed"):
        fetch_sesame("M31", settings=settings)


def test_a_refused_connection_is_unreachable_and_not_retried(tmp_path: Path) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    settings = load_settings(overrides={"home_dir": tmp_path, "sesame_url": f"http://127.0.0.1:{port}/s",
                                        "sesame_mirrors": [], "sesame_retries": 3}).settings
    sleeps: list[float] = []
    with pytest.raises(SesameError) as info:
        fetch_sesame("M31", settings=settings, sleep=sleeps.append)
    assert info.value.kind == "unreachable" and sleeps == []
    why = f"127.0.0.1:{port}: connection failed (connection refused)"
    assert str(info.value) == f"M31: Sesame unreachable ({why})"


def test_a_silent_server_is_unreachable_after_one_timeout(sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31"), delay=5.0)
    settings = sesame.settings(tmp_path, sesame_timeout=0.3, sesame_retries=3, sesame_backoff=0.1)
    start = time.monotonic()
    with SesameClient(settings) as client:
        with pytest.raises(SesameError) as info:
            client.fetch("M31")
        assert info.value.kind == "unreachable" and sesame.count == 1
        with pytest.raises(SesameError, match="Sesame unreachable"):
            client.fetch("M32")  # every URL is down: no request at all
        assert client.requests == 1
    assert sesame.count == 1 and time.monotonic() - start < 1.5


def test_http_errors_are_failures_not_unreachable(sesame: SesameServer, tmp_path: Path) -> None:
    settings = sesame.settings(tmp_path, sesame_url=sesame.url("/fail/sesame"))
    with pytest.raises(SesameError) as info:
        fetch_sesame("M31", settings=settings)
    assert info.value.kind == "failed"


def test_the_client_skips_a_dead_url_in_later_lookups(sesame: SesameServer, tmp_path: Path) -> None:
    def handler(path: str, name: str) -> Reply:
        return Reply(body=found_xml(name, name), delay=5.0 if path.startswith("/silent") else 0.0)

    sesame.handler = handler
    settings = sesame.settings(tmp_path, sesame_url=sesame.url("/silent"), sesame_mirrors=[sesame.url("/ok")],
                               sesame_timeout=0.3)
    with SesameClient(settings) as client:
        assert all(client.fetch(f"STAR{i}").found for i in range(5))
        assert list(client.down) == [sesame.url("/silent")]
    assert [p.partition("?")[0] for p in sesame.raw_requests] == ["/silent"] + ["/ok"] * 5


def test_a_deadline_caps_the_request_and_is_not_unreachable(sesame: SesameServer, tmp_path: Path) -> None:
    sesame.replies["M31"] = Reply(body=found_xml("M31", "M  31"), delay=3.0)
    settings = sesame.settings(tmp_path, sesame_timeout=5.0, sesame_retries=2)
    with SesameClient(settings) as client:
        start = time.monotonic()
        with pytest.raises(SesameError) as info:
            client.fetch("M31", deadline=time.monotonic() + 0.3)
        assert time.monotonic() - start < 1.0
        assert info.value.kind == "budget" and client.down == {}
        with pytest.raises(SesameError, match=r"M31: Sesame not asked in time \(resolver_budget spent\)"):
            client.fetch("M31", deadline=time.monotonic())
    assert sesame.count == 1


def test_bases_are_deduplicated(tmp_path: Path) -> None:
    settings = load_settings(overrides={"home_dir": tmp_path, "sesame_url": "http://a/s",
                                        "sesame_mirrors": ["http://b/s", "http://a/s"]}).settings
    assert sesame_bases(settings) == ["http://a/s", "http://b/s"]


def test_a_plain_doctype_is_accepted_and_not_fetched(sesame: SesameServer) -> None:
    xml = (
        f'<?xml version="1.0"?>\n<!DOCTYPE Sesame SYSTEM "{sesame.url("/sesame.dtd")}">\n'
    ).encode() + found_xml("M31", "M  31").split(b"?>\n", 1)[1]
    assert parse_sesame_xml(xml, "M31").aliases == ("M 31",)
    assert sesame.count == 0  # the external DTD was not downloaded
