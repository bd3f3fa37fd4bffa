"""Test data for the report tests: lightcurve products on disk and a catalog that describes them.

Imported by the report tests (``from support.report import ...``); ``tests/report/test_sample_products.py``
checks its data, so a broken generator fails there first.
"""

from __future__ import annotations

import html.parser
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hstlc.catalog import Catalog, upsert_bad_data, upsert_metadata, upsert_outputs, upsert_stats
from hstlc.config import Settings
from hstlc.domain import LightCurve
from hstlc.product_stats import StatsOptions
from hstlc.products import file_sha256, write_lightcurve
from hstlc.science.variability import LightCurveStats, compute_stats

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE_TARGET = "<script>window.hacked=1</script>&\"'"


def make_lightcurve(
    n: int = 600,
    *,
    rate: float = 20.0,
    period: float | None = None,
    step: float = 2.0,
    gap: float = 1500.0,
    datasets: int = 1,
    zero: bool = False,
    background: float = 0.0,
    background_scale: float = 0.25,
    seed: int = 0,
    meta: dict[str, Any] | None = None,
) -> LightCurve:
    """Poisson counts in ``step`` bins, a GTI gap of ``gap`` s in the middle, ``datasets`` equal parts.

    ``background`` (c/s in the source box) is measured in a region ``1 / background_scale`` times larger
    and subtracted, with its variance in ERROR: a faint constant source on a bright background.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64) * step
    t = np.where(t >= (n // 2) * step, t + gap, t)
    true_rate = np.full(n, rate)
    if period:
        true_rate = true_rate * (1.0 + 0.6 * np.sin(2 * np.pi * t / period))
    bins = np.full(n, step)
    if zero:
        gross, measured = np.zeros(n), np.zeros(n)
    else:
        gross = rng.poisson((true_rate + background) * bins).astype(np.float64)
        measured = rng.poisson(background / background_scale * bins).astype(np.float64)
    scaled = background_scale * measured
    counts = gross - scaled
    error = np.sqrt(np.maximum(gross + background_scale**2 * measured, 1.0))
    net = counts / bins
    dataset = (np.arange(n) * datasets // n + 1).astype(np.int32)
    return LightCurve(
        times=t, mjd=57000.0 + t / 86400.0, bins=bins, gross=gross, background=scaled, counts=counts,
        net=net, error=error, flux=net * 1e-15, flux_error=error / bins * 1e-15,
        signal_to_noise=counts / error, dataset=dataset,
        meta={"STEPSIZE": step, "EXPSTART": 57000.0, **(meta or {})},
    )


FAINT = dict(rate=0.5, background=1.0, step=10.0)
"""A faint constant source on a bright background: the original's poisson_factor is ~1.9."""


@dataclass(frozen=True)
class Product:
    filename: str
    path: Path
    targname: str
    kind: str
    expected: str  # category the report should put it in


SPECS: tuple[dict[str, Any], ...] = (
    dict(root="la1a01aaq", targ="V4046-SGR", period=240.0, expected="interesting"),
    dict(root="la1a02bbq", targ="GD71", expected="boring"),
    dict(root="la1a03ccq", targ="GD71", expected="boring", seed=3),
    dict(root="la1a04ddq", targ="DARK-SKY", zero=True, expected="null"),
    dict(root="la1a05eeq", targ=HOSTILE_TARGET, expected="boring", seed=5),
    dict(root="la1a06ffq", targ="FAINT-WD", expected="boring", seed=6, faint=True),
)
"""The individual products :func:`populate` writes, with the category each verdict puts them in."""


