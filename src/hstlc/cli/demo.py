"""``hstlc demo [DIR]``: generate sample data and run the whole pipeline on it (offline, SQLite)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from hstlc.cli.context import EXIT_PARTIAL, command, shell_command
from hstlc.cli.ingest import _ProgressBar, summary_table

if TYPE_CHECKING:
    from hstlc.demo import DemoResult

#: Same as ``hstlc.demo.DEFAULT_DIRECTORY`` (kept here so that ``--help`` need not import the demo).
DEFAULT_DIRECTORY = Path("hstlc-demo")


def default_directory() -> Path:
    """:func:`hstlc.demo.default_directory`: the demo folder you are in, else ``./hstlc-demo``."""
    from hstlc.demo import default_directory as library_default_directory

    return library_default_directory()


def run_demo(directory: Path, **kwargs: Any) -> DemoResult:
    """:func:`hstlc.demo.run_demo`, imported when the command runs (it loads the whole pipeline)."""
    from hstlc.demo import run_demo as library_run_demo

    return library_run_demo(directory, **kwargs)


def demo_command(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(
        help="Folder for the sample data, catalog, products and report.", file_okay=False,
        show_default=f"{DEFAULT_DIRECTORY}, or the demo folder you are in",
    )] = None,
    cores: Annotated[int, typer.Option("--cores", min=1, max=512, help="Worker processes.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Generate a realistic sample (COS FUV/NUV, STIS, a flare, a periodic source, bad data), then run
    db init, ingest, stats and plot on it, and print where the catalog, products and report are.

    Run again (in the folder, or naming it) to redo the steps on the same sample: nothing new is made.

    Example: hstlc demo && cd hstlc-demo && hstlc db status
    """
    # The demo's own settings file (written in DIR) decides where everything goes; point the run's log
    # there too.
    folder = (directory or default_directory()).expanduser().absolute()
    with command(ctx, "demo", {"home_dir": folder}) as run:
        quiet = as_json or run.options.quiet
        bar = None if quiet else _ProgressBar(run.err)

        def step(text: str) -> None:
            if not quiet:
                run.err.print(f"[bold]hstlc demo:[/] {escape(text)}", soft_wrap=True)

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
            lines = [
                f"Settings:    {result.config_file}",
                f"Catalog:     {result.catalog_url}",
                f"Products:    {result.outputs_dir}",
                f"Composites:  {result.composite_dir}",
                *([f"Statistics:  {result.stats_computed} product(s) computed"]
                  if result.stats_computed is not None else []),
                f"Report:      {result.report or 'not built'}",
            ]
            hstlc, note = shell_command()  # what works in a new shell, not only in this one
            lines.append(f"Next: cd {shlex.quote(str(result.directory))} && {hstlc} db status")
            if note:
                lines.append(f"      ({note})")
            for line in lines:
                run.out.print(line, markup=False, soft_wrap=True)
    if result.ingest is not None and result.ingest.failed:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
