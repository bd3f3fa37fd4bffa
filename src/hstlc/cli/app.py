"""The ``hstlc`` Typer application: global options and the command registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hstlc import __version__

# The command modules import only typer, rich, hstlc.cli.context, hstlc.config and hstlc.errors at
# module level; the library modules a command needs (astropy, matplotlib, scipy, sqlalchemy, …) are
# imported when it runs, so ``hstlc --help`` and ``hstlc --version`` start fast.
from hstlc.cli import (
    check,
    config_cmd,
    db,
    demo,
    download,
    export,
    extract,
    ingest,
    plot,
    products,
    reset,
    resolve,
    run,
    show,
    stats,
    targets,
)
from hstlc.cli.context import GlobalOptions
from hstlc.cli.help_format import HelpGroup, use_for

app = typer.Typer(
    name="hstlc",
    help="Calibrated lightcurves from HST COS and STIS TIME-TAG event files, a catalog of everything "
    "seen, and which targets vary.\n\n"
    "Example: hstlc demo (a sample through every step), then hstlc COMMAND -h for each command.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},  # inherited by every command
    cls=HelpGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hstlc {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Settings file (TOML); default $HSTLC_CONFIG, "
                                  "./hstlc.toml, then the user config dir.", dir_okay=False)
    ] = None,
    home_dir: Annotated[
        Path | None, typer.Option("--home-dir", help="Root folder of the catalog and products.")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", metavar="URL", help="Catalog database URL (any SQLAlchemy URL).")
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More output; -vv for debug; "
                                          "tracebacks on errors.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                           help="Show the version and exit.")
    ] = False,
) -> None:
    """hstlc: HST COS/STIS TIME-TAG lightcurves."""
    ctx.obj = GlobalOptions(
        config=config,
        verbose=verbose,
        quiet=quiet,
        overrides={"home_dir": home_dir, "db_connection_string": db},
    )


# Every command, in the order ``--help`` lists them.
ingest.register(app)
check.register(app)
extract.register(app)
resolve.register(app)
stats.register(app)
targets.register(app)
products.register(app)
show.register(app)
export.register(app)
plot.register(app)
run.register(app)
download.register(app)
db.register(app)
reset.register(app)
demo.register(app)
config_cmd.register(app)
use_for(app)  # every command's help wraps to the terminal and names value types in words
