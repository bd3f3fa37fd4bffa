"""Ingest per instrument: COS NUV, STIS first order (``_tag`` → derived corrtag), STIS IMAGING, and
``--corrtag-extract`` (re-derive, keeping the previous corrtag)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from hstlc.catalog import Catalog
from hstlc.catalog.schema import IngestDataset, Metadata
from hstlc.pipeline import ingest
from hstlc.products import read_lightcurve
from test_ingest_support import make_settings, sha

STIS = {"exptime": 150.0, "source_rate": 20.0, "background_rate": 0.001}


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from hstlc import synthetic as syn

    base = tmp_path_factory.mktemp("refs")
    syn.make_stis_reference_files(base / "oref")
    return base / "lref", base / "oref"


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
