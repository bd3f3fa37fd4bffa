"""Local stand-ins for a broken network (no tests here), all on 127.0.0.1: nothing leaves the machine.

* :class:`BlackHole`: a server that accepts every connection and never answers (counts connections);
* :func:`refused_url`: a port nobody listens on (the kernel refuses connections at once);
* :func:`serve_http`: a threaded HTTP server on 127.0.0.1 with a handler class (the Sesame and MAST
  test servers), for the duration of a ``with`` block.

Used by the resolver tests, the ingest tests and ``benchmarks/bench_resolver.py``.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BlackHole:
    """Accepts TCP connections, reads nothing back and never answers; counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.05)
        self.connections = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = "/sesame") -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._held:
            conn.close()
        self.sock.close()


def refused_url(path: str = "/sesame") -> str:
    """A URL on a port nobody listens on now (connections are refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}{path}"


class _QuietServer(ThreadingHTTPServer):
    """A threaded server that does not wait for its handlers at close and is silent about clients that
    hang up or time out (the tests make them do so)."""

    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def serve_http(handler: Callable[[ThreadingHTTPServer], type[BaseHTTPRequestHandler]],
               before_shutdown: Callable[[], object] | None = None) -> Iterator[ThreadingHTTPServer]:
    """A server on 127.0.0.1 (a free port) whose requests ``handler(server)``'s class answers, running
    until the block ends; ``before_shutdown()`` is called first (to wake handlers that wait)."""
    httpd = _QuietServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.RequestHandlerClass = handler(httpd)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        if before_shutdown is not None:
            before_shutdown()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
