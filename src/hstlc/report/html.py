"""The offline static HTML report: ``index.html`` (its tables' rows in ``report-data.js``), a page per
target and a page per product.

Everything is self-contained: inline CSS, a little vanilla JavaScript, inline SVG bar charts, figures
and the rows file referenced by relative paths. No CDN, font or any other network resource, so the
report opens from disk (``file://``) on an air-gapped machine; a Content-Security-Policy forbids fetching
anything but local images and scripts.

**Scale.** The index's big tables (the interesting/boring/null products, exposure by target, rejected
data) are not HTML rows: their rows are one JSON object in ``report-data.js``, loaded by a ``<script>``
element (a browser refuses ``fetch`` of a ``file://`` URL; a script element is allowed), and the page
draws one page of rows at a time (sortable by any column over all rows, filtered by text, 50 rows a
page by default). With 10,000 products the index stays a small page that opens at once. The small
tables (configurations, a product's bands, a target's products) are plain sortable HTML tables.

**Escaping.** Every value that comes from a file header or the catalog goes through :func:`html.escape`
in HTML (a TARGNAME of ``<script>`` is shown, not run), is JSON-encoded (ASCII only) in the rows file,
and is put in the page by the script as text (``textContent``), never as HTML; the script follows only
relative links made of safe characters. These functions only build strings; :mod:`hstlc.report.builder`
writes them.
"""

from __future__ import annotations

import html
import json
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
    "script-src 'self' file: 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)

DATA_FILE = "report-data.js"
"""The index's table rows, next to ``index.html``: ``window.HSTLC_REPORT = {json};``."""

DATA_PREFIX = "window.HSTLC_REPORT = "

PAGE_SIZE = 50
"""Rows per page of the index's tables (the reader can choose 25 to 1,000)."""

PRODUCT_TABLES: tuple[str, ...] = tuple(f"table-{c}" for c in CATEGORIES)

CSS = """
:root { --fg:#1b1f24; --muted:#59636e; --line:#d0d7de; --head:#f3f5f7; --accent:#0b5cad; --hot:#b3261e; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       margin: 0; padding: 1rem 1.5rem 3rem; background: #fff; }
p, dl.kv, .summary { max-width: 75rem; }
h1 { font-size: 1.6rem; margin: .2rem 0 .4rem; } h2 { font-size: 1.25rem; margin-top: 2rem;
     border-bottom: 1px solid var(--line); padding-bottom: .2rem; } h3 { font-size: 1.05rem; }
a { color: var(--accent); } .muted { color: var(--muted); } nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 5px; vertical-align: middle; }
th { background: var(--head); text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { max-width: 10rem; overflow-wrap: anywhere; }
td.product { min-width: 15rem; max-width: 19rem; overflow-wrap: anywhere; }
td.product small { display: block; color: var(--muted); }
table.sortable th:not(.nosort) { cursor: pointer; user-select: none; }
table.sortable th:not(.nosort)::after { content: " \\2195"; color: #9aa4ae; }
table.sortable th[aria-sort="ascending"]::after { content: " \\2191"; color: var(--fg); }
table.sortable th[aria-sort="descending"]::after { content: " \\2193"; color: var(--fg); }
tr.flag td:first-child { border-left: 3px solid var(--hot); }
td.thumb { padding: 2px; }
img.thumb { width: 240px; height: auto; display: block; cursor: zoom-in; }
img.figure { max-width: 100%; height: auto; border: 1px solid var(--line); }
.summary span { display: inline-block; margin-right: 1.5rem; }
.toolbar { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: center; margin: .3rem 0; }
.filter { padding: 3px 6px; width: 22rem; max-width: 100%; }
.pager button { padding: 2px 8px; }
.scroll { overflow-x: auto; max-width: 100%; }
.cols { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg rect.bar { fill: #4c78a8; } svg rect.bar:hover { fill: #2a5788; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 1rem; margin: .5rem 0; }
.cols p.muted { max-width: 38rem; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; word-break: break-all; }
section.product { border-top: 1px solid var(--line); margin-top: 1.5rem; }
#lightbox { position: fixed; inset: 0; background: rgba(20, 24, 28, .82); z-index: 10; overflow: auto;
            padding: 1rem; text-align: center; cursor: zoom-out; }
#lightbox img { display: block; margin: 0 auto .6rem; max-width: min(1000px, 100%); height: auto;
                background: #fff; }
#lightbox a { color: #fff; margin: 0 1rem; }
"""

