"""``hstlc demo [DIR]``: generate sample data and run the whole pipeline on it (offline, SQLite)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from hstlc.cli.context import EXIT_PARTIAL, command
from hstlc.cli.ingest import _ProgressBar, summary_table

if TYPE_CHECKING:
    from hstlc.demo import DemoResult

#: Same as ``hstlc.demo.DEFAULT_DIRECTORY`` (kept here so that ``--help`` need not import the demo).
DEFAULT_DIRECTORY = Path("hstlc-demo")


def run_demo(directory: Path, **kwargs: Any) -> DemoResult:
    """:func:`hstlc.demo.run_demo`, imported when the command runs (it loads the whole pipeline)."""
    from hstlc.demo import run_demo as library_run_demo

    return library_run_demo(directory, **kwargs)


def demo_command(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(
        help="Folder for the sample data, catalog, products and report.", file_okay=False,
    )] = DEFAULT_DIRECTORY,
    cores: Annotated[int, typer.Option("--cores", min=1, max=512, help="Worker processes.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Generate a realistic sample (COS FUV/NUV, STIS, a flare, a periodic source, bad data), then run
    db init, ingest, stats and plot on it, and print where the catalog, products and report are."""
    # The demo's own settings file (written in DIR) decides where everything goes; point the run's log
    # there too.
    folder = directory.expanduser().absolute()
    with command(ctx, "demo", {"home_dir": folder}) as run:
        quiet = as_json or run.options.quiet
        bar = None if quiet else _ProgressBar(run.err)

        def step(text: str) -> None:
            if not quiet:
                run.err.print(f"[bold]hstlc demo:[/] {escape(text)}")

        if bar is not None:
            with bar.progress:
                result = run_demo(folder, cores=cores, progress=bar, on_step=step)
        else:
            result = run_demo(folder, cores=cores, on_step=step)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
        else:
            if result.ingest is not None:
                run.out.print(summary_table(result.ingest))
            run.out.print(f"Settings:    {escape(str(result.config_file))}")
            run.out.print(f"Catalog:     {escape(result.catalog_url)}")
            run.out.print(f"Products:    {escape(str(result.outputs_dir))}")
            run.out.print(f"Composites:  {escape(str(result.composite_dir))}")
            if result.stats_computed is not None:
                run.out.print(f"Statistics:  {result.stats_computed} product(s) computed")
            run.out.print(f"Report:      {escape(str(result.report)) if result.report else 'not built'}")
            for skipped in result.steps_skipped:
                run.out.print(f"(step '{skipped}' skipped: its module is not installed)")
            run.out.print(f"Next: cd {escape(str(result.directory))} && hstlc db status")
    if result.ingest is not None and result.ingest.failed:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
