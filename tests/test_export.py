"""``hstlc.export``: the listings written as CSV, ECSV, JSON, VOTable and FITS and read back with astropy
(and json), with their units, descriptions and absent values; never overwriting without asking; written
whole or not at all."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from astropy.table import Table

from hstlc.catalog import Catalog
from hstlc.catalog.listings import PRODUCT_COLUMNS, TARGET_COLUMNS, CatalogFilter
from hstlc.errors import FilingError
from hstlc.export import FORMATS, export_format, export_products, export_targets, write_rows
from hstlc.filing import TEMP_PREFIX
from hstlc.science.variability import VERDICTS
from support.listing_catalog import SETTINGS, dataset, stock

READERS = {"csv": "ascii.csv", "ecsv": "ascii.ecsv", "votable": "votable", "fits": "fits"}


@pytest.fixture
def stocked(tmp_path: Path) -> Catalog:
    catalog = Catalog.from_url(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.init_schema()
    stock(catalog)
    yield catalog
    catalog.dispose()


def read_back(path: Path) -> Table | list[dict[str, object]]:
    fmt = export_format(path)
    if fmt == "json":
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    return Table.read(path, format=READERS[fmt])


@pytest.mark.parametrize("suffix", [".csv", ".ecsv", ".json", ".vot", ".fits"])
def test_targets_round_trip(stocked: Catalog, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"targets{suffix}"
    result = export_targets(stocked, CatalogFilter(), path, settings_key=SETTINGS)
    assert (result.path, result.rows) == (path, 11)
    expected = {r.target: r.to_dict(flat=True) for r in stocked.targets(settings_key=SETTINGS)}
    back = read_back(path)
    if isinstance(back, list):
        assert back == [r.to_dict() for r in stocked.targets(settings_key=SETTINGS)]
        return
    assert back.colnames == [c.name for c in TARGET_COLUMNS]
    rows = {str(r["target"]): r for r in back}
    if suffix == ".fits":  # FITS text is ASCII: other characters are written as Python escapes
        assert "\\xc9TOILE-\\u03a9" in rows
        rows["ÉTOILE-Ω"] = rows.pop("\\xc9TOILE-\\u03a9")
    assert set(rows) == set(expected)
    azv = rows["AZV148"]
    assert (str(azv["verdict"]), float(azv["best_period"]), int(azv["datasets"])) == ("variable", 1200.0, 2)
    assert float(azv["exptime"]) == pytest.approx(3000.0)
    assert str(azv["proposals"]) == "11111,11112" and str(azv["gratings"]) == "G130M"
    none = rows["NOSTATS"]  # no stats: the verdict and the period are absent, not text or zero
    assert (
        none["verdict"] is None
        or getattr(none["verdict"], "mask", False)
        or str(none["verdict"]) in ("", "--")
    )
    period = none["best_period"]
    assert getattr(period, "mask", False) or period is None or math.isnan(float(period))
    if suffix in (".vot", ".fits", ".ecsv"):  # units travel with the data
        assert str(back["exptime"].unit) == "s" and str(back["first_mjd"].unit) == "d"
    if suffix in (".vot", ".ecsv"):
        assert back["exptime"].description == "total exposure time, each dataset counted once"


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xml", ".fit"])
def test_products_round_trip(stocked: Catalog, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"products{suffix}"
    result = export_products(stocked, CatalogFilter(variable=True), path)
    assert result.rows == 3
    back = read_back(path)
    names = [r["filename"] for r in back]
    assert [str(n) for n in names] == [
        dataset("o1b002010").composite,
        dataset("lb1c01aaq").individual,
        dataset("lb1a01aaq").composite,
    ]
    if not isinstance(back, list):
        assert back.colnames == [c.name for c in PRODUCT_COLUMNS]
        assert [str(v) for v in back["periodogram"]] == ["True", "True", "False"]
        assert str(back["path"][0]) == f"/nonexistent/hstlc/composites/{dataset('o1b002010').composite}"


def test_an_empty_selection_still_has_its_columns(stocked: Catalog, tmp_path: Path) -> None:
    for suffix in (".csv", ".vot", ".fits", ".ecsv"):
        path = tmp_path / f"none{suffix}"
        assert export_products(stocked, CatalogFilter(name="NOTHING"), path).rows == 0
        back = read_back(path)
        assert len(back) == 0 and back.colnames == [c.name for c in PRODUCT_COLUMNS], suffix  # type: ignore[union-attr]
    assert export_targets(stocked, CatalogFilter(name="NOTHING"), tmp_path / "none.json").rows == 0
    assert json.loads((tmp_path / "none.json").read_text()) == []


def test_never_overwrites_without_being_asked(stocked: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("mine\n")
    with pytest.raises(FilingError, match=r"t\.csv: exists; give --overwrite to replace it"):
        export_targets(stocked, CatalogFilter(), path)
    assert path.read_text() == "mine\n"
    export_targets(stocked, CatalogFilter(limit=2), path, overwrite=True)
    assert len(read_back(path)) == 2


def test_written_whole_or_not_at_all(
    stocked: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Table, *args: object, **kwargs: object) -> None:
        Path(str(args[0])).write_text("half a table")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Table, "write", broken)
    with pytest.raises(FilingError, match=r"p\.vot: cannot write \(No space left on device\)"):
        export_products(stocked, CatalogFilter(), tmp_path / "p.vot")
    assert [p.name for p in tmp_path.iterdir() if p.name != "catalog.db"] == []
    assert not any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir())


def test_refuses_before_asking_the_catalog(tmp_path: Path) -> None:
    gone = Catalog.from_url(f"sqlite:///{tmp_path / 'missing.db'}")  # no tables: any query would fail
    with pytest.raises(ValueError, match=r"t\.txt: unknown file type '\.txt'; use one of \.csv"):
        export_targets(gone, None, tmp_path / "t.txt")
    with pytest.raises(FilingError, match=r"folder .*nowhere does not exist"):
        export_targets(gone, None, tmp_path / "nowhere" / "t.csv")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(FilingError, match=r"d\.csv: is a folder"):
        export_targets(gone, None, tmp_path / "d.csv")
    gone.dispose()


def test_formats_by_extension() -> None:
    assert {export_format(f"x{s.upper()}") for s in FORMATS} == {"csv", "ecsv", "json", "votable", "fits"}
    with pytest.raises(ValueError, match="no extension"):
        export_format("targets")


def test_write_rows_needs_the_listing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="listing: 'stats' is not one of targets, products"):
        write_rows([], tmp_path / "x.csv", listing="stats")
    assert not os.listdir(tmp_path)


def test_pandas_reads_csv_and_json(stocked: Catalog, tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    export_products(stocked, CatalogFilter(), tmp_path / "p.csv")
    export_products(stocked, CatalogFilter(), tmp_path / "p.json")
    for frame in (pandas.read_csv(tmp_path / "p.csv"), pandas.read_json(tmp_path / "p.json")):
        assert list(frame.columns) == [c.name for c in PRODUCT_COLUMNS] and len(frame) == 25
        assert frame["exptime"].dtype.kind in "fi" and frame["datasets"].dtype.kind == "i"
        assert frame["best_period"].isna().sum() == 25 - 7  # products without stats or without a period
        assert set(frame["verdict"].dropna()) == set(VERDICTS)