JS = """
(function () {
  "use strict";
  var SAFE = /^(?:\\.\\.\\/)?[A-Za-z0-9_+-][A-Za-z0-9._+-]*(?:\\/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*$/;
  function safe(href) { return typeof href === "string" && SAFE.test(href) && href.indexOf("..", 3) < 0; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function link(text, href) {
    if (!safe(href)) { return document.createTextNode(text || ""); }
    var a = el("a", "", text); a.setAttribute("href", href); return a;
  }
  // ---- small static tables: sort by clicking a header (data-sort holds the number behind a text)
  function cellValue(row, col) {
    var cell = row.cells[col];
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim() : v;
  }
  function compare(x, y, numeric, dir) {
    if (numeric) {
      var nx = x === null || x === "" || isNaN(x), ny = y === null || y === "" || isNaN(y);
      if (nx || ny) { return nx === ny ? 0 : (nx ? 1 : -1); }
      return dir === "ascending" ? x - y : y - x;
    }
    if (x === "" || y === "") { return x === y ? 0 : (x === "" ? 1 : -1); }
    var r = COLLATOR.compare(x, y);
    return dir === "ascending" ? r : -r;
  }
  var COLLATOR = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
  function sortStatic(table, col, th) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    var numeric = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (r, i) {
      var v = cellValue(r, col);
      return {row: r, key: numeric ? parseFloat(v) : v, i: i};
    });
    rows.sort(function (a, b) { return compare(a.key, b.key, numeric, dir) || a.i - b.i; });
    for (var j = 0; j < rows.length; j++) { body.appendChild(rows[j].row); }
    th.setAttribute("aria-sort", dir);
  }
  function headerClicks(table, sort) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      if (th.classList.contains("nosort")) { return; }
      th.tabIndex = 0;
      th.addEventListener("click", function () { sort(col, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(col, th); }
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable.static"), function (table) {
    if (table.tHead && table.tBodies.length) {
      headerClicks(table, function (col, th) { sortStatic(table, col, th); });
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("input.filter[data-table]"), function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    if (!table || !table.classList.contains("static")) { return; }
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase(), rows = table.tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        rows[i].hidden = needle !== "" && rows[i].textContent.toLowerCase().indexOf(needle) < 0;
      }
    });
  });
  // ---- a full-size view of a product's figures (click a thumbnail)
  function lightbox(figures) {
    var old = document.getElementById("lightbox");
    if (old) { old.remove(); }
    var box = el("div"); box.id = "lightbox"; box.setAttribute("role", "dialog");
    figures.forEach(function (src) {
      if (!safe(src)) { return; }
      var img = el("img"); img.setAttribute("src", src); img.alt = ""; box.appendChild(img);
    });
    var close = el("a", "", "close (Esc)"); close.setAttribute("href", "#"); box.appendChild(close);
    box.addEventListener("click", function (e) {
      if (e.target.tagName !== "A" || e.target === close) { e.preventDefault(); box.remove(); }
    });
    document.body.appendChild(box);
  }
  document.addEventListener("keydown", function (e) {
    var box = document.getElementById("lightbox");
    if (e.key === "Escape" && box) { box.remove(); }
  });
  // ---- the index's big tables: rows from report-data.js, one page at a time
  function text(kind, v) {
    if (v === null || v === undefined) { return ""; }
    if (kind === "num" || kind === "verdict" || kind === "target" || kind === "product") {
      return v[kind === "num" ? 1 : 0] || "";
    }
    return kind === "thumb" ? "" : String(v);
  }
  function key(kind, v) {
    if (kind === "num") { return v && v[0] !== null ? v[0] : null; }
    return text(kind, v);
  }
  function cell(kind, v) {
    var td = el("td");
    if (kind === "num") { td.className = "num"; td.textContent = text(kind, v); return td; }
    if (v === null || v === undefined) { return td; }
    if (kind === "target") { td.className = "name"; td.appendChild(link(v[0], v[1])); }
    else if (kind === "product") {
      td.className = "product"; td.appendChild(link(v[0], v[1]));
      if (v[2]) { td.appendChild(el("small", "", v[2])); }
    } else if (kind === "verdict") {
      td.textContent = v[0];
      if (v[1]) { var mark = el("abbr", "", " \\u2020"); mark.title = v[1]; td.appendChild(mark); }
    } else if (kind === "thumb") {
      td.className = "thumb";
      var a = link("", v[2]), img = el("img", "thumb");
      if (safe(v[0])) { img.setAttribute("src", v[0]); }
      img.setAttribute("loading", "lazy"); img.alt = "lightcurve of " + (v[3] || "");
      a.appendChild(img);
      a.addEventListener("click", function (e) { e.preventDefault(); lightbox([v[0], v[1]]); });
      td.appendChild(a);
    } else { td.textContent = String(v); }
    return td;
  }
  function DataTable(host, spec) {
    var columns = spec.columns, rows = spec.rows, n = rows.length;
    var kinds = columns.map(function (c) { return c[1]; });
    var haystack = rows.map(function (r) {
      return r.map(function (v, i) { return text(kinds[i], v); }).join(" \\u0001 ").toLowerCase();
    });
    var order = rows.map(function (r, i) { return i; }), shown = order.slice(), page = 0;
    var size = spec.pageSize || 50, sortCol = -1, sortDir = "";
    var bar = el("div", "toolbar");
    var filter = el("input", "filter"); filter.type = "search"; filter.placeholder = "filter rows\\u2026";
    filter.setAttribute("aria-label", "filter " + host.id); filter.setAttribute("data-table", host.id);
    var pager = el("span", "pager"), prev = el("button", "", "\\u2039 previous");
    var next = el("button", "", "next \\u203a");
    prev.type = next.type = "button";
    var status = el("span", "muted status"), sizes = el("select");
    sizes.setAttribute("aria-label", "rows per page");
    [25, 50, 100, 250, 1000].forEach(function (s) {
      var o = el("option", "", String(s)); o.value = String(s); o.selected = s === size; sizes.appendChild(o);
    });
    pager.appendChild(prev); pager.appendChild(next);
    [filter, pager, status, sizes].forEach(function (x) { bar.appendChild(x); });
    var table = el("table", "sortable data"); table.id = host.id;
    var head = table.createTHead().insertRow(), body = table.createTBody();
    columns.forEach(function (c) {
      var th = el("th", c[1] === "thumb" ? "nosort" : "", c[0]); th.scope = "col";
      if (c[1] === "num") { th.setAttribute("data-type", "num"); }
      head.appendChild(th);
    });
    var scroll = el("div", "scroll"); scroll.appendChild(table);
    var wrap = el("div", "datatable-wrap"); wrap.appendChild(bar); wrap.appendChild(scroll);
    host.replaceWith(wrap);
    function render() {
      var pages = Math.max(1, Math.ceil(shown.length / size));
      page = Math.min(page, pages - 1);
      var start = page * size, stop = Math.min(shown.length, start + size);
      var fragment = document.createDocumentFragment();
      for (var i = start; i < stop; i++) {
        var r = rows[shown[i]], tr = el("tr");
        var verdict = spec.flag !== undefined ? r[spec.flag] : null;
        if (verdict && verdict[0] === "periodic") { tr.className = "flag"; }
        for (var c = 0; c < kinds.length; c++) { tr.appendChild(cell(kinds[c], r[c])); }
        fragment.appendChild(tr);
      }
      body.replaceChildren(fragment);
      var all = n.toLocaleString("en"), matching = shown.length.toLocaleString("en");
      var first = shown.length ? "rows " + (start + 1) + "\\u2013" + stop + " of " : "no rows of ";
      status.textContent = first + matching + (shown.length < n ? " matching (" + all + " in all)" : "") +
        "; page " + (page + 1) + " of " + pages;
      prev.disabled = page === 0; next.disabled = page >= pages - 1;
      table.setAttribute("data-shown", String(shown.length));
    }
    function refilter() {
      var needle = filter.value.trim().toLowerCase();
      shown = needle === "" ? order.slice()
        : order.filter(function (i) { return haystack[i].indexOf(needle) >= 0; });
      page = 0; render();
    }
    function sort(col, th) {
      sortDir = sortCol === col && sortDir === "ascending" ? "descending" : "ascending";
      sortCol = col;
      var kind = kinds[col], numeric = kind === "num";
      var keys = rows.map(function (r) { return key(kind, r[col]); });
      order.sort(function (a, b) { return compare(keys[a], keys[b], numeric, sortDir) || a - b; });
      Array.prototype.forEach.call(head.cells, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", sortDir);
      refilter();
    }
    headerClicks(table, sort);
    filter.addEventListener("input", refilter);
    prev.addEventListener("click", function () { page -= 1; render(); });
    next.addEventListener("click", function () { page += 1; render(); });
    sizes.addEventListener("change", function () { size = parseInt(sizes.value, 10); page = 0; render(); });
    table.hstlcShown = function () { return shown.slice(); };
    render();
  }
  var data = window.HSTLC_REPORT;
  Array.prototype.forEach.call(document.querySelectorAll("div.datatable"), function (host) {
    var spec = data && data.tables ? data.tables[host.id] : null;
    if (!spec) {
      host.textContent = "The rows of this table are in " + host.getAttribute("data-file") +
        ", next to this page; it could not be read.";
      return;
    }
    if (!spec.rows.length) { host.replaceWith(el("p", "muted", spec.empty)); return; }
    DataTable(host, spec);
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
    target_page: str | None = None
    """Path of the target's page relative to the report folder (``targets/<stem>.html``)."""


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


