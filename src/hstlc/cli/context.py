"""What every command shares: settings from flags, the per-run log file, the console and the one
error boundary (``HstlcError`` → ``Error: …`` in red and exit 1; a traceback only with ``--verbose``).

Only runs that change something keep a log file: a read-only run (``config``, ``db status``, ``check``
without ``--move``, ``resolve --offline``, ``ingest --dry-run``) creates no folder and no file.
"""

from __future__ import annotations

import csv
import getpass
import io
import logging
import platform
import socket
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
from rich.text import Text

from hstlc.config import LoadedSettings, Settings, load_settings
from hstlc.errors import HstlcError, message_with_path

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


class ResultConsole(Console):
    """A rich console on which a table never cuts a value: every table printed on it goes through
    :func:`print_table` (so commands need not remember to)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if len(objects) == 1 and isinstance(objects[0], Table) and not kwargs:
            print_table(self, objects[0])
        else:
            super().print(*objects, **kwargs)


def console(stderr: bool = False) -> Console:
    """A rich console (stdout for results, stderr for messages). Width follows the terminal or $COLUMNS;
    tables printed on it are never cut (see :func:`print_table`)."""
    return ResultConsole(stderr=stderr, highlight=False, soft_wrap=False)


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
    run_name: str, settings: Settings, options: GlobalOptions, err: Console, *, to_file: bool = True
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
    if not to_file:  # a read-only run: no log folder, no file
        return None

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


def _cell_width(out: Console, text: object) -> int:
    if isinstance(text, Text):
        return text.cell_len
    return out.render_str(text).cell_len if isinstance(text, str) else 0


#: The width a piped or redirected table may take (a table is never wider than its contents need).
UNBOUNDED = 100_000


def print_table(out: Console, table: Table) -> None:
    """``table`` on ``out``, never cutting a value with '…'. In a terminal it takes the terminal's width
    and long cells fold onto more lines; piped or redirected it is as wide as it needs (title and caption
    included), so a script or a file gets every value whole on one line."""
    for column in table.columns:
        if column.overflow == "ellipsis":  # rich's default: it would cut a long name
            column.overflow = "fold"
    if out.is_terminal:
        Console.print(out, table)
        return
    narrow = out.width
    if table.expand:  # it would fill any width: give it the width it needs
        needed = Measurement.get(out, out.options.update_width(UNBOUNDED), table).maximum
        out.width = max(narrow, needed, _cell_width(out, table.title), _cell_width(out, table.caption))
    else:  # a table takes its natural width (title and caption are laid out on it): one pass, no measuring
        out.width = UNBOUNDED
    try:
        Console.print(out, table)
    finally:
        out.width = narrow


def output_format(as_json: bool, as_csv: bool) -> str:
    """``json``, ``csv`` or ``table`` from a command's ``--json``/``--csv`` flags (a usage error when
    both are given)."""
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both", param_hint="--csv")
    return "json" if as_json else "csv" if as_csv else "table"


def echo_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``rows`` as CSV on stdout, after a ``header`` line (``None`` → empty field), for scripts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    typer.echo(buffer.getvalue(), nl=False)


def shell_command() -> tuple[str, str | None]:
    """How to type ``hstlc`` in a new shell, and a note when that needs explaining.

    ``hstlc`` when that is the one on ``$PATH`` outside a virtual environment; else the full path of the
    console script next to this Python (with how to activate its environment); else ``python -m hstlc``.
    """
    import shlex
    import shutil

    script = Path(sys.executable).with_name("hstlc")
    in_venv = sys.prefix != sys.base_prefix
    found = shutil.which("hstlc")
    if found and not in_venv and script.exists() and Path(found).resolve() == script.resolve():
        return "hstlc", None
    if script.exists():
        note = None
        activate = script.with_name("activate")
        if in_venv and activate.exists():
            note = f"hstlc is installed in a virtual environment: 'source {shlex.quote(str(activate))}' " \
                   "puts it on your PATH"
        return shlex.quote(str(script)), note
    return f"{shlex.quote(sys.executable)} -m hstlc", None


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


LogPolicy = bool | Callable[[Settings], bool]


@contextmanager
def command(
    ctx: typer.Context, name: str, overrides: Mapping[str, Any] | None = None, *, log: LogPolicy = True
) -> Iterator[Run]:
    """Set up a command run and be its error boundary.

    ``overrides`` are the command's own flags as setting-name → value (``None`` = not given). ``log``
    says whether the run keeps a log file in ``log_dir``: runs that change something do, read-only ones
    do not (so they create nothing); a predicate decides from the settings.
    """
    options = global_options(ctx)
    out, err = console(), console(stderr=True)
    try:
        loaded = load_settings(options.config, {**options.overrides, **(overrides or {})})
        to_file = log(loaded.settings) if callable(log) else log
        log_file = _configure_logging(name, loaded.settings, options, err, to_file=to_file)
        yield Run(name, loaded, log_file, out, err, options)
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except HstlcError as exc:
        _report(err, options, message_with_path(exc).splitlines() or [type(exc).__name__])
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
    "ResultConsole",
    "Run",
    "command",
    "console",
    "echo_csv",
    "global_options",
    "library_versions",
    "output_format",
    "print_error",
    "print_table",
    "shell_command",
]
