"""The static HTML: categories, escaping, offline-only references, sortable tables, band summaries."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path

import pytest

from hstlc.catalog.report_queries import BadDataRow, ProductRow, ReportData
from hstlc.display import format_fap, format_period, format_probability
from hstlc.product_stats import StatsOptions
from hstlc.report.html import (
    CATEGORY_HELP,
    DATA_FILE,
    PAGE_SIZE,
    PRODUCT_COLUMNS,
    PRODUCT_TABLES,
    TARGET_COLUMNS,
    ProductEntry,
    band_summaries,
    bar_chart_svg,
    classify,
    document,
    fmt,
    index_tables,
    outdated,
    product_cells,
    product_columns,
    read_index_data,
    render_index,
    render_index_data,
    render_product_page,
    render_target_page,
    verdict_line,
)
from hstlc.science.variability import STATS_VERSION, LightCurveStats, compute_stats, verdict_of
from support.report import (
    FAINT,
    HOSTILE_TARGET,
    Page,
    external_references,
    make_lightcurve,
    make_v1_stats,
    table_rows,
)


def _row(name: str, **values: object) -> ProductRow:
    base: dict[str, object] = dict(filename=name, path=Path("/data") / name, product_type="individual",
                                   total=100.0, mean=2.0, mu=2.0 ** 0.5, stdev=1.4, poisson_factor=1.0,
                                   variable=False, method_version=STATS_VERSION)
    base.update(values)
    return ProductRow(**base)  # type: ignore[arg-type]


def _stats_row(name: str, stats: LightCurveStats, **values: object) -> ProductRow:
    """The row the catalog holds for ``stats`` (what ``hstlc stats`` stores)."""
    columns = {k: v for k, v in stats.row().items() if k in ProductRow.__dataclass_fields__}
    return _row(name, **{**columns, **values})


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
    ("values", "verdict", "category"),
    [
        (dict(), "constant", "boring"),
        (dict(periodogram=True), "periodic", "interesting"),
        (dict(variable=True), "variable", "interesting"),  # a rate that is not constant, no period
        (dict(periodogram=True, variable=True), "periodic", "interesting"),
        # the original's index is not the verdict: a high poisson_factor alone is not interesting
        (dict(poisson_factor=1.9), "constant", "boring"),
        (dict(poisson_factor=0.2, variable=True), "variable", "interesting"),
        (dict(total=0.0, mean=None, poisson_factor=None), "no counts", "null"),
        (dict(total=None, poisson_factor=None), "no counts", "null"),
        (dict(total=-3.0, periodogram=True), "no counts", "null"),
        # a row made before the verdict existed: the verdict from the flags it has; without the χ² test
        # its constancy is undetermined until 'hstlc stats' recomputes it
        (dict(variable=None, method_version=None), "undetermined", "null"),
        (dict(variable=None, method_version=None, periodogram=True), "periodic", "interesting"),
        # the stored verdict wins over the columns
        (dict(details={"verdict": "variable"}), "variable", "interesting"),
        (dict(details={"verdict": "nonsense"}, periodogram=True), "periodic", "interesting"),
    ],
)
def test_classify_follows_the_verdict(values: dict[str, object], verdict: str, category: str) -> None:
    row = _row("x_curve.fits", **values)
    assert row.verdict == verdict
    assert classify(row) == category


def test_classify_agrees_with_the_computed_verdict() -> None:
    """The report's category and the verdict ``hstlc stats`` prints come from one rule."""
    category = {"periodic": "interesting", "variable": "interesting", "constant": "boring",
                "no counts": "null"}
    curves = [make_lightcurve(period=240.0), make_lightcurve(seed=1), make_lightcurve(zero=True),
              make_lightcurve(seed=2, **FAINT)]
    for lc in curves:
        stats = compute_stats(lc)
        row = _stats_row("x_curve.fits", stats)
        assert row.verdict == stats.verdict
        has_counts = row.total is not None and row.total > 0
        rule = verdict_of(has_counts=has_counts, periodogram=row.periodogram, variable=row.variable)
        assert rule == stats.verdict
        assert classify(row) == category[stats.verdict]


def test_a_faint_constant_source_with_a_high_poisson_factor_is_boring() -> None:
    stats = compute_stats(make_lightcurve(seed=4, **FAINT))
    assert stats.poisson_factor is not None and stats.poisson_factor > 1.5  # the original called it variable
    row = _stats_row("faint_curve.fits", stats)
    assert (row.verdict, classify(row)) == ("constant", "boring")


