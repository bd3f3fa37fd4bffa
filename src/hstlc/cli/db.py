"""``hstlc db init`` and ``hstlc db status [--json | --csv]``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hstlc.cli.context import command, echo_csv, output_format

db_app = typer.Typer(
    help="Create and inspect the catalog database.\n\nExample: hstlc db init && hstlc db status",
    no_args_is_help=True,
)


@db_app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the catalog's tables, or add the columns a newer hstlc defines (safe to run again:
    existing tables and rows are kept).

    Example: hstlc --home-dir /data/hstlc db init
    """
    from hstlc.catalog import Catalog

    with command(ctx, "db-init") as run:
        catalog = Catalog.from_url(run.settings.database_url)
        try:
            created, added = catalog.create_or_upgrade()
        finally:
            catalog.dispose()
        if created:
            run.out.print(f"Created {len(created)} table(s) in {catalog.url}: {', '.join(created)}",
                          soft_wrap=True, markup=False)
        if added:
            run.out.print(f"Added {len(added)} column(s) in {catalog.url}: {', '.join(added)}",
                          soft_wrap=True, markup=False)
        if not created and not added:
            run.out.print(f"Catalog {catalog.url} is up to date (nothing to create).", soft_wrap=True,
                          markup=False)


@db_app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalog URL and row counts as JSON.")]
    = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the row counts as CSV (table,rows).")] = False,
) -> None:
    """Show the catalog URL (password masked), its tables and their row counts. Read-only: a catalog
    that does not exist yet is an error (exit 1), never created.

    Example: hstlc db status --json
    """
    fmt = output_format(as_json, as_csv)
    from hstlc.catalog import Catalog

    with command(ctx, "db-status", log=False) as run:
        catalog = Catalog.from_url(run.settings.database_url, create=False)
        try:
            counts = catalog.status()
        finally:
            catalog.dispose()
        missing = [name for name, count in counts.items() if count is None]
        if fmt == "json":
            typer.echo(json.dumps({"catalog": catalog.url, "tables": counts, "missing_tables": missing},
                                  indent=2))
            return
        if fmt == "csv":
            echo_csv(("table", "rows"), counts.items())
            return
        run.out.print(f"Catalog: {catalog.url}", soft_wrap=True, markup=False)
        table = Table()
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, count in counts.items():
            table.add_row(escape(name), "[dim]missing[/]" if count is None else str(count))
        run.out.print(table)
        if missing:
            run.out.print("Some tables are missing: run 'hstlc db init'.")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
