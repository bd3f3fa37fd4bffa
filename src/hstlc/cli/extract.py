"""``hstlc extract FILE... -o DIR``: calibrated, GTI-aware lightcurves of event files (no database)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hstlc.cli.context import EXIT_PARTIAL, command, print_error

if TYPE_CHECKING:
    from hstlc.extraction import ExtractOutcome

#: The library's advice when a product exists, and the same advice as this command's flag.
OVERWRITE_HINT = ("(use overwrite to replace it)", "(use --overwrite to replace it)")


def extract(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Event files: COS corrtag (either file of an FUV pair), STIS tag (.fits, .fits.gz/.bz2)."
        ),
    ],
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir", "-o", file_okay=False,
            help="Write <rootname>_curve.fits for each dataset here (default: the current folder, unless "
            "only --composite is given).",
        ),
    ] = None,
    step: Annotated[float | None, typer.Option("--step", help="Bin width in seconds (default 2).")] = None,
    wmin: Annotated[float | None, typer.Option("--wmin", help="Shortest wavelength kept (Å).")] = None,
    wmax: Annotated[float | None, typer.Option("--wmax", help="Longest wavelength kept (Å).")] = None,
    keep_airglow: Annotated[
        bool | None,
        typer.Option(
            "--keep-airglow/--drop-airglow",
            help="Keep the Lyα 1208–1225 Å and O I 1298–1312 Å airglow windows (dropped by default).",
        ),
    ] = None,
    max_sun_alt: Annotated[
        float | None,
        typer.Option("--max-sun-alt", help="Drop time when TIMELINE SUN_ALT exceeds this (degrees)."),
    ] = None,
    composite: Annotated[
        Path | None,
        typer.Option(
            "--composite",
            help="Also stack all given datasets into this file (a folder gets the HLSP composite name).",
        ),
    ] = None,
    lref_dir: Annotated[
        Path | None, typer.Option("--lref-dir", help="COS reference files (default $lref).")
    ] = None,
    oref_dir: Annotated[
        Path | None, typer.Option("--oref-dir", help="STIS reference files (default $oref).")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing products.")] = False,
) -> None:
    """Extract lightcurves: both FUV segments (or NUV stripes, or the STIS order(s)), background-subtracted,
    flux-calibrated when the reference files are found, binned on the good time only.

    Exit status: 0 all extracted, 1 error, 3 some files failed (each named in an Error: line, by the path
    as you gave it).

    Example: hstlc extract --step 5 -o curves lb4m01aaq_corrtag_a.fits
    """
    if output_dir is None and composite is None:
        output_dir = Path()  # the current folder
    overrides = {
        "step": step,
        "keep_airglow": keep_airglow,
        "max_sun_alt": max_sun_alt,
        "lref_dir": lref_dir,
        "oref_dir": oref_dir,
    }
    from hstlc.extraction import ExtractionParams, extract_paths

    with command(ctx, "extract", overrides) as run:
        settings = run.settings
        params = ExtractionParams.from_settings(settings, wmin=wmin, wmax=wmax)
        report = extract_paths(
            files,
            params,
            output_dir=output_dir,
            composite=composite,
            lref_dir=settings.lref_dir,
            oref_dir=settings.oref_dir,
            overwrite=overwrite,
        )
        rows: list[ExtractOutcome] = [*report.outcomes, *([report.composite] if report.composite else [])]
        table = Table(title=f"Lightcurves ({sum(o.ok for o in rows)} written, {len(report.failed)} failed)")
        for name, justify in (
            ("dataset", "left"),
            ("bins", "right"),
            ("total counts", "right"),
            ("mean rate (count/s)", "right"),
            ("flux calibrated", "center"),
            ("product", "left"),
        ):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for o in rows:
            if o.ok:
                table.add_row(
                    escape(o.name),
                    str(o.bins),
                    f"{o.total_counts:.1f}",
                    f"{o.mean_rate:.4g}",
                    "yes" if o.flux_calibrated else "[yellow]no[/]",
                    escape(str(o.product) if o.product else ""),
                )
            else:
                table.add_row(escape(o.name), "", "", "", "", "[red]failed[/]")
        run.out.print(table)
        from hstlc.errors import located_text

        for o in report.failed:
            # the library's messages name files by name; say which of the given paths (or their companions)
            message = located_text(o.error, files) if o.error else o.name
            print_error(run.err, message.replace(*OVERWRITE_HINT))  # name the flag that replaces a product
        if report.failed:
            raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
