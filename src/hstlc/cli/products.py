"""``hstlc products [filters] [--type individual|composite] [--sort COLUMN] [--limit N] [--json | --csv]``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from hstlc.cli import selection as opt
from hstlc.cli.context import command, echo_csv, output_format, print_table

if TYPE_CHECKING:
    from hstlc.catalog.listings import ProductSummary


def configuration(row: ProductSummary) -> str:
    """``COS FUV G130M 1291 PSA``: the product's configuration in one cell."""
    parts = (row.instrument, row.detector, row.grating, row.cenwave, row.aperture)
    return " ".join(str(p) for p in parts if p is not None)


def product_table(rows: list[ProductSummary], title: str, caption: str | None = None) -> Table:
    from hstlc.display import format_probability

    table = Table(title=title, caption=caption)
    table.add_column("product", overflow="fold")
    table.add_column("type", no_wrap=True)
    table.add_column("target", style="bold", overflow="fold")
    table.add_column("verdict", no_wrap=True)
    table.add_column("best period", justify="right", no_wrap=True)
    table.add_column("FAP", justify="right", no_wrap=True)
    table.add_column("χ²_red", justify="right", no_wrap=True)
    table.add_column("datasets", justify="right", no_wrap=True)
    table.add_column("exposure", justify="right", no_wrap=True)
    table.add_column("first MJD", justify="right", no_wrap=True)
    table.add_column("configuration", overflow="fold")
    for r in rows:
        table.add_row(
            opt.plain(r.filename),
            opt.plain(r.product_type),
            opt.plain(r.target or "–"),
            opt.verdict_cell(r.verdict, r.stale),
            opt.period_cell(r.verdict, r.best_period),
            opt.plain(format_probability(r.fap)),
            opt.plain(opt.number(r.chi2_reduced, ".2f")),
            opt.plain(r.datasets),
            opt.plain(opt.seconds(r.exptime)),
            opt.plain(opt.number(r.first_mjd, ".3f")),
            opt.plain(configuration(r)),
        )
    return table


def products(
    ctx: typer.Context,
    instrument: opt.Instrument = None,
    detector: opt.Detector = None,
    grating: opt.Grating = None,
    variable: opt.Variable = False,
    periodic: opt.Periodic = False,
    verdict: opt.Verdict = None,
    min_exptime: opt.MinExptime = None,
    proposal: opt.Proposal = None,
    since: opt.Since = None,
    name: opt.Name = None,
    product_type: opt.ProductType = None,
    sort: opt.Sort = None,
    descending: opt.Descending = False,
    limit: opt.Limit = None,
    as_json: opt.AsJson = False,
    as_csv: opt.AsCsv = False,
) -> None:
    """List the catalog's lightcurve products, individual and composite, with their stats.

    One row per product: its target, verdict (periodic, variable, constant, undetermined, no counts; "no
    stats" until hstlc stats has run; "(stale)" when made by an older method or other settings), best
    period, FAP, reduced chi-squared, datasets, total exposure, first MJD and configuration. --json and
    --csv add the path, proposals, every statistic and when it was computed.

    Sort columns: any column of --csv but path and proposals, e.g. exptime, fap, best_period, target.
    Read-only: a catalog that does not exist is an error, never created.

    Example: hstlc products --variable --type composite --sort fap --limit 20
    """
    fmt = output_format(as_json, as_csv)
    filters = opt.filter_of("products", locals())
    from hstlc.catalog.listings import PRODUCT_COLUMNS

    with command(ctx, "products", log=False) as run, opt.open_catalog(run) as catalog:
        rows = catalog.products(filters, settings_key=opt.settings_key(run))
        if fmt == "json":
            typer.echo(json.dumps([r.to_dict() for r in rows], indent=2, ensure_ascii=False))
        elif fmt == "csv":
            names = [c.name for c in PRODUCT_COLUMNS]
            echo_csv(names, opt.csv_rows(rows, names))
        elif not rows:
            opt.nothing_matches(run, "products", filters)
        else:
            caption = f"{len(rows)} product(s) in {catalog.url}"
            print_table(run.out, product_table(rows, "Products", escape(caption)))


def register(app: typer.Typer) -> None:
    app.command("products")(products)
