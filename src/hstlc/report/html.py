"""The offline static HTML report: ``index.html`` and one page per product.

Everything is self-contained: inline CSS and a few lines of vanilla JavaScript (sortable tables and a
row filter), inline SVG bar charts, figures referenced by relative paths. No CDN, font or any other network
resource, so the report opens from disk on an air-gapped machine; a Content-Security-Policy forbids
fetching anything but local images. Every value that comes from a file header or the catalog goes through
:func:`html.escape` (a TARGNAME of ``<script>`` is shown, not run). These functions only build strings;
:mod:`hstlc.report.builder` writes them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hstlc.catalog.report_queries import BadDataRow, ProductRow, ReportData
from hstlc.display import finite_float, format_fap, format_period, format_probability
from hstlc.science.variability import stale_reason

CATEGORIES: tuple[str, ...] = ("interesting", "boring", "null")

CATEGORY_OF_VERDICT: Mapping[str, str] = {
    "periodic": "interesting", "variable": "interesting", "constant": "boring", "undetermined": "null",
    "no counts": "null",
}
"""The report's category of each verdict of ``hstlc stats``."""

CATEGORY_HELP = {
    "interesting": "verdict periodic (a period whose false-alarm probability over the whole searched "
    "grid is below the threshold) or variable (the χ² test rejects a constant rate)",
    "boring": "verdict constant: no significant period, and the rate is consistent with a constant",
    "null": "verdict no counts (net counts ≤ 0, so there are no statistics) or undetermined (too few "
    "bins or counts to test the rate)",
}

STALE_NOTE = (
    "† stats made by an older version of the method (verdict from the flags it stored) or with other "
    "verdict settings than the current ones; 'hstlc stats' recomputes them"
)

