"""The static HTML: categories, escaping, offline-only references, sortable tables, band summaries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from hstlc.catalog.report_queries import BadDataRow, ProductRow, ReportData
from hstlc.report.html import (
    PRODUCT_COLUMNS,
    ProductEntry,
    band_summaries,
    bar_chart_svg,
    best_band,
    classify,
    document,
    fmt,
    render_index,
    render_product_page,
)
from hstlc.science.variability import compute_stats
from test_report_support import HOSTILE_TARGET, Page, external_references, make_lightcurve


def _row(name: str, **values: object) -> ProductRow:
    base: dict[str, object] = dict(filename=name, path=Path("/data") / name, product_type="individual",
                                   total=100.0, mean=2.0, mu=2.0 ** 0.5, stdev=1.4, poisson_factor=1.0)
    base.update(values)
    return ProductRow(**base)  # type: ignore[arg-type]


def _data(*rows: ProductRow, bad: tuple[BadDataRow, ...] = ()) -> ReportData:
    return ReportData(
        products=rows,
        exposure_by_target=(("GD71", 7200.0, 3), (HOSTILE_TARGET, 100.0, 1)),
        configurations=(("COS", "FUV", "G130M", 1291, 2), ("COS", "FUV", "G160M", 1577, 1),
                        ("STIS", "FUV-MAMA", "G140L", 1425, 1)),
        opt_elements=(("G130M", "COS", 2), ("G140L", "STIS", 1), ("G160M", "COS", 1)),
        bad_data=bad,
        datasets=4,
    )


@pytest.mark.parametrize(
    ("values", "category"),
    [
        (dict(), "boring"),
        (dict(poisson_factor=1.6), "interesting"),
        (dict(poisson_factor=1.5), "boring"),
        (dict(periodogram=True), "interesting"),
        (dict(total=0.0, poisson_factor=None), "null"),
        (dict(total=None, poisson_factor=None), "null"),
        (dict(poisson_factor=None), "null"),
    ],
)
def test_classify(values: dict[str, object], category: str) -> None:
    assert classify(_row("x_curve.fits", **values), 1.5) == category


def test_band_summaries_read_the_stats_details() -> None:
    stats = compute_stats(make_lightcurve(n=1200, period=240.0, gap=0.0))
    bands = band_summaries(stats.details())
    assert [b.name for b in bands] == [b.name for b in stats.bands]
    short = bands[0]
    assert short.best_period == pytest.approx(stats.band("short").best_period)
    assert short.fap == pytest.approx(stats.band("short").fap)
    assert short.peaks == stats.band("short").peaks.periods.size
    assert bands[-1].skipped == stats.band("long").skipped
    best = best_band(stats.details())
    assert best is not None and best.fap == pytest.approx(stats.min_fap)
    # a list of bands works too; junk does not crash
    assert [b.name for b in band_summaries({"bands": [{"name": "a", "fap": 0.1}, "junk"]})] == ["a"]
    assert band_summaries(None) == [] and band_summaries({"bands": 3}) == []
    assert best_band({"bands": {"x": {"skipped": "no counts"}}}) is None


def test_index_tables_escaping_and_offline() -> None:
    rows = (
        _row("a_curve.fits", targname="GD71", periodogram=True, poisson_factor=1.1,
             details={"bands": {"short": {"best_period": 120.0, "fap": 1e-9, "best_power": 0.5}}}),
        _row("b_curve.fits", targname=HOSTILE_TARGET, instrume="<img src=x onerror=alert(1)>"),
        _row("c_curve.fits", targname="EMPTY", total=0.0, poisson_factor=None),
        _row("d_curve.fits", targname="GD71", poisson_factor=0.9, cenwave=1291),
    )
    entries = [ProductEntry(row=r, page=f"products/{r.filename[:-5]}.html",
                            lightcurve_png=f"figures/{r.filename[:-5]}_lightcurve.png") for r in rows]
    bad = (BadDataRow("x_corrtag_a.fits", "No events; Short Exposure", datetime(2024, 1, 2, 3, 4, 5),
                      "/in/<x>"),)
    text = render_index(_data(*rows, bad=bad), entries, poisson_factor_threshold=1.5,
                        generated=datetime(2024, 5, 6, 7, 8, 9))
    page = Page(text)

    assert external_references(page) == []
    assert "http:" not in text and "https:" not in text
    assert text.count("<script") == 1  # only the report's own script
    assert "<script>window.hacked" not in text and "<img src=x" not in text
    assert "&lt;script&gt;window.hacked=1&lt;/script&gt;&amp;&quot;&#x27;" in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text

    tables = page.tables
    names = {key: [row[2] for row in tables[key][1:]] for key in ("table-interesting", "table-boring")}
    assert names == {"table-interesting": ["a_curve.fits"], "table-boring": ["b_curve.fits", "d_curve.fits"]}
    assert [row[2] for row in tables["table-null"][1:]] == ["c_curve.fits"]
    assert tables["table-interesting"][0] == [label for label, _ in PRODUCT_COLUMNS]
    interesting = dict(zip(tables["table-interesting"][0], tables["table-interesting"][1], strict=True))
    assert interesting["flag"] == "yes" and interesting["FAP"] == "1.0e-09"
    assert interesting["best period (s)"] == "120"
    # every product row links to its page; thumbnails are relative
    assert {f"products/{n}_curve.html" for n in "abcd"} <= set(page.links)
    assert "figures/a_curve_lightcurve.png" in page.images
    # the other sections
    assert [r[0] for r in tables["exposure"][1:]] == ["GD71", HOSTILE_TARGET]
    assert [r[:3] for r in tables["config-0"][1:]] == [["G130M", "1291", "2"], ["G160M", "1577", "1"]]
    assert tables["config-1"][1][:3] == ["G140L", "1425", "1"]
    assert [r[0] for r in tables["opt-elem"][1:]] == ["G130M", "G140L", "G160M"]
    assert tables["bad-data"][1] == ["x_corrtag_a.fits", "No events; Short Exposure", "2024-01-02 03:04:05",
                                     "/in/<x>"]
    assert text.count("<svg") == 4  # exposure, two configurations, optical elements


def test_numeric_cells_carry_sort_keys() -> None:
    rows = (_row("a_curve.fits", poisson_factor=0.5), _row("b_curve.fits", poisson_factor=None, total=1.0))
    text = render_index(_data(*rows), [ProductEntry(row=r, page="p.html") for r in rows],
                        poisson_factor_threshold=1.5)
    assert 'data-sort="0.5"' in text
    assert 'data-type="num"' in text and 'class="nosort"' in text
    # a non-numeric value where a number is expected (a hand-edited catalog) is shown, sorted last
    odd = _row("c_curve.fits", cenwave="MULTI")
    text = render_index(_data(odd), [ProductEntry(row=odd, page="p.html")], poisson_factor_threshold=1.5)
    assert '<td class="num" data-sort="">MULTI</td>' in text


@pytest.mark.parametrize(
    ("value", "spec", "text"),
    [(None, ".4g", ""), (float("nan"), ".4g", ""), (True, ".4g", "yes"), (1291, "d", "1291"),
     (1291.0, "d", "1291"), (1234567.0, ",.1f", "1,234,567.0"), (0.123456, ".3f", "0.123"), (7, ".4g", "7"),
     ("G130M", "d", "G130M")],
)
def test_fmt(value: object, spec: str, text: str) -> None:
    assert fmt(value, spec) == text


def test_empty_report_is_still_a_page() -> None:
    empty = ReportData(products=(), exposure_by_target=(), configurations=(), opt_elements=(), bad_data=(),
                       datasets=0)
    page = Page(render_index(empty, [], poisson_factor_threshold=1.5))
    assert page.tables == {}
    assert "table" not in page.elements


def test_product_page() -> None:
    stats = compute_stats(make_lightcurve(n=1200, period=240.0, gap=0.0))
    row = _row("hostile_curve.fits", targname=HOSTILE_TARGET, periodogram=True, poisson_factor=2.0,
               details=stats.details(), rootnames=("la1a01aaq",), proposids=(13902,))
    entry = ProductEntry(row=row, page="products/hostile_curve.html",
                         lightcurve_png="../figures/hostile_curve_lightcurve.png",
                         periodogram_png="../figures/hostile_curve_periodogram.png",
                         header={"TARGNAME": HOSTILE_TARGET, "EXPTIME": "1200.0"})
    text = render_product_page(entry, poisson_factor_threshold=1.5)
    page = Page(text)
    assert external_references(page) == []
    assert text.count("<script") == 1 and "<script>window.hacked" not in text
    assert page.images == [entry.lightcurve_png, entry.periodogram_png]
    assert "../index.html" in page.links and "../index.html#interesting" in page.links
    assert [r[0] for r in page.tables["bands"][1:]] == ["short", "med", "long"]
    assert page.tables["bands"][3][-1] == stats.band("long").skipped
    failed = render_product_page(ProductEntry(row=row, page="p.html", figure_error="x.fits: no such file"),
                                 poisson_factor_threshold=1.5)
    assert "Figures could not be made: x.fits: no such file" in failed
    assert Page(failed).images == []


def test_bar_chart_svg_escapes_and_scales() -> None:
    svg = bar_chart_svg([("<a>", 10.0), ("b", 5.0), ("zero", 0.0)], title="t & t")
    assert "<a>" not in svg and "&lt;a&gt;" in svg and "t &amp; t" in svg
    widths = [float(part.split('"')[0]) for part in svg.split('width="')[2:]]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0.0
    assert bar_chart_svg([], title="nothing") == ""


def test_document_is_self_contained() -> None:
    text = document("t", "<p>x</p>")
    page = Page(text)
    assert page.links == [] and page.images == []
    assert "<style>" in text and "<link" not in text
