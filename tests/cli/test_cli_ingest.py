"""``hstlc ingest`` through Typer's CliRunner: table, --json, exit codes, the exact Error lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.catalog import Catalog
from hstlc.catalog.ingest_state import IngestLockHandle
from hstlc.cli import app
from support.ingest import SMALL, make_settings


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    from hstlc import synthetic as syn

    incoming = tmp_path / "incoming"
    syn.make_cos_fuv(incoming, "lb4m01aaq", targname="WD0308-565", reference_dir=tmp_path / "lref", seed=1,
                     **SMALL)
    syn.make_cos_fuv(incoming, "lb4m09aaq", targname="WD0308-565", seed=2,
                     **{**SMALL, **syn.BAD_CONDITIONS["Short Exposure"]})
    return incoming


def _init(home: Path) -> Catalog:
    catalog = Catalog.from_url(make_settings(home).database_url)
    catalog.init_schema()
    return catalog


def test_ingest_prints_the_summary_and_the_log(tmp_path: Path, sample: Path) -> None:
    home = tmp_path / "home"
    _init(home).dispose()
    result = CliRunner().invoke(app, ["--home-dir", str(home), "ingest", str(sample), "--offline",
                                      "--cores", "1"])
    assert result.exit_code == 0, result.output
    assert "Ingest of" in result.stdout
    assert "bad: Short Exposure" in result.stdout and "lb4m09aaq" in result.stdout
    assert "1 ingested, 1 bad, 0 failed" in result.stdout
    log_line = next(line for line in result.stdout.splitlines() if "Log: " in line)
    log_path = Path(log_line.split("Log: ", 1)[1].strip())
    assert log_path.parent == home / "logs" and log_path.name.startswith("ingest_")
    assert "ingest done: 1 ingested, 1 bad, 0 failed" in log_path.read_text()


def test_ingest_json_and_default_ingest_dir(tmp_path: Path, sample: Path) -> None:
    home = tmp_path / "home"
    _init(home).dispose()
    sample.rename(home / "ingest")
    result = CliRunner().invoke(app, ["--home-dir", str(home), "ingest", "--offline", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ingested"] == ["lb4m01aaq"] and data["bad"] == {"Short Exposure": ["lb4m09aaq"]}
    assert data["failed"] == {} and data["directory"] == str(home / "ingest")
    assert data["composites"] == [str(home / "composites" /
                                      "hlsp_hstlc_hst_cos-fuv_wd0308-565_g130m_1291_psa_v1_sci.fits")]


def test_failures_exit_3(tmp_path: Path, sample: Path) -> None:
    home = tmp_path / "home"
    _init(home).dispose()
    (sample / "lb4m07aaq_corrtag.fits").write_text("not a FITS file")
    result = CliRunner().invoke(app, ["--home-dir", str(home), "ingest", str(sample), "--offline", "--json"])
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert list(data["failed"]) == ["lb4m07aaq"] and data["ingested"] == ["lb4m01aaq"]
    assert data["failed"]["lb4m07aaq"].startswith("lb4m07aaq_corrtag.fits: ")


def test_another_ingest_running_is_one_error_line(tmp_path: Path, sample: Path) -> None:
    home = tmp_path / "home"
    catalog = _init(home)
    with IngestLockHandle.acquire(catalog):
        result = CliRunner().invoke(app, ["--home-dir", str(home), "ingest", str(sample), "--offline"])
    catalog.dispose()
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: another ingest is running on this catalog (pid ")
    assert "Traceback" not in result.output


def test_missing_folder_and_catalog_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["--home-dir", str(home), "ingest", str(empty)])
    assert result.exit_code == 0, result.output  # the first ingest creates the catalog
    assert (home / "hstlc.db").is_file()
    result = CliRunner().invoke(app, ["--home-dir", str(home), "ingest", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {tmp_path / 'nope'}: folder not found"


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(app, ["ingest", "--help"])
    assert result.exit_code == 0
    for option in ("--recursive", "--cores", "--offline", "--corrtag-extract", "--json"):
        assert option in result.stdout
