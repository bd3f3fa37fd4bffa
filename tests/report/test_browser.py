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


def _sort_keys(b: Browser, table: str, header: str) -> list[Any]:
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


def _filter(b: Browser, table: str, text: str) -> float:
    """Type ``text`` in a table's filter box; returns how long the table took to redraw (ms)."""
    box = f"document.querySelector('input.filter[data-table=\"{table}\"]')"
    return b.evaluate(f"(() => {{ const f = {box}; const t0 = performance.now();"
                      f" f.value = {json.dumps(text)}; f.dispatchEvent(new Event('input'));"
                      " return performance.now() - t0; })()")


def _wrap(table: str) -> str:
    return f"document.getElementById('{table}').closest('.datatable-wrap')"


def _click_header(b: Browser, table: str, header: str) -> None:
    index = _headers(b, table).index(header)
    b.click(f"#{table} th:nth-child({index + 1})")


def _follow(b: Browser, selector: str) -> str:
    """Click the link ``selector`` (a real click) and wait for the page it opens; returns its URL."""
    target = b.evaluate(f"document.querySelector({json.dumps(selector)}).href")
    mark = len(b.events)
    b.click(selector)
    b.wait_for("Page.loadEventFired", after=mark)
    assert b.evaluate("location.href") == target
    return target


def _images_loaded(b: Browser, selector: str = "img") -> bool:
    return b.evaluate(
        f"Promise.all(Array.from(document.querySelectorAll({json.dumps(selector)})).map(i => i.decode()))"
        f".then(() => Array.from(document.querySelectorAll({json.dumps(selector)}))"
        ".every(i => i.naturalWidth > 100))"
    )