def document(title: str, body: str, *, generated: datetime | None = None, scripts: Sequence[str] = ()) -> str:
    """A complete HTML page with the inline stylesheet, script and CSP; ``scripts`` are local script
    files (relative paths) loaded before the inline script."""
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
        f"{body}\n{stamp}\n"
        + "".join(f'<script src="{esc(src)}"></script>\n' for src in scripts)
        + f"<script>{JS}</script>\n</body>\n</html>\n"
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
        f'<div class="scroll"><table class="sortable static" id="{esc(table_id)}">{_header_row(columns)}\n'
        "<tbody>\n"
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


def product_columns(flag_rule: str = "fap") -> tuple[tuple[str, str], ...]:
    """The interesting/boring/null tables' columns, (label, kind): what the verdict is and rests on first —
    target, verdict, best period, FAP, χ² (poisson_factor under the original's rule, where it decides
    ``variable``) and exposure — then the lightcurve, the product (its type and configuration under its
    name), then the rest.
    Kinds: ``text``, ``num``, ``target``, ``verdict``, ``thumb``, ``product`` (how :data:`JS` draws a
    cell)."""
    chi2 = (("χ²_red", "num"), ("χ² p", "num"))
    leading = (("poisson_factor", "num"),) if flag_rule == "original" else chi2
    rest = chi2 if flag_rule == "original" else (("poisson_factor", "num"),)
    return (
        ("target", "target"), ("verdict", "verdict"), ("best period", "num"), ("FAP", "num"), *leading,
        ("exposure (s)", "num"), ("lightcurve", "thumb"), ("product", "product"),
        ("datasets", "num"), ("instrument", "text"), ("detector", "text"), ("grating", "text"),
        ("cenwave", "num"), ("aperture", "text"), *rest, ("total", "num"), ("mean", "num"),
        ("pearson r", "num"), ("pearson p", "num"), ("periodogram", "text"), ("variable", "text"),
        ("deliver", "text"),
    )


