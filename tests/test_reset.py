"""``hstlc.reset``: database resets keep bad_data; a filesystem reset then an ingest rebuild the same
state."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hstlc.catalog import Catalog, upsert_bad_data
from hstlc.catalog import ingest_state as state
from hstlc.catalog.schema import Alias, BadData, IngestDataset, Metadata, Outputs, Stats
from hstlc.config import Settings
from hstlc.errors import CatalogError, FilingError, IngestLockedError
from hstlc.ingestion import ingest
from hstlc.product_stats import run_stats
from hstlc.reset import reset_database, reset_filesystem
from support.ingest import (
    Killed,
    assert_products_equal,
    catalog_snapshot,
    kill_after,
    make_sample,
    make_settings,
    release_as_if_killed,
    sha,
    tree,
)


def _count(catalog: Catalog, model: type) -> int:
    with catalog.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _stocked(tmp_path: Path, catalog: Catalog) -> tuple[Settings, dict[str, str]]:
    """An ingested home: WD twice (a composite), a B-only FUV, a bad pair, a STIS tag (derived corrtag)."""
    from hstlc import synthetic as syn

    lref, oref = tmp_path / "lref", tmp_path / "oref"
    settings = make_settings(tmp_path / "home", lref, oref_dir=oref)
    incoming = settings.ingest_dir
    incoming.mkdir(parents=True)
    make_sample(incoming, lref)
    syn.make_stis_tag(incoming, "o8k401010", targname="AD-LEO", exptime=120.0, source_rate=8.0,
                      reference_dir=oref, seed=7)
    inputs = {p.name: sha(p) for p in incoming.iterdir() if p.is_file()}
    summary = ingest(incoming, settings=settings, catalog=catalog)
    assert not summary.failed and summary.bad_count == 1
    run_stats(catalog, settings)
    return settings, inputs


@pytest.mark.slow
def test_reset_filesystem_then_ingest_rebuilds_the_same_catalog_products_and_tree(
    catalog: Catalog, tmp_path: Path
) -> None:
    settings, inputs = _stocked(tmp_path, catalog)
    home = Path(settings.home_dir)
    first = catalog_snapshot(catalog, home), tree(home)
    first_products = {rel: home / rel for rel in first[1] if rel.startswith(("outputs", "composites"))}
    saved = tmp_path / "first-products"
    for rel, path in first_products.items():
        (saved / rel).parent.mkdir(parents=True, exist_ok=True)
        (saved / rel).write_bytes(path.read_bytes())
    bad_before = _count(catalog, BadData)

    done = reset_filesystem(settings, catalog)
    back = {p.name: sha(p) for p in settings.ingest_dir.iterdir() if p.is_file()}
    bad = {n for n in inputs if n.startswith("lb4m09aaq")}  # the quarantined pair stays in bad_data_dir
    assert back == {n: s for n, s in inputs.items() if n not in bad}  # every input back, byte for byte
    assert done.datasets == 4 and not done.missing
    assert not any(p.is_file() for p in settings.filesystem_dir.rglob("*.fits"))
    assert not any(settings.outputs_dir.rglob("*.fits")) and not any(settings.composite_dir.rglob("*.fits"))
    assert any(p.name == "o8k401010_corrtag.fits" for p in done.removed)  # derived: hstlc's, removed
    assert _count(catalog, Metadata) == _count(catalog, Outputs) == _count(catalog, Stats) == 0
    assert _count(catalog, BadData) == bad_before
    with catalog.session() as session:
        assert {d.status for d in session.execute(select(IngestDataset)).scalars()} == {state.BAD}

    summary = ingest(settings.ingest_dir, settings=settings, catalog=catalog)
    assert not summary.failed and len(summary.ingested) == 4
    assert catalog_snapshot(catalog, home) == first[0]
    assert tree(home) == first[1]
    for rel in first_products:
        assert_products_equal(saved / rel, home / rel)


@pytest.mark.slow
def test_an_interrupted_filesystem_reset_is_finished_by_running_it_again(
    catalog: Catalog, tmp_path: Path
) -> None:
    settings, inputs = _stocked(tmp_path, catalog)
    # what a reset killed after its first move leaves: one file back, the rest filed, the catalog unchanged
    filed = next(settings.filesystem_dir.rglob("lb4m02aaq_corrtag_b.fits"))
    filed.rename(settings.ingest_dir / filed.name)
    done = reset_filesystem(settings, catalog)
    assert settings.ingest_dir / filed.name in done.moved and not done.missing
    wanted = {n for n in inputs if not n.startswith("lb4m09")}
    assert {p.name for p in settings.ingest_dir.iterdir()} >= wanted


def test_a_half_filed_dataset_stops_the_reset_until_an_ingest_finishes_it(
    catalog: Catalog, tmp_path: Path
) -> None:
    """An ingest killed between a dataset's journal and its commit: only its recovery knows where each
    file is, so the reset refuses (nothing moved or forgotten) until an ingest has finished it."""
    lref = tmp_path / "lref"
    settings = make_settings(tmp_path / "home", lref)
    settings.ingest_dir.mkdir(parents=True)
    make_sample(settings.ingest_dir, lref)
    inputs = {p.name: sha(p) for p in settings.ingest_dir.iterdir() if p.is_file()}
    with pytest.raises(Killed):
        ingest(settings.ingest_dir, settings=settings, catalog=catalog, fault=kill_after(1))
    release_as_if_killed(catalog)
    before = tree(settings.home_dir)
    with pytest.raises(FilingError, match=r"half-filed .*run 'hstlc ingest' to finish them"):
        reset_filesystem(settings, catalog)
    assert tree(settings.home_dir) == before
    ingest(settings.ingest_dir, settings=settings, catalog=catalog)
    reset_filesystem(settings, catalog)
    assert {p.name: sha(p) for p in settings.ingest_dir.iterdir() if p.is_file()} == {
        n: h for n, h in inputs.items() if not n.startswith("lb4m09")}  # the bad pair stays in bad_data


@pytest.mark.slow
def test_a_different_file_in_the_way_stops_the_reset_before_the_catalog_changes(
    catalog: Catalog, tmp_path: Path
) -> None:
    settings, _ = _stocked(tmp_path, catalog)
    (settings.ingest_dir / "lb4m01aaq_corrtag_a.fits").write_bytes(b"not the filed file")
    rows = _count(catalog, Metadata)
    with pytest.raises(FilingError, match=r"lb4m01aaq_corrtag_a\.fits"):
        reset_filesystem(settings, catalog)
    assert _count(catalog, Metadata) == rows
    assert (settings.ingest_dir / "lb4m01aaq_corrtag_a.fits").read_bytes() == b"not the filed file"


@pytest.mark.slow
def test_reset_database_production_keeps_bad_data_and_the_resolver_tables(
    catalog: Catalog, tmp_path: Path
) -> None:
    settings, _ = _stocked(tmp_path, catalog)
    with catalog.session() as session:
        session.add(Alias(alias="WD 0308-565", targname="WD0308-565", source="test"))
    counts = (_count(catalog, Metadata), _count(catalog, BadData))
    done = reset_database(catalog, "production")
    assert set(done.tables) == {"metadata", "outputs", "stats", "datasets", "composite_queue"}
    assert done.tables["metadata"] == counts[0]
    assert _count(catalog, Metadata) == _count(catalog, Stats) == _count(catalog, IngestDataset) == 0
    assert _count(catalog, BadData) == counts[1] and _count(catalog, Alias) == 1
    one = reset_database(catalog, "metadata")  # and outputs, which points at it
    assert list(one.tables) == ["metadata", "outputs"]
    everything = reset_database(catalog, "all")
    assert "ingest_lock" not in everything.tables and "bad_data" in everything.tables
    assert _count(catalog, BadData) == _count(catalog, Alias) == 0
    with pytest.raises(CatalogError, match="no table 'nonsense' to reset; choose production, all or one of"):
        reset_database(catalog, "nonsense")
    del settings


def test_resets_are_refused_while_an_ingest_runs(catalog: Catalog, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    with catalog.session() as session:
        upsert_bad_data(session, "lb4m09aaq_corrtag_a.fits", ["Bad EXPFLAG"])
    with state.IngestLockHandle.acquire(catalog, command="hstlc ingest (test)"):
        with pytest.raises(IngestLockedError, match="another ingest is running"):
            reset_database(catalog)
        with pytest.raises(IngestLockedError, match="another ingest is running"):
            reset_filesystem(settings, catalog)
    assert _count(catalog, BadData) == 1