def test_category_help_speaks_of_the_verdict() -> None:
    assert "periodic" in CATEGORY_HELP["interesting"] and "variable" in CATEGORY_HELP["interesting"]
    assert "constant" in CATEGORY_HELP["boring"] and "no counts" in CATEGORY_HELP["null"]
    assert not any("poisson_factor" in text for text in CATEGORY_HELP.values())


def test_band_summaries_read_the_stats_details() -> None:
    stats = compute_stats(make_lightcurve(n=1200, period=240.0, gap=0.0))
    bands = band_summaries(stats.details())
    assert [b.name for b in bands] == [b.name for b in stats.bands]
    short = bands[0]
    assert short.best_period == pytest.approx(stats.band("short").best_period)
    assert short.fap == pytest.approx(stats.band("short").fap)
    assert short.threshold == pytest.approx(stats.band("short").threshold)
    assert short.peaks == len(stats.band("short").peaks)
    assert bands[1].residual is stats.band("med").residual is True
    assert bands[-1].skipped == stats.band("long").skipped
    # window and edge peaks are counted per band
    marked = band_summaries({"bands": {"med": {"peaks": [{"window": True}, {"edge": True}, {"window": True,
                                                                                          "edge": True}]}}})
    assert (marked[0].peaks, marked[0].window, marked[0].edge) == (3, 2, 1)
    # method 1's details (peaks as [period, power] pairs, n_peaks) still read
    old = band_summaries(make_v1_stats(stats)["details"])
    assert [b.name for b in old] == [b.name for b in bands] and old[0].peaks == len(stats.band("short").peaks)
    # a list of bands works too; junk does not crash
    assert [b.name for b in band_summaries({"bands": [{"name": "a", "fap": 0.1}, "junk"]})] == ["a"]
    assert band_summaries(None) == [] and band_summaries({"bands": 3}) == []


def _entries(*rows: ProductRow) -> list[ProductEntry]:
    return [ProductEntry(row=r, page=f"products/{r.filename[:-5]}.html",
                         lightcurve_png=f"figures/{r.filename[:-5]}_lightcurve.png",
                         periodogram_png=f"figures/{r.filename[:-5]}_periodogram.png",
                         target_page=f"targets/{r.targname}.html" if r.targname == "GD71" else None)
            for r in rows]


