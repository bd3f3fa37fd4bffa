"""What ``hstlc targets``, ``hstlc products`` and ``hstlc export`` share: the filter options, the catalog
they read (never created) and how their cells print.

Each command declares the options below (Typer needs them in its signature) and passes them to
:func:`catalog_filter`, which builds the library's :class:`~hstlc.catalog.listings.CatalogFilter` — a bad
value is a usage error (exit 2) naming the option.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from hstlc.cli.context import Run

if TYPE_CHECKING:
    from hstlc.catalog import Catalog
    from hstlc.catalog.listings import CatalogFilter


class ProductTypeChoice(str, Enum):
    individual = "individual"
    composite = "composite"


Instrument = Annotated[
    str | None,
    typer.Option("--instrument", metavar="NAME", help="Only data of this instrument (COS, STIS; any case)."),
]
Detector = Annotated[
    str | None,
    typer.Option(
        "--detector", metavar="NAME", help="Only data of this detector (FUV, NUV, FUV-MAMA, NUV-MAMA)."
    ),
]
Grating = Annotated[
    str | None,
    typer.Option("--grating", metavar="NAME", help="Only data of this grating, OPT_ELEM (G130M, E140M …)."),
]
Variable = Annotated[bool, typer.Option("--variable", help="Only what varies: verdict variable or periodic.")]
Periodic = Annotated[bool, typer.Option("--periodic", help="Only verdict periodic (a significant period).")]
Verdict = Annotated[
    str | None,
    typer.Option(
        "--verdict",
        metavar="VERDICT",
        help="Only this verdict: periodic, variable, constant, undetermined or no-counts.",
    ),
]
MinExptime = Annotated[
    float | None,
    typer.Option(
        "--min-exptime", metavar="SECONDS", help="Only a total exposure of at least this many seconds."
    ),
]
Proposal = Annotated[
    int | None,
    typer.Option("--proposal", metavar="ID", help="Only with a dataset of this proposal (PROPOSID)."),
]
Since = Annotated[
    str | None,
    typer.Option(
        "--since", metavar="MJD|DATE", help="Only with data at or after this MJD or date (2020-01-31)."
    ),
]
Name = Annotated[
    str | None,
    typer.Option(
        "--name",
        metavar="GLOB",
        help="Only targets whose name matches; * and ? are wildcards; case, blanks and hyphens do not matter "
        "(AZV-148, 'azv 148' find AZV148).",
    ),
]
Sort = Annotated[
    str | None,
    typer.Option("--sort", metavar="COLUMN", help="Sort by this column (default: verdict, periodic first)."),
]
Descending = Annotated[bool, typer.Option("--desc", help="Sort the --sort column in descending order.")]
Limit = Annotated[int | None, typer.Option("--limit", metavar="N", min=0, help="At most N rows.")]
ProductType = Annotated[
    ProductTypeChoice | None,
    typer.Option(
        "--type", help="Only individual products (one dataset) or composites (all of a configuration)."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the rows as JSON (a list of records).")]
AsCsv = Annotated[
    bool, typer.Option("--csv", help="Print the rows as CSV (the columns of --json; lists joined by commas).")
]


#: The option of each field a library :class:`ValueError` names (``"since: …"``).
FIELD_OPTIONS = {
    "verdict": "--verdict",
    "type": "--type",
    "limit": "--limit",
    "proposal": "--proposal",
    "min_exptime": "--min-exptime",
    "since": "--since",
    "name": "--name",
}


def catalog_filter(
    *,
    listing: str,
    instrument: str | None = None,
    detector: str | None = None,
    grating: str | None = None,
    variable: bool = False,
    periodic: bool = False,
    verdict: str | None = None,
    min_exptime: float | None = None,
    proposal: int | None = None,
    since: str | None = None,
    name: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    product_type: ProductTypeChoice | None = None,
) -> CatalogFilter:
    """The library filter of a command's options for ``listing`` (``targets`` or ``products``); a value it
    cannot use is a usage error (exit 2)."""
    from hstlc.catalog.listings import PRODUCT_SORTS, TARGET_SORTS, CatalogFilter, parse_since

    sorts = TARGET_SORTS if listing == "targets" else PRODUCT_SORTS

    if sort is not None and sort not in sorts:
        raise typer.BadParameter(
            f"{sort!r} is not a column to sort by; choose one of {', '.join(sorts)}", param_hint="--sort"
        )
    try:
        return CatalogFilter(
            instrument=instrument,
            detector=detector,
            grating=grating,
            variable=variable,
            periodic=periodic,
            verdict=None if verdict is None else verdict.strip().lower().replace("-", " ").replace("_", " "),
            min_exptime=min_exptime,
            proposal=proposal,
            since=None if since is None else parse_since(since),
            name=name,
            product_type=None if product_type is None else product_type.value,
            sort=sort,
            descending=descending,
            limit=limit,
        )
    except ValueError as exc:
        field, _colon, message = str(exc).partition(": ")
        raise typer.BadParameter(message or str(exc), param_hint=FIELD_OPTIONS.get(field)) from None


def filter_of(listing: str, options: Mapping[str, Any]) -> CatalogFilter:
    """:func:`catalog_filter` of the filter options among a command's parameters (its ``locals()``, taken
    first thing), so each listing command does not spell out the same fifteen arguments."""
    wanted = inspect.signature(catalog_filter).parameters.keys() - {"listing"}
    return catalog_filter(listing=listing, **{k: v for k, v in options.items() if k in wanted})


def settings_key(run: Run) -> str:
    """The key of the current verdict settings (stats made with others are shown stale)."""
    from hstlc.science.verdict import settings_key as key_of

    return key_of(**run.settings.verdict_settings())


@contextmanager
def open_catalog(run: Run) -> Iterator[Catalog]:
    """The catalog of the settings, for reading: one that does not exist is an error, never created."""
    from hstlc.catalog import Catalog

    catalog = Catalog.open_existing(run.settings.database_url)
    try:
        yield catalog
    finally:
        catalog.dispose()


def csv_rows(rows: Sequence[Any], names: Sequence[str]) -> Iterator[list[Any]]:
    """The ``--csv`` rows of listing rows: their ``to_dict(flat=True)`` values in the order of ``names``."""
    for row in rows:
        record = row.to_dict(flat=True)
        yield [record[name] for name in names]


def nothing_matches(run: Run, what: str, filters: CatalogFilter) -> None:
    """The one line an empty listing prints."""
    if filters.selects:
        run.out.print(f"No {what} match.", markup=False)
    else:
        run.out.print(f"No {what} in the catalog yet (hstlc ingest DIR adds some).", markup=False)


# --- how cells print --------------------------------------------------------------------------------

VERDICT_STYLE = {
    "periodic": "bold yellow",
    "variable": "bold magenta",
    "constant": "",
    "undetermined": "dim",
    "no counts": "dim",
}


def verdict_cell(verdict: str | None, stale: bool = False) -> Text:
    """The verdict in its colour (``no stats`` dim), ``(stale)`` after stats an older method made."""
    if verdict is None:
        return Text("no stats", style="dim")
    text = Text(verdict, style=VERDICT_STYLE.get(verdict, ""))
    if stale:
        text.append(" (stale)", style="dim")
    return text


def period_cell(verdict: str | None, period: float | None) -> Text:
    """The best period; dim unless it is the verdict's (periodic)."""
    from hstlc.display import format_period

    return Text(format_period(period), style="" if verdict == "periodic" or period is None else "dim")


def plain(value: object) -> Text:
    """A cell shown as it is (a name with ``[`` or ``*`` is no markup)."""
    return Text(str(value))


def number(value: Any, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} s"


def joined(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)


__all__ = [
    "AsCsv",
    "AsJson",
    "Descending",
    "Detector",
    "Grating",
    "Instrument",
    "Limit",
    "MinExptime",
    "Name",
    "Periodic",
    "ProductType",
    "ProductTypeChoice",
    "Proposal",
    "Since",
    "Sort",
    "Variable",
    "Verdict",
    "catalog_filter",
    "csv_rows",
    "joined",
    "nothing_matches",
    "number",
    "open_catalog",
    "period_cell",
    "plain",
    "seconds",
    "settings_key",
    "verdict_cell",
]
