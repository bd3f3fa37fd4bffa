"""``hstlc check FILE...``: run the six quality checks on event files, optionally quarantining bad ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from hstlc.cli.context import EXIT_ERROR, EXIT_OK, EXIT_USAGE, command, print_error

if TYPE_CHECKING:
    from hstlc.quality import CheckOutcome, QuarantineResult


def _as_json(outcome: CheckOutcome, moved: QuarantineResult | None) -> dict[str, Any]:
    return {
        "file": str(outcome.path),
        "rootname": outcome.rootname,
        "verdict": outcome.verdict,
        "reasons": list(outcome.result.reasons),
        "files": [str(f) for f in outcome.files],
        "per_file": {str(f): list(r.reasons) for f, r in outcome.per_file},
        "error": None if outcome.error is None else str(outcome.error),
        "moved_to": None if moved is None else [str(p) for p in moved.moved],
        "move_error": None if moved is None or moved.error is None else str(moved.error),
    }


def check(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Event files (COS corrtag, STIS tag/corrtag).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdicts as JSON.")] = False,
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

    Exit status: 0 all good, 1 some dataset bad, 2 some file unreadable.
    """
    from hstlc.quality import check_paths, quarantine

    overrides = {"min_exptime": min_exptime, "bad_proposals": bad_proposal or None}
    with command(ctx, "check", overrides) as run:
        outcomes = check_paths(files, run.settings)
        moved: dict[int, QuarantineResult] = {}
        if move:
            for result in quarantine(outcomes, run.settings):
                moved[id(result.outcome)] = result
        if as_json:
            typer.echo(json.dumps([_as_json(o, moved.get(id(o))) for o in outcomes], indent=2))
        else:
            table = Table(title=f"Quality checks ({len(outcomes)} dataset(s))")
            table.add_column("file")
            table.add_column("verdict")
            table.add_column("reasons")
            if move:
                table.add_column("moved to")
            styles = {"good": "green", "bad": "red", "unreadable": "yellow"}
            for outcome in outcomes:
                names = ", ".join(f.name for f, _ in outcome.per_file) or outcome.path.name
                reasons = "; ".join(outcome.result.reasons) if outcome.error is None else "(see error)"
                row = [escape(names), f"[{styles[outcome.verdict]}]{outcome.verdict}[/]", escape(reasons)]
                if move:
                    result = moved.get(id(outcome))
                    row.append("" if result is None else escape(
                        str(result.moved[0].parent) if result.error is None and result.moved else "not moved"
                    ))
                table.add_row(*row)
            run.out.print(table)
        errors = [o.error for o in outcomes] + [r.error for r in moved.values()]
        for error in errors:
            if error is not None:
                print_error(run.err, str(error))
        if any(o.error is not None for o in outcomes):
            code = EXIT_USAGE
        elif any(o.bad for o in outcomes) or any(r.error is not None for r in moved.values()):
            code = EXIT_ERROR
        else:
            code = EXIT_OK
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
