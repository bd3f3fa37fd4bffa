"""``Catalog.show``: a target, a rootname, a product or an input file name, on every backend (the catalog
of ``support.listing_catalog``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hstlc.catalog import Catalog, upsert_metadata, upsert_outputs
from hstlc.catalog.show import BandPeriod, bands_of
from hstlc.errors import CatalogError
from support.listing_catalog import REJECTED, ROOT, SETTINGS, dataset, stock


@pytest.fixture
def stocked(catalog: Catalog) -> Catalog:
    stock(catalog)
    return catalog


def test_a_target_by_any_spelling(stocked: Catalog) -> None:
    for spelling in ("AZV148", "azv 148", "AZV-148", " a z v-148 "):
        entry = stocked.show(spelling, settings_key=SETTINGS)
        assert (entry.kind, entry.matched) == ("target", "AZV148"), spelling
    assert entry.target is not None and entry.target.verdict == "variable"
    assert [d.rootname for d in entry.datasets] == ["lb1a01aaq", "lb1a02aaq"]  # by EXPSTART
    first = entry.datasets[0]
    assert (first.targname_orig, first.proposal, first.expstart, first.exptime, first.segments) == (
        "AZV-148",
        11111,
        55000.0,
        1000.0,
        ("FUVA", "FUVB"),
    )
    assert (first.instrument, first.detector, first.grating, first.cenwave, first.aperture) == (
        "COS",
        "FUV",
        "G130M",
        1291,
        "PSA",
    )
    assert (first.individual_product, first.composite_product) == (
        dataset("lb1a01aaq").individual,
        dataset("lb1a01aaq").composite,
    )
    # lb1a01aaq has the ingest record of its files; lb1a02aaq only its metadata rows
    assert [(f.name, f.role, f.exists) for f in first.files] == [
        ("lb1a01aaq_corrtag_a.fits", "input", False),
        ("lb1a01aaq_corrtag_b.fits", "input", False),
    ]
    assert first.files[0].path == f"{ROOT}/filesystem/AZV148/lb1a01aaq_corrtag_a.fits"
    assert {f.role for f in entry.datasets[1].files} == {"metadata"}
    names = [p.product.filename for p in entry.products]
    assert names == [
        dataset("lb1a01aaq").composite,
        dataset("lb1a01aaq").individual,
        dataset("lb1a02aaq").individual,
    ]
    composite = entry.products[0]
    assert composite.rootnames == ("lb1a01aaq", "lb1a02aaq") and composite.stale_reason is None
    assert composite.bands == (
        BandPeriod("short", 1200.0, 0.2, None),
        BandPeriod("med", None, None, "no period in 600–3600 s is searchable"),
    )
    assert entry.rejected == ()


def test_a_rootname_in_any_case_and_its_composite(stocked: Catalog) -> None:
    entry = stocked.show("LB1A02AAQ", settings_key=SETTINGS)
    assert (entry.kind, entry.matched) == ("dataset", "lb1a02aaq")
    assert [d.rootname for d in entry.datasets] == ["lb1a02aaq"]
    products = {p.product.filename: p for p in entry.products}
    assert set(products) == {dataset("lb1a02aaq").individual, dataset("lb1a02aaq").composite}
    composite = products[dataset("lb1a02aaq").composite]
    assert composite.rootnames == ("lb1a01aaq", "lb1a02aaq") and composite.product.datasets == 2
    assert entry.target is not None and entry.target.target == "AZV148"


def test_a_product_and_an_input_file(stocked: Catalog) -> None:
    entry = stocked.show(dataset("o1b002010").composite, settings_key=SETTINGS)
    assert entry.kind == "product" and [p.product.verdict for p in entry.products] == ["periodic"]
    assert [d.rootname for d in entry.datasets] == ["o1b002010"] and entry.datasets[0].segments == ()
    assert entry.products[0].bands[0] == BandPeriod("short", 300.0, 1e-9, None)
    entry = stocked.show("lb1a01aaq_corrtag_b.fits")
    assert (entry.kind, entry.matched, [d.rootname for d in entry.datasets]) == (
        "file",
        "lb1a01aaq_corrtag_b.fits",
        ["lb1a01aaq"],
    )


def test_stale_stats_say_why(stocked: Catalog) -> None:
    entry = stocked.show("o'brien%_star", settings_key=SETTINGS)
    (composite,) = [p for p in entry.products if p.product.product_type == "composite"]
    assert composite.product.stale
    assert composite.stale_reason == "made by method version 1; this hstlc's is 2"
    other = stocked.show("OXBRIENAXSTAR", settings_key="fap<0.01 p<0.001")
    assert other.products[0].stale_reason == (
        "made with settings fap<0.001 p<0.001; the current are fap<0.01 p<0.001"
    )


def test_rejected_files(stocked: Catalog) -> None:
    entry = stocked.show("lb1z01aaq")
    assert (entry.kind, entry.datasets, entry.products, entry.target) == ("dataset", (), (), None)
    assert [(r.filename, r.reasons) for r in entry.rejected] == [
        (REJECTED[0], ("Bad EXPFLAG", "Short Exposure")),
        (REJECTED[1], ("Bad EXPFLAG",)),
    ]
    assert entry.rejected[0].path == f"{ROOT}/bad_data"
    assert [r.exists for r in entry.rejected] == [False, False]  # generated rows: no files behind them
    entry = stocked.show(REJECTED[1])
    assert (entry.kind, [r.filename for r in entry.rejected]) == ("file", [REJECTED[1]])
    for prefix in ("l", "lb1z", "lb1z01aa"):  # a start of a rootname is not one
        with pytest.raises(CatalogError, match="no target, rootname, product or file of that name"):
            stocked.show(prefix)


def test_hostile_and_unicode_names(stocked: Catalog) -> None:
    for asked, target in (
        ("BACK\\SLASH", "BACK\\SLASH"),
        ("backslash", "BACKSLASH"),
        ("bang!star", "BANG!STAR"),
        ("étoile ω", "ÉTOILE-Ω"),
    ):
        entry = stocked.show(asked)
        assert (entry.kind, entry.matched) == ("target", target), asked
    json.dumps(entry.to_dict(), ensure_ascii=False)  # JSON-safe throughout


def test_unknown_names_are_one_line_errors(stocked: Catalog) -> None:
    with pytest.raises(
        CatalogError,
        match=r"^AZV: no target, rootname, product or file of that name in the "
        r"catalog \(similar target names: AZV148\)$",
    ):
        stocked.show("AZV")
    with pytest.raises(CatalogError, match=r"^nothing%_: no target.*catalog$"):
        stocked.show("nothing%_")
    with pytest.raises(CatalogError, match="give a target, rootname or file name"):
        stocked.show("  ")


def test_a_loose_name_matching_several_targets(catalog: Catalog) -> None:
    with catalog.session() as session:
        for index, target in enumerate(("AB-1", "AB1")):
            upsert_metadata(
                session, f"la{index}_corrtag.fits", path="/d", targname=target, rootname=f"la{index}"
            )
    assert catalog.show("ab1").matched == "AB1"  # the exact key wins
    with pytest.raises(CatalogError, match=r"^A-B1: several targets match \(AB-1, AB1\); give one exactly$"):
        catalog.show("A-B1")


def test_files_on_disk(catalog: Catalog, tmp_path: Path) -> None:
    (tmp_path / "lq1a01aaq_corrtag.fits").write_bytes(b"x")
    with catalog.session() as session:
        row = upsert_metadata(
            session, "lq1a01aaq_corrtag.fits", path=str(tmp_path), targname="GD71", rootname="lq1a01aaq"
        )
        upsert_outputs(
            session, row.id, individual_path=str(tmp_path), individual_filename="lq1a01aaq_curve.fits"
        )
    entry = catalog.show("lq1a01aaq")
    assert [(f.path, f.exists) for f in entry.datasets[0].files] == [
        (str(tmp_path / "lq1a01aaq_corrtag.fits"), True)
    ]
    assert entry.products[0].product.path == str(tmp_path / "lq1a01aaq_curve.fits")
    assert not entry.products[0].product.has_stats and entry.products[0].bands == ()


def test_bands_of_every_details_form() -> None:
    assert bands_of(None) == () and bands_of({"version": 2}) == ()
    assert bands_of({"bands": {"long": {"best_period": 3600, "fap": "x", "skipped": ""}}}) == (
        BandPeriod("long", 3600.0, None, None),
    )
    assert bands_of({"short": {"best_period": 12.5, "fap": 0.5}, "n_bins": 3}) == (
        BandPeriod("short", 12.5, 0.5, None),
    )
