"""``hstlc show NAME [--json]``: a target, a rootname, a product or an input file, and all the catalog
knows of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from hstlc.cli import selection as opt
from hstlc.cli.context import Run, command, print_table
from hstlc.cli.products import configuration, product_table

if TYPE_CHECKING:
    from hstlc.catalog.show import CatalogEntry, DatasetEntry, ProductEntry, RejectedFile


def _target_line(entry: CatalogEntry) -> Text | None:
    """``periodic, best period 2.5 min (FAP <1e-16); 1 dataset(s), 900 s, MJD …; STIS G140L; proposals …``."""
    from hstlc.display import format_probability

    t = entry.target
    if t is None:
        return None
    line = opt.verdict_cell(t.verdict, t.stale)
    if t.verdict == "periodic":
        line.append(", best period ")
        line.append_text(opt.period_cell(t.verdict, t.best_period))
        line.append(f" (FAP {format_probability(t.fap)})")
    line.append(
        f"; {t.datasets} dataset(s), {opt.seconds(t.exptime)}, MJD {opt.number(t.first_mjd, '.3f')}–"
        f"{opt.number(t.last_mjd, '.3f')}; {opt.joined(t.instruments)} {opt.joined(t.gratings)}; proposals "
        f"{opt.joined(t.proposals)}"
    )
    return line


def _datasets_table(datasets: tuple[DatasetEntry, ...]) -> Table:
    table = Table(title="Datasets")
    table.add_column("rootname", no_wrap=True)
    table.add_column("TARGNAME", overflow="fold")
    table.add_column("proposal", justify="right", no_wrap=True)
    table.add_column("EXPSTART (MJD)", justify="right", no_wrap=True)
    table.add_column("EXPTIME", justify="right", no_wrap=True)
    table.add_column("configuration", overflow="fold")
    table.add_column("segments", overflow="fold")
    for d in datasets:
        config = " ".join(str(p) for p in (d.instrument, d.detector, d.grating, d.cenwave, d.aperture) if p)
        cells = (
            d.rootname,
            d.targname_orig or "–",
            opt.number(d.proposal, "d"),
            opt.number(d.expstart, ".5f"),
            opt.seconds(d.exptime),
            config,
            opt.joined(d.segments),
        )
        table.add_row(*map(opt.plain, cells))
    return table


def _bands_table(products: tuple[ProductEntry, ...]) -> Table:
    from hstlc.display import format_period, format_probability

    table = Table(title="Periodogram bands")
    table.add_column("product", overflow="fold")
    table.add_column("band", no_wrap=True)
    table.add_column("best period", justify="right", no_wrap=True)
    table.add_column("FAP", justify="right", no_wrap=True)
    table.add_column("note", overflow="fold")
    for p in products:
        note = f"stale: {p.stale_reason}" if p.stale_reason else ""
        if not p.bands:
            missing = "no stats: run hstlc stats" if not p.product.has_stats else ""
            table.add_row(*map(opt.plain, (p.product.filename, "–", "–", "–", note or missing)))
        for band in p.bands:
            cells = (
                p.product.filename,
                band.band,
                format_period(band.best_period),
                format_probability(band.fap),
                band.skipped or note,
            )
            table.add_row(*map(opt.plain, cells))
    return table


def _on_disk(exists: bool) -> Text:
    return Text("yes") if exists else Text("missing", style="red")


def _files_table(entry: CatalogEntry) -> Table:
    table = Table(title="Files")
    table.add_column("file", overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("where", overflow="fold")
    table.add_column("on disk", no_wrap=True)
    for p in entry.products:
        kind = f"{p.product.product_type} product"
        table.add_row(
            opt.plain(p.product.filename),
            opt.plain(kind),
            opt.plain(p.product.path),
            _on_disk(p.exists),
        )
    for d in entry.datasets:
        for f in d.files:
            table.add_row(
                opt.plain(f.name),
                opt.plain(f"{f.role} ({d.rootname})"),
                opt.plain(f.path),
                _on_disk(f.exists),
            )
    for r in entry.rejected:
        where = str(Path(r.path) / r.filename) if r.path else "–"
        present = _on_disk(r.exists) if r.exists is not None else opt.plain("–")
        table.add_row(opt.plain(r.filename), opt.plain("rejected"), opt.plain(where), present)
    return table


def _rejected_table(rejected: tuple[RejectedFile, ...]) -> Table:
    table = Table(title="Rejected by the quality checks")
    table.add_column("file", overflow="fold")
    table.add_column("reasons", overflow="fold")
    table.add_column("when", no_wrap=True)
    for r in rejected:
        when = r.ingest_date.strftime("%Y-%m-%d %H:%M") if r.ingest_date else "–"
        table.add_row(*map(opt.plain, (r.filename, "; ".join(r.reasons), when)))
    return table


def _render(run: Run, entry: CatalogEntry) -> None:
    what = {"product": "Product", "file": "File", "dataset": "Dataset", "target": "Target"}[entry.kind]
    run.out.print(Text.assemble(f"{what} ", (entry.matched, "bold")), soft_wrap=True)
    line = _target_line(entry)
    if line is not None and entry.kind != "target":
        assert entry.target is not None
        run.out.print(Text.assemble("Target ", (entry.target.target, "bold"), ": ", line), soft_wrap=True)
    elif line is not None:
        run.out.print(line, soft_wrap=True)
    if entry.datasets:
        print_table(run.out, _datasets_table(entry.datasets))
    if entry.products:
        rows = [p.product for p in entry.products]
        print_table(run.out, product_table(rows, "Products"))
        print_table(run.out, _bands_table(entry.products))
    if entry.rejected:
        print_table(run.out, _rejected_table(entry.rejected))
    if entry.products or entry.datasets or entry.rejected:
        print_table(run.out, _files_table(entry))
    for p in entry.products:
        if len(p.rootnames) > 1:
            run.out.print(
                f"{p.product.filename} ({configuration(p.product)}) combines {len(p.rootnames)} datasets: "
                f"{opt.joined(p.rootnames)}",
                soft_wrap=True,
                markup=False,
            )


def show(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="A target (any spelling: 'hd 93521'), a rootname, a product or an input file name.",
            show_default=False,
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print everything as one JSON record.")] = False,
) -> None:
    """Show everything the catalog holds about a target, a dataset, a product or a file.

    NAME is tried as a product file name, an input file name, a rootname, then a target name (case, blanks
    and hyphens do not matter). Shows the target's verdict; each dataset with its original TARGNAME,
    proposal, EXPSTART, EXPTIME and configuration; each product with its stats and every periodogram
    band's best period and FAP; the files the quality checks rejected, with their reasons; and where every
    file is on disk. Read-only; an unknown NAME is an error (exit 1) naming similar targets.

    Example: hstlc show AZV-148 --json
    """
    with command(ctx, "show", log=False) as run, opt.open_catalog(run) as catalog:
        entry = catalog.show(name, settings_key=opt.settings_key(run))
        if as_json:
            typer.echo(json.dumps(entry.to_dict(), indent=2, ensure_ascii=False))
        else:
            _render(run, entry)


def register(app: typer.Typer) -> None:
    app.command("show")(show)
