"""``hstlc stats [FILE...] [--products individual|composite|both] [--all] [--json]``."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hstlc.cli.context import EXIT_ERROR, EXIT_PARTIAL, Run, command, print_error

if TYPE_CHECKING:
    from hstlc.statistics import StatsOutcome

BANDS = ("short", "med", "long")


class ProductType(str, Enum):
    individual = "individual"
    composite = "composite"
    both = "both"


def _number(value: Any, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _period(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


def _band_cell(outcome: StatsOutcome, name: str) -> str:
    from hstlc.statistics import band_summary

    summary = band_summary(outcome, name)
    if summary is None:
        return ""
    if summary.get("skipped"):
        return "[dim]skipped[/]"
    period, fap = summary.get("best_period"), summary.get("fap")
    if period is None:
        return ""
    return f"{_period(period)} / {_number(fap, '.2g')}"


def _table(outcomes: list[StatsOutcome]) -> Table:
    table = Table(title="Lightcurve statistics")
    table.add_column("product", overflow="fold")
    table.add_column("total", justify="right")
    table.add_column("poisson_factor", justify="right")
    table.add_column("pearson r", justify="right")
    for name in BANDS:
        table.add_column(f"{name}: period / FAP", justify="right")
    table.add_column("flag")
    for outcome in outcomes:
        name = escape(outcome.filename)
        if outcome.status in ("failed", "missing"):
            table.add_row(name, f"[red]{outcome.status}[/]", "", "", "", "", "", "")
            continue
        if outcome.status == "unchanged":
            table.add_row(name, "[dim]unchanged[/]", "", "", "", "", "", "")
            continue
        values = outcome.values
        table.add_row(
            name,
            _number(values.get("total"), ".6g"),
            _number(values.get("poisson_factor"), ".3f"),
            _number(values.get("pearson_r"), ".3f"),
            *(_band_cell(outcome, band) for band in BANDS),
            "[bold yellow]yes[/]" if values.get("periodogram") else "no",
        )
    return table


def _render(run: Run, outcomes: list[StatsOutcome], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([o.as_dict() for o in outcomes], indent=2))
    else:
        if outcomes:
            run.out.print(_table(outcomes))
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
) -> None:
    """Variability statistics and three-band periodograms (with false-alarm probabilities) of lightcurves.

    Without FILE: every product in the catalog that is new or changed since its stats were computed
    (--all: every product), stored in the catalog's stats table.
    """
    if files and (all_products or products is not ProductType.both):
        raise typer.BadParameter("--products and --all choose catalog products; leave them out with FILE")
    from hstlc.catalog import Catalog
    from hstlc.statistics import run_stats, stats_for_files

    with command(ctx, "stats") as run:
        if files:
            outcomes = stats_for_files(list(files), run.settings)
        else:
            catalog = Catalog.from_url(run.settings.database_url)
            bars: list[Progress] = []  # made on the first product, so an early error comes out clean

            def advance(done: int, total: int, outcome: StatsOutcome) -> None:
                if not bars:
                    bars.append(Progress(
                        TextColumn("[progress.description]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeRemainingColumn(), console=run.err, transient=True,
                        disable=as_json or run.options.quiet,
                    ))
                    bars[0].add_task("stats", total=total)
                    bars[0].start()
                bars[0].update(bars[0].task_ids[0], completed=done, description=escape(outcome.filename))

            try:
                outcomes = run_stats(
                    catalog, run.settings, products=products.value, recompute_all=all_products,
                    progress=advance,
                )
            finally:
                for bar in bars:
                    bar.stop()
                catalog.dispose()
            if not outcomes and not as_json:
                kind = "" if products is ProductType.both else f"{products.value} "
                run.out.print(f"No {kind}lightcurve products in the catalog (run 'hstlc ingest' first).")
                return
        _render(run, outcomes, as_json)
        failed = sum(not o.ok for o in outcomes)
        if failed:
            raise typer.Exit(EXIT_ERROR if failed == len(outcomes) and files else EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