def test_index_tables_escaping_and_offline() -> None:
    rows = (
        _row("a_curve.fits", targname="GD71", periodogram=True, poisson_factor=1.1, best_period=120.0,
             fap=1e-9, chi2_reduced=4.25, chi2_p=3e-10, exptime=1234.5, instrume="COS", detector="FUV",
             opt_elem="G130M", cenwave=1291, aperture="PSA"),
        _row("b_curve.fits", targname=HOSTILE_TARGET, instrume="<img src=x onerror=alert(1)>"),
        _row("c_curve.fits", targname="EMPTY", total=0.0, mean=None, poisson_factor=None, variable=None),
        _row("d_curve.fits", targname="GD71", poisson_factor=0.9, cenwave=1291, best_period=7.5, fap=0.42,
             chi2_reduced=1.01, chi2_p=0.44),
        _row("e_curve.fits", targname="FLARE", variable=True, chi2_reduced=3.0, chi2_p=2e-6),
        _row("f_curve.fits", targname="FAINT", poisson_factor=1.9, chi2_reduced=0.98, chi2_p=0.6),
    )
    entries = _entries(*rows)
    bad = (BadDataRow("x_corrtag_a.fits", "No events; Short Exposure", datetime(2024, 1, 2, 3, 4, 5),
                      "/in/<x>"),)
    data = _data(*rows, bad=bad)
    text = render_index(data, entries, generated=datetime(2024, 5, 6, 7, 8, 9))
    page = Page(text)

    assert external_references(page) == []
    assert "http:" not in text and "https:" not in text
    assert text.count("<script") == 2  # the rows file and the report's own script
    assert page.images == [DATA_FILE]
    assert "<script>window.hacked" not in text and "<img src=x" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "script-src 'self' file: 'unsafe-inline'" in text  # the rows file loads from disk
    # the big tables are placeholders the script fills from the rows file
    for table in ("table-interesting", "table-boring", "table-null", "exposure", "bad-data"):
        assert f'<div class="datatable" id="{table}" data-file="{DATA_FILE}">' in text
    assert page.tables.keys() == {"config-0", "config-1", "opt-elem"}  # small: plain HTML
    assert "<noscript>" in text

    script = render_index_data(data, entries, target_pages={"GD71": "targets/GD71.html"})
    assert script.startswith("window.HSTLC_REPORT = {") and script.endswith("};\n")
    assert "<" not in script and ">" not in script and "&" not in script
    tables = read_index_data(script)["tables"]
    assert tables == index_tables(data, entries, target_pages={"GD71": "targets/GD71.html"})
    names = {key: [row["product"] for row in table_rows(tables, key)] for key in PRODUCT_TABLES}
    assert names == {"table-interesting": ["a_curve.fits", "e_curve.fits"],
                     "table-boring": ["b_curve.fits", "d_curve.fits", "f_curve.fits"],
                     "table-null": ["c_curve.fits"]}
    assert [label for label, _ in tables["table-interesting"]["columns"]] == [
        label for label, _ in PRODUCT_COLUMNS]
    # the tables lead with what the verdict is and what it rests on, and the exposure
    assert [label for label, _ in PRODUCT_COLUMNS][:8] == [
        "target", "verdict", "best period", "FAP", "χ²_red", "χ² p", "exposure (s)", "lightcurve"]
    interesting = table_rows(tables, "table-interesting")
    first = interesting[0]
    assert first["verdict"] == "periodic" and first["FAP"] == "1.0e-09"
    assert first["best period"] == "2 min" == format_period(120.0)
    assert first["χ²_red"] == "4.25" and first["χ² p"] == "3.0e-10" and first["exposure (s)"] == "1,234"
    cells = first["_cells"]
    assert cells["target"] == ["GD71", "targets/GD71.html"]
    assert cells["product"] == ["a_curve.fits", "products/a_curve.html",
                                "individual · COS FUV G130M 1291 PSA"]
    assert cells["lightcurve"] == ["figures/a_curve_lightcurve.png", "figures/a_curve_periodogram.png",
                                   "products/a_curve.html", "a_curve.fits"]
    assert cells["FAP"] == [1e-09, "1.0e-09"]  # sorted by the number, shown as text
    assert interesting[1]["verdict"] == "variable" and interesting[1]["best period"] == "–"
    assert interesting[1]["FAP"] == "–" and interesting[1]["χ² p"] == format_probability(2e-6)
    assert interesting[1]["_cells"]["target"] == ["FLARE", None]  # no page given: not a link
    boring = {r["product"]: r for r in table_rows(tables, "table-boring")}
    assert boring["d_curve.fits"]["FAP"] == "0.420" and boring["d_curve.fits"]["best period"] == "7.5 s"
    assert boring["b_curve.fits"]["target"] == HOSTILE_TARGET  # data, drawn as text by the script
    assert boring["b_curve.fits"]["instrument"] == "<img src=x onerror=alert(1)>"
    faint = boring["f_curve.fits"]
    assert faint["poisson_factor"] == "1.9" and faint["verdict"] == "constant"
    assert tables["table-boring"]["flag"] == 1 and tables["table-boring"]["pageSize"] == PAGE_SIZE
    # the category help is the verdict's
    for category in ("interesting", "boring", "null"):
        assert html.escape(CATEGORY_HELP[category], quote=True) in text
    assert "poisson_factor above" not in text
    # the other sections
    exposure = table_rows(tables, "exposure")
    assert [r["target"] for r in exposure] == ["GD71", HOSTILE_TARGET]
    assert exposure[0]["_cells"]["target"] == ["GD71", "targets/GD71.html"]
    assert exposure[0]["exposure (s)"] == "7,200.0" and exposure[0]["exposure (h)"] == "2.000"
    assert [r[:3] for r in page.tables["config-0"][1:]] == [["G130M", "1291", "2"], ["G160M", "1577", "1"]]
    assert page.tables["config-1"][1][:3] == ["G140L", "1425", "1"]
    assert [r[0] for r in page.tables["opt-elem"][1:]] == ["G130M", "G140L", "G160M"]
    (bad_row,) = table_rows(tables, "bad-data")
    assert [bad_row[k] for k in ("file", "reasons", "ingested", "path")] == [
        "x_corrtag_a.fits", "No events; Short Exposure", "2024-01-02 03:04:05", "/in/<x>"]
    assert text.count("<svg") == 4  # exposure, two configurations, optical elements
    assert 'id="stale"' not in text  # every row is current


