"""Command-line options several commands share."""

from __future__ import annotations

from typing import Annotated

import typer

Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS",
    help="Run the work on a Dask cluster: tcp://host:8786, or local:N for N worker processes here "
    "(default: scheduler_address, else num_cores local processes; needs 'hstlc\\[dask]').")]
