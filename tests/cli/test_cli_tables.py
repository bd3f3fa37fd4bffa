"""Tables never cut a value: piped or redirected they take the width they need, in a terminal long
cells fold; ``--json`` and ``--csv`` give scripts the same rows. Through CliRunner and a real subprocess
with stdout piped, at COLUMNS=80."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from hstlc.cli import app
from hstlc.cli.context import console, print_table
from support.products import write_product

runner = CliRunner()

#: A target name of 70 characters (no blank: rich cannot wrap it at a word).
LONG = "2MASS-J09215939+4509126-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789-LONGNAME"
LONG_RESOLVED = LONG.replace("2MASS-J", "2MASSJ")


def narrow_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    env.update(COLUMNS="80", HSTLC_HOME_DIR=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    return env


def hstlc(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m hstlc ARGS`` with stdout piped (not a terminal) at 80 columns."""
    return subprocess.run([sys.executable, "-m", "hstlc", *args], capture_output=True, text=True,
                          timeout=120, env=narrow_env(tmp_path), cwd=tmp_path, check=False)


def line_with(text: str, output: str) -> str:
    lines = [line for line in output.splitlines() if text in line]
    assert lines, f"{text!r} is not whole on any line of:\n{output}"
    return lines[0]


def assert_whole(output: str, *values: str) -> None:
    assert "…" not in output, output
    for value in values:
        line_with(value, output)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clirunner", "subprocess"])
def test_resolve_table_keeps_long_names_whole(tmp_path: Path, how: str) -> None:
    args = ["resolve", "--offline", LONG, "AZV-148"]
    if how == "clirunner":
        result = runner.invoke(app, ["--home-dir", str(tmp_path / "home"), *args], env={"COLUMNS": "80"})
        code, out = result.exit_code, result.stdout
    else:
        done = hstlc(tmp_path, *args)
        code, out = done.returncode, done.stdout
    assert code == 0, out
    assert_whole(out, LONG, LONG_RESOLVED, "offline (Sesame not asked)")
    row = line_with(LONG, out)
    assert LONG_RESOLVED in row and "rule" in row  # the row stays one line: input, resolved, how


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clirunner", "subprocess"])
def test_config_table_keeps_long_paths_whole(tmp_path: Path, how: str) -> None:
    home = tmp_path / ("a-very-long-folder-name-for-the-hstlc-catalog-and-its-products-" + "x" * 20)
    if how == "clirunner":
        result = runner.invoke(app, ["--home-dir", str(home), "config"], env={"COLUMNS": "80"})
        code, out = result.exit_code, result.stdout
    else:
        done = hstlc(tmp_path, "--home-dir", str(home), "config")
        code, out = done.returncode, done.stdout
    assert code == 0, out
    assert_whole(out, str(home / "outputs"), f"sqlite:///{home / 'hstlc.db'}")
    assert "derived from home_dir" in line_with(str(home / "outputs"), out)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clirunner", "subprocess"])
def test_stats_table_keeps_long_product_names_whole(tmp_path: Path, how: str) -> None:
    name = "hlsp_hstlc_hst_stis-fuv-mama_v-am-cvn_g140l_1425_52x0.2_v1_sci.fits"
    product = write_product(tmp_path / name, seed=2, period=180.0)
    if how == "clirunner":
        result = runner.invoke(app, ["--home-dir", str(tmp_path / "home"), "stats", str(product)],
                               env={"COLUMNS": "80"})
        code, out = result.exit_code, result.stdout
    else:
        done = hstlc(tmp_path, "stats", str(product))
        code, out = done.returncode, done.stdout
    assert code == 0, out
    assert_whole(out, name)
    assert "periodic" in line_with(name, out)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clirunner", "subprocess"])