def test_the_original_rule_leads_with_poisson_factor() -> None:
    columns = [label for label, _ in product_columns("original")]
    assert columns[:7] == ["target", "verdict", "best period", "FAP", "poisson_factor", "exposure (s)",
                           "lightcurve"]
    assert "χ²_red" in columns and columns.count("poisson_factor") == 1
    row = _row("a_curve.fits", poisson_factor=1.7, chi2_reduced=2.0)
    cells = product_cells(ProductEntry(row=row, page="products/a_curve.html"), flag_rule="original")
    shown = dict(zip(columns, cells, strict=True))
    assert shown["poisson_factor"] == [1.7, "1.7"] and shown["χ²_red"] == [2.0, "2"]
    assert shown["lightcurve"] is None  # no figure: no thumbnail


def test_fap_text_is_the_same_in_the_index_the_product_page_and_the_cli() -> None:
    stats = compute_stats(make_lightcurve(n=1200, period=240.0, gap=0.0, rate=2.0, seed=7))
    assert stats.fap is not None and stats.fap > 0
    for fap in (stats.fap, 3.3e-7, 0.0123, 0.0):
        row = _stats_row("p_curve.fits", stats, fap=fap, details={**stats.details(), "verdict": "periodic"})
        entry = ProductEntry(row=row, page="products/p_curve.html")
        (shown,) = table_rows(index_tables(_data(row), [entry]), "table-interesting")
        product = render_product_page(entry)
        assert shown["FAP"] == format_fap(fap)
        assert html.escape(f"(FAP {shown['FAP']})") in product.split('id="verdict"', 1)[1].split("</p>", 1)[0]
        assert f"<dt>FAP (whole search)</dt><dd>{html.escape(shown['FAP'])}</dd>" in product
    assert format_fap(0.0) == "<1e-16"


def test_a_row_from_an_older_method_still_renders_and_says_so() -> None:
    stats = compute_stats(make_lightcurve(n=1200, period=240.0, gap=0.0))
    old = _row("old_curve.fits", **{k: v for k, v in make_v1_stats(stats).items()
                                     if k in ProductRow.__dataclass_fields__})
    assert old.stale and old.variable is None and old.fap is None
    assert old.verdict == "periodic" and classify(old) == "interesting"  # from the flag it stored
    current = _stats_row("new_curve.fits", stats)
    assert not current.stale and current.method_version == STATS_VERSION
    entries = [ProductEntry(row=r, page=f"products/{r.filename[:-5]}.html") for r in (old, current)]
    index = render_index(_data(old, current), entries)
    assert "1 product(s) have stats made by an older version of the method" in index
    verdicts = [r["_cells"]["verdict"] for r in
                table_rows(index_tables(_data(old, current), entries), "table-interesting")]
    assert verdicts == [["periodic", f"made by method version 1; this hstlc's is {STATS_VERSION}; "
                                     "'hstlc stats' recomputes them"], ["periodic", None]]
    page = render_product_page(entries[0])
    assert f"made by method version 1; this hstlc&#x27;s is {STATS_VERSION}" in page and 'id="stale"' in page
    bands = Page(page).tables["bands"]
    assert "threshold (method 1: mean + 3σ)" in bands[0] and len(bands) == 4
    assert 'id="stale"' not in render_product_page(entries[1])


def test_rows_made_with_other_verdict_settings_are_marked() -> None:
    current, other = StatsOptions().key(), StatsOptions(fap_threshold=1e-6).key()
    row = _row("a_curve.fits", periodogram=True, method_settings=current)
    assert outdated(row) is None and outdated(row, current) is None
    assert outdated(row, other) == f"made with settings {current}; the current are {other}"
    assert outdated(_row("b_curve.fits"), current) == (
        f"made with settings (not recorded); the current are {current}")
    assert outdated(_row("c_curve.fits", method_version=1), current) == (
        f"made by method version 1; this hstlc's is {STATS_VERSION}")
    entry = ProductEntry(row=row, page="products/a_curve.html")
    assert 'id="stale"' not in render_index(_data(row), [entry], settings_key=current)
    index = render_index(_data(row), [entry], settings_key=other)
    assert "1 product(s) have stats made by an older version" in index
    (shown,) = table_rows(index_tables(_data(row), [entry], settings_key=other), "table-interesting")
    assert shown["_cells"]["verdict"][1].startswith(f"made with settings {current}; the current are {other}")
    page = render_product_page(entry, settings_key=other)
    assert 'id="stale"' in page and html.escape(f"the current are {other}", quote=True) in page