CSP = (
    "default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

CSS = """
:root { --fg:#1b1f24; --muted:#59636e; --line:#d0d7de; --head:#f3f5f7; --accent:#0b5cad; --hot:#b3261e; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 1500px; background: #fff; }
h1 { font-size: 1.6rem; margin: .2rem 0 .4rem; } h2 { font-size: 1.25rem; margin-top: 2rem;
     border-bottom: 1px solid var(--line); padding-bottom: .2rem; } h3 { font-size: 1.05rem; }
a { color: var(--accent); } .muted { color: var(--muted); } nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 7px; vertical-align: middle; }
th { background: var(--head); text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.sortable th:not(.nosort) { cursor: pointer; user-select: none; }
table.sortable th:not(.nosort)::after { content: " \\2195"; color: #9aa4ae; }
table.sortable th[aria-sort="ascending"]::after { content: " \\2191"; color: var(--fg); }
table.sortable th[aria-sort="descending"]::after { content: " \\2193"; color: var(--fg); }
tr.flag td:first-child { border-left: 3px solid var(--hot); }
img.thumb { width: 220px; height: auto; display: block; }
img.figure { max-width: 100%; height: auto; border: 1px solid var(--line); }
.summary span { display: inline-block; margin-right: 1.5rem; }
.filter { margin: .3rem 0; padding: 3px 6px; width: 22rem; max-width: 100%; }
.scroll { overflow-x: auto; max-width: 100%; }
.cols { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg rect.bar { fill: #4c78a8; } svg rect.bar:hover { fill: #2a5788; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 1rem; margin: .5rem 0; }
.cols p.muted { max-width: 38rem; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; word-break: break-all; }
"""

JS = """
(function () {
  "use strict";
  function cellValue(row, col) {
    var cell = row.cells[col];
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim() : v;
  }
  function sortTable(table, col, th) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    var numeric = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, col), y = cellValue(b, col);
      if (numeric) {
        var fx = parseFloat(x), fy = parseFloat(y), nx = isNaN(fx), ny = isNaN(fy);
        if (nx || ny) { return nx === ny ? 0 : (nx ? 1 : -1); }
        return dir === "ascending" ? fx - fy : fy - fx;
      }
      if (x === "" || y === "") { return x === y ? 0 : (x === "" ? 1 : -1); }
      var r = x.localeCompare(y, undefined, {numeric: true, sensitivity: "base"});
      return dir === "ascending" ? r : -r;
    });
    for (var j = 0; j < rows.length; j++) { body.appendChild(rows[j]); }
    th.setAttribute("aria-sort", dir);
  }
  function filterTable(table, text) {
    var needle = text.trim().toLowerCase();
    var rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      rows[i].hidden = needle !== "" && rows[i].textContent.toLowerCase().indexOf(needle) < 0;
    }
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      if (th.classList.contains("nosort")) { return; }
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortTable(table, col, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(table, col, th); }
      });
    });
  });
  var filters = document.querySelectorAll("input.filter[data-table]");
  Array.prototype.forEach.call(filters, function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    if (table) { input.addEventListener("input", function () { filterTable(table, input.value); }); }
  });
})();
"""


def esc(value: Any) -> str:
    """HTML-escape any value (``None`` → empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


@dataclass(frozen=True)
class BandSummary:
    """One reporting band of the period search as the stats table stored it (``details`` JSON).

    ``best_period``/``best_power``/``fap``: the band's best counted peak (``residual``: taken after a
    significant signal elsewhere was removed); ``threshold``: the power whose FAP (whole search) is the
    detection threshold (the highest over the trial ranges the band spans); ``peaks``: distinct peaks
    kept, ``window``/``edge`` of them at the HST orbit or the long-period end.
    """

    name: str
    best_period: float | None = None
    best_power: float | None = None
    fap: float | None = None
    threshold: float | None = None
    peaks: int | None = None
    window: int = 0
    edge: int = 0
    residual: bool = False
    skipped: str | None = None


@dataclass(frozen=True)
class ProductEntry:
    """A product as the report shows it: the catalog row plus its page and figures (relative hrefs)."""

    row: ProductRow
    page: str
    """Path of the product page relative to the report folder (``products/<stem>.html``)."""
    lightcurve_png: str | None = None
    periodogram_png: str | None = None
    header: Mapping[str, str] = field(default_factory=dict)
    figure_error: str | None = None


def _int(value: Any) -> int | None:
    if isinstance(value, (list, tuple)):
        return len(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def band_summaries(details: Mapping[str, Any] | None) -> list[BandSummary]:
    """The per-band summary in a stats row's ``details`` (a list or a name → dict mapping of bands)."""
    if not details:
        return []
    bands: Any = details.get("bands", details)
    items: Iterable[tuple[str, Any]]
    if isinstance(bands, Mapping):
        items = ((str(k), v) for k, v in bands.items())
    elif isinstance(bands, Sequence) and not isinstance(bands, str):
        items = (
            (str(b.get("name", i)) if isinstance(b, Mapping) else str(i), b) for i, b in enumerate(bands)
        )
    else:
        return []
    out = []
    for name, band in items:
        if not isinstance(band, Mapping):
            continue
        peaks = band.get("peaks")
        listed = [p for p in peaks if isinstance(p, Mapping)] if isinstance(peaks, (list, tuple)) else []
        skipped = band.get("skipped")
        out.append(
            BandSummary(
                name=str(band.get("name", name)),
                best_period=finite_float(band.get("best_period")),
                best_power=finite_float(band.get("best_power")),
                fap=finite_float(band.get("fap")),
                threshold=finite_float(band.get("threshold")),
                peaks=_int(band.get("n_peaks", peaks)),
                window=sum(1 for p in listed if p.get("window")),
                edge=sum(1 for p in listed if p.get("edge") and not p.get("window")),
                residual=bool(band.get("residual")),
                skipped=str(skipped) if skipped else None,
            )
        )
    return out


def classify(row: ProductRow) -> str:
    """The report category of ``row``'s verdict — the same verdict ``hstlc stats`` prints: ``interesting``
    (periodic or variable), ``boring`` (constant) or ``null`` (no counts)."""
    return CATEGORY_OF_VERDICT.get(row.verdict, "null")


