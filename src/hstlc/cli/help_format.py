"""How ``hstlc … --help`` reads: paragraphs that wrap to the terminal, and value types in words a user
knows (``<file>``, ``<text>``, ``<int>``), never Python's (``<list[Path]>``), and none for flags.

Typer renders the help; the command and group classes here only adjust what it is given. Every command
of an app uses them after :func:`use_for` (``hstlc.cli.app`` calls it once).
"""

from __future__ import annotations

import inspect
from typing import Any, get_args

import typer
from typer import _click
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

#: Type names as the help shows them (anything else: its lower-case name).
_WORDS = {"str": "text", "int": "int", "float": "float", "bool": "yes/no"}


def reflow(text: str | None) -> str | None:
    """``text`` with each paragraph on one line, so the help console wraps it to the terminal's width.

    Paragraphs are separated by blank lines; one starting with ``\\b`` is kept as written (click's
    "do not rewrap" mark).
    """
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p if p.startswith("\b") else " ".join(line.strip() for line in p.splitlines()) for p in paragraphs
    )


def _word(annotation: Any) -> str:
    name = getattr(annotation, "__name__", str(annotation))
    return _WORDS.get(name, name.lower())


def value_label(param: TyperOption | TyperArgument, ctx: _click.Context) -> str | None:
    """What the help shows after an option (or beside an argument) for its value; ``None`` for none."""
    if isinstance(param, TyperOption):
        if param.is_flag or param.count:  # a switch takes no value
            return None
        if param.metavar is not None:
            return param.metavar
    desc = param.type_descriptor
    if desc.is_choice or desc.is_datetime:
        return param.display_type(ctx)
    if desc.is_path:
        return f"<{desc.path_type}>"
    if desc.is_ranged:
        return f"<{desc.ranged_type_name}>"  # the range itself is shown beside it
    if desc.is_list:
        (element,) = get_args(desc.annotation) or (str,)
        return "<path>" if _word(element) == "path" else f"<{_word(element)}>"
    return f"<{_word(desc.annotation)}>"


class _Option(TyperOption):
    def display_type_rich(self, ctx: _click.Context) -> str | None:
        return value_label(self, ctx)


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: _click.Context) -> str | None:
        return value_label(self, ctx)


def _adopt(param: Any) -> Any:
    """``param`` with the help's value label (its class swapped for the subclass that only adds that)."""
    if type(param) is TyperOption:
        param.__class__ = _Option
    elif type(param) is TyperArgument:
        param.__class__ = _Argument
    return param


class _WrappedHelp:
    """What the hstlc command and group share: help that wraps to the terminal, value types in words."""

    help: str | None
    params: list[Any]

    def _adopt_all(self) -> None:
        self.help = reflow(self.help)
        for param in self.params:
            _adopt(param)

    def get_help_option(self, ctx: _click.Context) -> Any:
        return _adopt(super().get_help_option(ctx))  # type: ignore[misc]

    def get_params(self, ctx: _click.Context) -> list[Any]:
        return [_adopt(p) for p in super().get_params(ctx)]  # type: ignore[misc]


class HelpCommand(_WrappedHelp, TyperCommand):
    """A Typer command whose help wraps to the terminal and names value types in words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._adopt_all()


class HelpGroup(_WrappedHelp, TyperGroup):
    """A Typer group whose help wraps to the terminal and names value types in words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._adopt_all()


def use_for(app: typer.Typer) -> None:
    """Make every command and sub-group of ``app`` (and ``app`` itself) use these help classes."""
    # Typer's own classes (or none) are replaced; a command that chose another class keeps it.
    if not app.info.cls or app.info.cls is TyperGroup:
        app.info.cls = HelpGroup
    for info in app.registered_commands:
        if not info.cls or info.cls is TyperCommand:
            info.cls = HelpCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            use_for(group.typer_instance)
        if not group.cls or group.cls is TyperGroup:
            group.cls = HelpGroup


__all__ = ["HelpCommand", "HelpGroup", "reflow", "use_for", "value_label"]
