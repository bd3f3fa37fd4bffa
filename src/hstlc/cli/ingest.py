"""``hstlc ingest DIR``: checks → resolve → catalog → lightcurves → filing → composites."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as ProgressBar
from rich.table import Table

from hstlc.cli.context import EXIT_PARTIAL, command
from hstlc.cli.options import Scheduler
from hstlc.workers import start_worker_server

if TYPE_CHECKING:
    from hstlc.ingestion import IngestSummary, Progress
    from hstlc.ingestion.dry_run import IngestPlan

PHASE_LABELS = {"reading": "Reading and checking", "resolving": "Resolving names",
                "extracting": "Extracting and filing", "composites": "Composites"}


class _ProgressBar:
    """A rich progress bar per phase: done/total, failed, rate, elapsed and remaining time."""

    def __init__(self, console: Console) -> None:
        self.progress = ProgressBar(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed[/]"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, update: Progress) -> None:
        if update.message:  # a notice (going online, Sesame unreachable): shown at once, above the bars
            self.progress.console.print(escape(update.message))
        if update.phase == "dask":  # a notice only (the cluster's workers and dashboard)
            return
        task = self.tasks.get(update.phase)
        if task is None:
            task = self.progress.add_task(PHASE_LABELS.get(update.phase, update.phase), total=update.total,
                                          failed=0, rate="")
            self.tasks[update.phase] = task
        elapsed = self.progress.tasks[task].elapsed or 0.0
        rate = f"{60.0 * update.done / elapsed:.1f}/min" if elapsed > 0 and update.done else ""
        self.progress.update(task, completed=update.done, total=update.total, failed=update.failed, rate=rate)


def summary_table(summary: IngestSummary) -> Table:
    table = Table(title=f"Ingest of {summary.directory}")
    table.add_column("outcome")
    table.add_column("datasets", justify="right")
    table.add_column("details", overflow="fold")
    table.add_row("ingested", str(len(summary.ingested)),
                  f"{len(summary.recovered)} finished from an interrupted run" if summary.recovered else "")
    for reason, roots in sorted(summary.bad.items()):
        table.add_row(f"bad: {escape(reason)}", str(len(roots)), escape(", ".join(sorted(roots))))
    for name, reason in sorted(summary.failed.items()):
        table.add_row("[red]failed[/]", "1", f"{escape(name)}: {escape(reason)}")
    if summary.unchanged:
        table.add_row("already ingested (left in place)", str(len(summary.unchanged)),
                      escape(", ".join(sorted(summary.unchanged))))
    if summary.skipped:
        table.add_row("other files skipped", str(len(summary.skipped)),
                      escape("; ".join(f"{s.path.name} ({s.reason})" for s in summary.skipped[:10]))
                      + (" …" if len(summary.skipped) > 10 else ""))
    table.add_row("composites written", str(len(summary.composites)), "")
    return table


def plan_table(plan: IngestPlan) -> Table:
    table = Table(title=f"Dry run: ingest of {plan.directory} (nothing was changed)")
    table.add_column("dataset", no_wrap=True)
    table.add_column("would be", no_wrap=True)
    table.add_column("target")
    table.add_column("where / why", overflow="fold")
    for d in plan.datasets:
        where = "; ".join(d.reasons) if d.action in ("quarantine", "fail") else (d.destination or "")
        if d.action == "quarantine":
            where = f"{d.destination}: {where}"
        table.add_row(escape(d.rootname), d.action, escape(d.targname or ""), escape(where))
    return table


def _dry_run(ctx: typer.Context, directory: Path | None, overrides: Mapping[str, object], *, recursive: bool,
             as_json: bool) -> None:
    with command(ctx, "ingest", overrides, log=False) as run:  # a dry run changes nothing
        from hstlc.catalog.store import open_if_exists
        from hstlc.ingestion.dry_run import plan_ingest

        settings = run.settings
        folder = directory if directory is not None else settings.ingest_dir
        assert folder is not None
        catalog = open_if_exists(settings.database_url)  # none yet: every dataset is new
        try:
            plan = plan_ingest(folder, settings=settings, catalog=catalog, recursive=recursive)
        finally:
            if catalog is not None:
                catalog.dispose()
        if as_json:
            typer.echo(json.dumps(plan.to_dict(), indent=2))
            return
        run.out.print(plan_table(plan))
        for config in plan.composites:
            run.out.print(f"composite to build: {escape('/'.join(config))}")
        counts = ", ".join(f"{plan.count(a)} {a}" for a in ("ingest", "quarantine", "unchanged", "fail"))
        run.out.print(f"{counts}; {len(plan.skipped)} other file(s) skipped. Nothing was changed.")


def ingest_command(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(
        help="Folder with the event files (default: the ingest_dir setting).", file_okay=False)] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Search sub-folders too.")] = False,
    cores: Annotated[int | None, typer.Option("--cores", min=1, max=512,
                                                 help="Worker processes (default: num_cores).")] = None,
    scheduler: Scheduler = None,
    offline: Annotated[bool, typer.Option("--offline", help="Resolve target names without the network.")]
    = False,
    corrtag_extract: Annotated[bool, typer.Option(
        "--corrtag-extract", help="Re-derive STIS corrtags from their _tag files (the old one is kept).")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    copy: Annotated[bool, typer.Option(
        "--copy", help="File verified copies and leave your files where they are (default: move them).")]
    = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would be ingested, quarantined, filed and composed; change nothing.")]
    = False,
) -> None:
    """Ingest every dataset in DIR: check, resolve target names, catalog, make lightcurves, file the data,
    and rebuild the composites that changed. Safe to re-run; exit code 3 if some datasets failed.

    Example: hstlc ingest --recursive /data/incoming
    """
    overrides = {"num_cores": cores, "resolver_offline": True if offline else None,
                 "scheduler_address": scheduler}
    if dry_run:
        _dry_run(ctx, directory, overrides, recursive=recursive, as_json=as_json)
        return
    with command(ctx, "ingest", overrides) as run:
        settings = run.settings
        if not settings.scheduler_address:
            start_worker_server(settings.num_cores)  # its imports run beside this process's own
        from hstlc.catalog import Catalog
        from hstlc.ingestion import ingest

        folder = directory if directory is not None else settings.ingest_dir
        assert folder is not None
        catalog = Catalog.from_url(settings.database_url)
        bar = None if as_json or run.options.quiet else _ProgressBar(run.err)
        try:
            if bar is not None:
                with bar.progress:
                    summary = ingest(folder, settings=settings, catalog=catalog, recursive=recursive,
                                     offline=True if offline else None, corrtag_extract=corrtag_extract,
                                     progress=bar, copy=copy)
            else:
                summary = ingest(folder, settings=settings, catalog=catalog, recursive=recursive,
                                 offline=True if offline else None, corrtag_extract=corrtag_extract,
                                 copy=copy)
        finally:
            catalog.dispose()
        if summary.log_path is None:
            summary.log_path = run.log_file
        if as_json:
            typer.echo(json.dumps(summary.to_dict(), indent=2))
        else:
            run.out.print(summary_table(summary))
            run.out.print(
                f"{len(summary.ingested)} ingested, {summary.bad_count} bad, {len(summary.failed)} failed "
                f"in {summary.wall_seconds:.1f} s. Log: {escape(str(summary.log_path or 'none'))}"
            )
    if summary.failed:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
