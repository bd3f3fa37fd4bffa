"""Ingest per instrument: COS NUV, STIS first order (``_tag`` → derived corrtag), STIS IMAGING, and
``--corrtag-extract`` (re-derive, keeping the previous corrtag)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hstlc.catalog import Catalog
from hstlc.catalog.schema import Base, IngestDataset, Metadata
from hstlc.config import Settings
from hstlc.errors import ExtractionError
from hstlc.ingestion import ingest
from hstlc.ingestion.work import staging_dir
from hstlc.products import read_lightcurve
from support.ingest import catalog_snapshot, make_settings, sha, tree

STIS = {"exptime": 150.0, "source_rate": 20.0, "background_rate": 0.001}


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from hstlc import synthetic as syn

    base = tmp_path_factory.mktemp("refs")
    syn.make_stis_reference_files(base / "oref")
    return base / "lref", base / "oref"


@pytest.mark.slow
def test_nuv_stis_and_imaging_metadata(catalog: Catalog, tmp_path: Path, refs: tuple[Path, Path]) -> None:
    from hstlc import synthetic as syn

    lref, oref = refs
    incoming = tmp_path / "incoming"
    syn.make_cos_nuv(incoming, "lb4m03aaq", targname="HD 93521", exptime=120.0, reference_dir=lref, seed=1)
    stis = syn.make_stis_tag(incoming, "o8k401010", targname="V-AM-CVN", seed=2, **STIS)
    syn.make_stis_tag(incoming, "o8k402010", targname="V-AM-CVN", imaging=True, seed=3, **STIS)
    inputs = {p.name: sha(p) for p in incoming.iterdir()}
    settings = make_settings(tmp_path / "home", lref, oref_dir=oref)
    summary = ingest(incoming, settings=settings, catalog=catalog)
    assert summary.failed == {} and sorted(summary.ingested) == ["lb4m03aaq", "o8k401010", "o8k402010"]

    with catalog.session() as s:
        rows = {m.filename: m for m in s.execute(select(Metadata)).scalars()}
        assert sorted(rows) == ["lb4m03aaq_corrtag.fits", "o8k401010_tag.fits", "o8k402010_tag.fits"]
        nuv = rows["lb4m03aaq_corrtag.fits"]
        assert (nuv.instrume, nuv.detector, nuv.opt_elem, nuv.targname, nuv.targname_orig) == (
            "COS", "NUV", "G185M", "HD93521", "HD 93521")
        assert nuv.cenwave > 0 and nuv.fppos > 0
        first = rows["o8k401010_tag.fits"]
        assert (first.instrume, first.fppos, first.obstype) == ("STIS", 0, "SPECTROSCOPIC")
        assert first.cenwave == stis.truth.get("cenwave", first.cenwave) and first.cenwave > 0
        assert first.sha256 == inputs["o8k401010_tag.fits"]
        image = rows["o8k402010_tag.fits"]
        assert (image.obstype, image.cenwave, image.fppos) == ("IMAGING", 0, 0)
        marker = s.execute(select(IngestDataset).filter_by(rootname="o8k401010")).scalar_one()
        roles = {f["name"]: f["role"] for f in marker.files}
        assert roles == {"o8k401010_tag.fits": "input", "o8k401010_x1d.fits": "input",
                         "o8k401010_corrtag.fits": "derived"}
        assert marker.primary_path == str(settings.filesystem_dir / "V-AM-CVN" / "o8k401010_corrtag.fits")

    folder = settings.filesystem_dir / "V-AM-CVN"
    # The _tag is kept (the original deleted it); the derived corrtag is filed beside it.
    assert {"o8k401010_tag.fits", "o8k401010_x1d.fits", "o8k401010_corrtag.fits"} <= {
        p.name for p in folder.iterdir()}
    assert sha(folder / "o8k401010_tag.fits") == inputs["o8k401010_tag.fits"]
    curve = read_lightcurve(settings.outputs_dir / "V-AM-CVN" / "o8k401010_curve.fits")
    assert len(curve) > 0 and curve.gross.sum() > 0
    assert list(incoming.iterdir()) == []


def test_corrtag_extract_rederives_and_keeps_the_old_corrtag(
    catalog: Catalog, tmp_path: Path, refs: tuple[Path, Path]
) -> None:
    from hstlc import synthetic as syn

    lref, oref = refs
    incoming = tmp_path / "incoming"
    syn.make_stis_tag(incoming, "o8k401010", targname="V-AM-CVN", seed=2, **STIS)
    stale = incoming / "o8k401010_corrtag.fits"
    stale.write_bytes(b"an old corrtag made by another tool")
    old = sha(stale)
    settings = make_settings(tmp_path / "home", lref, oref_dir=oref)
    summary = ingest(incoming, settings=settings, catalog=catalog, corrtag_extract=True)
    assert summary.failed == {} and summary.ingested == ["o8k401010"]
    folder = settings.filesystem_dir / "V-AM-CVN"
    kept = list((folder / "superseded").rglob("o8k401010_corrtag.fits"))
    assert [sha(p) for p in kept] == [old]
    assert sha(folder / "o8k401010_corrtag.fits") != old  # freshly derived from the _tag
    assert read_lightcurve(settings.outputs_dir / "V-AM-CVN" / "o8k401010_curve.fits").gross.sum() > 0


# --- the derived STIS corrtag and crash safety (issue 12, item 4) -------------------------------------------


def _stis_ingest(tmp_path: Path, refs: tuple[Path, Path], name: str, url: str,
                 before: Callable[[Path, Settings], None] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Ingest one STIS ``_tag`` dataset into its own home and catalog; ``before`` prepares the scene."""
    from hstlc import synthetic as syn

    lref, oref = refs
    incoming, home = tmp_path / f"in-{name}", tmp_path / f"home-{name}"
    syn.make_stis_tag(incoming, "o8k401010", targname="V-AM-CVN", seed=2, **STIS)
    given = sorted(p.name for p in incoming.iterdir())
    settings = make_settings(home, lref, oref_dir=oref)
    catalog = Catalog.from_url(url if not url.startswith("sqlite") else f"sqlite:///{tmp_path / name}.db")
    Base.metadata.drop_all(catalog.engine)
    catalog.init_schema()
    try:
        if before is not None:
            before(incoming, settings)
        summary = ingest(incoming, settings=settings, catalog=catalog)
        assert summary.failed == {} and summary.ingested == ["o8k401010"]
        assert given == ["o8k401010_tag.fits", "o8k401010_x1d.fits"]
        assert list(incoming.iterdir()) == []
        assert not any(staging_dir(settings).glob("*")), "the staging folder is left empty"
        return catalog_snapshot(catalog, home), tree(home)
    finally:
        catalog.dispose()


