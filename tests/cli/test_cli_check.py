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
    # each file named by the path as given on the command line
    assert errors[0] == f"Error: {junk}: not a FITS file (no SIMPLE card at the start)"
    assert errors[1] == f"Error: {missing}: file not found"
    assert errors[2].startswith(f"Error: {half}: truncated FITS file")
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
            assert all(r.reasons == ["Bad EXPFLAG"] and Path(r.path) == settings.bad_data_dir
                       and len(r.sha256) == 64 for r in rows)
    finally:
        catalog.dispose()


@pytest.mark.slow
def test_csv_one_row_per_file_as_given(tmp_path: Path, good, bad) -> None:
    import csv
    import io
    import os
    import subprocess
    import sys

    junk = tmp_path / "junk.fits"
    junk.write_bytes(b"not a fits file")
    good_file, bad_file = good.event_files[0], bad.event_files[0]
    args = ["--home-dir", str(tmp_path / "home"), "check", "--csv", str(good_file), str(bad_file), str(junk)]
    result = CliRunner().invoke(app, args)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HSTLC_", "XDG_"))}
    piped = subprocess.run([sys.executable, "-m", "hstlc", *args], capture_output=True, text=True, env=env,
                           timeout=120)
    for out, code in ((result.stdout, result.exit_code), (piped.stdout, piped.returncode)):
        assert code == 2
        rows = list(csv.DictReader(io.StringIO(out)))
        verdicts = {Path(r["file"]).name: (r["verdict"], r["reasons"]) for r in rows}
        assert verdicts[good_file.name] == ("good", "") and verdicts[junk.name][0] == "unreadable"
        assert verdicts[bad_file.name][0] == "bad" and verdicts[bad_file.name][1]
        error = next(r["error"] for r in rows if r["verdict"] == "unreadable")
        assert error.startswith(f"{junk}: not a FITS")
    assert CliRunner().invoke(app, [*args, "--json"]).exit_code == 2  # --json with --csv: usage error
