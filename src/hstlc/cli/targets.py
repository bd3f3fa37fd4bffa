"""``hstlc targets [filters] [--sort COLUMN] [--limit N] [--json | --csv]``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from hstlc.cli import selection as opt
from hstlc.cli.context import command, echo_csv, output_format, print_table

if TYPE_CHECKING:
    from hstlc.catalog.listings import TargetSummary


def _table(rows: list[TargetSummary], caption: str) -> Table:
    from hstlc.display import format_probability

    table = Table(title="Targets", caption=caption)
    table.add_column("target", style="bold", overflow="fold")
    table.add_column("verdict", no_wrap=True)
    table.add_column("best period", justify="right", no_wrap=True)
    table.add_column("FAP", justify="right", no_wrap=True)
    table.add_column("χ²_red", justify="right", no_wrap=True)
    table.add_column("datasets", justify="right", no_wrap=True)
    table.add_column("exposure", justify="right", no_wrap=True)
    table.add_column("first MJD", justify="right", no_wrap=True)
    table.add_column("last MJD", justify="right", no_wrap=True)
    table.add_column("instruments", overflow="fold")
    table.add_column("detectors", overflow="fold")
    table.add_column("gratings", overflow="fold")
    table.add_column("proposals", overflow="fold")
    for r in rows:
        verdict = opt.verdict_cell(r.verdict, r.stale)
        if r.verdict_from == "individual":
            verdict.append(" *", style="dim")
        table.add_row(
            opt.plain(r.target),
            verdict,
            opt.period_cell(r.verdict, r.best_period),
            opt.plain(format_probability(r.fap)),
            opt.plain(opt.number(r.chi2_reduced, ".2f")),
            opt.plain(r.datasets),
            opt.plain(opt.seconds(r.exptime)),
            opt.plain(opt.number(r.first_mjd, ".3f")),
            opt.plain(opt.number(r.last_mjd, ".3f")),
            opt.plain(opt.joined(r.instruments)),
            opt.plain(opt.joined(r.detectors)),
            opt.plain(opt.joined(r.gratings)),
            opt.plain(opt.joined(r.proposals)),
        )
    return table


def targets(
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
    sort: opt.Sort = None,
    descending: opt.Descending = False,
    limit: opt.Limit = None,
    as_json: opt.AsJson = False,
    as_csv: opt.AsCsv = False,
) -> None:
    """List the catalog's targets: their data and whether they vary.

    One row per resolved target: the verdict of its composites (periodic if any is, else variable, else
    constant, undetermined, no counts; marked * when only individual products have stats), the best period,
    FAP and reduced chi-squared of the product that decides it, its datasets, total exposure, first and
    last MJD, instruments, gratings and proposals.

    --instrument, --detector and --grating choose the data a row sums up (its composites in those
    configurations decide its verdict); the other filters choose rows. Sort columns: target, verdict,
    best_period, fap, chi2_reduced, chi2_p, stale, datasets, exptime, first_mjd, last_mjd, ra, dec.
    Read-only: a catalog that does not exist is an error, never created.

    Example: hstlc targets --variable --grating G130M --sort exptime --desc --limit 20
    """
    fmt = output_format(as_json, as_csv)
    filters = opt.filter_of("targets", locals())
    from hstlc.catalog.listings import TARGET_COLUMNS

    with command(ctx, "targets", log=False) as run, opt.open_catalog(run) as catalog:
        rows = catalog.targets(filters, settings_key=opt.settings_key(run))
        if fmt == "json":
            typer.echo(json.dumps([r.to_dict() for r in rows], indent=2, ensure_ascii=False))
        elif fmt == "csv":
            names = [c.name for c in TARGET_COLUMNS]
            echo_csv(names, opt.csv_rows(rows, names))
        elif not rows:
            opt.nothing_matches(run, "targets", filters)
        else:
            caption = f"{len(rows)} target(s) in {catalog.url}"
            if any(r.verdict_from == "individual" for r in rows):
                caption += "; * verdict from individual products (no composite has stats)"
            print_table(run.out, _table(rows, escape(caption)))


def register(app: typer.Typer) -> None:
    app.command("targets")(targets)
