"""What every command shares: settings from flags, the per-run log file, the console and the one
error boundary (``HstlcError`` → ``Error: …`` in red and exit 1; a traceback only with ``--verbose``).
"""

from __future__ import annotations

import getpass
import logging
import platform
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from hstlc.config import LoadedSettings, Settings, load_settings
from hstlc.errors import HstlcError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


@dataclass
class GlobalOptions:
    """Options given before the command (``hstlc --config F -v ingest …``)."""

    config: Path | None = None
    verbose: int = 0
    quiet: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)


def console(stderr: bool = False) -> Console:
    """A rich console (stdout for results, stderr for messages). Width follows $COLUMNS."""
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def global_options(ctx: typer.Context) -> GlobalOptions:
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions()
    return root.obj


@dataclass
class Run:
    """One command run: its settings, where they came from, the log file and the consoles."""

    name: str
    loaded: LoadedSettings
    log_file: Path | None
    out: Console
    err: Console
    options: GlobalOptions

    @property
    def settings(self) -> Settings:
        return self.loaded.settings


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name in ("hstlc", "numpy", "scipy", "astropy", "sqlalchemy", "pydantic", "typer", "rich", "requests"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _configure_logging(
    run_name: str, settings: Settings, options: GlobalOptions, err: Console
) -> Path | None:
    root = logging.getLogger("hstlc")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG)
    root.propagate = False
    level = logging.WARNING if options.quiet else (logging.DEBUG if options.verbose > 1 else
                                                    logging.INFO if options.verbose == 1 else logging.WARNING)
    screen = RichHandler(console=err, show_time=False, show_path=False, markup=False, rich_tracebacks=False)
    screen.setLevel(level)
    root.addHandler(screen)

    log_dir = settings.log_dir
    assert log_dir is not None
    stamp = datetime.now().strftime("%Y-%m-%d-%H-%M-%S")
    path = log_dir / f"{run_name}_{stamp}.log"
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        root.warning("cannot write the log file in %s (%s); logging to the console only", log_dir, exc)
        return None
    file_handler.setLevel(logging.DEBUG)
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(file_handler)
    root.info(
        "hstlc %s run by %s on %s; %s",
        run_name,
        _user(),
        socket.gethostname(),
        ", ".join(f"{k} {v}" for k, v in library_versions().items()),
    )
    root.debug("command line: %s", " ".join(sys.argv))
    return path


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def print_table(out: Console, table: Table) -> None:
    """``table`` on ``out``: in a terminal at its width (long cells fold); piped or redirected, as wide
    as the table needs, so a script or a file gets every name whole on one line."""
    if out.is_terminal:
        out.print(table)
        return
    narrow = out.width
    out.width = max(narrow, Measurement.get(out, out.options.update_width(10_000), table).maximum)
    try:
        out.print(table)
    finally:
        out.width = narrow


def print_error(err: Console, message: str) -> None:
    """One red ``Error: …`` line, never wrapped (a script can grep it), with any markup in it escaped."""
    err.print(f"[bold red]Error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)


def _report(err: Console, options: GlobalOptions, lines: list[str]) -> None:
    logging.getLogger("hstlc").debug("error: %s", " / ".join(lines), exc_info=True)
    if options.verbose:
        err.print_exception(show_locals=False)
    for line in lines:
        print_error(err, line)


def _close_logging() -> None:
    root = logging.getLogger("hstlc")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()


@contextmanager
def command(ctx: typer.Context, name: str, overrides: Mapping[str, Any] | None = None) -> Iterator[Run]:
    """Set up a command run and be its error boundary.

    ``overrides`` are the command's own flags as setting-name → value (``None`` = not given).
    """
    options = global_options(ctx)
    out, err = console(), console(stderr=True)
    try:
        loaded = load_settings(options.config, {**options.overrides, **(overrides or {})})
        log_file = _configure_logging(name, loaded.settings, options, err)
        yield Run(name, loaded, log_file, out, err, options)
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except HstlcError as exc:
        _report(err, options, str(exc).splitlines() or [type(exc).__name__])
        raise typer.Exit(EXIT_ERROR) from None
    except Exception as exc:  # the boundary: a bug must still end in one clear line
        _report(
            err, options, [f"internal error: {type(exc).__name__}: {exc} (run with --verbose for details)"]
        )
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        err.print("[bold red]Interrupted.[/]")
        raise typer.Exit(130) from None
    finally:
        _close_logging()


__all__ = [
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "GlobalOptions",
    "Run",
    "command",
    "console",
    "global_options",
    "library_versions",
    "print_error",
]
