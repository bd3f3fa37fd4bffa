"""build_report on a real catalog (SQLite and the servers): files, categories, incremental, failures,
queries."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import delete

from hstlc.catalog import Catalog, Stats
from hstlc.catalog.report_queries import ProductRow, load_report_data, product_path
from hstlc.config import Settings, load_settings
from hstlc.errors import CatalogError
from hstlc.product_stats import StatsOptions
from hstlc.products import read_lightcurve, write_lightcurve
from hstlc.report import build_report
from hstlc.report import builder as report_builder
from hstlc.report.builder import MANIFEST_NAME, fingerprint, page_stem, target_stems, worker_count
from hstlc.science.variability import STATS_VERSION, compute_stats
from hstlc.workers import Progress
from support.report import (
    HOSTILE_TARGET,
    PNG_MAGIC,
    Page,
    external_references,
    make_lightcurve,
    make_v1_stats,
    populate,
    report_tables,
    table_rows,
)


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, path
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size[0] >= 500 and image.size[1] >= 100  # a periodogram of no searched band: text


@pytest.fixture
def sqlite_catalog(settings: Settings):
    """The settings' own SQLite catalog: the figure-heavy tests run once, not once per backend (the
    report's SQL runs on every backend in the tests that take ``catalog``)."""
    catalog = Catalog.from_url(settings.database_url)
    catalog.init_schema()
    yield catalog
    catalog.dispose()


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.glob("*.png"))}