def test_a_command_printing_its_own_table_is_not_cut_either(tmp_path: Path, how: str) -> None:
    """``check`` prints with ``run.out.print(table)``: the results console routes every table the same
    way."""
    name = "lb4m01aaq-" + "a-very-long-dataset-name-" * 3 + "corrtag_a.fits"
    (tmp_path / name).write_text("not FITS")
    if how == "clirunner":
        result = runner.invoke(app, ["--home-dir", str(tmp_path / "home"), "check", str(tmp_path / name)],
                               env={"COLUMNS": "80"})
        code, out = result.exit_code, result.stdout
    else:
        done = hstlc(tmp_path, "check", name)
        code, out = done.returncode, done.stdout
    assert code == 2, out
    assert len(name) >= 60
    assert_whole(out, name)
    assert "unreadable" in line_with(name, out)


def test_in_a_terminal_long_cells_fold_and_are_never_cut() -> None:
    out = Console(width=40, force_terminal=True, color_system=None, file=io.StringIO())
    table = Table()
    table.add_column("input")  # rich's default overflow would cut it with '…'
    table.add_column("how")
    table.add_row(LONG, "rule")
    print_table(out, table)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "…" not in text
    assert "".join(line.strip("│ ").split("│")[0].strip() for line in text.splitlines()[3:-1]) == LONG


def test_the_results_console_routes_tables_through_print_table() -> None:
    out = console()
    out.file = io.StringIO()
    out.width = 30
    table = Table(title="t")
    table.add_column("name")
    table.add_row(LONG)
    out.print(table)
    assert LONG in out.file.getvalue() and "…" not in out.file.getvalue()
    assert out.width == 30  # the console's own width is kept for what follows


@pytest.mark.slow
@pytest.mark.parametrize("how", ["clirunner", "subprocess"])
def test_csv_for_scripts(tmp_path: Path, how: str) -> None:
    product = write_product(tmp_path / "lb4m01abq_curve.fits", seed=2, period=180.0)
    (tmp_path / "home").mkdir()
    commands = {
        "resolve": ["resolve", "--offline", LONG, "--csv"],
        "stats": ["stats", str(product), "--csv"],
        "config": ["config", "--csv"],
    }
    rows: dict[str, list[dict[str, str]]] = {}
    for key, args in commands.items():
        if how == "clirunner":
            result = runner.invoke(app, ["--home-dir", str(tmp_path / "home"), *args], env={"COLUMNS": "80"})
            code, out = result.exit_code, result.stdout
        else:
            done = hstlc(tmp_path, *args)
            code, out = done.returncode, done.stdout
        assert code == 0, out
        rows[key] = list(csv.DictReader(io.StringIO(out)))
    assert rows["resolve"] == [{"input": LONG, "resolved": LONG_RESOLVED, "how": "rule", "aliases": "",
                                "note": "rule catalog-hyphen; offline: Sesame not consulted"}]
    (stat,) = rows["stats"]
    assert stat["product"] == "lb4m01abq_curve.fits" and stat["verdict"] == "periodic"
    assert float(stat["best_period"]) == pytest.approx(180.0, rel=0.005) and stat["status"] == "computed"
    settings = {r["setting"]: r for r in rows["config"]}
    assert settings["home_dir"]["value"] == str(tmp_path / "home")
    assert settings["step"] == {"setting": "step", "value": "2.0", "from": "default"}


def test_db_status_csv_and_json(tmp_path: Path) -> None:
    home = ["--home-dir", str(tmp_path / "home")]
    assert runner.invoke(app, [*home, "db", "init"]).exit_code == 0
    as_csv = runner.invoke(app, [*home, "db", "status", "--csv"])
    assert as_csv.exit_code == 0, as_csv.output
    counts = {r["table"]: r["rows"] for r in csv.DictReader(io.StringIO(as_csv.stdout))}
    assert counts["metadata"] == "0" and counts["stats"] == "0"
    as_json = json.loads(runner.invoke(app, [*home, "db", "status", "--json"]).stdout)
    assert as_json["tables"]["metadata"] == 0 and as_json["missing_tables"] == []


@pytest.mark.parametrize("command", [["config"], ["db", "status"], ["resolve", "--offline", "X"], ["stats"]])
def test_json_and_csv_together_is_a_usage_error(tmp_path: Path, command: list[str]) -> None:
    result = runner.invoke(app, ["--home-dir", str(tmp_path), *command, "--json", "--csv"])
    assert result.exit_code == 2
    assert "give --json or --csv, not both" in result.output
