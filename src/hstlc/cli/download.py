"""``hstlc download``: fetch the COS/STIS TIME-TAG datasets the catalog does not have yet from MAST."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as ProgressBar
from rich.table import Table

from hstlc.cli.context import EXIT_PARTIAL, command

if TYPE_CHECKING:
    from hstlc.download import DownloadProgress, DownloadSummary


class _TransferBars:
    """Two rich bars: files (done/total, failed) and bytes (size, speed, time left)."""

    def __init__(self, console: Console) -> None:
        self.progress = ProgressBar(
            TextColumn("{task.description:<6}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]}[/]"), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=console,
        )
        self.files: TaskID | None = None
        self.bytes: TaskID | None = None

    def __call__(self, update: DownloadProgress) -> None:
        if self.files is None or self.bytes is None:
            self.files = self.progress.add_task("files", total=update.files, failed="")
            self.bytes = self.progress.add_task("bytes", total=update.bytes or None, failed="")
        failed = f"{update.files_failed} failed" if update.files_failed else ""
        self.progress.update(self.files, completed=update.files_done, failed=failed)
        self.progress.update(self.bytes, completed=update.bytes_done)


def summary_table(summary: DownloadSummary) -> Table:
    what = "Dry run: what would be fetched from MAST (nothing was written)" if summary.dry_run else \
        "Download from MAST"
    table = Table(title=what)
    table.add_column("outcome")
    table.add_column("count", justify="right")
    table.add_column("details", overflow="fold")
    limit = f" (limit {summary.limit})" if summary.limit else ""
    table.add_row("new datasets found", str(summary.found) + limit,
                  escape(", ".join(d.dataset.dataset_id for d in summary.planned)))
    table.add_row("skipped: already known", str(len(summary.known)), escape(", ".join(summary.known[:20]))
                  + (" …" if len(summary.known) > 20 else ""))
    if summary.passed_over:
        details = "; ".join(f"{k} ({v})" for k, v in list(summary.passed_over.items())[:10])
        table.add_row("passed over", str(len(summary.passed_over)),
                      escape(details) + (" …" if len(summary.passed_over) > 10 else ""))
    if summary.dry_run:
        size = sum(f.size or 0 for f in summary.files)
        table.add_row("files to fetch", str(len(summary.files)), f"{size / 1e6:.1f} MB")
        return table
    present = [t for t in summary.transfers if t.status == "present"]
    resumed = [t for t in summary.downloaded if t.resumed]
    table.add_row("files downloaded", str(len(summary.downloaded)),
                  f"{summary.bytes_downloaded / 1e6:.1f} MB"
                  + (f"; {len(resumed)} resumed from an interrupted transfer" if resumed else ""))
    if present:
        table.add_row("already in ingest_dir", str(len(present)),
                      escape(", ".join(t.file.name for t in present)))
    for t in summary.failed:
        table.add_row("[red]failed[/]", "1", escape(t.reason))
    return table


def download_command(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Option(
        "--target", help="Only this target name (MAST's sci_targname; * is a wildcard).")] = None,
    proposal: Annotated[int | None, typer.Option("--proposal", min=1, help="Only this proposal ID.")] = None,
    instrument: Annotated[str | None, typer.Option("--instrument", help="COS or STIS (default: both).")]
    = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="Only exposures that started on or after this date (YYYY-MM-DD).")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=0, help="New datasets to fetch at most (default: download_limit; 0: all).")] = None,
    transfers: Annotated[int | None, typer.Option(
        "--transfers", min=1, max=32, help="Files downloaded at once (default: download_transfers).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Ask MAST and list what would be fetched; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Fetch from MAST the COS and STIS TIME-TAG datasets the catalog does not have yet (event files and
    x1d) into ingest_dir, ready for 'hstlc ingest'. Public datasets only; calibration targets, datasets in
    the catalog or in bad_data, and files already in ingest_dir are skipped. An interrupted download
    resumes where it stopped. Exit code 3 if some files failed.

    Example: hstlc download --instrument COS --since 2020-01-01 --limit 20
    """
    from hstlc.download import DownloadFilters

    try:
        since_date = dt.date.fromisoformat(since) if since else None
    except ValueError:
        raise typer.BadParameter(f"{since!r} is not a date (YYYY-MM-DD)", param_hint="--since") from None
    try:
        filters = DownloadFilters(target=target, proposal=proposal, instrument=instrument, since=since_date)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--instrument") from None
    with command(ctx, "download", {"download_transfers": transfers}, log=not dry_run) as run:
        from hstlc.catalog.store import open_if_exists
        from hstlc.download import download

        settings = run.settings
        catalog = open_if_exists(settings.database_url)  # no catalog yet: nothing is known
        bars = None if as_json or run.options.quiet or dry_run else _TransferBars(run.err)
        try:
            if bars is not None:
                with bars.progress:
                    summary = download(settings, catalog=catalog, filters=filters, limit=limit,
                                       dry_run=dry_run, progress=bars)
            else:
                summary = download(settings, catalog=catalog, filters=filters, limit=limit, dry_run=dry_run)
        finally:
            if catalog is not None:
                catalog.dispose()
        if as_json:
            typer.echo(json.dumps(summary.to_dict(), indent=2))
        else:
            run.out.print(summary_table(summary))
            if summary.query_record is not None:
                run.out.print(f"MAST's answer is kept in {escape(str(summary.query_record))}", soft_wrap=True)
            if not summary.dry_run and summary.downloaded:
                run.out.print(f"Next: hstlc ingest {escape(str(settings.ingest_dir))}", soft_wrap=True)
    if summary.failed:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("download")(download_command)
