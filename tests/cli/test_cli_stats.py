"""``hstlc stats`` through Typer's CliRunner: files without a catalog, the catalog run, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hstlc.catalog import Catalog
from hstlc.cli import app
from hstlc.display import format_fap
from support.products import write_product

runner = CliRunner()




def invoke(tmp_path: Path, *args: str, db: str | None = None):
    base = ["--home-dir", str(tmp_path / "home")] + (["--db", db] if db else [])
    return runner.invoke(app, [*base, "stats", *args])




def test_help_names_the_options() -> None:
    result = runner.invoke(app, ["stats", "--help"])
    assert result.exit_code == 0
    for option in ("--products", "--all", "--json", "FILE"):
        assert option in result.output


def test_file_as_json(tmp_path: Path) -> None:
    product = write_product(tmp_path / "lb4m01abq_curve.fits", seed=2, period=180.0)
    result = invoke(tmp_path, str(product), "--json")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)
    assert entry["product"] == "lb4m01abq_curve.fits" and entry["status"] == "computed"
    assert entry["periodogram"] is True and entry["deliver"] is True and entry["variable"] is True
    assert entry["verdict"] == "periodic"
    assert entry["best_period"] == pytest.approx(180.0, rel=0.005) and entry["fap"] < 1e-3
    assert entry["chi2_reduced"] > 1 and entry["chi2_p"] < 1e-3
    assert entry["details"]["bands"]["short"]["best_period"] == entry["best_period"]
    assert entry["details"]["bands"]["short"]["fap"] == entry["fap"]
    assert entry["details"]["bands"]["long"]["skipped"].startswith("no period in 3600")


def test_file_table(tmp_path: Path) -> None:
    product = write_product(tmp_path / "lb4m01abq_curve.fits", seed=2, period=180.0)
    result = invoke(tmp_path, str(product))
    assert result.exit_code == 0, result.output
    assert "lb4m01abq_curve.fits" in result.stdout
    assert "periodic" in result.stdout and "3 min" in result.stdout  # the verdict and the best period
    assert "1 computed, 0 unchanged, 0 missing, 0 failed" in result.stdout
    as_json = json.loads(invoke(tmp_path, str(product), "--json").stdout)[0]
    # the FAP prints as the report prints it
    assert format_fap(as_json["fap"]) in result.stdout


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope_curve.fits"
    result = invoke(tmp_path, str(missing))
    assert result.exit_code == 1
    assert f"Error: nope_curve.fits: no such file ({missing})" in result.stderr.splitlines()


def test_one_bad_file_among_good_ones_finishes_with_failures(tmp_path: Path) -> None:
    good = write_product(tmp_path / "lb4m01aaq_curve.fits", seed=1)
    bad = tmp_path / "bad_curve.fits"
    bad.write_text("not FITS")
    result = invoke(tmp_path, str(good), str(bad))
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith("Error: bad_curve.fits: not a readable FITS file")
    assert "1 computed, 0 unchanged, 0 missing, 1 failed" in result.stdout


@pytest.mark.slow
def test_catalog_run_is_incremental(catalog_url: str, stocked: dict[str, Path], tmp_path: Path) -> None:
    first = invoke(tmp_path, db=catalog_url)
    assert first.exit_code == 0, first.output
    for path in stocked.values():
        assert path.name in first.stdout
    assert "3 computed, 0 unchanged" in first.stdout

    second = invoke(tmp_path, db=catalog_url)
    assert second.exit_code == 0
    assert "0 computed, 3 unchanged" in second.stdout
    assert "periodic" in second.stdout and "constant" in second.stdout  # the stored verdicts

    stored = {e["product"]: e for e in json.loads(invoke(tmp_path, "--json", db=catalog_url).stdout)}
    periodic = stored[stocked["periodic"].name]
    assert periodic["status"] == "unchanged" and periodic["verdict"] == "periodic"
    assert periodic["best_period"] == pytest.approx(180.0, rel=0.005) and periodic["fap"] < 1e-3
    assert periodic["method_version"] == 2 and periodic["details"]["verdict"] == "periodic"
    assert stored[stocked["flat"].name]["verdict"] == "constant"

    again = invoke(tmp_path, "--all", "--products", "composite", "--json", db=catalog_url)
    assert again.exit_code == 0
    (entry,) = json.loads(again.stdout)
    assert entry["product_type"] == "composite" and entry["status"] == "computed"


def test_catalog_run_with_a_missing_product(
    catalog_url: str, stocked: dict[str, Path], tmp_path: Path
) -> None:
    stocked["flat"].unlink()
    result = invoke(tmp_path, db=catalog_url)
    assert result.exit_code == 3
    assert f"Error: lb4m01aaq_curve.fits: no such file ({stocked['flat']})" in result.stderr.splitlines()
    assert "2 computed, 0 unchanged, 1 missing, 0 failed" in result.stdout


def test_empty_catalog(catalog: Catalog, catalog_url: str, tmp_path: Path) -> None:
    result = invoke(tmp_path, "--products", "individual", db=catalog_url)
    assert result.exit_code == 0, result.output
    expected = "No individual lightcurve products in the catalog (run 'hstlc ingest' first)."
    assert result.stdout.strip() == expected


def test_uninitialised_catalog(tmp_path: Path) -> None:
    result = invoke(tmp_path)
    assert result.exit_code == 1
    # one message (rich may wrap it at the pinned console width: the path is long)
    assert result.stderr.startswith("Error: sqlite:///") and result.stderr.count("Error:") == 1
    assert result.stderr.rstrip().endswith("run 'hstlc db init'")


def test_bad_products_choice(tmp_path: Path) -> None:
    result = invoke(tmp_path, "--products", "all")
    assert result.exit_code == 2
    with_file = invoke(tmp_path, "x_curve.fits", "--all")
    assert with_file.exit_code == 2
    assert "--products and --all choose catalog products" in with_file.output


@pytest.mark.slow
def test_piped_table_keeps_whole_names(tmp_path: Path) -> None:
    """Piped (no terminal, 80 columns by default), the table is as wide as it needs: names are not cut."""
    import subprocess
    import sys

    name = "hlsp_hstlc_hst_stis-fuv-mama_v-am-cvn_g140l_1425_52x0.2_v1_sci.fits"
    product = write_product(tmp_path / name, seed=2, period=180.0)
    hstlc = Path(sys.executable).with_name("hstlc")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run([str(hstlc), "--home-dir", str(tmp_path / "home"), "stats", str(product)],
                            capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if name in line)
    assert "periodic" in row and "3 min" in row and "<1e-16" in row
