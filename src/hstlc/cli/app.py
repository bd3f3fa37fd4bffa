"""The ``hstlc`` Typer application: global options and the command registry."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Optional

import typer

from hstlc import __version__
from hstlc.cli.context import GlobalOptions

app = typer.Typer(
    name="hstlc",
    help="Calibrated lightcurves from HST COS and STIS TIME-TAG event files, a catalog of everything "
    "seen, and which targets vary.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hstlc {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Optional[Path], typer.Option("--config", "-c", help="Settings file (TOML); default $HSTLC_CONFIG, "
                                     "./hstlc.toml, then the user config dir.", dir_okay=False)
    ] = None,
    home_dir: Annotated[
        Optional[Path], typer.Option("--home-dir", help="Root folder of the catalog and products.")
    ] = None,
    db: Annotated[
        Optional[str], typer.Option("--db", help="Catalog database URL (any SQLAlchemy URL).")
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More output; -vv for debug; "
                                          "tracebacks on errors.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """hstlc: HST COS/STIS TIME-TAG lightcurves."""
    ctx.obj = GlobalOptions(
        config=config,
        verbose=verbose,
        quiet=quiet,
        overrides={"home_dir": home_dir, "db_connection_string": db},
    )


#: Command modules, each with a ``register(app)`` function, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "ingest",
    "check",
    "extract",
    "resolve",
    "stats",
    "plot",
    "db",
    "demo",
    "config_cmd",
)

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"hstlc.cli.{_name}")
    except ModuleNotFoundError as _exc:  # a command still being written on a development branch
        if _exc.name != f"hstlc.cli.{_name}":
            raise
        continue
    _module.register(app)