PRODUCT_COLUMNS = product_columns()
"""The columns under the default rule (``fap``)."""


def _num(value: Any, spec: str = ".4g", *, text: str | None = None) -> list[Any]:
    """A numeric cell of the rows file: [the number to sort by (None: sorted last), the text shown]."""
    number = finite_float(value) if not isinstance(value, bool) else None
    if text is None:
        text = fmt(value, spec) if isinstance(value, (int, float)) else fmt(value)
    return [number, text]


def configuration(row: ProductRow) -> str:
    """``COS FUV G130M 1291 PSA``: the instrument configuration of a product, in one string."""
    return " ".join(str(v) for v in (row.instrume, row.detector, row.opt_elem, row.cenwave, row.aperture)
                    if v not in (None, ""))


def target_label(name: str | None) -> str:
    """A target's name as shown (products whose datasets name none are grouped as ``(no target name)``)."""
    return name if name else "(no target name)"


def product_cells(entry: ProductEntry, *, settings_key: str | None = None, flag_rule: str = "fap"
                  ) -> list[Any]:
    """One product's row of an interesting/boring/null table (:func:`product_columns` order); links are
    relative to the report folder."""
    row = entry.row
    values: dict[str, Any] = {
        "target": [target_label(row.targname), entry.target_page],
        "verdict": [row.verdict, _stale_title(row, settings_key)],
        "best period": _num(row.best_period, text=format_period(row.best_period)),
        "FAP": _num(row.fap, text=format_fap(row.fap)),
        "χ²_red": _num(row.chi2_reduced, ".3g"),
        "χ² p": _num(row.chi2_p, text=format_probability(row.chi2_p)),
        "poisson_factor": _num(row.poisson_factor),
        "exposure (s)": _num(row.exptime, ",.0f"),
        "lightcurve": [entry.lightcurve_png, entry.periodogram_png, entry.page, row.filename]
        if entry.lightcurve_png else None,
        "product": [row.filename, entry.page,
                    " · ".join(p for p in (row.product_type, configuration(row)) if p)],
        "datasets": _num(len(row.rootnames) if row.rootnames else None, "d"),
        "instrument": row.instrume, "detector": row.detector, "grating": row.opt_elem,
        "cenwave": _num(row.cenwave, "d"), "aperture": row.aperture,
        "total": _num(row.total, ".6g"), "mean": _num(row.mean), "pearson r": _num(row.pearson_r, ".3f"),
        "pearson p": _num(row.pearson_p, text=format_probability(row.pearson_p)),
        "periodogram": fmt(row.periodogram), "variable": fmt(row.variable), "deliver": fmt(row.deliver),
    }
    return [_text_value(values[label]) for label, _ in product_columns(flag_rule)]