def _write(lc: LightCurve, folder: Path, filename: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_lightcurve(lc, folder / filename, overwrite=True)


def _record_stats(session: Any, path: Path, kind: str) -> None:
    from hstlc.products import read_lightcurve

    stats = compute_stats(read_lightcurve(path))
    upsert_stats(session, path.name, lightcurve_path=str(path.parent), product_type=kind,
                 product_sha256=file_sha256(path), method_settings=SETTINGS_KEY, **stats.row())


SETTINGS_KEY = StatsOptions().key()
"""The verdict settings of :func:`compute_stats`'s defaults, as ``hstlc stats`` records them."""

COMPOSITE = "hlsp_hstlc_hst_cos-fuv_gd71_g130m_1291_psa_v1_sci.fits"


def _record_member(session: Any, spec: dict[str, Any], segment: str, path: Path, settings: Settings) -> None:
    """The metadata and outputs rows of one segment file of an FUV pair."""
    row = upsert_metadata(
        session, f"{spec['root']}_corrtag_{segment}.fits", path=str(path.parent), telescop="HST",
        instrume="COS", detector="FUV", targname=spec["targ"], opt_elem="G130M", cenwave=1291,
        aperture="PSA", fppos=3, rootname=spec["root"], segment=f"FUV{segment.upper()}", proposid=13902,
        expstart=57000.0, expend=57000.05, exptime=1200.0, obstype="SPECTROSCOPIC",
    )
    composite = COMPOSITE if spec["targ"] == "GD71" else None
    upsert_outputs(
        session, row.id, individual_path=str(path.parent), individual_filename=path.name,
        composite_path=str(settings.composite_dir) if composite else None, composite_filename=composite,
    )


def populate(catalog: Catalog, settings: Settings, *, hostile: bool = True, limit: int | None = None
             ) -> list[Product]:
    """Six individual products (periodic, two constant, empty, hostile name, faint constant on a bright
    background), one composite of the two
    GD71 datasets, an FUV pair's two metadata rows per dataset, and two bad-data rows. ``limit`` keeps
    only the first individual products (fewer figures to draw)."""
    assert settings.outputs_dir is not None and settings.composite_dir is not None
    products: list[Product] = []
    specs = [s for s in SPECS if hostile or s["targ"] != HOSTILE_TARGET][:limit]
    with catalog.session() as session:
        for spec in specs:
            meta = {"TARGNAME": spec["targ"], "INSTRUME": "COS", "DETECTOR": "FUV", "OPT_ELEM": "G130M",
                    "CENWAVE": 1291, "APERTURE": "PSA", "ROOTNAME": spec["root"]}
            lc = make_lightcurve(period=spec.get("period"), zero=spec.get("zero", False),
                                 seed=spec.get("seed", 0), meta=meta, **(FAINT if spec.get("faint") else {}))
            filename = f"{spec['root']}_curve.fits"
            path = _write(lc, settings.outputs_dir / "target", filename)
            for segment in ("a", "b"):
                _record_member(session, spec, segment, path, settings)
            _record_stats(session, path, "individual")
            products.append(Product(filename, path, spec["targ"], "individual", spec["expected"]))
        # the GD71 composite: two datasets
        comp = make_lightcurve(n=800, datasets=2, seed=11, meta={"TARGNAME": "GD71", "INSTRUME": "COS"})
        comp_name = COMPOSITE
        comp_path = _write(comp, settings.composite_dir, comp_name)
        _record_stats(session, comp_path, "composite")
        products.append(Product(comp_name, comp_path, "GD71", "composite", "boring"))
        upsert_bad_data(session, "lb0b01xxq_corrtag_a.fits", ["No events", "Short Exposure"],
                        path="/data/bad")
        upsert_bad_data(session, "lb0b02yyq_tag.fits", ["Bad EXPFLAG"], path=None)
    return products


class Page(html.parser.HTMLParser):
    """Parses a page and keeps what the tests look at: links, images, tables, script/style text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.scripts: list[str] = []
        self.elements: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append(tag)
        for key in ("src", "href"):
            if a.get(key) is not None:
                (self.images if key == "src" else self.links).append(str(a[key]))
        if tag == "table" and a.get("id"):
            self._table = str(a["id"])
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_script:
            self.scripts[-1] += data


EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


def external_references(page: Page) -> list[str]:
    """Every src/href that is not a plain relative path or an in-page anchor."""
    return [u for u in page.links + page.images if EXTERNAL.match(u)]


def make_v1_stats(stats: LightCurveStats) -> dict[str, Any]:
    """The ``stats`` columns an hstlc made before the verdict existed (method 1) would have stored for
    ``stats``: its flags and the original's statistics, no verdict columns, per-band details of method 1."""
    values = stats.row()
    verdict_columns = ("variable", "best_period", "fap", "chi2_reduced", "chi2_p", "method_version",
                       "method_settings")
    for key in verdict_columns:
        values[key] = None
    values["details"] = {
        "version": 1,
        "power_threshold": 0.3,
        "bands": {
            band.name: {"name": band.name, "best_period": band.best_period, "best_power": band.best_power,
                        "fap": band.fap, "threshold": None if band.mean is None else band.mean + 3 * band.std,
                        "n_peaks": len(band.peaks), "peaks": [[p.period, p.power] for p in band.peaks],
                        "skipped": band.skipped}
            for band in stats.bands
        },
    }
    return values


def cell_text(kind: str, value: Any) -> str:
    """The text the report's script shows for a cell of ``report-data.js`` (see ``hstlc.report.html.JS``)."""
    if value is None:
        return ""
    if kind == "num":
        return str(value[1])
    if kind in ("verdict", "target", "product"):
        return str(value[0] or "")
    return "" if kind == "thumb" else str(value)


def table_rows(tables: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The rows of one of the index's tables as {column label: shown text}, plus ``_cells`` (the raw
    cells by label), from :func:`hstlc.report.html.index_tables` or a parsed ``report-data.js``."""
    spec = tables[table]
    labels = [label for label, _ in spec["columns"]]
    out = []
    for row in spec["rows"]:
        shown: dict[str, Any] = {label: cell_text(kind, v) for (label, kind), v in zip(spec["columns"], row,
                                                                                     strict=True)}
        shown["_cells"] = dict(zip(labels, row, strict=True))
        out.append(shown)
    return out


def report_tables(plot_dir: Path) -> dict[str, Any]:
    """The tables of a written report's ``report-data.js``."""
    from hstlc.report.html import DATA_FILE, read_index_data

    return read_index_data((plot_dir / DATA_FILE).read_text(encoding="ascii"))["tables"]  # type: ignore[no-any-return]
