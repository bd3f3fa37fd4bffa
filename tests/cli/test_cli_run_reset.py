"""``hstlc run`` and ``hstlc reset`` through CliRunner and as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.cli import app
from support.mast import MastServer

runner = CliRunner()


def env_for(root: Path, url: str) -> dict[str, str]:
    return {"HSTLC_MAST_URL": url, "HSTLC_DOWNLOAD_BACKOFF": "0.01", "HSTLC_DOWNLOAD_TIMEOUT": "2",
            "HSTLC_RESOLVER_OFFLINE": "true", "HSTLC_LREF_DIR": str(root / "lref"),
            "HSTLC_OREF_DIR": str(root / "oref"), "HSTLC_STEP": "10", "NO_PROXY": "127.0.0.1"}


@pytest.mark.slow
def test_run_as_a_process_then_reset_and_run_again(tmp_path: Path, mast: MastServer,
                                                    archive_root: tuple[Path, list]) -> None:
    home = tmp_path / "home"
    env = {**os.environ, **env_for(archive_root[0], mast.url)}
    env.pop("HSTLC_CONFIG", None)
    hstlc = [sys.executable, "-m", "hstlc", "--home-dir", str(home)]
    first = subprocess.run([*hstlc, "run", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    stages = {s["stage"]: s for s in json.loads(first.stdout)["stages"]}
    assert stages["download"]["done"] == 6 and stages["ingest"]["done"] == 3
    table = subprocess.run([*hstlc, "run", "--no-download"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert table.returncode == 0, table.stderr
    assert "hstlc run" in table.stdout and "not asked (--no-download)" in table.stdout
    reset = subprocess.run([*hstlc, "reset", "filesystem", "--yes", "--json"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert reset.returncode == 0, reset.stderr
    assert json.loads(reset.stdout)["datasets"] == 3
    again = subprocess.run([*hstlc, "run", "--no-download", "--json"], env=env, capture_output=True,
                           text=True, timeout=300)
    stages = {s["stage"]: s for s in json.loads(again.stdout)["stages"]}
    assert again.returncode == 0 and stages["ingest"]["done"] == 3


def test_run_with_mast_down_exits_3_with_the_stage_table(
    tmp_path: Path, archive_root: tuple[Path, list]
) -> None:
    env = {**env_for(archive_root[0], "http://127.0.0.1:9"), "HSTLC_DOWNLOAD_RETRIES": "0"}
    result = runner.invoke(app, ["--home-dir", str(tmp_path / "home"), "run"], env=env)
    assert result.exit_code == 3, result.output
    assert "download" in result.stdout and "error" in result.stdout and "cannot connect" in result.stdout


def test_reset_database_needs_yes_without_a_terminal(tmp_path: Path) -> None:
    home = ["--home-dir", str(tmp_path / "home")]
    missing = runner.invoke(app, [*home, "reset", "database", "--yes"])
    assert missing.exit_code == 1 and "the catalog does not exist" in missing.output  # not created to reset
    assert not (tmp_path / "home" / "hstlc.db").exists()
    assert runner.invoke(app, [*home, "db", "init"]).exit_code == 0
    refused = runner.invoke(app, [*home, "reset", "database"])
    assert refused.exit_code == 2 and "confirm with --yes" in refused.output
    done = runner.invoke(app, [*home, "--db", "postgresql+psycopg://user:secret@127.0.0.1:9/x", "reset",
                               "database", "--yes"])
    assert done.exit_code == 1 and "secret" not in done.output  # the password never printed
    ok = runner.invoke(app, [*home, "reset", "database", "--yes"])
    assert ok.exit_code == 0, ok.output
    assert "dropped and recreated metadata (0), outputs (0), stats (0), datasets (0), composite_queue (0)" \
        in " ".join(ok.stdout.split())
    bad = runner.invoke(app, [*home, "reset", "database", "--tables", "nonsense", "--yes"])
    assert bad.exit_code == 1 and "no table 'nonsense' to reset" in bad.output
    as_json = runner.invoke(app, [*home, "reset", "database", "--tables", "stats", "--yes", "--json"])
    assert json.loads(as_json.stdout)["tables"] == {"stats": 0}


def test_reset_filesystem_on_an_empty_home(tmp_path: Path) -> None:
    home = ["--home-dir", str(tmp_path / "home")]
    missing = runner.invoke(app, [*home, "reset", "filesystem", "--yes"])
    assert missing.exit_code == 1 and "the catalog does not exist; run 'hstlc db init'" in missing.output
    assert runner.invoke(app, [*home, "db", "init"]).exit_code == 0
    result = runner.invoke(app, [*home, "reset", "filesystem", "--yes"])
    assert result.exit_code == 0, result.output
    assert "0 dataset(s): 0 file(s) back in" in " ".join(result.stdout.split())
