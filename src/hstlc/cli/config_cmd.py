"""``hstlc config [--json | --csv]``: the effective settings and where each value came from."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hstlc.cli.context import command, echo_csv, output_format


def config(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the settings as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the settings as CSV (setting,value,from).")]
    = False,
) -> None:
    """Show the effective settings and where each value came from (default, file, env, flag). Read-only:
    creates no folder, log or catalog.

    Example: hstlc --home-dir /data/hstlc config --json
    """
    fmt = output_format(as_json, as_csv)
    from hstlc.catalog import masked_url

    with command(ctx, "config", log=False) as run:
        values = run.settings.model_dump(mode="json")
        values["db_connection_string"] = masked_url(run.settings.database_url)
        if fmt == "json":
            settings = {k: {"value": v, "source": run.loaded.sources[k]} for k, v in values.items()}
            payload = {"config_file": str(run.loaded.config_file) if run.loaded.config_file else None,
                       "settings": settings}
            typer.echo(json.dumps(payload, indent=2))
            return
        shown = {key: oct(value) if key == "file_mode" else ("" if value is None else str(value))
                 for key, value in values.items()}
        if fmt == "csv":
            echo_csv(("setting", "value", "from"), ((k, v, run.loaded.sources[k]) for k, v in shown.items()))
            return
        source = run.loaded.config_file or "none found"
        table = Table(title=escape(f"hstlc settings (config file: {source})"))
        table.add_column("setting")
        table.add_column("value", overflow="fold")
        table.add_column("from")
        for key, value in shown.items():
            table.add_row(key, escape(value), escape(run.loaded.sources[key]))
        run.out.print(table)


def register(app: typer.Typer) -> None:
    app.command("config")(config)
