"""``hstlc extract`` through Typer's CliRunner: products, the results table, bad files, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.cli import app
from hstlc.products import read_lightcurve
from hstlc.synthetic import make_cos_fuv


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    a = make_cos_fuv(
        tmp_path / "in",
        rootname="lb4m01aaq",
        reference_dir=tmp_path / "ref",
        exptime=300.0,
        expstart=55500.0,
        seed=1,
    )
    b = make_cos_fuv(
        tmp_path / "in",
        rootname="lb4m02abq",
        reference_dir=tmp_path / "ref",
        exptime=300.0,
        expstart=55500.5,
        segments=("FUVA",),
        seed=2,
    )
    junk = tmp_path / "in" / "junk_corrtag_a.fits"
    junk.write_text("not a FITS file")
    return {
        "a_a": a.event_files[0],
        "a_b": a.event_files[1],
        "b_a": b.event_files[0],
        "junk": junk,
        "ref": tmp_path / "ref",
        "home": tmp_path / "home",
    }


def test_extract_pair_named_twice_is_one_product(runner: CliRunner, data, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "--home-dir",
            str(data["home"]),
            "extract",
            str(data["a_a"]),
            str(data["a_b"]),
            "-o",
            str(out),
            "--lref-dir",
            str(data["ref"]),
            "--step",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["lb4m01aaq_curve.fits"]
    lc = read_lightcurve(out / "lb4m01aaq_curve.fits")
    assert lc.meta["STEPSIZE"] == 5.0 and lc.meta["FLUXCAL"] == "CALIBRATED"
    assert "lb4m01aaq" in result.stdout and "yes" in result.stdout


def test_bad_file_reported_others_continue_exit_3(runner: CliRunner, data, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "--home-dir",
            str(data["home"]),
            "extract",
            str(data["junk"]),
            str(data["b_a"]),
            "-o",
            str(out),
            "--wmin",
            "1300",
            "--wmax",
            "1400",
        ],
    )
    assert result.exit_code == 3, result.output
    assert (out / "lb4m02abq_curve.fits").is_file()
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and error_lines[0].startswith(f"Error: {data['junk']}: ")  # path as given
    lc = read_lightcurve(out / "lb4m02abq_curve.fits")
    assert (lc.meta["WMIN"], lc.meta["WMAX"]) == (1300.0, 1400.0)
    assert lc.meta["FLUXCAL"] == "UNCALIBRATED"  # no --lref-dir: unity flux, said so


def test_composite_option(runner: CliRunner, data, tmp_path: Path) -> None:
    target = tmp_path / "out" / "composite.fits"
    result = runner.invoke(
        app,
        [
            "--home-dir",
            str(data["home"]),
            "extract",
            str(data["b_a"]),
            str(data["a_a"]),
            "--composite",
            str(target),
            "--lref-dir",
            str(data["ref"]),
            "--step",
            "10",
        ],
    )
    assert result.exit_code == 0, result.output
    lc = read_lightcurve(target)
    assert sorted(set(lc.dataset.tolist())) == [1, 2]
    assert lc.meta["ROOTNAME"] == "MULTI"
    assert (lc.meta["ROOTNA01"], lc.meta["ROOTNA02"]) == ("lb4m01aaq", "lb4m02abq")  # time order
    assert "composite (2 datasets)" in result.stdout


def test_without_output_dir_writes_here(runner: CliRunner, data, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = runner.invoke(app, ["--home-dir", str(data["home"]), "extract", str(data["a_a"])])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in here.iterdir()) == ["lb4m01aaq_curve.fits"]


def test_existing_product_not_replaced_without_overwrite(runner: CliRunner, data, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["--home-dir", str(data["home"]), "extract", str(data["b_a"]), "-o", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 3
    assert "already exists" in again.stderr
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0


def test_invalid_step_is_a_clean_error(runner: CliRunner, data, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "--home-dir",
            str(data["home"]),
            "extract",
            str(data["b_a"]),
            "-o",
            str(tmp_path / "o"),
            "--step",
            "-1",
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: step")
