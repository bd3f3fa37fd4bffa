"""The README documents every command, and its examples use only options that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from hstlc.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
ROOT = typer.main.get_command(app)


def _commands() -> dict[str, object]:
    found: dict[str, object] = {}
    for name, cmd in ROOT.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        if sub:
            for sub_name, sub_cmd in sub.items():
                found[f"{name} {sub_name}"] = sub_cmd
        else:
            found[name] = cmd
    return found


COMMANDS = _commands()


def test_the_issue_commands_exist() -> None:
    for name in (
        "ingest",
        "check",
        "resolve",
        "stats",
        "plot",
        "db init",
        "db status",
        "extract",
        "demo",
        "config",
    ):
        assert name in COMMANDS, name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_and_is_in_readme(name: str) -> None:
    assert (COMMANDS[name].help or "").strip(), f"hstlc {name} has no help text"  # type: ignore[attr-defined]
    assert f"hstlc {name}" in README, f"README does not show 'hstlc {name}'"


def _example_lines() -> list[str]:
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            code = line.split(" #", 1)[0].strip()
            for part in code.split("&&"):
                part = part.strip()
                if part.startswith(("hstlc ", ".venv/bin/hstlc ")):
                    lines.append(part)
    return lines


def _options(command: object) -> set[str]:
    names: set[str] = set()
    for param in command.params:  # type: ignore[attr-defined]
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


@pytest.mark.parametrize("line", _example_lines())
def test_readme_examples_use_real_options(line: str) -> None:
    words = shlex.split(line)[1:]
    global_options = _options(ROOT)
    i = 0
    while i < len(words) and words[i].startswith("-"):  # global options before the command
        assert words[i] in global_options, f"unknown global option {words[i]} in: {line}"
        i += 1 if words[i] in {"-v", "-q", "--verbose", "--quiet", "--version"} else 2
    rest = words[i:]
    name = " ".join(rest[:2]) if " ".join(rest[:2]) in COMMANDS else rest[0]
    assert name in COMMANDS, f"unknown command in README: {line}"
    allowed = _options(COMMANDS[name]) | {"--help"}
    for word in rest[len(name.split()) :]:
        if word.startswith("--") or re.fullmatch(r"-[a-z]", word):
            assert word in allowed, f"'{word}' is not an option of 'hstlc {name}' (README: {line})"
