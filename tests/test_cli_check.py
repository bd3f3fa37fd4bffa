"""``hstlc check``: table, --json, exit codes, one Error line per unreadable file, --move quarantine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.cli import app
from hstlc.synthetic import BAD_CONDITIONS, make_cos_fuv

runner = CliRunner()


def _run(tmp_path: Path, *args: str):
    return runner.invoke(app, ["--home-dir", str(tmp_path / "home"), "check", *map(str, args)])


@pytest.fixture
def good(tmp_path: Path):
    return make_cos_fuv(tmp_path / "good", exptime=40.0, source_rate=3.0, seed=5)


@pytest.fixture
def bad(tmp_path: Path):
    return make_cos_fuv(tmp_path / "bad", "lb4m02bbq", exptime=40.0, source_rate=3.0, seed=6,
                        **BAD_CONDITIONS["Bad EXPFLAG"])


def test_all_good_exit_0(tmp_path: Path, good) -> None:
    result = _run(tmp_path, *good.event_files)
    assert result.exit_code == 0, result.output
    assert "lb4m01aaq_corrtag_a.fits" in result.stdout and "good" in result.stdout
    assert "Error" not in result.output


def test_bad_exit_1_with_reasons(tmp_path: Path, good, bad) -> None:
    result = _run(tmp_path, good.event_files[0], bad.event_files[0])
    assert result.exit_code == 1, result.output
    assert "Bad EXPFLAG" in result.stdout and "bad" in result.stdout


def test_json(tmp_path: Path, good, bad) -> None:
    result = _run(tmp_path, "--json", *good.event_files, *bad.event_files)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [d["verdict"] for d in data] == ["good", "bad"]
    assert data[1]["reasons"] == ["Bad EXPFLAG"]
    assert data[0]["files"] == [str(p) for p in good.event_files]


def test_min_exptime_flag(tmp_path: Path, good) -> None:
    result = _run(tmp_path, "--json", "--min-exptime", "1000", good.event_files[0])
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["reasons"] == ["Short Exposure"]


def test_unreadable_exit_2_one_error_line_each(tmp_path: Path, good) -> None:
    junk = tmp_path / "lb4m03ccq_corrtag_a.fits"
    junk.write_text("plain text")
    missing = tmp_path / "lb4m04ddq_corrtag_a.fits"
    half = tmp_path / "lb4m05eeq_corrtag_a.fits"
    half.write_bytes(good.event_files[0].read_bytes()[:4000])
    result = _run(tmp_path, good.event_files[0], junk, missing, half)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors[0] == "Error: lb4m03ccq_corrtag_a.fits: not a FITS file (no SIMPLE card at the start)"
    assert errors[1] == "Error: lb4m04ddq_corrtag_a.fits: file not found"
    assert errors[2].startswith("Error: lb4m05eeq_corrtag_a.fits: truncated FITS file")
    assert len(errors) == 3
    assert "Traceback" not in result.output


def test_move_records_and_quarantines(tmp_path: Path, good, bad, catalog_url: str) -> None:
    from hstlc.catalog import BadData, Catalog
    from hstlc.config import load_settings

    args = ["--home-dir", str(tmp_path / "home"), "--db", catalog_url, "check", "--move"]
    result = runner.invoke(app, [*args, *map(str, good.event_files), *map(str, bad.event_files)])
    assert result.exit_code == 1, result.output
    overrides = {"home_dir": tmp_path / "home", "db_connection_string": catalog_url}
    settings = load_settings(overrides=overrides).settings
    quarantined = sorted(p.name for p in settings.bad_data_dir.iterdir())
    assert quarantined == sorted(p.name for p in bad.event_files)
    assert all(not p.exists() for p in bad.event_files)
    assert all(p.exists() for p in good.event_files)
    catalog = Catalog.from_url(settings.database_url)
    try:
        with catalog.session() as session:
            rows = session.query(BadData).order_by(BadData.filename).all()
            assert [r.filename for r in rows] == sorted(p.name for p in bad.event_files)
            assert all(r.reasons == ["Bad EXPFLAG"] and Path(r.path).parent == settings.bad_data_dir
                       and len(r.sha256) == 64 for r in rows)
    finally:
        catalog.dispose()