def test_numeric_cells_carry_sort_keys() -> None:
    rows = (_row("a_curve.fits", poisson_factor=0.5), _row("b_curve.fits", poisson_factor=None, total=1.0))
    shown = table_rows(index_tables(_data(*rows), [ProductEntry(row=r, page="p.html") for r in rows]),
                       "table-boring")
    assert [r["_cells"]["poisson_factor"] for r in shown] == [[0.5, "0.5"], [None, ""]]
    # a non-numeric value where a number is expected (a hand-edited catalog) is shown, sorted last
    odd = _row("c_curve.fits", cenwave="MULTI")
    (cells,) = table_rows(index_tables(_data(odd), [ProductEntry(row=odd, page="p.html")]), "table-boring")
    assert cells["_cells"]["cenwave"] == [None, "MULTI"]
    # the small static tables sort by data-sort
    text = render_product_page(ProductEntry(row=_stats_row("s_curve.fits", compute_stats(make_lightcurve())),
                                            page="p.html"))
    assert 'class="sortable static"' in text and 'data-type="num"' in text


def test_target_page_lists_every_product_with_its_figures_and_escapes_the_name() -> None:
    stats = compute_stats(make_lightcurve(n=1200, period=240.0, gap=0.0))
    composite = _stats_row("c_curve.fits", stats, targname=HOSTILE_TARGET, product_type="composite",
                           rootnames=("a", "b"), exptime=2400.0, expstart=57000.0, expend=57001.0)
    single = _row("a_curve.fits", targname=HOSTILE_TARGET, exptime=1200.0, expstart=57000.0, expend=57000.1,
                  instrume="COS", detector="FUV")
    entries = [ProductEntry(row=r, page=f"../products/{r.filename[:-5]}.html",
                            lightcurve_png=f"../figures/{r.filename[:-5]}_lightcurve.png",
                            periodogram_png=f"../figures/{r.filename[:-5]}_periodogram.png")
               for r in (composite, single)]
    text = render_target_page(HOSTILE_TARGET, entries, exposure=(3600.0, 3))
    page = Page(text)
    assert external_references(page) == []
    assert "<script>window.hacked" not in text and text.count("<script") == 1
    assert "<h1>&lt;script&gt;window.hacked=1&lt;/script&gt;&amp;&quot;&#x27;</h1>" in text
    assert "<title>&lt;script&gt;" in text
    assert [r[:3] for r in page.tables["products"][1:]] == [["c_curve.fits", "periodic", format_period(
        stats.best_period)], ["a_curve.fits", "constant", "–"]]
    assert page.tables["products"][0] == [label for label, _ in TARGET_COLUMNS]
    assert page.images == ["../figures/c_curve_lightcurve.png", "../figures/c_curve_periodogram.png",
                           "../figures/a_curve_lightcurve.png", "../figures/a_curve_periodogram.png"]
    assert {"../products/c_curve.html", "../products/a_curve.html", "../index.html"} <= set(page.links)
    assert 'loading="lazy"' in text
    summary = dict(_dl_items(text))
    assert summary["products"] == "2" and summary["exposure (s)"] == "3,600.0" and summary["datasets"] == "3"
    assert summary["verdicts"] == "constant: 1, periodic: 1"
    assert summary["first EXPSTART (MJD)"] == "57000" and summary["last EXPEND (MJD)"] == "57001"
    assert html.escape(verdict_line(composite)) in text
    assert "Verdict: <b>constant: " in text
    nameless = render_target_page(None, entries[1:])
    assert "<h1>(no target name)</h1>" in nameless


def _dl_items(text: str) -> list[tuple[str, str]]:
    block = text.split('<dl class="kv">', 1)[1].split("</dl>", 1)[0]
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block)
    return [(html.unescape(k), html.unescape(v)) for k, v in pairs]


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
    page = Page(render_index(empty, []))
    assert page.tables == {}
    assert "table" not in page.elements


