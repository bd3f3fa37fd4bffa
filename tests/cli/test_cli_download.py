"""``hstlc download`` through CliRunner and as a real process, against the MAST server of tests/support."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.cli import app
from hstlc.download.transfer import PART_PREFIX
from support.mast import MastServer

runner = CliRunner()


def env_for(mast: MastServer, **extra: str) -> dict[str, str]:
    return {"HSTLC_MAST_URL": mast.url, "HSTLC_DOWNLOAD_BACKOFF": "0.01", "HSTLC_DOWNLOAD_TIMEOUT": "2",
            "NO_PROXY": "127.0.0.1", **extra}


def test_download_json_then_nothing_new(tmp_path: Path, mast: MastServer) -> None:
    home = tmp_path / "home"
    result = runner.invoke(app, ["--home-dir", str(home), "download", "--json"], env=env_for(mast))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["found"] == 3 and len(summary["downloaded"]) == 6 and summary["failed"] == []
    assert Path(summary["query_record"]).parent == home / "downloads"
    assert (home / "logs").is_dir()  # a command that changes something keeps a log
    again = runner.invoke(app, ["--home-dir", str(home), "download"], env=env_for(mast))
    assert again.exit_code == 0 and "new datasets found" in again.stdout
    assert "O8K401010" in again.stdout  # listed as already known (waiting in ingest_dir)


def test_dry_run_lists_and_creates_nothing(tmp_path: Path, mast: MastServer) -> None:
    home = tmp_path / "home"
    result = runner.invoke(app, ["--home-dir", str(home), "download", "--dry-run", "--limit", "2"],
                           env=env_for(mast))
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.stdout and "O8K401010, LB4M01AAQ" in result.stdout
    assert not home.exists()


def test_usage_errors_and_failures(tmp_path: Path, mast: MastServer) -> None:
    home = ["--home-dir", str(tmp_path / "home")]
    bad_date = runner.invoke(app, [*home, "download", "--since", "yesterday"], env=env_for(mast))
    assert bad_date.exit_code == 2 and "is not a date" in bad_date.output
    bad_instrument = runner.invoke(app, [*home, "download", "--instrument", "ACS"], env=env_for(mast))
    assert bad_instrument.exit_code == 2 and "instrument must be one of COS, STIS" in bad_instrument.output
    mast.faults.error_files["o8k401010_x1d.fits"] = 100
    failed = runner.invoke(app, [*home, "download"], env=env_for(mast, HSTLC_DOWNLOAD_RETRIES="1"))
    assert failed.exit_code == 3
    assert "o8k401010_x1d.fits" in failed.stdout and "HTTP 500" in failed.stdout
    down = runner.invoke(app, [*home, "download"], env=env_for(mast, HSTLC_MAST_URL="http://127.0.0.1:9",
                                                           HSTLC_DOWNLOAD_RETRIES="0"))
    assert down.exit_code == 1
    lines = [line for line in down.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: http://127.0.0.1:9/search/hst/api/v0.1/search")


@pytest.mark.slow
def test_killed_during_a_transfer_leaves_no_partial_file_and_resumes(
    tmp_path: Path, mast: MastServer
) -> None:
    home = tmp_path / "home"
    incoming = home / "ingest"
    name = "lb4m01aaq_corrtag_a.fits"
    data = mast.file(name).read_bytes()  # type: ignore[union-attr]
    mast.faults.stall[name] = len(data) // 2  # the transfer stops half-way and stays silent
    env = {**os.environ, **env_for(mast, HSTLC_DOWNLOAD_TIMEOUT="300", HSTLC_DOWNLOAD_TRANSFERS="1")}
    env.pop("HSTLC_CONFIG", None)
    command = [sys.executable, "-m", "hstlc", "--home-dir", str(home), "download", "--json"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    part = incoming / f"{PART_PREFIX}{name}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (part.exists() and part.stat().st_size >= len(data) // 4):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert part.exists() and 0 < part.stat().st_size <= len(data) // 2
    assert not (incoming / name).exists()  # nothing ingest could take for a whole file
    mast.faults.stall.clear()
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    resumed = {d["name"]: d["resumed_from"] for d in summary["downloaded"]}
    assert 0 < resumed[name] <= len(data) // 2  # it went on from the bytes the killed run had
    assert (incoming / name).read_bytes() == data
    assert not part.exists()
    ranges = [r for m, p, r in mast.requests if m == "GET" and name in p]
    assert ranges[-1] == f"bytes={resumed[name]}-"
    assert sorted(p.name for p in incoming.iterdir()) == [
        "lb4m01aaq_corrtag_a.fits", "lb4m01aaq_corrtag_b.fits", "lb4m01aaq_x1d.fits",
        "lb4m02abq_corrtag.fits", "o8k401010_tag.fits", "o8k401010_x1d.fits",
    ]
