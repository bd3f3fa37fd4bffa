"""A MAST Search API on 127.0.0.1 for the download tests and benchmark (never the internet).

It implements the three endpoints ``hstlc download`` uses (``search``, ``post_list_products``,
``retrieve_product`` with ``Range``) over datasets made by the project's generator, applies the search
conditions hstlc sends (as MAST does, so a test sees what the real service would return), and can
misbehave on request: HTTP errors, slow or stalled replies, truncated bodies, wrong sizes, hostile names.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from support.network import serve_http

API = "/search/hst/api/v0.1"


@dataclass
class MastDataset:
    """One dataset the server knows: its search row and its files on disk."""

    dataset_id: str
    targname: str
    instrument: str
    files: list[Path]
    release_date: str = "2015-01-01T00:00:00"
    start_time: str = "2014-06-01T00:00:00"
    proposal: int = 12345
    aec: str = "S"
    mode: str = "TIME-TAG"

    def row(self) -> dict[str, Any]:
        return {
            "sci_data_set_name": self.dataset_id, "sci_targname": self.targname,
            "sci_instrume": f"{self.instrument:<6}", "sci_operating_mode": self.mode,
            "sci_release_date": self.release_date, "sci_start_time": self.start_time,
            "sci_pep_id": self.proposal, "sci_aec": self.aec, "sci_status": "PUBLIC",
        }


@dataclass
class Faults:
    """Misbehaviour, by endpoint or file name."""

    search_errors: int = 0
    """Reply HTTP 500 to this many search requests first."""
    search_delay: float = 0.0
    """Seconds before each search reply."""
    error_files: dict[str, int] = field(default_factory=dict)
    """File name → HTTP 500 replies before a good one."""
    truncate: dict[str, int] = field(default_factory=dict)
    """File name → bytes sent before the connection is closed (once, then served whole)."""
    stall: dict[str, int] = field(default_factory=dict)
    """File name → bytes sent before the reply stops sending (and stays silent)."""
    listed_size: dict[str, int] = field(default_factory=dict)
    """File name → the size the product list claims (instead of the real one)."""
    served_extra: dict[str, bytes] = field(default_factory=dict)
    """File name → bytes appended to what is served (a server that sends more than it lists)."""
    extra_products: list[dict[str, Any]] = field(default_factory=list)
    """Product rows added to every product list (e.g. hostile file names)."""
    chunk_delay: float = 0.0
    """Seconds between 64 KiB chunks of every file (a slow link)."""


class MastServer:
    """The server's state: datasets, faults, and a log of requests (method, path, Range header)."""

    def __init__(self, httpd: ThreadingHTTPServer, datasets: list[MastDataset]) -> None:
        self.httpd = httpd
        self.datasets = datasets
        self.faults = Faults()
        self.requests: list[tuple[str, str, str | None]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.checksums = False

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def file(self, name: str) -> Path | None:
        return next((f for d in self.datasets for f in d.files if f.name == name), None)

    # --- what MAST would answer -----------------------------------------------------------------------------

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        rows = [d.row() for d in self.datasets if _matches(d.row(), body.get("conditions", []))]
        for key in reversed(body.get("sort_by") or []):
            rows.sort(key=lambda r, k=key: str(r.get(k, "")))
        offset, limit = int(body.get("offset", 0)), int(body.get("limit", 5000))
        page = rows[offset : offset + limit]
        columns = body.get("select_cols") or list(rows[0]) if rows else []
        return {
            "info": [{"name": c, "type": "VARCHAR"} for c in columns],
            "search_params": body, "totalResults": len(rows),
            "results": [{c: r.get(c) for c in columns} for r in page],
        }

    def products(self, ids: list[str]) -> dict[str, Any]:
        out = []
        for d in self.datasets:
            if d.dataset_id not in ids:
                continue
            for f in d.files:
                row: dict[str, Any] = {
                    "product_key": f"{d.dataset_id}_{f.name}", "access": "PUBLIC", "dataset": d.dataset_id,
                    "filename": f.name, "uri": f"{d.dataset_id}/{f.name}",
                    "size": self.faults.listed_size.get(f.name, f.stat().st_size), "type": "science",
                    "file_suffix": f.stem.split("_", 1)[1].upper(),
                }
                if self.checksums:
                    row["sha256"] = hashlib.sha256(f.read_bytes()).hexdigest()
                out.append(row)
            for extra in self.faults.extra_products:
                out.append({**extra, "dataset": d.dataset_id})
            # other files of a real dataset, not wanted by hstlc
            out.append({"dataset": d.dataset_id, "filename": f"{d.dataset_id.lower()}_spt.fits", "size": 10})
        return {"products": out}


def _matches(row: dict[str, Any], conditions: list[dict[str, str]]) -> bool:
    for condition in conditions:
        for column, wanted in condition.items():
            value = str(row.get(column, "")).strip()
            wanted = str(wanted)
            if wanted.startswith("<"):
                if not value < wanted[1:]:
                    return False
            elif wanted.startswith(">="):
                if not value >= wanted[2:]:
                    return False
            elif value.upper() not in {w.strip().upper() for w in wanted.split(",")}:
                return False
    return True


def _handler(server: MastServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, document: Any) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            with server.lock:
                server.requests.append(("POST", self.path, None))
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path == f"{API}/search":
                if server.faults.search_delay:
                    server.stop.wait(server.faults.search_delay)
                with server.lock:
                    fail = server.faults.search_errors > 0
                    server.faults.search_errors -= fail
                if fail:
                    self._json(500, {"error": "internal"})
                    return
                self._json(200, server.search(body))
            elif self.path == f"{API}/post_list_products":
                self._json(200, server.products([str(i).upper() for i in body.get("dataset_ids", [])]))
            else:
                self._json(404, {"error": "no such service"})

        def do_GET(self) -> None:
            url = urlparse(self.path)
            rng = self.headers.get("Range")
            with server.lock:
                server.requests.append(("GET", self.path, rng))
            if url.path != f"{API}/retrieve_product":
                self._json(404, {"error": "no such service"})
                return
            name = parse_qs(url.query).get("product_name", [""])[0]
            path = server.file(name)
            if path is None:
                self._json(404, {"error": f"{name} not found"})
                return
            with server.lock:
                errors = server.faults.error_files.get(name, 0)
                if errors:
                    server.faults.error_files[name] = errors - 1
            if errors:
                self._json(500, {"error": "internal"})
                return
            data = path.read_bytes() + server.faults.served_extra.get(name, b"")
            start = 0
            if rng and rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[6:-1])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            with server.lock:
                cut = server.faults.truncate.pop(name, None)
                stall = server.faults.stall.get(name)
            body = data[start:]
            limit = len(body)
            if cut is not None:
                limit = max(0, cut - start)
            if stall is not None:
                limit = min(limit, max(0, stall - start))
            for i in range(0, limit, 1 << 16):
                try:
                    self.wfile.write(body[i : min(i + (1 << 16), limit)])
                    self.wfile.flush()
                except OSError:
                    return
                if server.faults.chunk_delay:
                    time.sleep(server.faults.chunk_delay)
            if stall is not None and limit < len(body):
                server.stop.wait(3600)  # silent: the client's timeout must end it
            if limit < len(body):
                self.close_connection = True

    return Handler


