"""A headless Chromium driven with the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (file
descriptors 3 and 4, NUL-terminated JSON messages): the standard library is enough, no websocket client or
Playwright needed. Used by ``tests/report/test_browser.py`` and ``benchmarks/bench_report.py``; also the
report's table helpers (the tables whose rows come from ``report-data.js``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def _find_chromium() -> str | None:
    override = os.environ.get("HSTLC_TEST_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _find_chromium()


class CDPError(RuntimeError):
    pass


class Browser:
    """A headless Chromium and a CDP session on one page target."""

    def __init__(self, executable: str, profile: Path, *, timeout: float = 30.0) -> None:
        self.timeout = timeout
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # move the child's ends out of the way so dup2 onto 3 and 4 cannot clobber one another
        child_in, child_out = fcntl_dup_high(to_chrome_r), fcntl_dup_high(from_chrome_w)

        def wire_pipes() -> None:  # runs in the child before exec
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.log_path = profile / "chromium.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [
                executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
                f"--user-data-dir={profile}", "--remote-debugging-pipe", "--window-size=1400,1000",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, pass_fds=(3, 4),
            preexec_fn=wire_pipes,
        )
        os.close(child_in)
        os.close(child_out)
        self._write_fd, self._read_fd = to_chrome_w, from_chrome_r
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    # --- protocol -----------------------------------------------------------------------------------
    def _send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self._read_fd], [], [], remaining)
            if ready:
                chunk = os.read(self._read_fd, 1 << 20)
                if not chunk:
                    log = self.log_path.read_text(errors="replace")
                    raise CDPError(f"Chromium closed the pipe; its log: {log}")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = True
    ) -> dict[str, Any]:
        ident = self._send(method, params, session=session)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == ident:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method: str, *, after: int = 0) -> dict[str, Any]:
        """The first event ``method`` at index ≥ ``after`` in :attr:`events` (waiting for it if needed)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.events[after:]:
                if event["method"] == method:
                    return event
            message = self._receive(deadline)
            if "method" in message:
                self.events.append(message)

    # --- conveniences -------------------------------------------------------------------------------
    def open_page(self) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def navigate(self, url: str) -> None:
        mark = len(self.events)
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {result['errorText']}")
        self.wait_for("Page.loadEventFired", after=mark)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise CDPError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element ``selector``'s first box (scrolled into view
        first; a wrapped link's bounding rectangle can have its centre between its lines)."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getClientRects()[0];"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            params: dict[str, Any] = {"type": kind, "x": x, "y": y}
            if kind != "mouseMoved":
                params.update(button="left", clickCount=1)
            self.call("Input.dispatchMouseEvent", params)

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors seen so far."""
        out = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                out.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append(f"log: {params['entry'].get('text')} ({params['entry'].get('url')})")
        return out

    def requests(self) -> list[str]:
        sent = [e for e in self.events if e["method"] == "Network.requestWillBeSent"]
        return [e["params"]["request"]["url"] for e in sent]

    def close(self) -> None:
        with contextlib.suppress(CDPError, TimeoutError, OSError):
            self.call("Browser.close", session=False)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for fd in (self._write_fd, self._read_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._log.close()


def fcntl_dup_high(fd: int) -> int:
    """``fd`` duplicated to a number ≥ 10 (the original is closed)."""
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


def column(b: Browser, table: str, header: str) -> list[str]:
    return b.evaluate(
        f"(() => {{ const t = document.getElementById({json.dumps(table)});"
        f" const col = Array.from(t.tHead.rows[0].cells).findIndex(c => c.textContent.trim() === "
        f"{json.dumps(header)});"
        " return Array.from(t.tBodies[0].rows).map(r => r.cells[col].textContent.trim());"
        " })()"
    )


def headers(b: Browser, table: str) -> list[str]:
    return b.evaluate(
        f"Array.from(document.getElementById({json.dumps(table)}).tHead.rows[0].cells)"
        ".map(c => c.textContent.trim())"
    )


def sort_keys(b: Browser, table: str, header: str) -> list[Any]:
    """The sort keys of ``header``'s column (the number of a numeric cell) of every row the table shows,
    in its order (all pages), from the rows file the page loaded."""
    return b.evaluate(
        f"(() => {{ const spec = window.HSTLC_REPORT.tables[{json.dumps(table)}];"
        f" const col = spec.columns.findIndex(c => c[0] === {json.dumps(header)});"
        f" const t = document.getElementById({json.dumps(table)});"
        " return t.hstlcShown().map(i => { const v = spec.rows[i][col];"
        " return v === null ? null"
        " : (spec.columns[col][1] === 'num' ? v[0] : (Array.isArray(v) ? v[0] : v)); });"
        " })()"
    )


def set_filter(b: Browser, table: str, text: str) -> float:
    """Type ``text`` in a table's filter box; returns how long the table took to redraw (ms)."""
    box = f"document.querySelector('input.filter[data-table=\"{table}\"]')"
    return b.evaluate(f"(() => {{ const f = {box}; const t0 = performance.now();"
                      f" f.value = {json.dumps(text)}; f.dispatchEvent(new Event('input'));"
                      " return performance.now() - t0; })()")


def wrap(table: str) -> str:
    return f"document.getElementById('{table}').closest('.datatable-wrap')"


def click_header(b: Browser, table: str, header: str) -> None:
    index = headers(b, table).index(header)
    b.click(f"#{table} th:nth-child({index + 1})")


def follow(b: Browser, selector: str) -> str:
    """Click the link ``selector`` (a real click) and wait for the page it opens; returns its URL."""
    target = b.evaluate(f"document.querySelector({json.dumps(selector)}).href")
    mark = len(b.events)
    b.click(selector)
    b.wait_for("Page.loadEventFired", after=mark)
    assert b.evaluate("location.href") == target
    return target


def images_loaded(b: Browser, selector: str = "img") -> bool:
    return b.evaluate(
        f"Promise.all(Array.from(document.querySelectorAll({json.dumps(selector)})).map(i => i.decode()))"
        f".then(() => Array.from(document.querySelectorAll({json.dumps(selector)}))"
        ".every(i => i.naturalWidth > 100))"
    )


def viewport(b: Browser, width: int, height: int = 1000) -> None:
    b.call("Emulation.setDeviceMetricsOverride",
           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def check_clean(b: Browser) -> None:
    assert b.errors() == []
    requests = b.requests()
    assert requests, "the browser reported no requests at all (is the Network domain on?)"
    assert [u for u in requests if not u.startswith("file://")] == []
