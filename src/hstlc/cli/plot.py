"""``hstlc plot``: figures and the offline HTML report into ``plot_dir``."""

from __future__ import annotations

import webbrowser
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as ProgressBar
from rich.table import Table
from rich.text import Text

from hstlc.cli.context import EXIT_PARTIAL, command
from hstlc.cli.options import Scheduler

if TYPE_CHECKING:
    from hstlc.workers import Progress


def _open_in_browser(url: str) -> bool:
    """Whether a web browser took ``url`` (``False`` on a machine without one, e.g. over ssh)."""
    try:
        return bool(webbrowser.open(url))
    except webbrowser.Error:
        return False


def plot(
    ctx: typer.Context,
    all_products: Annotated[
        bool, typer.Option("--all", help="Remake every figure, not only those of new or changed products.")
    ] = False,
    open_report: Annotated[
        bool, typer.Option("--open", help="Open index.html in the web browser when done.")
    ] = False,
    cores: Annotated[
        int | None, typer.Option("--cores", min=1, help="Worker processes for the figures (num_cores).")
    ] = None,
    scheduler: Scheduler = None,
) -> None:
    """Make lightcurve and periodogram figures and the static HTML report (index.html) in plot_dir.

    index.html leads with the verdicts; every target and every product has a page of its own. Figures
    are remade only for products that are new or changed since the last run (--all for all); pages are
    rewritten where what they show changed. The report needs no network: open it from disk anywhere.

    Example: hstlc plot --open
    """
    from hstlc.catalog import Catalog
    from hstlc.report import build_report

    with command(ctx, "plot", {"num_cores": cores, "scheduler_address": scheduler}) as run:
        catalog = Catalog.from_url(run.settings.database_url)
        try:
            with ProgressBar(
                TextColumn("figures"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=run.err, transient=True, disable=run.options.quiet,
            ) as bar:
                task = bar.add_task("figures", total=None)

                def progress(update: Progress) -> None:
                    bar.update(task, completed=update.done, total=update.total)

                result = build_report(catalog, run.settings, all_products=all_products, progress=progress)
        finally:
            catalog.dispose()

        counts = result.counts
        run.out.print(
            f"Report: {result.index}\n"
            f"{counts['products']} product(s): {counts['interesting']} interesting, "
            f"{counts['boring']} boring, "
            f"{counts['null']} null; {counts['bad_data']} rejected file(s).\n"
            f"Figures: {len(result.figures_written)} written, {result.figures_up_to_date} product(s) up to "
            f"date, {len(result.failed)} failed; {len(result.pages)} product page(s), "
            f"{len(result.target_pages)} target page(s) ({result.pages_written} page(s) new or changed).",
            markup=False,
            soft_wrap=True,  # a long path stays on its line
        )
        if result.failed:
            table = Table(title="Figures not made")
            table.add_column("product")
            table.add_column("reason")
            for name, reason in result.failed:
                table.add_row(Text(name), Text(reason))
            run.out.print(table)
        if open_report and not _open_in_browser(result.index.as_uri()):
            run.err.print(f"No web browser could be opened here; open {result.index.as_uri()} yourself.",
                          markup=False, soft_wrap=True)
        if result.failed:
            raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("plot")(plot)