def _text_value(value: Any) -> Any:
    """Plain values of the rows file: strings as they are, other scalars as their text."""
    if value is None or isinstance(value, (str, list)):
        return value
    return fmt(value)


def _stale_title(row: ProductRow, settings_key: str | None) -> str | None:
    reason = outdated(row, settings_key)
    return f"{reason}; 'hstlc stats' recomputes them" if reason else None


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


def _data_table(table_id: str) -> str:
    """Where :data:`JS` puts a table whose rows are in :data:`DATA_FILE`."""
    return (f'<div class="datatable" id="{esc(table_id)}" data-file="{DATA_FILE}">'
            f'<p class="muted">loading the rows from {DATA_FILE}…</p></div>')


def _exposure_section(data: ReportData, top: int) -> str:
    rows = data.exposure_by_target
    chart = bar_chart_svg(
        [(t, e / 3600.0) for t, e, _ in rows[:top]],
        title=f"Cumulative exposure by target, hours (top {min(top, len(rows))} of {len(rows)})",
        unit=" h",
    )
    return f'<h2 id="exposure-time">Exposure time by target</h2>\n<div class="cols"><div>{chart}</div>' \
           f'<div>{_data_table("exposure")}</div></div>'


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
    return f'<h2 id="bad-data">Rejected data ({len(rows)})</h2>\n{_data_table("bad-data")}'


def _when(value: datetime | None) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None


