"""``hstlc targets``, ``products``, ``show`` and ``export`` through CliRunner (on every backend) and as real
subprocesses with stdout piped: tables, ``--json``, ``--csv``, empty results, usage errors, a missing
catalog, and names never cut."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from astropy.table import Table
from typer.testing import CliRunner

from hstlc.catalog import Catalog, upsert_metadata, upsert_outputs, upsert_stats
from hstlc.catalog.listings import PRODUCT_COLUMNS, TARGET_COLUMNS, CatalogFilter
from hstlc.cli import app
from hstlc.science.variability import STATS_VERSION
from support.listing_catalog import REJECTED, SETTINGS, dataset, stock

runner = CliRunner()

#: A resolved target name of 70 characters (no blank: rich cannot wrap it at a word).
LONG = "2MASSJ09215939+4509126-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789-LONGNAME"
LONG_PRODUCT = "lb9z99aaq_curve.fits"


def invoke(url: str, tmp_path: Path, *args: str, columns: int = 200):
    return runner.invoke(
        app, ["--home-dir", str(tmp_path / "home"), "--db", url, *args], env={"COLUMNS": str(columns)}
    )


@pytest.fixture
def stocked(catalog: Catalog, catalog_url: str) -> str:
    stock(catalog)
    return catalog_url


def test_targets_table_json_and_csv(stocked: str, tmp_path: Path, catalog: Catalog) -> None:
    table = invoke(stocked, tmp_path, "targets")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    azv = next(line for line in lines if "AZV148" in line)
    assert "variable" in azv and "3,000 s" in azv and "11111, 11112" in azv
    assert "periodic *" in next(line for line in lines if "WD0308-565" in line)  # from its individual product
    assert "no stats" in next(line for line in lines if "NOSTATS" in line)
    assert "11 target(s)" in table.stdout

    as_json = invoke(stocked, tmp_path, "targets", "--json", "--variable")
    assert as_json.exit_code == 0, as_json.output
    expected = catalog.targets(CatalogFilter(variable=True), settings_key=SETTINGS)
    assert json.loads(as_json.stdout) == [r.to_dict() for r in expected]

    as_csv = invoke(
        stocked, tmp_path, "targets", "--csv", "--grating", "g130m", "--sort", "exptime", "--desc"
    )
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert list(rows[0]) == [c.name for c in TARGET_COLUMNS]
    assert [(r["target"], r["exptime"], r["proposals"]) for r in rows] == [
        ("AZV148", "3000.0", "11111,11112"),
        ("WD0308-565", "300.0", "11111"),
    ]


def test_products_filters_and_sort(stocked: str, tmp_path: Path) -> None:
    result = invoke(stocked, tmp_path, "products", "--csv", "--variable", "--type", "composite")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [c.name for c in PRODUCT_COLUMNS]
    assert [(r["filename"], r["verdict"]) for r in rows] == [
        (dataset("o1b002010").composite, "periodic"),
        (dataset("lb1a01aaq").composite, "variable"),
    ]
    result = invoke(
        stocked, tmp_path, "products", "--json", "--name", "azv-148", "--sort", "exptime", "--limit", "1"
    )
    (row,) = json.loads(result.stdout)
    assert (row["filename"], row["datasets"], row["proposals"]) == (
        dataset("lb1a01aaq").individual,
        1,
        [11111],
    )
    table = invoke(stocked, tmp_path, "products", "--since", "2020-09-01", "--verdict", "no-counts")
    assert table.exit_code == 0, table.output
    assert dataset("lb1g01aaq").composite in table.stdout and "no counts" in table.stdout


@pytest.mark.parametrize("command", [["targets"], ["products"]])
def test_nothing_matches_is_one_line_and_exit_0(stocked: str, tmp_path: Path, command: list[str]) -> None:
    result = invoke(stocked, tmp_path, *command, "--name", "NO-SUCH-*")
    assert result.exit_code == 0 and result.stdout == f"No {command[0]} match.\n"
    assert (
        json.loads(invoke(stocked, tmp_path, *command, "--periodic", "--grating", "G160M", "--json").stdout)
        == []
    )
    header = invoke(stocked, tmp_path, *command, "--proposal", "1", "--csv").stdout
    assert header.count("\n") == 1 and header.startswith(("target,", "filename,"))


def test_an_empty_catalog_says_so(catalog: Catalog, catalog_url: str, tmp_path: Path) -> None:
    for what in ("targets", "products"):
        result = invoke(catalog_url, tmp_path, what)
        assert (
            result.exit_code == 0
            and result.stdout == f"No {what} in the catalog yet (hstlc ingest DIR adds some).\n"
        )


def test_show(stocked: str, tmp_path: Path) -> None:
    result = invoke(stocked, tmp_path, "show", "azv-148")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Target AZV148\nvariable; 2 dataset(s), 3,000 s, MJD 55000.000–55010.023; COS")
    for text in (
        "AZV-148",
        "lb1a02aaq",
        "55000.00000",
        "1,000 s",
        "COS FUV G130M 1291 PSA",
        "FUVA, FUVB",
        "Periodogram bands",
        "20 min",
        "no period in 600–3600 s is searchable",
        "missing",
        "/nonexistent/hstlc/filesystem/AZV148/lb1a01aaq_corrtag_a.fits",
        "combines 2 datasets",
    ):
        assert text in out, text
    rejected = invoke(stocked, tmp_path, "show", "LB1Z01AAQ")
    assert rejected.exit_code == 0, rejected.output
    assert (
        "Rejected by the quality checks" in rejected.stdout
        and "Bad EXPFLAG; Short Exposure" in rejected.stdout
    )
    assert REJECTED[1] in rejected.stdout
    as_json = json.loads(invoke(stocked, tmp_path, "show", dataset("o1b002010").composite, "--json").stdout)
    assert as_json["kind"] == "product" and as_json["products"][0]["bands"][0]["best_period"] == 300.0
    assert as_json["products"][0]["exists"] is False  # --json says what the table's "on disk" says


def test_show_an_unknown_name_is_one_line(stocked: str, tmp_path: Path) -> None:
    result = invoke(stocked, tmp_path, "show", "AZV")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        "Error: AZV: no target, rootname, product or file of that name in the catalog "
        "(similar target names: AZV148)\n"
    )


def test_export(stocked: str, tmp_path: Path) -> None:
    path = tmp_path / "variable.vot"
    result = invoke(stocked, tmp_path, "export", "products", "--variable", "-o", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 3 product(s) to {path} (VOTable).\n"
    assert len(Table.read(path)) == 3
    again = invoke(stocked, tmp_path, "export", "products", "-o", str(path))
    assert again.exit_code == 1 and again.stderr == f"Error: {path}: exists; give --overwrite to replace it\n"
    assert len(Table.read(path)) == 3
    replaced = invoke(stocked, tmp_path, "export", "products", "-o", str(path), "--overwrite")
    assert replaced.exit_code == 0 and len(Table.read(path)) == 25
    targets = invoke(
        stocked, tmp_path, "export", "targets", "--name", "HD*", "--output", str(tmp_path / "t.fits")
    )
    assert targets.exit_code == 0 and "Wrote 1 target(s)" in targets.stdout
    assert [str(t) for t in Table.read(tmp_path / "t.fits")["target"]] == ["HD93521"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["targets", "--sort", "nope"], "'nope' is not a column to sort by; choose one of target, verdict"),
        (["products", "--sort", "proposals"], "'proposals' is not a column to sort by"),
        (["targets", "--since", "yesterday"], "'yesterday' is neither an MJD nor a date"),
        (["products", "--verdict", "flaring"], "'flaring' is not one of periodic, variable"),
        (["targets", "--name", " "], "' ' is blank"),
        (["targets", "--limit", "-1"], "Invalid value for '--limit'"),
        (["targets", "--limit", "99999999999999999999"], "99999999999999999999 is too large"),
        (["products", "--proposal", "99999999999999999999"], "--proposal: 99999999999999999999 is too large"),
        (["targets", "--since", "0001-01-01T00:00+01:00"], "'0001-01-01T00:00+01:00' is out of range"),
        (["products", "--type", "both"], "'both' is not one of"),
        (["targets", "--json", "--csv"], "give --json or --csv, not both"),
        (["export", "targets", "-o", "t.txt"], "unknown file type '.txt'"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(f"sqlite:///{tmp_path / 'none.db'}", tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "home").exists()


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


READ_ONLY = {
    "targets": ["targets"],
    "products": ["products", "--variable"],
    "show": ["show", "AZV148"],
    "export targets": ["export", "targets", "-o", "t.csv"],
    "export products": ["export", "products", "-o", "p.vot"],
}


def _subprocess(cwd: Path, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """``python -m hstlc ARGS`` in ``cwd`` with stdout piped, no hstlc settings from this environment."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HSTLC_")}
    config = cwd.parent / "xdg-config"
    config.mkdir(exist_ok=True)
    env.update(COLUMNS=str(columns), XDG_CONFIG_HOME=str(config))
    return subprocess.run(
        [sys.executable, "-m", "hstlc", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_without_a_catalog_one_line_and_nothing_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = runner.invoke(app, READ_ONLY[name])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"Error: sqlite:///{work / 'hstlc-data' / 'hstlc.db'}: the catalog does not exist; "
        "run 'hstlc db init'\n"
    )
    assert listing(tmp_path) == ["work"]


@pytest.mark.slow
def test_without_a_catalog_as_a_subprocess(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for name in ("targets", "show", "export products"):
        done = _subprocess(work, *READ_ONLY[name])
        assert done.returncode == 1 and done.stdout == "", done.stderr
        assert done.stderr.count("\n") == 1 and "the catalog does not exist" in done.stderr
    assert listing(work) == []
    assert listing(tmp_path / "xdg-config") == []


def test_reading_a_catalog_leaves_no_log(stocked: str, tmp_path: Path) -> None:
    for args in (["targets"], ["products"], ["show", "HD93521"]):
        assert invoke(stocked, tmp_path, *args).exit_code == 0
    assert not (tmp_path / "home").exists()


@pytest.fixture
def long_names(tmp_path: Path) -> Path:
    """A SQLite catalog (``work/hstlc-data/hstlc.db``) whose one target has a 70-character name."""
    work = tmp_path / "work"
    catalog = Catalog.from_url(f"sqlite:///{work / 'hstlc-data' / 'hstlc.db'}")
    catalog.init_schema()
    composite = "hlsp_hstlc_hst_cos-fuv_" + LONG.lower() + "_g130m_1291_psa_v1_sci.fits"
    with catalog.session() as session:
        row = upsert_metadata(
            session,
            "lb9z99aaq_corrtag_a.fits",
            path="/d",
            targname=LONG,
            rootname="lb9z99aaq",
            instrume="COS",
            detector="FUV",
            opt_elem="G130M",
            cenwave=1291,
            aperture="PSA",
            exptime=1234.0,
            expstart=56000.0,
            expend=56000.1,
            proposid=12345,
        )
        upsert_outputs(
            session,
            row.id,
            individual_path="/o",
            individual_filename=LONG_PRODUCT,
            composite_path="/c",
            composite_filename=composite,
        )
        upsert_stats(
            session,
            composite,
            lightcurve_path="/c",
            total=10.0,
            periodogram=True,
            variable=True,
            best_period=180.0,
            fap=1e-20,
            method_version=STATS_VERSION,
            method_settings=SETTINGS,
        )
    catalog.dispose()
    return work


def _whole(out: str, *values: str) -> None:
    assert "…" not in out, out
    for value in values:
        assert any(value in line for line in out.splitlines()), f"{value!r} is not whole on a line of:\n{out}"


@pytest.mark.slow
def test_piped_tables_never_cut_names(long_names: Path) -> None:
    composite = "hlsp_hstlc_hst_cos-fuv_" + LONG.lower() + "_g130m_1291_psa_v1_sci.fits"
    targets = _subprocess(long_names, "targets")
    assert targets.returncode == 0, targets.stderr
    _whole(targets.stdout, LONG, "periodic", "1,234 s")
    assert "periodic" in next(line for line in targets.stdout.splitlines() if LONG in line)
    products = _subprocess(long_names, "products")
    assert products.returncode == 0, products.stderr
    _whole(products.stdout, composite, LONG_PRODUCT)
    shown = _subprocess(long_names, "show", LONG.lower())
    assert shown.returncode == 0, shown.stderr
    _whole(shown.stdout, f"Target {LONG}", composite, "lb9z99aaq_corrtag_a.fits")


def test_in_a_narrow_terminal_names_fold_and_are_not_cut(
    long_names: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(long_names)
    result = runner.invoke(app, ["targets"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout and LONG in result.stdout  # CliRunner is no terminal: as wide as needed
