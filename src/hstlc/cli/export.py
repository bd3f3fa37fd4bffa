"""``hstlc export targets|products -o FILE [filters] [--overwrite]``: a listing as CSV, ECSV, JSON,
VOTable or FITS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hstlc.cli import selection as opt
from hstlc.cli.context import command

export_app = typer.Typer(
    help="Write the targets or products listing to a file: CSV, ECSV, JSON, VOTable or FITS (from the file's "
    "extension), for TOPCAT, astropy or pandas.\n\n"
    "Example: hstlc export products --variable -o variable.vot",
    no_args_is_help=True,
)

Output = Annotated[
    Path,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        dir_okay=False,
        show_default=False,
        help="The file to write: .csv, .ecsv, .json, .vot/.votable/.xml or .fits/.fit/.fts.",
    ),
]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace FILE if it exists.")]


def _check_extension(output: Path) -> None:
    from hstlc.export import export_format

    try:
        export_format(output)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--output") from None


def _said(what: str, written: int, output: Path, fmt: str) -> str:
    from hstlc.export import FORMAT_NAMES

    return f"Wrote {written} {what} to {output} ({FORMAT_NAMES[fmt]})."


@export_app.command("targets")
def export_targets(
    ctx: typer.Context,
    output: Output,
    instrument: opt.Instrument = None,
    detector: opt.Detector = None,
    grating: opt.Grating = None,
    variable: opt.Variable = False,
    periodic: opt.Periodic = False,
    verdict: opt.Verdict = None,
    min_exptime: opt.MinExptime = None,
    proposal: opt.Proposal = None,
    since: opt.Since = None,
    name: opt.Name = None,
    sort: opt.Sort = None,
    descending: opt.Descending = False,
    limit: opt.Limit = None,
    overwrite: Overwrite = False,
) -> None:
    """Write the targets listing to FILE.

    The rows of hstlc targets with the same filters, every column of its --csv, with units and
    descriptions. Nothing else is written: no log, no catalog; an existing FILE only with --overwrite.

    Example: hstlc export targets --variable -o targets.vot
    """
    _check_extension(output)
    filters = opt.filter_of("targets", locals())
    from hstlc.export import export_targets as write

    with command(ctx, "export", log=False) as run, opt.open_catalog(run) as catalog:
        result = write(catalog, filters, output, settings_key=opt.settings_key(run), overwrite=overwrite)
        run.out.print(_said("target(s)", result.rows, output, result.format), soft_wrap=True, markup=False)


@export_app.command("products")
def export_products(
    ctx: typer.Context,
    output: Output,
    instrument: opt.Instrument = None,
    detector: opt.Detector = None,
    grating: opt.Grating = None,
    variable: opt.Variable = False,
    periodic: opt.Periodic = False,
    verdict: opt.Verdict = None,
    min_exptime: opt.MinExptime = None,
    proposal: opt.Proposal = None,
    since: opt.Since = None,
    name: opt.Name = None,
    product_type: opt.ProductType = None,
    sort: opt.Sort = None,
    descending: opt.Descending = False,
    limit: opt.Limit = None,
    overwrite: Overwrite = False,
) -> None:
    """Write the products listing to FILE.

    The rows of hstlc products with the same filters, every column of its --csv (path, proposals and every
    statistic included), with units and descriptions. Nothing else is written: no log, no catalog; an
    existing FILE only with --overwrite.

    Example: hstlc export products --variable --type composite -o variable.csv
    """
    _check_extension(output)
    filters = opt.filter_of("products", locals())
    from hstlc.export import export_products as write

    with command(ctx, "export", log=False) as run, opt.open_catalog(run) as catalog:
        result = write(catalog, filters, output, settings_key=opt.settings_key(run), overwrite=overwrite)
        run.out.print(_said("product(s)", result.rows, output, result.format), soft_wrap=True, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