def serve_mast(datasets: list[MastDataset]) -> Iterator[MastServer]:
    """Run a :class:`MastServer` on 127.0.0.1 for the duration of a fixture."""
    served: list[MastServer] = []

    def handler(httpd: ThreadingHTTPServer) -> type[BaseHTTPRequestHandler]:
        served.append(MastServer(httpd, datasets))
        return _handler(served[0])

    with serve_http(handler, lambda: served[0].stop.set()):
        yield served[0]


def make_archive(folder: Path, *, lref: Path, oref: Path) -> list[MastDataset]:
    """Generated datasets as MAST holds them: a COS FUV pair with x1d, a COS NUV corrtag, a STIS tag with
    x1d, a wavecal (calibration target WAVE), and a COS dataset not yet public."""
    from hstlc import synthetic as syn

    def files(ds: Any) -> list[Path]:  # the dataset's own files (the reference tables went elsewhere)
        return sorted([*ds.event_files, *([ds.x1d] if ds.x1d else [])])

    def cos_fuv(root: str, target: str, **kw: Any) -> list[Path]:
        return files(syn.make_cos_fuv(folder / root, root, targname=target, exptime=300.0, source_rate=50.0,
                                      reference_dir=lref, x1d=True, **kw))

    fuv = cos_fuv("lb4m01aaq", "WD0308-565", seed=1)
    nuv = files(syn.make_cos_nuv(folder / "lb4m02abq", "lb4m02abq", targname="GD71", exptime=300.0,
                                 reference_dir=lref, seed=2))
    stis = files(syn.make_stis_tag(folder / "o8k401010", "o8k401010", targname="AD-LEO", exptime=300.0,
                                   reference_dir=oref, seed=3))
    wave = cos_fuv("lb4m01w1q", "WAVE", seed=4)
    private = cos_fuv("lb4m03aaq", "HD209458", seed=5)
    return [
        MastDataset("LB4M01AAQ", "WD0308-565", "COS", fuv, start_time="2014-06-01T00:00:00"),
        MastDataset("LB4M02ABQ", "GD71", "COS", nuv, start_time="2014-06-02T00:00:00"),
        MastDataset("O8K401010", "AD-LEO", "STIS", stis, start_time="2003-01-02T00:00:00", proposal=9876),
        MastDataset("LB4M01W1Q", "WAVE", "COS", wave, start_time="2014-06-01T01:00:00", aec="C"),
        MastDataset("LB4M03AAQ", "HD209458", "COS", private, start_time="2026-11-01T00:00:00",
                    release_date="2027-11-01T00:00:00"),
    ]
