"""The CLI skeleton: help, version, db init/status, config, error boundary, log files, subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc import __version__
from hstlc.cli import app

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def test_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("db", "config"):
        assert name in result.output


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"hstlc {__version__}"


def test_db_init_is_idempotent_and_status_counts(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    first = invoke("--home-dir", home, "db", "init")
    assert first.exit_code == 0, first.output
    assert "Created" in first.output and "metadata" in first.output
    second = invoke("--home-dir", home, "db", "init")
    assert second.exit_code == 0
    assert "up to date" in second.output
    status = invoke("--home-dir", home, "db", "status")
    assert status.exit_code == 0
    for table in ("metadata", "outputs", "bad_data", "stats"):
        assert table in status.output
    assert (tmp_path / "home" / "hstlc.db").is_file()


def test_db_status_masks_password_and_reports_unreachable_server() -> None:
    result = invoke("--db", "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/none", "db", "status")
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert result.output.startswith(
        "Error: postgresql+psycopg://postgres:***@127.0.0.1:1/none: cannot connect"
    )
    assert "Traceback" not in result.output


def test_db_status_before_init_advises(tmp_path: Path) -> None:
    result = invoke("--home-dir", str(tmp_path), "db", "status")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: sqlite:///{tmp_path / 'hstlc.db'}: the catalog does not exist; run 'hstlc db init'\n"
    )
    assert list(tmp_path.iterdir()) == []  # nothing created: no catalog, no log folder
    (tmp_path / "hstlc.db").touch()  # a catalog file without the tables: listed as missing, with advice
    empty = invoke("--home-dir", str(tmp_path), "db", "status")
    assert empty.exit_code == 0
    assert "missing" in empty.output and "hstlc db init" in empty.output


def test_config_shows_sources(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('step = 4.0\nhome_dir = "h"\n', encoding="utf-8")
    result = invoke("--config", str(cfg), "config", "--json", env={"HSTLC_NUM_CORES": "2"})
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["config_file"] == str(cfg)
    assert data["settings"]["step"] == {"value": 4.0, "source": str(cfg)}
    assert data["settings"]["num_cores"] == {"value": 2, "source": "env HSTLC_NUM_CORES"}
    assert data["settings"]["home_dir"]["value"] == str(tmp_path / "h")
    table = invoke("--config", str(cfg), "config")
    assert table.exit_code == 0 and "0o770" in table.output and "derived from home_dir" in table.output


def test_config_masks_database_password(tmp_path: Path) -> None:
    result = invoke(
        "--home-dir", str(tmp_path), "--db", "postgresql+psycopg://u:topsecret@h/db", "config", "--json"
    )
    assert result.exit_code == 0
    assert "topsecret" not in result.output


def test_invalid_setting_is_one_error_line_per_problem(tmp_path: Path) -> None:
    result = invoke("--home-dir", str(tmp_path), "config", env={"HSTLC_STEP": "-1", "HSTLC_NUM_CORES": "0"})
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line]
    assert sorted(lines) == sorted(
        [
            "Error: num_cores: Input should be greater than or equal to 1 (from env HSTLC_NUM_CORES)",
            "Error: step: Input should be greater than 0 (from env HSTLC_STEP)",
        ]
    )


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    result = invoke("--config", str(tmp_path / "nope.toml"), "config")
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error: {tmp_path / 'nope.toml'}: configuration file not found (given with --config)"
    )


def test_each_run_writes_a_log_file(tmp_path: Path) -> None:
    result = invoke("--home-dir", str(tmp_path), "db", "init")
    assert result.exit_code == 0
    logs = list((tmp_path / "logs").glob("db-init_*.log"))
    assert len(logs) == 1
    text = logs[0].read_text(encoding="utf-8")
    assert "run by" in text and "numpy" in text and "astropy" in text and "python" in text


@pytest.mark.slow
def test_verbose_shows_traceback_plain_does_not(tmp_path: Path) -> None:
    bad = ("--db", "postgresql+psycopg://postgres@127.0.0.1:1/none", "db", "status")
    plain = invoke(*bad)
    assert "Traceback" not in plain.output
    verbose = invoke("-v", *bad)
    assert verbose.exit_code == 1
    assert "Traceback" in verbose.output


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    env["HSTLC_HOME_DIR"] = str(tmp_path / "home")
    return env


@pytest.mark.slow
def test_real_subprocess_console_script_and_module(tmp_path: Path) -> None:
    env = _env(tmp_path)
    module = subprocess.run(
        [sys.executable, "-m", "hstlc", "db", "init"], env=env, capture_output=True, text=True, timeout=120
    )
    assert module.returncode == 0, module.stderr
    script = Path(sys.executable).with_name("hstlc")
    if not script.exists():
        pytest.skip("the hstlc console script is not installed next to this Python")
    status = subprocess.run(
        [str(script), "db", "status"], env=env, capture_output=True, text=True, timeout=120
    )
    assert status.returncode == 0, status.stderr
    assert "metadata" in status.stdout


def test_subprocess_usage_error_exit_code(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hstlc", "db", "--no-such-flag"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
