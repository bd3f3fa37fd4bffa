"""``hstlc run``: download → ingest → stats → plot, for a cron job or "update everything"."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hstlc.cli.context import EXIT_PARTIAL, command
from hstlc.cli.ingest import _ProgressBar
from hstlc.cli.options import Scheduler
from hstlc.workers import start_worker_server

if TYPE_CHECKING:
    from hstlc.update import UpdateSummary

STATUS_STYLE = {"ok": "green", "failures": "yellow", "error": "red", "skipped": "dim"}


def stages_table(summary: UpdateSummary) -> Table:
    table = Table(title="hstlc run")
    table.add_column("stage")
    table.add_column("status")
    table.add_column("done", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("details", overflow="fold")
    for s in summary.stages:
        style = STATUS_STYLE.get(s.status, "")
        table.add_row(s.name, f"[{style}]{s.status}[/]" if style else s.status, str(s.done), str(s.failed),
                      f"{s.seconds:.1f}", escape(s.detail))
    return table


def run_command(
    ctx: typer.Context,
    no_download: Annotated[bool, typer.Option("--no-download", help="Skip the download from MAST.")] = False,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=0, help="New datasets to download at most (default: download_limit; 0: all).")] = None,
    instrument: Annotated[str | None, typer.Option("--instrument", help="Download only COS or STIS.")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="Download only exposures started on or after this date (YYYY-MM-DD).")] = None,
    cores: Annotated[int | None, typer.Option("--cores", min=1, max=512,
                                                 help="Worker processes (default: num_cores).")] = None,
    scheduler: Scheduler = None,
    offline: Annotated[bool, typer.Option("--offline", help="Resolve target names without the network.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print every stage's summary as JSON.")] = False,
) -> None:
    """Bring everything up to date in one go: download new datasets from MAST, ingest them, compute the
    statistics and rebuild the report, under the catalog's ingest lock. One table of the stages at the
    end; exit code 3 if any stage had failures.

    Example: hstlc --config /data/hstlc/hstlc.toml run --limit 100 --cores 4
    """
    from hstlc.download import DownloadFilters

    try:
        filters = DownloadFilters(instrument=instrument,
                                  since=dt.date.fromisoformat(since) if since else None)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    overrides = {"num_cores": cores, "resolver_offline": True if offline else None,
                 "scheduler_address": scheduler}
    with command(ctx, "run", overrides) as run:
        settings = run.settings
        if not settings.scheduler_address:
            start_worker_server(settings.num_cores)
        from hstlc.catalog import Catalog
        from hstlc.update import update

        catalog = Catalog.from_url(settings.database_url)
        bar = None if as_json or run.options.quiet else _ProgressBar(run.err)
        try:
            if bar is not None:
                with bar.progress:
                    summary = update(settings, catalog, fetch=not no_download, filters=filters, limit=limit,
                                     offline=True if offline else None, progress=bar)
            else:
                summary = update(settings, catalog, fetch=not no_download, filters=filters, limit=limit,
                                 offline=True if offline else None)
        finally:
            catalog.dispose()
        if as_json:
            typer.echo(json.dumps(summary.to_dict(), indent=2))
        else:
            run.out.print(stages_table(summary))
            run.out.print(f"Done in {summary.wall_seconds:.1f} s. Log: {escape(str(run.log_file or 'none'))}",
                          soft_wrap=True)
    if summary.had_failures:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
