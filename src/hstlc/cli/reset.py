"""``hstlc reset database`` and ``hstlc reset filesystem``: start the catalog or the filed data over."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from hstlc.cli import selection as opt
from hstlc.cli.context import command

reset_app = typer.Typer(
    help="Start over: drop and recreate catalog tables, or put the filed data back into ingest_dir.\n\n"
    "Example: hstlc reset database --tables production",
    no_args_is_help=True,
)


def _confirm(question: str, yes: bool) -> None:
    """Ask ``question``; refuse without a terminal unless ``--yes`` was given."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise typer.BadParameter("this cannot be undone: confirm with --yes when not at a terminal",
                                 param_hint="--yes")
    if not typer.confirm(question, default=False):
        raise typer.Abort()


@reset_app.command("database")
def database(
    ctx: typer.Context,
    tables: Annotated[str, typer.Option(
        "--tables", help="production (metadata, outputs, stats and the ingest state; bad_data kept), all, or "
        "one table name (and the tables that depend on it).")] = "production",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was reset as JSON.")] = False,
) -> None:
    """Drop and recreate catalog tables, as the original reset_hstlc_database did: by default the
    production tables, keeping bad_data. Refused while an ingest runs. Files on disk are not touched.

    Example: hstlc reset database --tables production --yes
    """
    with command(ctx, "reset-database") as run:
        from hstlc.catalog.reset_queries import tables_to_reset
        from hstlc.reset import reset_database

        names = tables_to_reset(tables)
        with opt.open_catalog(run) as catalog:  # a catalog that does not exist is an error, not created
            _confirm(f"Drop and recreate {', '.join(names)} in {catalog.url}?", yes)
            done = reset_database(catalog, tables)
        if as_json:
            typer.echo(json.dumps(done.to_dict(), indent=2))
            return
        rows = ", ".join(f"{name} ({count if count is not None else 'absent'})"
                         for name, count in done.tables.items())
        run.out.print(f"Reset {escape(done.url)}: dropped and recreated {escape(rows)}", soft_wrap=True)


@reset_app.command("filesystem")
def filesystem(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was done as JSON.")] = False,
) -> None:
    """Put every filed dataset back into ingest_dir (verified moves, never over another file), remove the
    lightcurve products and derived STIS corrtags hstlc made from them, and forget them in the catalog, so
    that the next 'hstlc ingest' builds everything again. Quarantined data stays. Refused while an ingest
    runs; an interrupted reset is finished by running it again.

    Example: hstlc reset filesystem --yes && hstlc ingest
    """
    with command(ctx, "reset-filesystem") as run:
        from hstlc.reset import reset_filesystem

        settings = run.settings
        with opt.open_catalog(run) as catalog:
            _confirm(f"Move every filed dataset from {settings.filesystem_dir} back into "
                     f"{settings.ingest_dir} and forget it in {catalog.url}?", yes)
            done = reset_filesystem(settings, catalog)
        if as_json:
            typer.echo(json.dumps(done.to_dict(), indent=2))
        else:
            run.out.print(
                f"{done.datasets} dataset(s): {len(done.moved)} file(s) back in "
                f"{escape(str(settings.ingest_dir))}, "
                f"{len(done.removed)} product(s) and derived file(s) removed, "
                f"{sum(done.forgotten.values())} catalog row(s) deleted.", soft_wrap=True)
            for path in done.missing:
                run.err.print(f"[yellow]Warning:[/] {escape(path)} was listed but not found", soft_wrap=True)
            run.out.print(f"Next: hstlc ingest {escape(str(settings.ingest_dir))}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(reset_app, name="reset")
