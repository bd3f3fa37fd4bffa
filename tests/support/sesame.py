"""A Sesame-shaped HTTP server on 127.0.0.1 for the resolver, ingest and CLI tests (never the internet).

:func:`serve_sesame` runs one for a fixture (the ``sesame`` fixture of ``tests/conftest.py``); the
``*_xml`` functions build the replies, hostile ones included.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

import pytest

from hstlc.config import Settings, load_settings
from support.network import serve_http

# --- a Sesame-shaped test server ---------------------------------------------------------------------


def sesame_xml(
    name: str,
    *resolvers: dict[str, Any],
    target_attrs: str = 'option="IxpS"',
) -> bytes:
    """A Sesame ``-oxpI`` reply: one ``<Resolver>`` per dict (keys: name, oname, aliases, ra, dec, info)."""
    blocks = []
    for r in resolvers:
        parts = [f'<Resolver name="{escape(r.get("name", "S=Simbad"))}">']
        if "info" in r:
            parts.append(f"<INFO>{escape(r['info'])}</INFO>")
        if "ra" in r:
            parts.append("<oid>@1234</oid><otype>G</otype>")
            parts.append(f"<jpos>00:42:44.33 +41:16:07.5</jpos><jradeg>{r['ra']}</jradeg>")
            parts.append(f"<jdedeg>{r['dec']}</jdedeg>")
        if "oname" in r:
            parts.append(f"<oname>{escape(r['oname'])}</oname>")
        parts.extend(f"<alias>{escape(a)}</alias>" for a in r.get("aliases", ()))
        parts.append("</Resolver>")
        blocks.append("".join(parts))
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Sesame xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"<Target {target_attrs}>\n<name>{escape(name)}</name>\n"
        + "\n".join(blocks)
        + "\n</Target>\n</Sesame>\n"
    )
    return body.encode("utf-8")


def found_xml(name: str, *aliases: str, oname: str | None = None) -> bytes:
    return sesame_xml(name, {"oname": oname or (aliases[0] if aliases else name), "aliases": aliases,
                             "ra": 10.68470833, "dec": 41.26875})


def nothing_found_xml(name: str) -> bytes:
    return sesame_xml(name, {"name": "S=Simbad", "info": "*** Nothing found ***"},
                      {"name": "N=NED", "info": "*** Nothing found ***"})


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    content_length: bool = True
    content_type: str = "text/xml;charset=UTF-8"


@dataclass
class SesameServer:
    """A threaded HTTP server that answers like Sesame and counts every request.

    ``replies`` maps a (decoded) name to a :class:`Reply`; unknown names get "nothing found". A path
    starting with ``/fail`` always answers HTTP 500. ``handler`` may replace the whole behaviour.
    """

    httpd: ThreadingHTTPServer
    replies: dict[str, Reply] = field(default_factory=dict)
    raw_requests: list[str] = field(default_factory=list)
    handler: Callable[[str, str], Reply] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/sesame/-oxpI/SNV") -> str:
        return self.base + path

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.raw_requests)

    def names(self) -> list[str]:
        with self.lock:
            return [unquote(p.partition("?")[2]) for p in self.raw_requests]

    def reply_for(self, path: str, name: str) -> Reply:
        if self.handler is not None:
            return self.handler(path, name)
        if path.startswith("/fail"):
            return Reply(500, b"<html>Internal Server Error</html>", content_type="text/html")
        return self.replies.get(name) or Reply(body=nothing_found_xml(name))

    def settings(self, tmp_path: Path, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "home_dir": tmp_path / "home",
            "sesame_url": self.url(),
            "sesame_mirrors": [],
            "sesame_timeout": 2.0,
            "sesame_retries": 0,
            "sesame_backoff": 0.0,
        }
        values.update(overrides)
        return load_settings(overrides=values).settings


def _handler_class(server: SesameServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every keep-alive reply

        def do_GET(self) -> None:
            with server.lock:
                server.raw_requests.append(self.path)
            path, _, query = self.path.partition("?")
            reply = server.reply_for(path, unquote(query))
            if reply.delay and server.stop.wait(reply.delay):
                return
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if reply.content_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (size limit): fine
                pass

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


def serve_sesame(monkeypatch: pytest.MonkeyPatch) -> Iterator[SesameServer]:
    """Run a :class:`SesameServer` for the duration of a fixture (other test modules reuse this)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    served: list[SesameServer] = []

    def handler(httpd: ThreadingHTTPServer) -> type[BaseHTTPRequestHandler]:
        served.append(SesameServer(httpd))
        return _handler_class(served[0])

    with serve_http(handler, lambda: served[0].stop.set()):
        yield served[0]



def xxe_xml(secret: Path) -> bytes:
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE Sesame [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        '<Sesame><Target><Resolver name="S=Simbad"><jradeg>1</jradeg><jdedeg>2</jdedeg>'
        "<oname>&xxe;</oname><alias>&xxe;</alias></Resolver></Target></Sesame>"
    ).encode()


def billion_laughs_xml(levels: int = 10) -> bytes:
    lines = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    lines += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE Sesame [\n' + "\n".join(lines) + "\n]>\n"
        '<Sesame><Target><Resolver name="S"><jradeg>1</jradeg><jdedeg>2</jdedeg>'
        f"<alias>&lol{levels - 1};</alias></Resolver></Target></Sesame>"
    ).encode()
