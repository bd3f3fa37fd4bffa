"""``hstlc db init`` and ``hstlc db status``."""

from __future__ import annotations

import typer
from rich.table import Table

from hstlc.cli.context import command

db_app = typer.Typer(help="Create and inspect the catalog database.", no_args_is_help=True)


@db_app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the catalog's tables, or add the columns a newer hstlc defines (safe to run again:
    existing tables and rows are kept)."""
    from hstlc.catalog import Catalog

    with command(ctx, "db-init") as run:
        catalog = Catalog.from_url(run.settings.database_url)
        try:
            created, added = catalog.create_or_upgrade()
        finally:
            catalog.dispose()
        if created:
            run.out.print(f"Created {len(created)} table(s) in {catalog.url}: {', '.join(created)}")
        if added:
            run.out.print(f"Added {len(added)} column(s) in {catalog.url}: {', '.join(added)}")
        if not created and not added:
            run.out.print(f"Catalog {catalog.url} is up to date (nothing to create).")


@db_app.command("status")
def status(ctx: typer.Context) -> None:
    """Show the catalog URL (password masked), its tables and their row counts."""
    from hstlc.catalog import Catalog

    with command(ctx, "db-status") as run:
        catalog = Catalog.from_url(run.settings.database_url)
        try:
            counts = catalog.status()
        finally:
            catalog.dispose()
        run.out.print(f"Catalog: {catalog.url}", soft_wrap=True, markup=False)
        table = Table()
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, count in counts.items():
            table.add_row(name, "[dim]missing[/]" if count is None else str(count))
        run.out.print(table)
        if any(count is None for count in counts.values()):
            run.out.print("Some tables are missing: run 'hstlc db init'.")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
