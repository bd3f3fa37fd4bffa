"""The report in a real headless Chromium: loads from disk offline, sorts, filters, pages, links, renders.

Chromium is driven with the Chrome DevTools Protocol (``support.chromium``). Skips with a reason where
``chromium`` is not installed (``.ci/apt-packages`` lists it).
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hstlc.report import build_report
from support.chromium import (
    CHROMIUM,
    Browser,
    check_clean,
    click_header,
    column,
    follow,
    headers,
    images_loaded,
    set_filter,
    sort_keys,
    viewport,
    wrap,
)
from support.report import HOSTILE_TARGET, populate

pytestmark = pytest.mark.browser


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
    assert headers(browser, "table-boring")[:9] == ["target", "verdict", "best period", "FAP", "χ²_red",
                                                     "χ² p", "exposure (s)", "lightcurve", "product"]
    assert set(column(browser, "table-boring", "verdict")) == {"constant"}
    assert column(browser, "table-interesting", "verdict") == ["periodic"]

    # sort the boring table by poisson_factor: a real click on the header, twice
    before = column(browser, "table-boring", "poisson_factor")
    assert max(float(v) for v in before) > 1.5  # the faint constant source: boring all the same
    click_header(browser, "table-boring", "poisson_factor")
    ascending = column(browser, "table-boring", "poisson_factor")
    assert [float(v) for v in ascending] == sorted(float(v) for v in before)
    header_js = ("Array.from(document.querySelectorAll('#table-boring th'))"
                 ".find(h => h.textContent.trim() === 'poisson_factor')")
    assert browser.evaluate(f"{header_js}.getAttribute('aria-sort')") == "ascending"
    click_header(browser, "table-boring", "poisson_factor")
    descending = column(browser, "table-boring", "poisson_factor")
    assert [float(v) for v in descending] == sorted((float(v) for v in before), reverse=True)
    # the FAP column sorts by the number behind its text (``<1e-16``, ``1.2e-05``, ``0.123``)
    click_header(browser, "table-boring", "FAP")
    keys = sort_keys(browser, "table-boring", "FAP")
    assert keys == sorted(keys) and len(keys) == 5
    # a text column sorts too
    click_header(browser, "table-boring", "product")
    names = column(browser, "table-boring", "product")
    assert [n.split("\n")[0] for n in names] == sorted((n.split("\n")[0] for n in names), key=str.lower)
    # the filter
    set_filter(browser, "table-boring", "gd71")
    assert set(column(browser, "table-boring", "target")) == {"GD71"}
    assert len(column(browser, "table-boring", "target")) == 3
    set_filter(browser, "table-boring", "")

    # at 1280 px nothing essential needs scrolling: target … exposure, the lightcurve and the product
    viewport(browser, 1280)
    right = browser.evaluate(
        "Math.max(...Array.from(document.querySelectorAll('#table-boring th')).slice(0, 9)"
        ".map(h => h.getBoundingClientRect().right))")
    assert right <= 1280 - 16
    assert browser.evaluate("document.documentElement.scrollWidth") <= 1280  # the page itself never scrolls
    # and a wide screen shows every column: no 1500 px cap
    viewport(browser, 2400)
    scroller = "document.getElementById('table-boring').parentElement"
    assert browser.evaluate(f"{scroller}.scrollWidth <= {scroller}.clientWidth")
    assert browser.evaluate("document.getElementById('table-boring').getBoundingClientRect().width") > 1500
    viewport(browser, 1400)

    # the screenshot of the index is not blank
    shot = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png"})["data"])
    image = Image.open(io.BytesIO(shot)).convert("L")
    assert image.size[0] >= 800
    assert ImageStat.Stat(image).stddev[0] > 10, "screenshot looks blank"
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20

    # a thumbnail opens the lightcurve and the periodogram full size, in the page
    browser.click("#table-interesting td.thumb a")
    assert browser.evaluate("document.querySelectorAll('#lightbox img').length") == 2
    assert images_loaded(browser, "#lightbox img")
    assert browser.evaluate("location.href") == report.as_uri()
    browser.click("#lightbox img")
    assert browser.evaluate("document.getElementById('lightbox')") is None

    # follow the first product link of the sorted table (a real click) to its page
    target = follow(browser, "#table-boring tbody tr td.product a")
    assert "/products/" in target
    # its figures load from disk
    assert browser.evaluate("document.images.length") == 2
    assert images_loaded(browser)
    text = browser.evaluate("document.body.innerText")
    assert text.count("Periodogram") >= 1
    assert "Verdict: constant" in text  # the page leads with the verdict
    # and back to the index through the page's own link
    follow(browser, "nav a")
    assert browser.evaluate("location.href") == report.as_uri()

    # a target page opens from the index: all the target's products and their figures
    page = follow(browser, "#table-boring tbody tr td.name a")
    assert "/targets/" in page
    name = browser.evaluate("document.querySelector('h1').textContent")
    rows = browser.evaluate("document.querySelectorAll('#products tbody tr').length")
    assert rows >= 1 and browser.evaluate("document.images.length") == 2 * rows
    assert browser.evaluate("document.title") == f"{name} — hstlc"
    # the hostile name's page: shown as text
    browser.navigate(report.as_uri())
    set_filter(browser, "table-boring", "hacked")
    follow(browser, "#table-boring tbody tr td.name a")
    assert browser.evaluate("document.querySelector('h1').textContent") == HOSTILE_TARGET
    assert browser.evaluate("typeof window.hacked") == "undefined"
    check_clean(browser)


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
    assert f"of {len(constant):,}" in browser.evaluate(f"{wrap(table)}.querySelector('.status').textContent")
    # sort by best period over all rows (a real click), both ways; missing values last
    click_header(browser, table, "best period")
    keys = sort_keys(browser, table, "best period")
    assert keys == sorted(r.best_period for r in constant)
    shown = [float(v.split()[0]) for v in column(browser, table, "best period")[:3]]
    assert len(shown) == 3
    click_header(browser, table, "best period")
    descending = sorted((r.best_period for r in constant), reverse=True)
    assert sort_keys(browser, table, "best period") == descending
    # sort a text column
    click_header(browser, table, "target")
    targets = sort_keys(browser, table, "target")
    assert targets == sorted(r.targname for r in constant)
    # filter: every row that holds the text, and only those
    timing = set_filter(browser, table, "target-0042")
    expected = [r for r in constant if r.targname == "TARGET-0042"]
    assert browser.evaluate(f"document.getElementById('{table}').hstlcShown().length") == len(expected)
    assert set(column(browser, table, "target")) == {"TARGET-0042"}
    assert timing < 2000
    # the pager walks the rows
    set_filter(browser, table, "")
    first = column(browser, table, "product")
    browser.evaluate(f"{wrap(table)}.querySelector('.pager button + button').click()")
    second = column(browser, table, "product")
    assert len(second) == 50 and not set(first) & set(second)
    check_clean(browser)
