"""Local stand-ins for a broken network (no tests here), all on 127.0.0.1: nothing leaves the machine.

* :class:`BlackHole`: a server that accepts every connection and never answers (counts connections);
* :func:`refused_url`: a port nobody listens on (the kernel refuses connections at once).

Used by the resolver tests, the ingest tests and ``benchmarks/bench_resolver.py``.
"""

from __future__ import annotations

import socket
import threading


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