@pytest.mark.slow
def test_a_corrtag_a_killed_run_derived_changes_nothing(
    catalog_url: str, tmp_path: Path, refs: tuple[Path, Path]
) -> None:
    """The kill moment the campaign found: a run killed after a worker derived the STIS corrtag, before the
    dataset's filing journal. The corrtag used to be written into the input folder, so the next run found a
    ``_tag`` + ``_corrtag`` pair and catalogued the files in another order than an uninterrupted run."""
    from hstlc.stis_corrtag import write_stis_corrtag

    clean = _stis_ingest(tmp_path, refs, "clean", catalog_url)

    def killed_after_derivation(incoming: Path, settings: Settings) -> None:
        staged = staging_dir(settings) / "o8k401010_corrtag.fits"
        write_stis_corrtag(incoming / "o8k401010_tag.fits", staged, oref_dir=settings.oref_dir)
        (staged.parent / "o8k401009_corrtag.fits").write_bytes(b"staged by a run killed long ago")

    assert _stis_ingest(tmp_path, refs, "killed", catalog_url, killed_after_derivation) == clean

    def derived_beside_the_tag(incoming: Path, settings: Settings) -> None:  # by the user, or hstlc < 0.9
        write_stis_corrtag(incoming / "o8k401010_tag.fits", oref_dir=settings.oref_dir)

    # The user's corrtag is used as it is (and filed as derived): the same catalog, whatever the order.
    assert _stis_ingest(tmp_path, refs, "beside", catalog_url, derived_beside_the_tag)[0]["datasets"] == \
        clean[0]["datasets"]


@pytest.mark.slow
def test_a_journalled_staged_corrtag_survives_until_its_move_is_finished(
    catalog_url: str, tmp_path: Path, refs: tuple[Path, Path]
) -> None:
    """A run stopped after journalling the move of a staged corrtag: the next run finishes the move before it
    clears the staging folder (the staged file is the only copy)."""
    from hstlc.ingestion import Move

    clean = _stis_ingest(tmp_path, refs, "clean", catalog_url)

    def interrupted(incoming: Path, settings: Settings) -> None:
        def refuse_staged(step: str, rootname: str, move: Move | None) -> None:
            if move is not None and Path(move.src).parent == staging_dir(settings):
                raise OSError(5, "Input/output error")

        catalog = Catalog.from_url(catalog_url if not catalog_url.startswith("sqlite")
                                   else f"sqlite:///{tmp_path / 'journal'}.db")
        summary = ingest(incoming, settings=settings, catalog=catalog, fault=refuse_staged)
        catalog.dispose()
        assert "filing journal kept" in summary.failed["o8k401010"]
        assert (staging_dir(settings) / "o8k401010_corrtag.fits").is_file()

    assert _stis_ingest(tmp_path, refs, "journal", catalog_url, interrupted) == clean


def test_a_failed_stis_extraction_leaves_the_input_folder_as_it_was(
    catalog: Catalog, tmp_path: Path, refs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hstlc import extraction
    from hstlc import synthetic as syn

    lref, oref = refs
    incoming = tmp_path / "incoming"
    syn.make_stis_tag(incoming, "o8k401010", targname="V-AM-CVN", seed=2, **STIS)
    before = {p.name: sha(p) for p in incoming.iterdir()}

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ExtractionError("no events in the extraction region")

    monkeypatch.setattr(extraction, "extract_with_window", broken)
    settings = make_settings(tmp_path / "home", lref, oref_dir=oref)
    summary = ingest(incoming, settings=settings, catalog=catalog)
    assert list(summary.failed) == ["o8k401010"]
    assert {p.name: sha(p) for p in incoming.iterdir()} == before  # no derived corrtag written here