def _dl(text: str, heading: str) -> list[tuple[str, str]]:
    """The (term, value) pairs of the ``<dl>`` after ``<h2>heading</h2>``."""
    block = text.split(f"<h2>{heading}</h2>", 1)[1].split("</dl>", 1)[0]
    terms = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block)
    return [(html.unescape(k), html.unescape(v)) for k, v in terms]


def test_product_page() -> None:
    stats = compute_stats(make_lightcurve(n=1200, period=240.0, gap=0.0))
    row = _stats_row("hostile_curve.fits", stats, targname=HOSTILE_TARGET, rootnames=("la1a01aaq",),
                     proposids=(13902,), method_settings="fap<0.001 p<0.001")
    assert row.verdict == "periodic"
    entry = ProductEntry(row=row, page="products/hostile_curve.html",
                         lightcurve_png="../figures/hostile_curve_lightcurve.png",
                         periodogram_png="../figures/hostile_curve_periodogram.png",
                         header={"TARGNAME": HOSTILE_TARGET, "EXPTIME": "1200.0"})
    text = render_product_page(entry)
    page = Page(text)
    assert external_references(page) == []
    assert text.count("<script") == 1 and "<script>window.hacked" not in text
    assert page.images == [entry.lightcurve_png, entry.periodogram_png]
    assert "../index.html" in page.links and "../index.html#interesting" in page.links
    # the verdict comes first, before the figures
    assert text.index('id="verdict"') < text.index("<h3>Lightcurve</h3>")
    assert html.escape(verdict_line(row), quote=True) in text
    assert verdict_line(row) == (f"periodic: best period {format_period(stats.best_period)} "
                                 f"(FAP {format_fap(stats.fap)}); χ²_red {stats.chi2_reduced:.3g} "
                                 f"(p {format_probability(stats.chi2_p)})")
    verdict = _dl(text, "Verdict")
    terms = [k for k, _ in verdict]
    assert terms[:3] == ["verdict", "report category", "method"]
    assert dict(verdict)["verdict"] == "periodic" and dict(verdict)["report category"] == "interesting"
    assert dict(verdict)["method"] == f"version {STATS_VERSION}, fap<0.001 p<0.001"
    # variable / χ² / p, then periodogram / best period / FAP
    order = ["variable (χ² test)", "χ²_red", "χ² p", "periodogram (a significant period)", "best period",
             "FAP (whole search)"]
    assert [t for t in terms if t in order] == order
    assert dict(verdict)["FAP (whole search)"] == format_fap(stats.fap)
    assert dict(verdict)["χ² p"] == format_probability(stats.chi2_p)
    # the original's statistics follow, poisson_factor explained as the original's index
    original = dict(_dl(text, "Original statistics"))
    assert original["poisson_factor"] == fmt(stats.poisson_factor, ".10g")
    assert "not used for the verdict" in text
    assert text.index("<h2>Verdict</h2>") < text.index("<h2>Original statistics</h2>")
    bands = page.tables["bands"]
    assert [r[0] for r in bands[1:]] == ["short", "med", "long"]
    assert bands[0][:5] == ["band", "best period", "best power", "FAP", "after removing the signal"]
    assert bands[1][3] == format_fap(stats.band("short").fap)
    assert bands[2][4] == "yes"  # med's best was taken after removing the 240 s signal
    assert bands[3][-1] == stats.band("long").skipped
    failed = render_product_page(ProductEntry(row=row, page="p.html", figure_error="x.fits: no such file"))
    assert "Figures could not be made: x.fits: no such file" in failed
    assert Page(failed).images == []


def test_product_page_of_a_composite_shows_the_between_datasets_test() -> None:
    stats = compute_stats(make_lightcurve(n=800, datasets=2, seed=11))
    assert stats.constancy is not None and stats.constancy.between_p is not None
    text = render_product_page(ProductEntry(row=_stats_row("c_curve.fits", stats), page="p.html"))
    assert dict(_dl(text, "Verdict"))["between datasets: χ² p"] == format_probability(
        stats.constancy.between_p)


def test_product_page_without_counts() -> None:
    stats = compute_stats(make_lightcurve(zero=True))
    text = render_product_page(ProductEntry(row=_stats_row("z_curve.fits", stats), page="p.html"))
    assert "Verdict: <b>no counts: net counts ≤ 0, so there are no statistics</b>" in text
    assert "../index.html#null" in text


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
