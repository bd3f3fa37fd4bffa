"""Help that reads well: every command's ``--help`` at 80 columns shows no Python types and no
``<bool>`` after a flag, wraps its paragraphs to the terminal, and ends with an example that uses real
options; ``-h``/``-V`` work as ``--help``/``--version``; shell completion can be installed; the ``Next:``
hint after ``demo`` works in a new shell."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hstlc import __version__
from hstlc.cli import app
from hstlc.cli.help_format import reflow

runner = CliRunner()
ROOT = typer.main.get_command(app)


def _commands() -> dict[str, object]:
    found: dict[str, object] = {"": ROOT}
    for name, cmd in ROOT.commands.items():  # type: ignore[attr-defined]
        found[name] = cmd
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            found[f"{name} {sub_name}"] = sub
    return found


COMMANDS = _commands()


def render_help(name: str, flag: str = "--help", columns: int = 80) -> str:
    result = runner.invoke(app, [*name.split(), flag], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_no_python_types_and_has_an_example(name: str) -> None:
    text = render_help(name)
    for bad in ("<bool>", "list[", "Path]", "<str>"):
        assert bad not in text, f"'hstlc {name} --help' shows {bad!r}:\n{text}"
    assert re.search(r"^\s*Example: hstlc", text, flags=re.M), f"'hstlc {name}' has no Example:\n{text}"
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_paragraphs_wrap_to_the_terminal(name: str) -> None:
    """Wide enough, each paragraph of the help is one line (no line break from the source's layout)."""
    text = render_help(name, columns=250)
    lines = [line.strip() for line in text.splitlines()]
    for paragraph in (reflow(COMMANDS[name].help) or "").split("\n\n"):  # type: ignore[attr-defined]
        if len(paragraph) < 230:
            assert paragraph.strip() in lines, f"{paragraph!r} is broken over lines in:\n{text}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_dash_h_is_help(name: str) -> None:
    assert render_help(name, "-h") == render_help(name, "--help")


def test_dash_capital_v_is_version() -> None:
    for flag in ("-V", "--version"):
        result = runner.invoke(app, [flag])
        assert result.exit_code == 0 and result.stdout == f"hstlc {__version__}\n"


def test_shell_completion_can_be_installed() -> None:
    text = render_help("")
    assert "--install-completion" in text and "--show-completion" in text
    # The installed script, told the shell (Typer otherwise detects it from the process tree, which a
    # test runner's parent need not reveal).
    import os
    import shutil
    import subprocess
    import sys

    script = shutil.which("hstlc", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the hstlc console script is not installed beside this Python")
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run([script, "--show-completion", "bash"], capture_output=True, text=True, env=env,
                           timeout=60)
    assert shown.returncode == 0 and "_HSTLC_COMPLETE" in shown.stdout, shown.stderr


def _options(command: object) -> set[str]:
    names: set[str] = {"-h", "--help"}
    for param in command.params:  # type: ignore[attr-defined]
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_examples_use_real_commands_and_options(name: str) -> None:
    text = reflow(COMMANDS[name].help) or ""  # type: ignore[attr-defined]
    (example,) = [p.removeprefix("Example: ") for p in text.split("\n\n") if p.startswith("Example: ")]
    for part in example.split("&&"):
        words = shlex.split(part.split(" > ")[0].split(" (")[0])
        if words[0] != "hstlc":
            continue
        words = words[1:]
        while words and words[0].startswith("-"):  # global options
            assert words[0] in _options(ROOT), f"{words[0]} in {example!r}"
            words = words[1 if words[0] in ("-v", "-q", "-V") else 2:]
        if not words or words[0] == "COMMAND":
            continue
        command = COMMANDS[words[0]]
        used = words[1:]
        if used and f"{words[0]} {used[0]}" in COMMANDS:
            command, used = COMMANDS[f"{words[0]} {used[0]}"], used[1:]
        for word in used:
            if word.startswith("-"):
                assert word in _options(command), f"{word} is not an option (example {example!r})"


@pytest.mark.parametrize("args", [["stats", "--help"], ["--help"], ["check", "-h"]])
def test_help_through_a_pipe(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-m", "hstlc", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "<bool>" not in done.stdout and "list[" not in done.stdout and "Path]" not in done.stdout
    assert "Example: hstlc" in done.stdout


@pytest.mark.slow
def test_next_hint_after_demo_works_in_a_new_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The printed ``Next:`` line runs as it is in a shell that has none of this one's PATH or venv."""
    import hstlc.demo

    folder = tmp_path / "my demo"  # a blank in the path: the hint must quote it
    folder.mkdir()
    (folder / "hstlc.toml").write_text('home_dir = "."\n', encoding="utf-8")
    assert runner.invoke(app, ["--home-dir", str(folder), "db", "init"]).exit_code == 0

    def fake_run_demo(directory: Path, **kwargs: object) -> hstlc.demo.DemoResult:
        return hstlc.demo.DemoResult(directory, directory / "hstlc.toml", f"sqlite:///{directory}/hstlc.db")

    monkeypatch.setattr("hstlc.cli.demo.run_demo", fake_run_demo)
    result = runner.invoke(app, ["demo", str(folder)])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("Next: ")]
    if sys.prefix != sys.base_prefix:  # in a virtual environment: say how to activate it
        assert "source " in result.stdout and "activate" in result.stdout
    new_shell = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    done = subprocess.run(["/bin/sh", "-c", line.removeprefix("Next: ")], capture_output=True, text=True,
                          env=new_shell, cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert f"Catalog: sqlite:///{folder / 'hstlc.db'}" in done.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_bracketed_words_are_shown_not_taken_for_markup(name: str) -> None:
    """Rich reads ``[dask]`` as a style tag and drops it: ``'hstlc[dask]'`` in a help text must be escaped
    (``hstlc\\[dask]``) to reach the reader."""
    text = render_help(name, columns=250)
    command = COMMANDS[name]
    helps = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]  # type: ignore[attr-defined]
    for help_text in helps:
        for word in re.findall(r"\\?\[[A-Za-z_][\w,-]*\]", help_text):
            shown = word.removeprefix("\\")
            assert shown in text, f"'hstlc {name} --help' drops {shown!r}"