def _viewport(b: Browser, width: int, height: int = 1000) -> None:
    b.call("Emulation.setDeviceMetricsOverride",
           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _check_clean(b: Browser) -> None:
    assert b.errors() == []
    requests = b.requests()
    assert requests, "the browser reported no requests at all (is the Network domain on?)"
    assert [u for u in requests if not u.startswith("file://")] == []


@pytest.mark.slow
def test_report_in_headless_chromium(browser: Browser, report: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    browser.navigate(report.as_uri())
    assert browser.evaluate("document.title") == "hstlc report"
    # three product tables, exposure and bad data drawn from the rows file; configurations static
    assert browser.evaluate("document.querySelectorAll('table.sortable.data').length") == 5
    assert browser.evaluate("document.querySelectorAll('div.datatable').length") == 0
    # the hostile TARGNAME is text, not a script
    assert browser.evaluate("typeof window.hacked") == "undefined"
    assert HOSTILE_TARGET in browser.evaluate("document.body.innerText")

    # the product tables lead with the verdict, what it rests on and the exposure
    assert _headers(browser, "table-boring")[:9] == ["target", "verdict", "best period", "FAP", "χ²_red",
                                                     "χ² p", "exposure (s)", "lightcurve", "product"]
    assert set(_column(browser, "table-boring", "verdict")) == {"constant"}
    assert _column(browser, "table-interesting", "verdict") == ["periodic"]

    # sort the boring table by poisson_factor: a real click on the header, twice
    before = _column(browser, "table-boring", "poisson_factor")
    assert max(float(v) for v in before) > 1.5  # the faint constant source: boring all the same
    _click_header(browser, "table-boring", "poisson_factor")
    ascending = _column(browser, "table-boring", "poisson_factor")
    assert [float(v) for v in ascending] == sorted(float(v) for v in before)
    header_js = ("Array.from(document.querySelectorAll('#table-boring th'))"
                 ".find(h => h.textContent.trim() === 'poisson_factor')")
    assert browser.evaluate(f"{header_js}.getAttribute('aria-sort')") == "ascending"
    _click_header(browser, "table-boring", "poisson_factor")
    descending = _column(browser, "table-boring", "poisson_factor")
    assert [float(v) for v in descending] == sorted((float(v) for v in before), reverse=True)
    # the FAP column sorts by the number behind its text (``<1e-16``, ``1.2e-05``, ``0.123``)
    _click_header(browser, "table-boring", "FAP")
    keys = _sort_keys(browser, "table-boring", "FAP")
    assert keys == sorted(keys) and len(keys) == 5
    # a text column sorts too
    _click_header(browser, "table-boring", "product")
    names = _column(browser, "table-boring", "product")
    assert [n.split("\n")[0] for n in names] == sorted((n.split("\n")[0] for n in names), key=str.lower)
    # the filter
    _filter(browser, "table-boring", "gd71")
    assert set(_column(browser, "table-boring", "target")) == {"GD71"}
    assert len(_column(browser, "table-boring", "target")) == 3
    _filter(browser, "table-boring", "")

    # at 1280 px nothing essential needs scrolling: target … exposure, the lightcurve and the product
    _viewport(browser, 1280)
    right = browser.evaluate(
        "Math.max(...Array.from(document.querySelectorAll('#table-boring th')).slice(0, 9)"
        ".map(h => h.getBoundingClientRect().right))")
    assert right <= 1280 - 16
    assert browser.evaluate("document.documentElement.scrollWidth") <= 1280  # the page itself never scrolls
    # and a wide screen shows every column: no 1500 px cap
    _viewport(browser, 2400)
    scroller = "document.getElementById('table-boring').parentElement"
    assert browser.evaluate(f"{scroller}.scrollWidth <= {scroller}.clientWidth")
    assert browser.evaluate("document.getElementById('table-boring').getBoundingClientRect().width") > 1500
    _viewport(browser, 1400)

    # the screenshot of the index is not blank
    shot = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png"})["data"])
    image = Image.open(io.BytesIO(shot)).convert("L")
    assert image.size[0] >= 800
    assert ImageStat.Stat(image).stddev[0] > 10, "screenshot looks blank"
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20

    # a thumbnail opens the lightcurve and the periodogram full size, in the page
    browser.click("#table-interesting td.thumb a")
    assert browser.evaluate("document.querySelectorAll('#lightbox img').length") == 2
    assert _images_loaded(browser, "#lightbox img")
    assert browser.evaluate("location.href") == report.as_uri()
    browser.click("#lightbox img")
    assert browser.evaluate("document.getElementById('lightbox')") is None

    # follow the first product link of the sorted table (a real click) to its page
    target = _follow(browser, "#table-boring tbody tr td.product a")
    assert "/products/" in target
    # its figures load from disk
    assert browser.evaluate("document.images.length") == 2
    assert _images_loaded(browser)
    text = browser.evaluate("document.body.innerText")
    assert text.count("Periodogram") >= 1
    assert "Verdict: constant" in text  # the page leads with the verdict
    # and back to the index through the page's own link
    _follow(browser, "nav a")
    assert browser.evaluate("location.href") == report.as_uri()

    # a target page opens from the index: all the target's products and their figures
    page = _follow(browser, "#table-boring tbody tr td.name a")
    assert "/targets/" in page
    name = browser.evaluate("document.querySelector('h1').textContent")
    rows = browser.evaluate("document.querySelectorAll('#products tbody tr').length")
    assert rows >= 1 and browser.evaluate("document.images.length") == 2 * rows
    assert browser.evaluate("document.title") == f"{name} — hstlc"
    # the hostile name's page: shown as text
    browser.navigate(report.as_uri())
    _filter(browser, "table-boring", "hacked")
    _follow(browser, "#table-boring tbody tr td.name a")
    assert browser.evaluate("document.querySelector('h1').textContent") == HOSTILE_TARGET
    assert browser.evaluate("typeof window.hacked") == "undefined"
    _check_clean(browser)


def _big_report(folder: Path, n: int) -> tuple[Path, list[Any]]:
    """An index of ``n`` products (catalog rows made up, no figures): the page a 10,000-product catalog
    makes, written by the report's own functions."""
    import numpy as np

    from hstlc.catalog.report_queries import ProductRow, ReportData
    from hstlc.report.html import DATA_FILE, ProductEntry, render_index, render_index_data

    rng = np.random.default_rng(15)
    verdicts = rng.choice(["constant", "periodic", "variable", "no counts"], n, p=[0.7, 0.1, 0.15, 0.05])
    rows = []
    for i in range(n):
        verdict = str(verdicts[i])
        rows.append(ProductRow(
            filename=f"l{i:07d}_curve.fits", path=folder / f"l{i:07d}_curve.fits", product_type="individual",
            total=0.0 if verdict == "no counts" else float(rng.integers(1, 10**6)), mean=1.0,
            poisson_factor=float(rng.uniform(0.5, 3)), periodogram=verdict == "periodic",
            variable=verdict == "variable", best_period=float(rng.uniform(5, 36000)),
            fap=float(10 ** rng.uniform(-20, 0)), chi2_reduced=float(rng.uniform(0.5, 5)),
            chi2_p=float(rng.uniform(0, 1)), method_version=None, targname=f"TARGET-{i % 2500:04d}",
            instrume="COS", detector="FUV", opt_elem="G130M", cenwave=1291, aperture="PSA",
            rootnames=(f"l{i:07d}",), exptime=float(rng.uniform(100, 5000)), details={"verdict": verdict},
        ))
    entries = [ProductEntry(row=r, page=f"products/{r.filename[:-5]}.html",
                            target_page=f"targets/{r.targname}.html") for r in rows]
    data = ReportData(products=tuple(rows), exposure_by_target=(), configurations=(), opt_elements=(),
                      bad_data=(), datasets=n)
    index = folder / "index.html"
    index.write_text(render_index(data, entries), encoding="utf-8")
    (folder / DATA_FILE).write_text(render_index_data(data, entries), encoding="ascii")
    return index, rows


@pytest.mark.slow
def test_a_table_of_10000_rows_sorts_and_filters(browser: Browser, tmp_path: Path) -> None:
    index, rows = _big_report(tmp_path, 10_000)
    constant = [r for r in rows if r.verdict == "constant"]
    assert len(constant) > 6000
    start = time.monotonic()
    browser.navigate(index.as_uri())
    loaded = time.monotonic() - start
    assert loaded < 10.0
    table = "table-boring"
    # one page of rows in the document, every row in the table
    assert browser.evaluate(f"document.getElementById('{table}').tBodies[0].rows.length") == 50
    assert browser.evaluate(f"document.getElementById('{table}').hstlcShown().length") == len(constant)
    assert f"of {len(constant):,}" in browser.evaluate(f"{_wrap(table)}.querySelector('.status').textContent")
    # sort by best period over all rows (a real click), both ways; missing values last
    _click_header(browser, table, "best period")
    keys = _sort_keys(browser, table, "best period")
    assert keys == sorted(r.best_period for r in constant)
    shown = [float(v.split()[0]) for v in _column(browser, table, "best period")[:3]]
    assert len(shown) == 3
    _click_header(browser, table, "best period")
    descending = sorted((r.best_period for r in constant), reverse=True)
    assert _sort_keys(browser, table, "best period") == descending
    # sort a text column
    _click_header(browser, table, "target")
    targets = _sort_keys(browser, table, "target")
    assert targets == sorted(r.targname for r in constant)
    # filter: every row that holds the text, and only those
    timing = _filter(browser, table, "target-0042")
    expected = [r for r in constant if r.targname == "TARGET-0042"]
    assert browser.evaluate(f"document.getElementById('{table}').hstlcShown().length") == len(expected)
    assert set(_column(browser, table, "target")) == {"TARGET-0042"}
    assert timing < 2000
    # the pager walks the rows
    _filter(browser, table, "")
    first = _column(browser, table, "product")
    browser.evaluate(f"{_wrap(table)}.querySelector('.pager button + button').click()")
    second = _column(browser, table, "product")
    assert len(second) == 50 and not set(first) & set(second)
    _check_clean(browser)
