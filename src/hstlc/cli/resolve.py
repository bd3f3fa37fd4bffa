"""``hstlc resolve NAME... [--offline] [--refresh] [--json | --csv] [--add ALIAS=TARGNAME]``."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hstlc.cli.context import command, echo_csv, output_format

if TYPE_CHECKING:
    from hstlc.config import Settings
    from hstlc.resolver import AddedAlias, Resolution

#: Sesame aliases shown per name in the table (``--json`` has them all).
SHOWN_ALIASES = 6


def _aliases_cell(aliases: tuple[str, ...]) -> str:
    if not aliases:
        return ""
    shown = ", ".join(aliases[:SHOWN_ALIASES])
    more = len(aliases) - SHOWN_ALIASES
    return f"{shown}, … (+{more})" if more > 0 else shown


def _table(resolutions: list[Resolution], caption: str) -> Table:
    table = Table(title="Target-name resolution", caption=caption)
    table.add_column("input", overflow="fold")
    table.add_column("resolved", style="bold", overflow="fold")
    table.add_column("how")
    table.add_column("Sesame aliases seen", overflow="fold")
    table.add_column("note", overflow="fold")
    for r in resolutions:
        table.add_row(escape(r.input), escape(r.resolved), r.method, escape(_aliases_cell(r.aliases)),
                      escape(r.note))
    return table


def resolve(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Target names to resolve (as in TARGNAME; quote names with blanks).",
                       show_default=False),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Alias table, rules and cached replies only: no network.")
    ] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask Sesame again even when a cached reply is still fresh.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the resolutions as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option(
        "--csv", help="Print the resolutions as CSV: input,resolved,how,aliases (joined by '|'),note.")]
    = False,
    add: Annotated[
        list[str] | None,
        typer.Option("--add", metavar="ALIAS=TARGNAME",
                     help="Add an entry to your alias file (and the catalog's alias table); repeatable."),
    ] = None,
) -> None:
    """Resolve target names: alias table, normalisation rules, CDS Sesame and the catalog's targets.

    A name that stays unchanged is not an error (exit 0). With --offline (and no --add) nothing is
    written: no log file, no catalog, no folder.

    Example: hstlc resolve --offline AZV-148 "HD 209458"
    """
    if not names and not add:
        raise typer.BadParameter("give at least one NAME, or --add ALIAS=TARGNAME", param_hint="NAME")
    fmt = output_format(as_json, as_csv)
    from hstlc.resolver import add_alias, open_catalog, parse_alias_spec, resolve_targets

    def changes(settings: Settings) -> bool:
        """A run that may write (the alias file, Sesame's replies to the catalog) keeps a log file."""
        return bool(add) or not settings.resolver_offline

    with command(ctx, "resolve", {"resolver_offline": True if offline else None}, log=changes) as run:
        specs = list(add or [])
        for spec in specs:  # refuse a malformed entry before writing anything
            parse_alias_spec(spec)
        catalog, why = open_catalog(run.settings)
        try:
            added: list[AddedAlias] = [add_alias(s, settings=run.settings, catalog=catalog) for s in specs]
            results = resolve_targets(names or [], catalog=catalog, settings=run.settings, refresh=refresh)
        finally:
            if catalog is not None:
                catalog.dispose()
        resolutions = list(results.values())
        where = catalog.url if catalog is not None else None
        if fmt == "json":
            payload = {
                "catalog": where,
                "offline": run.settings.resolver_offline,
                "added": [asdict(a) for a in added],
                "resolutions": [r.to_dict() for r in resolutions],
            }
            typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        said = run.err if fmt == "csv" else run.out  # with --csv, stdout is the CSV only
        for a in added:
            state = "added to" if a.written_to_file else "already in"
            catalog_state = a.catalog if catalog is not None else f"not updated ({why})"
            said.print(f"Alias {escape(a.alias)} → {escape(a.targname)} {state} {escape(a.file)}; "
                       f"catalog: {escape(catalog_state)}", soft_wrap=True)
        if fmt == "csv":
            echo_csv(("input", "resolved", "how", "aliases", "note"),
                     ((r.input, r.resolved, r.method, "|".join(r.aliases), r.note) for r in resolutions))
            return
        if resolutions:
            caption = f"catalog {where}" if where else why
            if run.settings.resolver_offline:
                caption += "; offline (Sesame not asked)"
            run.out.print(_table(resolutions, escape(caption)))


def register(app: typer.Typer) -> None:
    app.command("resolve")(resolve)