@pytest.mark.slow
def test_report_files_categories_and_escaping(catalog: Catalog, settings: Settings) -> None:
    products = populate(catalog, settings)
    result = build_report(catalog, settings)
    plot_dir = settings.plot_dir
    assert plot_dir is not None
    assert result.failed == ()
    assert result.index == plot_dir / "index.html"
    assert 'id="stale"' not in result.index.read_text(encoding="utf-8")  # every row is current
    # by verdict: the faint constant source (poisson_factor ~1.9) is boring, as `hstlc stats` says
    assert result.counts == {"interesting": 1, "boring": 5, "null": 1, "products": 7, "bad_data": 2}
    assert len(result.figures_written) == 2 * len(products) and result.figures_up_to_date == 0
    for path in result.figures_written:
        _assert_png(path)
    assert len(result.pages) == len(products)

    index_text = result.index.read_text(encoding="utf-8")
    index = Page(index_text)
    assert external_references(index) == []
    assert "<script>window.hacked" not in index_text and index_text.count("<script") == 2
    assert index.images == ["report-data.js"]  # no image: the rows (and thumbnails) are in the data file
    assert result.data == plot_dir / "report-data.js"
    data_text = result.data.read_text(encoding="ascii")
    assert "<" not in data_text and ">" not in data_text and "&" not in data_text  # inert wherever pasted
    tables = report_tables(plot_dir)
    for product in products:
        rows = {r["product"]: r for r in table_rows(tables, f"table-{product.expected}")}
        assert product.filename in rows, (product.filename, product.expected)
        allowed = {"interesting": ("periodic", "variable"), "boring": ("constant",), "null": ("no counts",)}
        assert rows[product.filename]["verdict"] in allowed[product.expected]
        assert rows[product.filename]["target"] == product.targname
        href = f"products/{page_stem(product.filename)}.html"
        assert rows[product.filename]["_cells"]["product"][1] == href
        page_path = plot_dir / href
        page_text = page_path.read_text(encoding="utf-8")
        page = Page(page_text)
        assert external_references(page) == []
        assert page_text.count("<script") == 1
        for image in page.images:  # relative to the page, and the files exist
            assert (page_path.parent / image).resolve().is_file(), image
        assert len(page.images) == 2
        assert "TARGNAME" in page_text  # header summary from the product
    hostile = next(p for p in products if p.targname == HOSTILE_TARGET)
    hostile_page = (plot_dir / f"products/{page_stem(hostile.filename)}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.hacked=1&lt;/script&gt;" in hostile_page
    assert "<script>window.hacked" not in hostile_page
    assert (plot_dir / MANIFEST_NAME).is_file()

    # a page per target, linked from the index and from each product page, with all its products
    assert sorted(p.name for p in result.target_pages) == sorted(
        f"{stem}.html" for stem in target_stems(p.targname for p in products).values())
    for product in products:
        target_href = next(r for r in table_rows(tables, f"table-{product.expected}")
                           if r["product"] == product.filename)["_cells"]["target"][1]
        target_page = Page((plot_dir / target_href).read_text(encoding="utf-8"))
        assert f"../products/{page_stem(product.filename)}.html" in target_page.links
        assert f"../figures/{page_stem(product.filename)}_lightcurve.png" in target_page.images
        assert external_references(target_page) == []
        product_page = Page((plot_dir / f"products/{page_stem(product.filename)}.html").read_text("utf-8"))
        assert f"../{target_href}" in product_page.links
    gd71 = Page((plot_dir / "targets/GD71.html").read_text(encoding="utf-8"))
    assert [r[0] for r in gd71.tables["products"][1:]] == [  # the composite first, then its datasets
        "hlsp_hstlc_hst_cos-fuv_gd71_g130m_1291_psa_v1_sci.fits", "la1a02bbq_curve.fits",
        "la1a03ccq_curve.fits"]
    # the hostile name: a safe file name, shown escaped
    (hostile_target,) = [p for p in result.target_pages if p.name.startswith("_script_window")]
    assert hostile_target.parent == plot_dir / "targets"
    text = hostile_target.read_text(encoding="utf-8")
    assert "<script>window.hacked" not in text and text.count("<script") == 1
    assert "<h1>&lt;script&gt;window.hacked=1&lt;/script&gt;&amp;&quot;&#x27;</h1>" in text
    # a second run rewrites nothing but the index
    again = build_report(catalog, settings)
    assert again.pages_written == 1 and again.figures_written == ()
    assert again.pages_written < result.pages_written


@pytest.mark.slow
def test_second_run_writes_no_figure_and_changed_products_are_redone(sqlite_catalog: Catalog,
                                                                    settings: Settings) -> None:
    catalog = sqlite_catalog
    products = populate(catalog, settings, limit=2)
    assert settings.plot_dir is not None
    figures = settings.plot_dir / "figures"
    build_report(catalog, settings)
    first = _mtimes(figures)

    again = build_report(catalog, settings)
    assert again.figures_written == () and again.figures_up_to_date == len(products)
    assert _mtimes(figures) == first
    assert (settings.plot_dir / "index.html").is_file()

    # one product file changes on disk (new content): only its figures are remade
    changed = products[1]
    write_lightcurve(make_lightcurve(seed=99, rate=50.0), changed.path, overwrite=True)
    os.utime(changed.path, ns=(changed.path.stat().st_atime_ns, changed.path.stat().st_mtime_ns + 10**9))
    third = build_report(catalog, settings)
    stem = page_stem(changed.filename)
    expected = [f"{stem}_lightcurve.png", f"{stem}_periodogram.png"]
    assert sorted(p.name for p in third.figures_written) == expected
    assert third.figures_up_to_date == len(products) - 1

    # a deleted figure is remade; --all remakes everything
    (figures / f"{page_stem(products[0].filename)}_periodogram.png").unlink()
    assert len(build_report(catalog, settings).figures_written) == 2
    everything = build_report(catalog, settings, all_products=True)
    assert len(everything.figures_written) == 2 * len(products) and everything.figures_up_to_date == 0


@pytest.mark.slow
def test_only_pages_whose_inputs_changed_are_made_again(sqlite_catalog: Catalog, settings: Settings) -> None:
    from hstlc.catalog import Metadata

    products = populate(sqlite_catalog, settings, limit=3)
    assert settings.plot_dir is not None
    plot_dir = settings.plot_dir
    first = build_report(sqlite_catalog, settings)
    pages = [*first.pages, *first.target_pages]
    mtimes = {p: p.stat().st_mtime_ns for p in pages}
    # the catalog changes for one product (its exposure): its page and its target's page, and the index
    with sqlite_catalog.session() as session:
        for row in session.query(Metadata).filter_by(rootname="la1a01aaq"):
            row.exptime = 999.0
    second = build_report(sqlite_catalog, settings)
    changed = sorted(p.name for p in pages if p.stat().st_mtime_ns != mtimes[p])
    assert changed == ["V4046-SGR.html", "la1a01aaq_curve.html"]
    assert second.pages_written == 4  # and the rows file and the index
    assert "999" in (plot_dir / "products" / "la1a01aaq_curve.html").read_text(encoding="utf-8")
    # a page emptied behind our back (a power cut before the data reached the disk) is made again
    emptied = plot_dir / "products" / f"{page_stem(products[1].filename)}.html"
    emptied.write_bytes(b"")
    third = build_report(sqlite_catalog, settings)
    assert third.pages_written == 2 and emptied.stat().st_size > 1000
    # so is a page whose file is gone, and a target page
    (plot_dir / "targets" / "GD71.html").unlink()
    assert build_report(sqlite_catalog, settings).pages_written == 2
    assert (plot_dir / "targets" / "GD71.html").is_file()


@pytest.mark.slow
def test_missing_product_is_reported_not_fatal(sqlite_catalog: Catalog, settings: Settings) -> None:
    catalog = sqlite_catalog
    products = populate(catalog, settings, limit=2)
    lost = products[0]
    lost.path.unlink()
    result = build_report(catalog, settings)
    assert [name for name, _ in result.failed] == [lost.filename]
    assert result.failed[0][1] == f"{lost.filename}: no such file"
    assert len(result.figures_written) == 2 * (len(products) - 1)
    assert settings.plot_dir is not None
    page = (settings.plot_dir / f"products/{page_stem(lost.filename)}.html").read_text(encoding="utf-8")
    assert f"Figures could not be made: {lost.filename}: no such file" in page
    # a failed product is retried on the next run (and fails again the same way)
    assert [name for name, _ in build_report(catalog, settings).failed] == [lost.filename]


@pytest.mark.slow
def test_products_gone_from_the_catalog_lose_their_pages(sqlite_catalog: Catalog, settings: Settings) -> None:
    catalog = sqlite_catalog
    products = populate(catalog, settings, limit=2)
    build_report(catalog, settings)
    gone = products[0]
    with catalog.session() as session:
        session.execute(delete(Stats).where(Stats.lightcurve_filename == gone.filename))
    result = build_report(catalog, settings)
    assert settings.plot_dir is not None
    stem = page_stem(gone.filename)
    assert sorted(p.name for p in result.removed) == sorted(
        [f"{stem}.html", f"{stem}_lightcurve.png", f"{stem}_periodogram.png", "V4046-SGR.html"]
    )  # its target had no other product: its page goes too
    assert not (settings.plot_dir / "products" / f"{stem}.html").exists()
    assert not (settings.plot_dir / "targets" / "V4046-SGR.html").exists()
    assert (settings.plot_dir / "targets" / "GD71.html").exists()
    assert gone.filename not in result.index.read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_queries_count_datasets_once(catalog: Catalog, settings: Settings) -> None:
    populate(catalog, settings)
    data = load_report_data(catalog)
    assert data.datasets == 6
    exposure = {target: (seconds, n) for target, seconds, n in data.exposure_by_target}
    assert exposure["GD71"] == (2400.0, 2)  # two FUV pairs: four metadata rows, two datasets
    assert exposure["V4046-SGR"] == (1200.0, 1)
    assert data.exposure_by_target[0][0] == "GD71"
    assert data.configurations == (("COS", "FUV", "G130M", 1291, 6),)
    assert data.opt_elements == (("G130M", "COS", 6),)
    assert [b.filename for b in data.bad_data] == ["lb0b01xxq_corrtag_a.fits", "lb0b02yyq_tag.fits"]
    composite = next(p for p in data.products if p.product_type == "composite")
    assert composite.rootnames == ("la1a02bbq", "la1a03ccq") and composite.exptime == 2400.0
    assert composite.targname == "GD71" and composite.cenwave == 1291 and composite.proposids == (13902,)
    single = next(p for p in data.products if p.filename == "la1a01aaq_curve.fits")
    assert single.rootnames == ("la1a01aaq",) and single.exptime == 1200.0 and single.periodogram
    # the verdict columns, as `hstlc stats` stored them
    stats = compute_stats(read_lightcurve(single.path))
    assert single.verdict == "periodic" == stats.verdict and single.variable is stats.variable
    assert single.best_period == pytest.approx(stats.best_period) and single.fap == pytest.approx(stats.fap)
    assert single.chi2_reduced == pytest.approx(stats.chi2_reduced)
    assert single.chi2_p == pytest.approx(stats.chi2_p)
    assert single.method_version == STATS_VERSION and not single.stale
    faint = next(p for p in data.products if p.filename == "la1a06ffq_curve.fits")
    assert faint.verdict == "constant" and faint.poisson_factor is not None and faint.poisson_factor > 1.5
    empty = next(p for p in data.products if p.filename == "la1a04ddq_curve.fits")
    assert empty.verdict == "no counts" and empty.variable is None


def test_fingerprint_follows_the_method_and_the_verdict_settings(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    row = ProductRow(filename="x.fits", path=tmp_path / "x.fits", product_type="individual", total=1.0,
                     product_sha256="ab" * 32)
    base = fingerprint(row, StatsOptions())
    assert fingerprint(row, StatsOptions()) == base
    changed = [StatsOptions(fap_threshold=1e-4), StatsOptions(variable_p=1e-5),
               StatsOptions(flag_rule="original"), StatsOptions(flag_rule="original", power_threshold=0.5)]
    prints = {fingerprint(row, options) for options in changed}
    assert base not in prints and len(prints) == len(changed)
    monkeypatch.setattr(report_builder, "STATS_VERSION", STATS_VERSION + 1)
    assert fingerprint(row, StatsOptions()) != base
    monkeypatch.setattr(report_builder, "STATS_VERSION", STATS_VERSION)
    monkeypatch.setattr(report_builder, "FIGURE_VERSION", report_builder.FIGURE_VERSION + 1)
    assert fingerprint(row, StatsOptions()) != base


@pytest.mark.slow
def test_new_verdict_settings_redraw_the_figures(sqlite_catalog: Catalog, settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    products = populate(sqlite_catalog, settings, limit=1)
    assert build_report(sqlite_catalog, settings).figures_written
    jobs: list[report_builder.FigureJob] = []
    render = report_builder.render_figures
    monkeypatch.setattr(report_builder, "render_figures", lambda job: jobs.append(job) or render(job))
    assert build_report(sqlite_catalog, settings).figures_written == ()
    stricter = settings.model_copy(update={"periodogram_fap_threshold": 1e-6})
    redrawn = build_report(sqlite_catalog, stricter)
    assert len(redrawn.figures_written) == 2 * len(products)
    assert [job.options for job in jobs] == [StatsOptions.from_settings(stricter)] * len(products)
    assert jobs[0].options.fap_threshold == 1e-6
    # the stored verdicts were made with other settings: shown, and marked for `hstlc stats`
    index = redrawn.index.read_text(encoding="utf-8")
    assert f"{len(products)} product(s) have stats made by an older version" in index
    assert settings.plot_dir is not None
    (row,) = table_rows(report_tables(settings.plot_dir), "table-interesting")
    assert row["_cells"]["verdict"][1].endswith(
        "the current are fap<1e-06 p<0.001; 'hstlc stats' recomputes them")
    # the periodogram drawn with the original rule: the same products redrawn once more
    original = settings.model_copy(update={"flag_rule": "original"})
    assert len(build_report(sqlite_catalog, original).figures_written) == 2 * len(products)
    assert jobs[-1].options.flag_rule == "original"


@pytest.mark.slow
def test_rows_from_an_older_method_still_render(sqlite_catalog: Catalog, settings: Settings) -> None:
    """A catalog whose stats predate the verdict: the report shows them with the verdict their flags give
    and says they are recomputed by `hstlc stats`."""
    products = populate(sqlite_catalog, settings, limit=2)
    periodic = products[0]
    with sqlite_catalog.session() as session:
        for product in products:
            row = session.query(Stats).filter_by(lightcurve_filename=product.filename).one()
            for key, value in make_v1_stats(compute_stats(read_lightcurve(product.path))).items():
                setattr(row, key, value)
    data = load_report_data(sqlite_catalog)
    by_name = {p.filename: p for p in data.products}
    assert all(p.stale and p.fap is None and p.variable is None for p in data.products)
    assert by_name[periodic.filename].verdict == "periodic"
    result = build_report(sqlite_catalog, settings)
    assert result.failed == ()
    # the others had no χ² test: undetermined until recomputed
    assert result.counts["interesting"] == 1 and result.counts["null"] == 2
    index = result.index.read_text(encoding="utf-8")
    assert f"{len(data.products)} product(s) have stats made by an older version" in index
    assert settings.plot_dir is not None
    page = (settings.plot_dir / f"products/{page_stem(periodic.filename)}.html").read_text(encoding="utf-8")
    assert "Verdict: <b>periodic: best period –" in page and 'id="stale"' in page


def test_product_path_accepts_folder_or_file() -> None:
    assert product_path("/a/b", "x.fits") == Path("/a/b/x.fits")
    assert product_path("/a/b/x.fits", "x.fits") == Path("/a/b/x.fits")


def test_uninitialised_catalog_is_a_clear_error(tmp_path: Path, settings: Settings) -> None:
    catalog = Catalog.from_url(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(CatalogError, match=r"catalog is missing table\(s\) .*; run 'hstlc db init'"):
            build_report(catalog, settings)
    finally:
        catalog.dispose()


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("la1a01aaq_curve.fits", "la1a01aaq_curve"),
        ("hlsp_hstlc_hst_stis-fuv-mama_x_g140l_1425_52x0.2_v1_sci.fits",
         "hlsp_hstlc_hst_stis-fuv-mama_x_g140l_1425_52x0.2_v1_sci"),
    ],
)
def test_page_stem_keeps_safe_names(name: str, stem: str) -> None:
    assert page_stem(name) == stem


def test_target_stems_are_safe_and_distinct_even_without_case() -> None:
    names = ["GD71", "gd71", None, "UNKNOWN", HOSTILE_TARGET, "../../etc", "AZV 18"]
    stems = target_stems(names)
    assert stems["GD71"] == "GD71" and stems["AZV 18"].startswith("AZV_18-")
    assert stems[None] == "UNKNOWN" and stems["UNKNOWN"].startswith("UNKNOWN-")  # no name ≠ a real UNKNOWN
    assert stems["gd71"].startswith("gd71-")  # one file each on a case-insensitive disk too
    assert len({s.lower() for s in stems.values()}) == len(names)
    for stem in stems.values():
        assert all(c.isalnum() or c in "._+-" for c in stem) and not stem.startswith((".", "-")), stem
        assert ".." not in stem and len(stem) <= 100
    assert target_stems(["b", "a"]) == target_stems(["a", "b"])  # the same whatever the order


def test_page_stem_makes_hostile_names_safe_and_distinct() -> None:
    hostile = ["../../etc/passwd.fits", "a b?c#d%.fits", "a_b_c_d_.fits", ".hidden.fits", "x" * 300 + ".fits",
               "<script>.fits", "a\x00b.fits", "a..b.fits"]
    stems = [page_stem(name) for name in hostile]
    assert len(set(stems)) == len(stems)
    for stem in stems:
        assert "/" not in stem and "\\" not in stem and not stem.startswith(".") and len(stem) <= 131
        assert ".." not in stem
        assert all(c.isalnum() or c in "._+-" for c in stem), stem


def test_worker_count() -> None:
    assert worker_count(1, 100) == 1
    assert worker_count(4, 3) == 1
    assert worker_count(4, 8) == 2
    assert worker_count(4, 400) == 4


@pytest.mark.slow
def test_parallel_figures_match_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_builder, "MIN_JOBS_PER_WORKER", 1)
    results: dict[object, dict[str, np.ndarray]] = {}
    for cores in (1, 2, "dask"):
        workers = {"scheduler_address": "local:2"} if cores == "dask" else {"num_cores": cores}
        settings = load_settings(overrides={"home_dir": tmp_path / f"c{cores}", **workers}).settings
        catalog = Catalog.from_url(settings.database_url)
        catalog.init_schema()
        try:
            populate(catalog, settings, limit=3)
            updates: list[Progress] = []
            result = build_report(catalog, settings, progress=updates.append)
            seen = [(u.done, u.total) for u in updates]
            assert {u.phase for u in updates} == {"figures"} and updates[0].item == ""
        finally:
            catalog.dispose()
        assert result.failed == ()
        assert seen[0] == (0, 4) and seen[-1] == (4, 4) and len(seen) == 5
        assert settings.plot_dir is not None
        results[cores] = {
            p.name: np.asarray(Image.open(p).convert("L"), dtype=float)
            for p in sorted((settings.plot_dir / "figures").glob("*.png"))
        }
    assert results[1].keys() == results[2].keys() == results["dask"].keys() and len(results[1]) == 8
    for name, serial in results[1].items():
        for other in (2, "dask"):
            assert serial.shape == results[other][name].shape
            assert np.abs(serial - results[other][name]).mean() < 1.0, (name, other)