def index_tables(data: ReportData, entries: Sequence[ProductEntry], *, settings_key: str | None = None,
                 flag_rule: str = "fap", target_pages: Mapping[str, str] | None = None,
                 page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """The index's big tables as plain data: per table id its ``columns`` ((label, kind) pairs), its
    ``rows`` (lists of cells, see :func:`product_cells`), ``empty`` (what to say without rows), and for
    the product tables ``flag`` (the verdict column: a periodic row is marked)."""
    columns = product_columns(flag_rule)
    by_category: dict[str, list[ProductEntry]] = {c: [] for c in CATEGORIES}
    for entry in entries:
        by_category[classify(entry.row)].append(entry)
    tables: dict[str, Any] = {}
    for category in CATEGORIES:
        tables[f"table-{category}"] = {
            "columns": [list(c) for c in columns],
            "rows": [product_cells(e, settings_key=settings_key, flag_rule=flag_rule)
                     for e in by_category[category]],
            "empty": f"no {category} lightcurves",
            "flag": 1,
            "pageSize": page_size,
        }
    pages = target_pages or {}
    tables["exposure"] = {
        "columns": [["target", "target"], ["exposure (s)", "num"], ["exposure (h)", "num"],
                    ["datasets", "num"]],
        "rows": [[[t, pages.get(t)], _num(e, ",.1f"), _num(e / 3600.0, ".3f"), _num(n, "d")]
                 for t, e, n in data.exposure_by_target],
        "empty": "no datasets in the catalog",
        "pageSize": page_size,
    }
    tables["bad-data"] = {
        "columns": [["file", "text"], ["reasons", "text"], ["ingested", "text"], ["path", "text"]],
        "rows": [[r.filename, r.reason, _when(r.ingest_date), r.path] for r in data.bad_data],
        "empty": "no rejected files",
        "pageSize": page_size,
    }
    return tables


def render_index_data(data: ReportData, entries: Sequence[ProductEntry], *, settings_key: str | None = None,
                      flag_rule: str = "fap", target_pages: Mapping[str, str] | None = None) -> str:
    """:data:`DATA_FILE`: ``window.HSTLC_REPORT = {"tables": …};`` (:func:`index_tables`), JSON in ASCII
    (any text is a JavaScript string literal there, never code)."""
    tables = index_tables(data, entries, settings_key=settings_key, flag_rule=flag_rule,
                          target_pages=target_pages)
    payload = json.dumps({"tables": tables}, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    # no <, > or & even inside strings: the text stays inert wherever it is pasted (an inline script too)
    for char in "<>&":
        payload = payload.replace(char, f"\\u{ord(char):04x}")
    return f"{DATA_PREFIX}{payload};\n"


def read_index_data(text: str) -> dict[str, Any]:
    """The JSON of a :data:`DATA_FILE` (what :func:`render_index_data` wrote)."""
    if not text.startswith(DATA_PREFIX) or not text.rstrip().endswith(";"):
        raise ValueError(f"not an hstlc {DATA_FILE}")
    loaded: dict[str, Any] = json.loads(text[len(DATA_PREFIX):].rstrip().removesuffix(";"))
    return loaded


def render_index(
    data: ReportData,
    entries: Sequence[ProductEntry],
    *,
    settings_key: str | None = None,
    generated: datetime | None = None,
    top_targets: int = 30,
) -> str:
    """``index.html``: the products by verdict (:func:`classify`), exposure, configurations, optical
    elements, bad data. The big tables' rows are in :data:`DATA_FILE` (:func:`render_index_data`); rows
    :func:`outdated` for ``settings_key`` are marked † there, and counted here."""
    by_category: dict[str, int] = {c: 0 for c in CATEGORIES}
    for entry in entries:
        by_category[classify(entry.row)] += 1
    stale = sum(1 for e in entries if outdated(e.row, settings_key))
    targets = len({e.row.targname for e in entries})
    summary = " ".join(
        f'<span><a href="#{c}">{c}</a>: <b id="count-{c}">{by_category[c]}</b></span>' for c in CATEGORIES
    )
    parts = [
        "<h1>hstlc report</h1>",
        '<nav><a href="#interesting">interesting</a><a href="#boring">boring</a><a href="#null">null</a>'
        '<a href="#exposure-time">exposure</a><a href="#configurations">configurations</a>'
        '<a href="#optical-elements">optical elements</a><a href="#bad-data">rejected data</a></nav>',
        f'<p class="summary"><span>products with stats: <b>{len(entries)}</b></span>'
        f"<span>targets: <b>{targets}</b></span><span>datasets: <b>{data.datasets}</b></span>{summary}"
        f"<span>rejected files: <b>{len(data.bad_data)}</b></span></p>",
        f'<noscript><p>The tables of this page are drawn by its script from {DATA_FILE}; with scripts off, '
        f"open the pages in targets/ and products/.</p></noscript>",
    ]
    if stale:
        parts.append(f'<p class="muted" id="stale">{stale} product(s) have {esc(STALE_NOTE[2:])}.</p>')
    for category in CATEGORIES:
        note = ""
        if any(outdated(e.row, settings_key) for e in entries if classify(e.row) == category):
            note = f'\n<p class="muted">{esc(STALE_NOTE)}.</p>'
        parts.append(
            f'<h2 id="{category}">{category.capitalize()} lightcurves ({by_category[category]})</h2>\n'
            f'<p class="muted">{esc(CATEGORY_HELP[category])}. Click a column header to sort, a lightcurve '
            "to see it and its periodogram full size, a target for all its products.</p>\n"
            + _data_table(f"table-{category}") + note
        )
    parts.append(_exposure_section(data, top_targets))
    parts.append(_configuration_section(data))
    parts.append(_opt_elem_section(data))
    parts.append(_bad_data_section(data.bad_data))
    return document("hstlc report", "\n".join(parts), generated=generated, scripts=(DATA_FILE,))


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


def _figure_pair(entry: ProductEntry, *, lazy: bool) -> str:
    """A product's two figures, each a link to its PNG at full size."""
    loading = ' loading="lazy"' if lazy else ""
    figures = []
    for label, href in (("Lightcurve", entry.lightcurve_png), ("Periodogram", entry.periodogram_png)):
        if href:
            figures.append(
                f'<h3>{label}</h3>\n<a href="{esc(href)}"><img class="figure" src="{esc(href)}"{loading} '
                f'alt="{esc(label.lower())} of {esc(entry.row.filename)}"></a>'
            )
    if entry.figure_error:
        figures.append(f'<p class="muted">Figures could not be made: {esc(entry.figure_error)}</p>')
    return "\n".join(figures) or '<p class="muted">no figures</p>'


TARGET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("product", "text"), ("verdict", "text"), ("best period", "num"), ("FAP", "num"), ("χ²_red", "num"),
    ("χ² p", "num"), ("exposure (s)", "num"), ("type", "text"), ("configuration", "text"),
    ("datasets", "num"), ("first MJD", "num"),
)
"""The table of a target page: one row per product."""


def render_target_page(name: str | None, entries: Sequence[ProductEntry], *, settings_key: str | None = None,
                       exposure: tuple[float, int] | None = None) -> str:
    """A target's page: every product of the target (``entries``, links relative to the page) — a table
    of their verdicts, then each product's verdict and figures — and the target's exposure (``(seconds,
    datasets)`` from the catalog). Lives one folder below ``index.html``; ``name`` is shown escaped."""
    label = target_label(name)
    verdicts: dict[str, int] = {}
    for entry in entries:
        verdicts[entry.row.verdict] = verdicts.get(entry.row.verdict, 0) + 1
    starts = [e.row.expstart for e in entries if e.row.expstart is not None]
    ends = [e.row.expend for e in entries if e.row.expend is not None]
    configurations = sorted({configuration(e.row) for e in entries if configuration(e.row)})
    items: list[tuple[str, Any]] = [
        ("products", len(entries)),
        ("verdicts", ", ".join(f"{v}: {n}" for v, n in sorted(verdicts.items()))),
        ("configurations", "; ".join(configurations)),
    ]
    if exposure is not None:
        items += [("exposure (s)", fmt(exposure[0], ",.1f")), ("datasets", exposure[1])]
    items += [("first EXPSTART (MJD)", min(starts) if starts else None),
              ("last EXPEND (MJD)", max(ends) if ends else None)]
    rows = []
    for entry in entries:
        row = entry.row
        cls = ' class="flag"' if row.verdict == "periodic" else ""
        rows.append(
            f"<tr{cls}><td><a href=\"#{esc(_anchor(row.filename))}\">{esc(row.filename)}</a></td>"
            f"{_verdict_td(row, settings_key)}"
            f"{_num_td(row.best_period, text=format_period(row.best_period))}"
            f"{_num_td(row.fap, text=format_fap(row.fap))}{_num_td(row.chi2_reduced, '.3g')}"
            f"{_num_td(row.chi2_p, text=format_probability(row.chi2_p))}{_num_td(row.exptime, ',.0f')}"
            f"{_td(row.product_type)}{_td(configuration(row))}"
            f"{_num_td(len(row.rootnames) if row.rootnames else None, 'd')}"
            f"{_num_td(row.expstart, '.5f')}</tr>"
        )
    sections = []
    for entry in entries:
        row = entry.row
        stale = _stale_title(row, settings_key)
        mark = f' <abbr title="{esc(stale)}">†</abbr>' if stale else ""
        sections.append(
            f'<section class="product" id="{esc(_anchor(row.filename))}">'
            f'<h2><a href="{esc(entry.page)}">{esc(row.filename)}</a></h2>\n'
            f'<p class="muted">{esc(row.product_type)} · {esc(configuration(row))}</p>\n'
            f"<p>Verdict: <b>{esc(verdict_line(row))}</b>{mark}</p>\n"
            + _figure_pair(entry, lazy=True) + "</section>"
        )
    body = "\n".join(
        [
            '<nav><a href="../index.html">← report</a>'
            '<a href="../index.html#exposure-time">exposure by target</a></nav>',
            f"<h1>{esc(label)}</h1>",
            _kv(items),
            f"<h2>Products ({len(entries)})</h2>",
            sortable_table("products", TARGET_COLUMNS, rows, empty="no products"),
            *sections,
        ]
    )
    return document(f"{label} — hstlc", body)


def _anchor(filename: str) -> str:
    """An element id for a product on its target's page."""
    return "p-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)


def render_product_page(entry: ProductEntry, *, settings_key: str | None = None) -> str:
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
    header = _kv(entry.header.items()) if entry.header else '<p class="muted">product header not read</p>'
    stale = f'<p class="muted" id="stale">{esc(STALE_NOTE)}.</p>' if outdated(row, settings_key) else ""
    target = target_label(row.targname)
    if entry.target_page:
        target_link = f'<a href="{esc(entry.target_page)}">{esc(target)}</a>'
        nav_target = f'<a href="{esc(entry.target_page)}">all products of {esc(target)}</a>'
    else:
        target_link, nav_target = esc(target), ""
    body = "\n".join(
        [
            '<nav><a href="../index.html">← report</a>'
            f'<a href="../index.html#{category}">{category} lightcurves</a>{nav_target}</nav>',
            f"<h1>{target_link}</h1>",
            f'<p class="muted">{esc(row.filename)} · {esc(row.product_type)} · {esc(configuration(row))}</p>',
            f'<p class="verdict" id="verdict">Verdict: <b>{esc(verdict_line(row))}</b></p>{stale}',
            _figure_pair(entry, lazy=False),
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
    return document(f"{row.targname or row.filename} — hstlc", body)


__all__ = [
    "CATEGORIES",
    "CATEGORY_HELP",
    "CATEGORY_OF_VERDICT",
    "DATA_FILE",
    "PAGE_SIZE",
    "PRODUCT_COLUMNS",
    "PRODUCT_TABLES",
    "TARGET_COLUMNS",
    "BandSummary",
    "ProductEntry",
    "band_summaries",
    "bar_chart_svg",
    "classify",
    "configuration",
    "document",
    "esc",
    "index_tables",
    "outdated",
    "product_cells",
    "product_columns",
    "read_index_data",
    "render_index",
    "render_index_data",
    "render_product_page",
    "render_target_page",
    "sortable_table",
    "target_label",
    "verdict_line",
]
