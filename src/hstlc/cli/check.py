"""``hstlc check FILE...``: run the six quality checks on event files, optionally quarantining bad ones."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hstlc.cli.context import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    command,
    echo_csv,
    output_format,
    print_error,
)

if TYPE_CHECKING:
    from hstlc.file_checks import CheckOutcome
    from hstlc.ingestion.quarantine import QuarantineResult


def _as_json(outcome: CheckOutcome, moved: QuarantineResult | None, given: list[Path]) -> dict[str, Any]:
    from hstlc.errors import message_with_path

    return {
        "file": str(outcome.path),
        "rootname": outcome.rootname,
        "verdict": outcome.verdict,
        "reasons": list(outcome.result.reasons),
        "files": [str(f) for f in outcome.files],
        "per_file": {str(f): list(r.reasons) for f, r in outcome.per_file},
        "error": None if outcome.error is None else message_with_path(outcome.error, given),
        "moved_to": None if moved is None else [str(p) for p in moved.moved],
        "move_error": None if moved is None or moved.error is None else message_with_path(moved.error, given),
    }


def _csv_rows(outcomes: Sequence[CheckOutcome], moved: Mapping[int, QuarantineResult],
              given: Sequence[Path]) -> Iterator[list[str]]:
    """One row per file: the file as given (or found beside it), its dataset, verdict and reasons."""
    from hstlc.errors import message_with_path

    for outcome in outcomes:
        result = moved.get(id(outcome))
        where = "" if result is None or result.error is not None or not result.moved else str(
            result.moved[0].parent)
        error = "" if outcome.error is None else message_with_path(outcome.error, given)
        per_file = outcome.per_file or ((outcome.path, None),)
        for path, checked in per_file:
            reasons = "" if checked is None else "; ".join(checked.reasons)
            yield [str(path), outcome.rootname or "", outcome.verdict, reasons, error, where]


def check(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(help="Event files (COS corrtag, STIS tag/corrtag; .fits, .fits.gz or .fits.bz2)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdicts as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the verdicts as CSV (one row per file).")]
    = False,
    move: Annotated[
        bool,
        typer.Option("--move", help="Record bad datasets in the catalog's bad_data table and move all their "
                     "files into bad_data_dir."),
    ] = False,
    min_exptime: Annotated[
        float | None, typer.Option("--min-exptime", help="Shortest acceptable EXPTIME in seconds.")
    ] = None,
    bad_proposal: Annotated[
        list[int] | None, typer.Option("--bad-proposal", help="A PROPOSID to reject (repeatable).")
    ] = None,
) -> None:
    """Check event files: EXPFLAG, time order, events present, not one single time, proposal, exposure.

    Each row is a file you named (with the other segment of an FUV pair); an x1d alone is reported as
    "unsupported" (not an event list), naming the event file to check. Errors name files as you gave them.

    Exit status: 0 all good, 1 some dataset bad, 2 some file unreadable or not an event list.

    Example: hstlc check --min-exptime 100 lb4m01aaq_corrtag_a.fits
    """
    from hstlc.errors import message_with_path
    from hstlc.file_checks import check_paths
    from hstlc.ingestion.quarantine import quarantine

    overrides = {"min_exptime": min_exptime, "bad_proposals": bad_proposal or None}
    form = output_format(as_json, as_csv)
    with command(ctx, "check", overrides, log=move) as run:  # only --move changes something
        outcomes = check_paths(files, run.settings)
        moved: dict[int, QuarantineResult] = {}
        if move:
            for result in quarantine(outcomes, run.settings):
                moved[id(result.outcome)] = result
        if form == "json":
            typer.echo(json.dumps([_as_json(o, moved.get(id(o)), files) for o in outcomes], indent=2))
        elif form == "csv":
            echo_csv(["file", "dataset", "verdict", "reasons", "error", "moved_to"],
                     _csv_rows(outcomes, moved, files))
        else:
            table = Table(title=f"Quality checks ({len(outcomes)} dataset(s))")
            table.add_column("file")
            table.add_column("verdict")
            table.add_column("reasons")
            if move:
                table.add_column("moved to")
            styles = {"good": "green", "bad": "red", "unreadable": "yellow", "unsupported": "yellow"}
            for outcome in outcomes:
                names = ", ".join(f.name for f, _ in outcome.per_file) or outcome.path.name
                reasons = "; ".join(outcome.result.reasons) if outcome.error is None else "(see error)"
                row = [escape(names), f"[{styles[outcome.verdict]}]{outcome.verdict}[/]", escape(reasons)]
                if move:
                    done = moved.get(id(outcome))
                    row.append("" if done is None else escape(
                        str(done.moved[0].parent) if done.error is None and done.moved else "not moved"
                    ))
                table.add_row(*row)
            run.out.print(table)
        errors = [o.error for o in outcomes] + [r.error for r in moved.values()]
        for error in errors:
            if error is not None:
                print_error(run.err, message_with_path(error, files))
        if any(o.error is not None for o in outcomes):
            code = EXIT_USAGE
        elif any(o.bad for o in outcomes) or any(r.error is not None for r in moved.values()):
            code = EXIT_ERROR
        else:
            code = EXIT_OK
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