def fmt(value: Any, spec: str = ".4g") -> str:
    """A number for display (empty for missing/NaN); other values as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        if isinstance(value, int) and spec[-1:] not in ("d", ","):
            return str(value)
        try:
            return format(value, spec)
        except ValueError:  # e.g. a float where an integer format was asked for
            return format(value, "g")
    return str(value)


def _num_td(value: Any, spec: str = ".4g", *, text: str | None = None) -> str:
    """A right-aligned numeric cell whose ``data-sort`` is the number (empty, so sorted last, if none),
    showing ``text`` when given (already formatted), else the number formatted with ``spec``."""
    number = finite_float(value) if not isinstance(value, bool) else None
    sort = "" if number is None else repr(number)
    if text is None:
        text = fmt(value, spec) if isinstance(value, (int, float)) else fmt(value)
    return f'<td class="num" data-sort="{esc(sort)}">{esc(text)}</td>'


def _td(value: Any) -> str:
    return f"<td>{esc(fmt(value))}</td>"


def document(title: str, body: str, *, generated: datetime | None = None) -> str:
    """A complete HTML page with the inline stylesheet, script and CSP."""
    stamp = ""
    if generated:
        stamp = f'<p class="muted">Generated {esc(generated.isoformat(timespec="seconds"))}</p>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n{stamp}\n<script>{JS}</script>\n</body>\n</html>\n"
    )


def _header_row(columns: Sequence[tuple[str, str]]) -> str:
    cells = []
    for label, kind in columns:
        if kind == "nosort":
            cells.append(f'<th scope="col" class="nosort">{esc(label)}</th>')
        else:
            cells.append(f'<th scope="col" data-type="{esc(kind)}">{esc(label)}</th>')
    return "<thead><tr>" + "".join(cells) + "</tr></thead>"


def sortable_table(table_id: str, columns: Sequence[tuple[str, str]], rows: Sequence[str], *,
                   empty: str = "none") -> str:
    """A sortable table (click a header) with a filter box; ``rows`` are ready ``<tr>`` strings."""
    if not rows:
        return f'<p class="muted" id="{esc(table_id)}-empty">{esc(empty)}</p>'
    return (
        f'<input class="filter" type="search" placeholder="filter rows…" data-table="{esc(table_id)}" '
        f'aria-label="filter {esc(table_id)}">\n'
        f'<div class="scroll"><table class="sortable" id="{esc(table_id)}">{_header_row(columns)}\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )


def outdated(row: ProductRow, settings_key: str | None = None) -> str | None:
    """Why ``hstlc stats`` would recompute ``row`` — made by an older method, or (given the current
    settings' :meth:`StatsOptions.key <hstlc.product_stats.StatsOptions.key>`) with other verdict settings —
    or ``None`` when it is current (:func:`~hstlc.science.variability.stale_reason`)."""
    return stale_reason(row.method_version, row.method_settings, settings_key)


def _verdict_td(row: ProductRow, settings_key: str | None) -> str:
    """The verdict, with a † (explained under the table) when ``hstlc stats`` would recompute it."""
    mark = ""
    reason = outdated(row, settings_key)
    if reason:
        mark = f' <abbr title="{esc(reason)}; \'hstlc stats\' recomputes them">†</abbr>'
    return f'<td data-sort="{esc(row.verdict)}">{esc(row.verdict)}{mark}</td>'


PRODUCT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("target", "text"),
    ("product", "text"),
    ("verdict", "text"),
    ("best period", "num"),
    ("FAP", "num"),
    ("χ²_red", "num"),
    ("χ² p", "num"),
    ("lightcurve", "nosort"),
    ("type", "text"),
    ("instrument", "text"),
    ("detector", "text"),
    ("grating", "text"),
    ("cenwave", "num"),
    ("aperture", "text"),
    ("datasets", "num"),
    ("exptime (s)", "num"),
    ("total", "num"),
    ("mean", "num"),
    ("poisson_factor", "num"),
    ("pearson r", "num"),
    ("pearson p", "num"),
    ("periodogram", "text"),
    ("variable", "text"),
    ("deliver", "text"),
)
"""The interesting/boring/null tables: the verdict and what it rests on first, then the rest."""


def _product_tr(entry: ProductEntry, settings_key: str | None = None) -> str:
    row = entry.row
    thumb = (
        f'<a href="{esc(entry.page)}"><img class="thumb" loading="lazy" src="{esc(entry.lightcurve_png)}" '
        f'alt="lightcurve of {esc(row.filename)}"></a>'
        if entry.lightcurve_png
        else '<span class="muted">no figure</span>'
    )
    cells = [
        _td(row.targname),
        f'<td><a href="{esc(entry.page)}">{esc(row.filename)}</a></td>',
        _verdict_td(row, settings_key),
        _num_td(row.best_period, text=format_period(row.best_period)),
        _num_td(row.fap, text=format_fap(row.fap)),
        _num_td(row.chi2_reduced, ".3g"),
        _num_td(row.chi2_p, text=format_probability(row.chi2_p)),
        f"<td>{thumb}</td>",
        _td(row.product_type),
        _td(row.instrume),
        _td(row.detector),
        _td(row.opt_elem),
        _num_td(row.cenwave, "d"),
        _td(row.aperture),
        _num_td(len(row.rootnames) if row.rootnames else None, "d"),
        _num_td(row.exptime, ".1f"),
        _num_td(row.total, ".6g"),
        _num_td(row.mean),
        _num_td(row.poisson_factor),
        _num_td(row.pearson_r, ".3f"),
        _num_td(row.pearson_p, text=format_probability(row.pearson_p)),
        _td(fmt(row.periodogram)),
        _td(fmt(row.variable)),
        _td(fmt(row.deliver)),
    ]
    cls = ' class="flag"' if row.verdict == "periodic" else ""
    return f"<tr{cls}>" + "".join(cells) + "</tr>"


def bar_chart_svg(items: Sequence[tuple[str, float]], *, title: str, unit: str = "", width: int = 720,
                  label_width: int = 220, bar_height: int = 16) -> str:
    """A horizontal bar chart as inline SVG (no external resource); labels are escaped."""
    if not items:
        return ""
    top = 22
    height = top + len(items) * (bar_height + 4) + 6
    vmax = max((v for _, v in items), default=0.0) or 1.0
    span = width - label_width - 90
    parts = [
        f'<svg role="img" aria-label="{esc(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f'<text x="0" y="14" font-weight="bold">{esc(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_height + 4)
        w = max(span * (value / vmax), 1.0 if value > 0 else 0.0)
        short = label if len(label) <= 32 else label[:31] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height - 4}" text-anchor="end">{esc(short)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_height}">'
            f"<title>{esc(label)}: {esc(fmt(value, ',.6g'))}{esc(unit)}</title></rect>"
            f'<text x="{label_width + w + 4:.1f}" y="{y + bar_height - 4}">{esc(fmt(value, ",.6g"))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _exposure_section(data: ReportData, top: int) -> str:
    rows = data.exposure_by_target
    chart = bar_chart_svg(
        [(t, e / 3600.0) for t, e, _ in rows[:top]],
        title=f"Cumulative exposure by target, hours (top {min(top, len(rows))} of {len(rows)})",
        unit=" h",
    )
    table = sortable_table(
        "exposure",
        (("target", "text"), ("exposure (s)", "num"), ("exposure (h)", "num"), ("datasets", "num")),
        [
            f"<tr>{_td(t)}{_num_td(e, ',.1f')}{_num_td(e / 3600.0, '.3f')}{_num_td(n, 'd')}</tr>"
            for t, e, n in rows
        ],
        empty="no datasets in the catalog",
    )
    return f'<h2 id="exposure-time">Exposure time by target</h2>\n<div class="cols"><div>{chart}</div>' \
           f"<div>{table}</div></div>"


def _configuration_section(data: ReportData) -> str:
    groups: dict[tuple[str, str], list[tuple[str, int, int]]] = {}
    for instrume, detector, opt_elem, cenwave, n in data.configurations:
        groups.setdefault((instrume, detector), []).append((opt_elem, cenwave, n))
    parts = ['<h2 id="configurations">Configurations by instrument and detector</h2>']
    if not groups:
        parts.append('<p class="muted">no datasets in the catalog</p>')
    for k, ((instrume, detector), configs) in enumerate(sorted(groups.items())):
        total = sum(n for _, _, n in configs)
        name = f"{instrume} {detector}".strip() or "unknown"
        chart = bar_chart_svg([(f"{o}/{c}", float(n)) for o, c, n in configs],
                              title=f"{name}: datasets per grating/cenwave")
        table = sortable_table(
            f"config-{k}",
            (("grating", "text"), ("cenwave", "num"), ("datasets", "num"), ("share", "num")),
            [
                f"<tr>{_td(o)}{_num_td(c, 'd')}{_num_td(n, 'd')}{_num_td(100.0 * n / total, '.1f')}</tr>"
                for o, c, n in configs
            ],
        )
        parts.append(f"<h3>{esc(name)} ({total} datasets)</h3>\n<div class=\"cols\"><div>{chart}</div>"
                     f"<div>{table}</div></div>")
    return "\n".join(parts)


def _opt_elem_section(data: ReportData) -> str:
    rows = data.opt_elements
    chart = bar_chart_svg([(f"{o} ({i})", float(n)) for o, i, n in rows],
                          title="Datasets per optical element")
    table = sortable_table(
        "opt-elem",
        (("optical element", "text"), ("instrument", "text"), ("datasets", "num")),
        [f"<tr>{_td(o)}{_td(i)}{_num_td(n, 'd')}</tr>" for o, i, n in rows],
        empty="no datasets in the catalog",
    )
    return f'<h2 id="optical-elements">Datasets per optical element</h2>\n<div class="cols"><div>{chart}' \
           f"</div><div>{table}</div></div>"


def _bad_data_section(rows: Sequence[BadDataRow]) -> str:
    table = sortable_table(
        "bad-data",
        (("file", "text"), ("reasons", "text"), ("ingested", "text"), ("path", "text")),
        [
            f"<tr>{_td(r.filename)}{_td(r.reason)}"
            f"{_td(r.ingest_date.isoformat(sep=' ', timespec='seconds') if r.ingest_date else None)}"
            f"{_td(r.path)}</tr>"
            for r in rows
        ],
        empty="no rejected files",
    )
    return f'<h2 id="bad-data">Rejected data ({len(rows)})</h2>\n{table}'


def render_index(
    data: ReportData,
    entries: Sequence[ProductEntry],
    *,
    settings_key: str | None = None,
    generated: datetime | None = None,
    top_targets: int = 30,
) -> str:
    """``index.html``: the products by verdict (:func:`classify`), exposure, configurations, optical
    elements, bad data. Rows :func:`outdated` for ``settings_key`` are marked †."""
    by_category: dict[str, list[ProductEntry]] = {c: [] for c in CATEGORIES}
    for entry in entries:
        by_category[classify(entry.row)].append(entry)
    stale = sum(1 for e in entries if outdated(e.row, settings_key))
    summary = " ".join(
        f'<span><a href="#{c}">{c}</a>: <b id="count-{c}">{len(by_category[c])}</b></span>'
        for c in CATEGORIES
    )
    parts = [
        "<h1>hstlc report</h1>",
        '<nav><a href="#interesting">interesting</a><a href="#boring">boring</a><a href="#null">null</a>'
        '<a href="#exposure-time">exposure</a><a href="#configurations">configurations</a>'
        '<a href="#optical-elements">optical elements</a><a href="#bad-data">rejected data</a></nav>',
        f'<p class="summary"><span>products with stats: <b>{len(entries)}</b></span>'
        f"<span>datasets: <b>{data.datasets}</b></span>{summary}"
        f"<span>rejected files: <b>{len(data.bad_data)}</b></span></p>",
    ]
    if stale:
        parts.append(f'<p class="muted" id="stale">{stale} product(s) have {esc(STALE_NOTE[2:])}.</p>')
    for category in CATEGORIES:
        rows = [_product_tr(e, settings_key) for e in by_category[category]]
        note = ""
        if any(outdated(e.row, settings_key) for e in by_category[category]):
            note = f'\n<p class="muted">{esc(STALE_NOTE)}.</p>'
        parts.append(
            f'<h2 id="{category}">{category.capitalize()} lightcurves ({len(rows)})</h2>\n'
            f'<p class="muted">{esc(CATEGORY_HELP[category])}. Click a column header to sort.</p>\n'
            + sortable_table(f"table-{category}", PRODUCT_COLUMNS, rows, empty=f"no {category} lightcurves")
            + note
        )
    parts.append(_exposure_section(data, top_targets))
    parts.append(_configuration_section(data))
    parts.append(_opt_elem_section(data))
    parts.append(_bad_data_section(data.bad_data))
    return document("hstlc report", "\n".join(parts), generated=generated)


def _kv(items: Iterable[tuple[str, Any]]) -> str:
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(fmt(v, '.10g'))}</dd>" for k, v in items if fmt(v) != "")
    return f'<dl class="kv">{body}</dl>' if body else '<p class="muted">nothing recorded</p>'


def _chi2_items(row: ProductRow) -> list[tuple[str, Any]]:
    """The χ² test's details (degrees of freedom, the between-datasets test) from the stored JSON."""
    chi2 = row.details.get("chi2") if row.details else None
    if not isinstance(chi2, Mapping):
        return []
    items: list[tuple[str, Any]] = [
        ("χ²", fmt(finite_float(chi2.get("chi2")), ".6g")),
        ("degrees of freedom", chi2.get("dof")),
        ("groups of bins", chi2.get("n_groups")),
    ]
    between = chi2.get("between_datasets")
    if isinstance(between, Mapping):
        items.append(("between datasets: χ² p", format_probability(finite_float(between.get("p")))))
        items.append(("between datasets: floor", between.get("floor")))
    return items


def _method(row: ProductRow, settings_key: str | None) -> str:
    version = row.method_version or 1
    settings = f", {row.method_settings}" if row.method_settings else ""
    text = f"version {version}{settings}"
    reason = outdated(row, settings_key)
    if reason:
        text += f" ({reason}: 'hstlc stats' recomputes it)"
    return text


def verdict_line(row: ProductRow) -> str:
    """One line of text: the verdict and the numbers it rests on (what a product page leads with)."""
    if row.verdict == "no counts":
        return "no counts: net counts ≤ 0, so there are no statistics"
    parts = [
        f"best period {format_period(row.best_period)} (FAP {format_fap(row.fap)})",
        f"χ²_red {fmt(row.chi2_reduced, '.3g') or '–'} (p {format_probability(row.chi2_p)})",
    ]
    return f"{row.verdict}: " + "; ".join(parts)


def render_product_page(entry: ProductEntry, *, settings_key: str | None = None,
                        generated: datetime | None = None) -> str:
    """A product's page: the verdict first, figures, the numbers behind the verdict, the original's
    statistics, the period search's bands, catalog and header summary; a note when the row is
    :func:`outdated` for ``settings_key``. Lives one folder below ``index.html``."""
    row = entry.row
    category = classify(row)
    catalog_items = [
        ("target", row.targname), ("instrument", row.instrume), ("detector", row.detector),
        ("grating", row.opt_elem), ("cenwave", row.cenwave), ("aperture", row.aperture),
        ("product type", row.product_type), ("datasets", ", ".join(row.rootnames)),
        ("proposals", ", ".join(str(p) for p in row.proposids)), ("exposure (s)", row.exptime),
        ("first EXPSTART (MJD)", row.expstart), ("last EXPEND (MJD)", row.expend),
        ("RA_TARG", row.ra_targ), ("DEC_TARG", row.dec_targ), ("file", str(row.path)),
        ("sha256", row.product_sha256),
    ]
    verdict_items = [
        ("verdict", row.verdict), ("report category", category), ("method", _method(row, settings_key)),
        ("variable (χ² test)", fmt(row.variable)), ("χ²_red", fmt(row.chi2_reduced, ".4g")),
        ("χ² p", format_probability(row.chi2_p)), *_chi2_items(row),
        ("periodogram (a significant period)", fmt(row.periodogram)),
        ("best period", format_period(row.best_period)),
        ("best period (s)", row.best_period), ("FAP (whole search)", format_fap(row.fap)),
        ("computed", row.computed_at.isoformat(sep=" ", timespec="seconds") if row.computed_at else None),
    ]
    original_items = [
        ("total counts", row.total), ("mean", row.mean), ("mu = √mean", row.mu), ("stdev", row.stdev),
        ("poisson_factor", row.poisson_factor), ("pearson r", row.pearson_r),
        ("pearson p", format_probability(row.pearson_p)), ("deliver", fmt(row.deliver)),
    ]
    bands = band_summaries(row.details)
    band_rows = [
        f"<tr>{_td(b.name)}{_num_td(b.best_period, text=format_period(b.best_period))}"
        f"{_num_td(b.best_power, '.3f')}{_num_td(b.fap, text=format_fap(b.fap) if not b.skipped else '')}"
        f"{_td(fmt(b.residual) if not b.skipped else None)}{_num_td(b.threshold, '.3f')}"
        f"{_num_td(b.peaks, 'd')}{_num_td(b.window if not b.skipped else None, 'd')}"
        f"{_num_td(b.edge if not b.skipped else None, 'd')}{_td(b.skipped)}</tr>"
        for b in bands
    ]
    # method 1 stored the band's mean + 3σ as its threshold; this method the power at the FAP threshold
    legacy = (row.method_version or 1) == 1
    threshold_label = "threshold (method 1: mean + 3σ)" if legacy else "power at the FAP threshold (highest)"
    band_table = sortable_table(
        "bands",
        (("band", "text"), ("best period", "num"), ("best power", "num"), ("FAP", "num"),
         ("after removing the signal", "text"), (threshold_label, "num"), ("peaks", "num"),
         ("HST orbit (window)", "num"), ("trend (edge)", "num"), ("skipped", "text")),
        band_rows,
        empty="no periodogram recorded",
    )
    figures = []
    for label, href in (("Lightcurve", entry.lightcurve_png), ("Periodogram", entry.periodogram_png)):
        if href:
            figures.append(
                f'<h3>{label}</h3>\n<a href="{esc(href)}"><img class="figure" src="{esc(href)}" '
                f'alt="{esc(label.lower())} of {esc(row.filename)}"></a>'
            )
    if entry.figure_error:
        figures.append(f'<p class="muted">Figures could not be made: {esc(entry.figure_error)}</p>')
    header = _kv(entry.header.items()) if entry.header else '<p class="muted">product header not read</p>'
    stale = f'<p class="muted" id="stale">{esc(STALE_NOTE)}.</p>' if outdated(row, settings_key) else ""
    body = "\n".join(
        [
            '<nav><a href="../index.html">← report</a>'
            f'<a href="../index.html#{category}">{category} lightcurves</a></nav>',
            f"<h1>{esc(row.targname or row.filename)}</h1>",
            f'<p class="muted">{esc(row.filename)}</p>',
            f'<p class="verdict" id="verdict">Verdict: <b>{esc(verdict_line(row))}</b></p>{stale}',
            "\n".join(figures) or '<p class="muted">no figures</p>',
            '<div class="cols"><div><h2>Verdict</h2>' + _kv(verdict_items) + "</div>"
            "<div><h2>Original statistics</h2>"
            '<p class="muted">As the original catalog defined them. poisson_factor = stdev/√mean is the '
            "original's variability index: it ignores the background's noise and the event weights, so a "
            "faint source on a bright background scores well above 1 while constant. It is not used for "
            "the verdict.</p>" + _kv(original_items) + "</div></div>",
            "<h2>Periodogram bands</h2>",
            '<p class="muted">The reporting bands of one search over one frequency grid; every FAP is '
            "over the whole search (its trial ranges counted).</p>",
            band_table,
            '<div class="cols"><div><h2>Catalog</h2>' + _kv(catalog_items) + "</div>"
            '<div><h2>Product header</h2>' + header + "</div></div>",
        ]
    )
    return document(f"{row.targname or row.filename} — hstlc", body, generated=generated)


__all__ = [
    "CATEGORIES",
    "CATEGORY_HELP",
    "CATEGORY_OF_VERDICT",
    "BandSummary",
    "ProductEntry",
    "band_summaries",
    "bar_chart_svg",
    "classify",
    "document",
    "esc",
    "outdated",
    "render_index",
    "render_product_page",
    "sortable_table",
    "verdict_line",
]
