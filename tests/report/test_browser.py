"""The report in a real headless Chromium: loads from disk offline, sorts, links, renders.

Chromium is driven with the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (file descriptors 3
and 4, NUL-terminated JSON messages): the standard library is enough, no websocket client or Playwright
needed. Skips with a reason where ``chromium`` is not installed (``.ci/apt-packages`` lists it).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hstlc.report import build_report
from support.report import HOSTILE_TARGET, populate

pytestmark = pytest.mark.browser

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


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium; .ci/apt-packages lists it)")
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    b = Browser(CHROMIUM, profile)
    try:
        b.open_page()
        yield b
    finally:
        b.close()


@pytest.fixture
def report(tmp_path: Path, settings: Any) -> Path:
    from hstlc.catalog import Catalog

    catalog = Catalog.from_url(settings.database_url)
    catalog.init_schema()
    try:
        populate(catalog, settings)
        result = build_report(catalog, settings)
    finally:
        catalog.dispose()
    assert not result.failed
    return result.index


def _column(b: Browser, table: str, header: str) -> list[str]:
    return b.evaluate(
        f"(() => {{ const t = document.getElementById({json.dumps(table)});"
        f" const col = Array.from(t.tHead.rows[0].cells).findIndex(c => c.textContent.trim() === "
        f"{json.dumps(header)});"
        " return Array.from(t.tBodies[0].rows).map(r => r.cells[col].textContent.trim());"
        " })()"
    )


def _headers(b: Browser, table: str) -> list[str]:
    return b.evaluate(
        f"Array.from(document.getElementById({json.dumps(table)}).tHead.rows[0].cells)"
        ".map(c => c.textContent.trim())"
    )


@pytest.mark.slow
def test_report_in_headless_chromium(browser: Browser, report: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    browser.navigate(report.as_uri())
    assert browser.evaluate("document.title") == "hstlc report"
    assert browser.evaluate("document.querySelectorAll('table.sortable').length") >= 5
    # the hostile TARGNAME is text, not a script
    assert browser.evaluate("typeof window.hacked") == "undefined"
    assert HOSTILE_TARGET in browser.evaluate("document.body.innerText")

    # the product tables lead with the verdict and what it rests on
    assert _headers(browser, "table-boring")[:7] == ["target", "product", "verdict", "best period", "FAP",
                                                     "χ²_red", "χ² p"]
    assert set(_column(browser, "table-boring", "verdict")) == {"constant"}
    assert _column(browser, "table-interesting", "verdict") == ["periodic"]

    # sort the boring table by poisson_factor: a real click on the header, twice
    boring_headers = _headers(browser, "table-boring")
    header_selector = f"#table-boring th:nth-child({boring_headers.index('poisson_factor') + 1})"
    header_js = f"document.querySelector('{header_selector}')"
    assert browser.evaluate(f"{header_js}.textContent.trim()") == "poisson_factor"
    before = _column(browser, "table-boring", "poisson_factor")
    assert max(float(v) for v in before) > 1.5  # the faint constant source: boring all the same
    browser.click(header_selector)
    ascending = _column(browser, "table-boring", "poisson_factor")
    assert [float(v) for v in ascending] == sorted(float(v) for v in before)
    assert browser.evaluate(f"{header_js}.getAttribute('aria-sort')") == "ascending"
    browser.click(header_selector)
    descending = _column(browser, "table-boring", "poisson_factor")
    assert [float(v) for v in descending] == sorted((float(v) for v in before), reverse=True)
    # the FAP column sorts by the number behind its text (``<1e-16``, ``1.2e-05``, ``0.123``)
    fap = boring_headers.index("FAP")
    browser.click(f"#table-boring th:nth-child({fap + 1})")
    keys = browser.evaluate(
        "Array.from(document.getElementById('table-boring').tBodies[0].rows)"
        f".map(r => parseFloat(r.cells[{fap}].getAttribute('data-sort')))"
    )
    assert keys == sorted(keys)
    # a text column sorts too
    browser.click("#table-boring th:nth-child(2)")
    names = _column(browser, "table-boring", "product")
    assert names == sorted(names, key=str.lower)

    # the screenshot of the index is not blank
    shot = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png"})["data"])
    image = Image.open(io.BytesIO(shot)).convert("L")
    assert image.size[0] >= 800
    assert ImageStat.Stat(image).stddev[0] > 10, "screenshot looks blank"
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20

    # follow the first product link of the sorted table (a real click) to its page
    target = browser.evaluate("document.querySelector('#table-boring tbody tr td:nth-child(2) a').href")
    mark = len(browser.events)
    browser.click("#table-boring tbody tr td:nth-child(2) a")
    browser.wait_for("Page.loadEventFired", after=mark)
    assert browser.evaluate("location.href") == target
    assert "/products/" in target
    # its figures load from disk
    assert browser.evaluate("document.images.length") == 2
    assert browser.evaluate("Promise.all(Array.from(document.images).map(i => i.decode()))"
                            ".then(() => Array.from(document.images).every(i => i.naturalWidth > 100))")
    text = browser.evaluate("document.body.innerText")
    assert text.count("Periodogram") >= 1
    assert "Verdict: constant" in text  # the page leads with the verdict

    # and back to the index through the page's own link
    mark = len(browser.events)
    browser.click("nav a")
    browser.wait_for("Page.loadEventFired", after=mark)
    assert browser.evaluate("location.href") == report.as_uri()

    assert browser.errors() == []
    requests = browser.requests()
    assert requests, "the browser reported no requests at all (is the Network domain on?)"
    assert [u for u in requests if not u.startswith("file://")] == []
