"""``hstlc stats [FILE...] [--products individual|composite|both] [--all] [--json | --csv]``."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as ProgressBar
from rich.table import Table

from hstlc.cli.context import (
    EXIT_ERROR,
    EXIT_PARTIAL,
    Run,
    command,
    echo_csv,
    output_format,
    print_error,
    print_table,
)
from hstlc.cli.options import Scheduler

if TYPE_CHECKING:
    from hstlc.product_stats import StatsOutcome
    from hstlc.workers import Progress

class ProductType(str, Enum):
    individual = "individual"
    composite = "composite"
    both = "both"


VERDICT_STYLE = {
    "periodic": "bold yellow", "variable": "bold magenta", "constant": "", "undetermined": "dim",
    "no counts": "dim",
}


def _number(value: Any, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _table(outcomes: list[StatsOutcome]) -> Table:
    from hstlc.display import format_period, format_probability

    table = Table(title="Lightcurve statistics")
    table.add_column("product", overflow="fold")
    table.add_column("verdict", no_wrap=True)
    table.add_column("best period", justify="right", no_wrap=True)
    table.add_column("FAP", justify="right", no_wrap=True)
    table.add_column("χ²_red", justify="right", no_wrap=True)
    table.add_column("p(χ²)", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for outcome in outcomes:
        name = escape(outcome.filename)
        if outcome.status in ("failed", "missing"):
            table.add_row(name, "", "", "", "", "", f"[red]{outcome.status}[/]")
            continue
        values = outcome.values
        verdict = outcome.verdict or "–"
        style = VERDICT_STYLE.get(verdict, "")
        table.add_row(
            name,
            f"[{style}]{verdict}[/]" if style else verdict,
            # a period that is not significant is shown, dimmed: the strongest peak, not a detection
            format_period(values.get("best_period")) if values.get("periodogram")
            else f"[dim]{format_period(values.get('best_period'))}[/]",
            format_probability(values.get("fap")),
            _number(values.get("chi2_reduced"), ".3f"),
            format_probability(values.get("chi2_p")),
            outcome.status if outcome.status == "computed" else f"[dim]{outcome.status}[/]",
        )
    return table


#: ``--csv`` columns: the product, then the values as stored (seconds, probabilities), then the status.
CSV_COLUMNS = ("product", "product_type", "verdict", "best_period", "fap", "chi2_reduced", "chi2_p", "status",
               "error")


def _render(run: Run, outcomes: list[StatsOutcome], fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps([o.as_dict() for o in outcomes], indent=2))
    elif fmt == "csv":
        echo_csv(CSV_COLUMNS, ([o.as_dict().get(c) for c in CSV_COLUMNS] for o in outcomes))
    else:
        if outcomes:
            print_table(run.out, _table(outcomes))
        statuses = ("computed", "unchanged", "missing", "failed")
        counts = {s: sum(o.status == s for o in outcomes) for s in statuses}
        run.out.print(", ".join(f"{n} {s}" for s, n in counts.items()))
    for outcome in outcomes:
        if outcome.error:
            print_error(run.err, outcome.error)


def stats(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Lightcurve product(s) to analyse without the catalog; default: the catalog's.",
                       dir_okay=False, show_default=False),
    ] = None,
    products: Annotated[
        ProductType, typer.Option("--products", help="Which catalog products: individual, composite or both.")
    ] = ProductType.both,
    all_products: Annotated[
        bool, typer.Option("--all", help="Recompute every product, not only new or changed ones.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option(
        "--csv", help="Print the results as CSV: " + ", ".join(CSV_COLUMNS) + " (periods in seconds).")]
    = False,
    scheduler: Scheduler = None,
) -> None:
    """The variability verdict of lightcurves: periodic, variable or constant.

    periodic: a Lomb-Scargle period (5 s to 10 h) whose false-alarm probability over the whole searched
    grid is below periodogram_fap_threshold (default 1e-3); peaks at the HST orbit are not counted.

    variable: a chi-squared test rejects a constant rate (p below variable_p_threshold, default 1e-3).

    Without FILE: every product in the catalog that is new or changed since its stats were computed,
    or was computed by an older method or other settings (--all: every product), stored in the
    catalog's stats table; the others are listed with their stored values ("unchanged").

    Example: hstlc stats --products composite --csv > verdicts.csv
    """
    if files and (all_products or products is not ProductType.both):
        raise typer.BadParameter("--products and --all choose catalog products; leave them out with FILE")
    fmt = output_format(as_json, as_csv)
    from hstlc.catalog import Catalog
    from hstlc.product_stats import run_stats, stats_for_files

    with command(ctx, "stats", {"scheduler_address": scheduler}) as run:
        if files:
            outcomes = stats_for_files(list(files), run.settings)
        else:
            catalog = Catalog.from_url(run.settings.database_url)
            bars: list[ProgressBar] = []  # made on the first product, so an early error comes out clean

            def advance(update: Progress) -> None:
                if not bars:
                    bars.append(ProgressBar(
                        TextColumn("[progress.description]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeRemainingColumn(), console=run.err, transient=True,
                        disable=fmt != "table" or run.options.quiet,
                    ))
                    bars[0].add_task("stats", total=update.total)
                    bars[0].start()
                bars[0].update(bars[0].task_ids[0], completed=update.done, description=escape(update.item))

            try:
                outcomes = run_stats(
                    catalog, run.settings, products=products.value, recompute_all=all_products,
                    progress=advance,
                )
            finally:
                for bar in bars:
                    bar.stop()
                catalog.dispose()
            if not outcomes and fmt == "table":
                kind = "" if products is ProductType.both else f"{products.value} "
                run.out.print(f"No {kind}lightcurve products in the catalog (run 'hstlc ingest' first).")
                return
        _render(run, outcomes, fmt)
        failed = sum(not o.ok for o in outcomes)
        if failed:
            raise typer.Exit(EXIT_ERROR if failed == len(outcomes) and files else EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
