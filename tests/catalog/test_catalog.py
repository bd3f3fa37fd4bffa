"""The catalog on every backend: schema, idempotent init, natural-key upserts, long paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from hstlc.catalog import (
    BAD_DATA_REASONS,
    BadData,
    Catalog,
    Metadata,
    Outputs,
    Stats,
    masked_url,
    normalise_reasons,
    upsert_bad_data,
    upsert_metadata,
    upsert_outputs,
    upsert_stats,
)
from hstlc.errors import CatalogError

ORIGINAL_COLUMNS = {
    "metadata": {
        "id",
        "filename",
        "path",
        "ingest_date",
        "telescop",
        "instrume",
        "targname",
        "cal_ver",
        "obstype",
        "cenwave",
        "aperture",
        "detector",
        "opt_elem",
        "fppos",
    },
    "outputs": {
        "id",
        "metadata_id",
        "individual_path",
        "individual_filename",
        "composite_path",
        "composite_filename",
    },
    "bad_data": {"id", "filename", "ingest_date", "reason"},
    "stats": {
        "id",
        "lightcurve_path",
        "lightcurve_filename",
        "total",
        "mean",
        "mu",
        "stdev",
        "poisson_factor",
        "pearson_r",
        "pearson_p",
        "periodogram",
        "deliver",
    },
}


def test_init_creates_schema_idempotently(catalog_url: str) -> None:
    catalog = Catalog.from_url(catalog_url)
    try:
        assert catalog.missing_tables()
        created = catalog.init_schema()
        assert set(ORIGINAL_COLUMNS) <= set(created)
        assert catalog.init_schema() == []
        assert catalog.missing_tables() == []
        inspector = inspect(catalog.engine)
        for table, columns in ORIGINAL_COLUMNS.items():
            assert columns <= {c["name"] for c in inspector.get_columns(table)}, table
        assert catalog.status()["metadata"] == 0
    finally:
        catalog.dispose()


def _metadata_values(path: str) -> dict[str, object]:
    return {
        "path": path,
        "telescop": "HST",
        "instrume": "COS",
        "detector": "FUV",
        "targname": "GD71",
        "cal_ver": "3.4.1",
        "obstype": "SPECTROSCOPIC",
        "cenwave": 1291,
        "aperture": "PSA",
        "opt_elem": "G130M",
        "fppos": 3,
        "rootname": "lb4m01aaq",
        "expstart": 56000.5,
        "exptime": 1200.0,
        "proposid": 12345,
    }


def test_upserts_never_duplicate(catalog: Catalog) -> None:
    for _ in range(3):
        with catalog.session() as s:
            row = upsert_metadata(s, "lb4m01aaq_corrtag_a.fits", **_metadata_values("/data/a"))
            upsert_outputs(s, row.id, individual_path="/out/GD71", individual_filename="lb4m01aaq_curve.fits")
            upsert_bad_data(s, "lb4m02abq_corrtag.fits", ["Short Exposure", "Bad EXPFLAG"])
            upsert_stats(
                s,
                "lb4m01aaq_curve.fits",
                lightcurve_path="/out/GD71",
                total=10.0,
                periodogram=False,
                deliver=True,
                details={"short": {"best_period": 12.5, "fap": 0.5}},
            )
    with catalog.session() as s:
        assert len(s.scalars(select(Metadata)).all()) == 1
        assert len(s.scalars(select(Outputs)).all()) == 1
        assert len(s.scalars(select(BadData)).all()) == 1
        assert len(s.scalars(select(Stats)).all()) == 1
        bad = s.scalars(select(BadData)).one()
        assert bad.reasons == ["Bad EXPFLAG", "Short Exposure"]  # all reasons, original order
        meta = s.scalars(select(Metadata)).one()
        assert meta.targname_key == "GD71"
        assert meta.output is not None and meta.output.individual_filename == "lb4m01aaq_curve.fits"
        assert s.scalars(select(Stats)).one().details == {"short": {"best_period": 12.5, "fap": 0.5}}


def test_upsert_updates_in_place(catalog: Catalog) -> None:
    with catalog.session() as s:
        first = upsert_metadata(s, "x_corrtag.fits", **_metadata_values("/a"))
        first_id = first.id
    with catalog.session() as s:
        again = upsert_metadata(s, "x_corrtag.fits", **{**_metadata_values("/b"), "targname": "NGC 224"})
        assert again.id == first_id
        assert again.path == "/b" and again.targname_key == "NGC224"
        upsert_stats(s, "x_curve.fits", lightcurve_path="/o", total=1.0)
    with catalog.session() as s:
        upsert_stats(s, "x_curve.fits", lightcurve_path="/o", total=2.0, periodogram=True)
    with catalog.session() as s:
        stats = s.scalars(select(Stats)).one()
        assert stats.total == 2.0 and stats.periodogram is True


def test_long_paths_and_names_fit(catalog: Catalog) -> None:
    long_path = "/" + "/".join(["very-long-directory-name-of-an-archive-team"] * 40)  # ~1,800 characters
    long_name = "n" * 250
    with catalog.session() as s:
        row = upsert_metadata(s, long_name, **_metadata_values(long_path))
        upsert_outputs(s, row.id, individual_path=long_path, composite_path=long_path)
        upsert_stats(s, long_name, lightcurve_path=long_path)
        upsert_bad_data(s, long_name, ["No events"], path=long_path)
    with catalog.session() as s:
        assert s.scalars(select(Metadata)).one().path == long_path
        assert s.scalars(select(Stats)).one().lightcurve_path == long_path


def test_floats_keep_double_precision(catalog: Catalog) -> None:
    """MJDs need ~1e-8 d (1 ms) resolution: single-precision FLOAT (MySQL's default) would keep 0.01 d."""
    with catalog.session() as s:
        upsert_metadata(
            s,
            "z_corrtag.fits",
            **{**_metadata_values("/a"), "expstart": 58123.123456789, "ra_targ": 10.68470833},
        )
    with catalog.session() as s:
        row = s.scalars(select(Metadata)).one()
        assert row.expstart == pytest.approx(58123.123456789, abs=1e-9)
        assert row.ra_targ == pytest.approx(10.68470833, abs=1e-10)


def test_transaction_rolls_back_on_error(catalog: Catalog) -> None:
    with pytest.raises(RuntimeError), catalog.session() as s:
        upsert_metadata(s, "y_corrtag.fits", **_metadata_values("/a"))
        raise RuntimeError("boom")
    assert catalog.status()["metadata"] == 0


def test_reasons_validation() -> None:
    assert normalise_reasons(reversed(BAD_DATA_REASONS)) == "; ".join(BAD_DATA_REASONS)
    with pytest.raises(ValueError, match="unknown bad-data reason"):
        normalise_reasons(["Cosmic rays"])
    with pytest.raises(ValueError, match="at least one reason"):
        normalise_reasons([])


def test_masked_url_hides_password() -> None:
    assert (
        masked_url("postgresql+psycopg://user:s3cret@db:5432/hstlc")
        == "postgresql+psycopg://user:***@db:5432/hstlc"
    )
    assert masked_url("sqlite:///x.db") == "sqlite:///x.db"


def test_bad_urls_are_catalog_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not a database URL"):
        Catalog.from_url("not a url")
    with pytest.raises(CatalogError, match="no database driver"):
        Catalog.from_url("nosuchdb://host/db")
    catalog = Catalog.from_url("postgresql+psycopg://postgres:pw@127.0.0.1:1/none")
    with pytest.raises(CatalogError) as info:
        catalog.missing_tables()
    assert "pw" not in str(info.value) and "***" in str(info.value)


def test_check_schema_advises_db_init(tmp_path: Path) -> None:
    catalog = Catalog.from_url(f"sqlite:///{tmp_path / 'c.db'}")
    with pytest.raises(CatalogError, match="run 'hstlc db init'"):
        catalog.check_schema()
    catalog.init_schema()
    catalog.check_schema()
    catalog.dispose()


def test_bulk_upsert_inserts_updates_and_merges(catalog: Catalog) -> None:
    from hstlc.catalog.store import bulk_upsert

    rows = [{"filename": f"f{i:04d}_corrtag_a.fits", "path": "/d", "targname": "A", "cenwave": i}
            for i in range(1200)]
    with catalog.session() as session:
        bulk_upsert(session, Metadata, "filename", rows)  # more keys than one IN list holds
    with catalog.session() as session:
        bulk_upsert(session, Metadata, "filename", [
            {"filename": "f0001_corrtag_a.fits", "targname": "B"},  # update: only the given column
            {"filename": "new_corrtag_a.fits", "path": "/d", "targname": "C"},
            {"filename": "new_corrtag_a.fits", "cenwave": 7},  # same key twice: merged, later wins
            {"filename": "f0002_corrtag_a.fits", "targname": "D", "cenwave": 2},
        ])
    with catalog.session() as session:
        got = {r.filename: (r.targname, r.cenwave, r.ingest_date is not None)
               for r in session.execute(select(Metadata)).scalars()}
    assert len(got) == 1201
    assert got["f0001_corrtag_a.fits"] == ("B", 1, True)
    assert got["f0002_corrtag_a.fits"] == ("D", 2, True)
    assert got["new_corrtag_a.fits"] == ("C", 7, True)  # the column default (ingest_date) applies
    assert got["f1199_corrtag_a.fits"] == ("A", 1199, True)
    with catalog.session() as session, pytest.raises(ValueError, match="no column"):
        bulk_upsert(session, Metadata, "filename", [{"filename": "x", "colour": "red"}])
