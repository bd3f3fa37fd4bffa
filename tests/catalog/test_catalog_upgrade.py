"""Catalogs made by the previous release: ``check_schema``/``init_schema`` add the new ``stats`` columns,
and the indexes a catalog made before them lacks.

Every test runs on SQLite and on each server in ``HSTLC_TEST_DATABASE_URLS`` (the ``catalog_url`` fixture
gives each an empty schema and drops the hstlc tables, old-shaped ones included, afterwards).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Double,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
)
from sqlalchemy.exc import OperationalError

from hstlc.catalog import Base, Catalog, Stats, upsert_stats
from hstlc.catalog.stats_queries import StatsFingerprint, stats_fingerprints
from hstlc.errors import CatalogError

NEW_COLUMNS = [
    "variable", "best_period", "fap", "chi2_reduced", "chi2_p", "method_version", "method_settings",
]
ADDED = [f"stats.{name}" for name in NEW_COLUMNS]
OLD_ROW = {
    "lightcurve_path": "/out/GD71",
    "lightcurve_filename": "lb4m01aaq_curve.fits",
    "total": 1234.0,
    "mean": 1.5,
    "periodogram": True,
    "deliver": False,
    "product_type": "individual",
    "product_sha256": "ab" * 32,
    "computed_at": datetime(2024, 5, 1, 12, 0, 0),
    "details": {"short": {"best_period": 12.5, "fap": 0.5}},
}


def _old_stats_table(metadata: MetaData, *, without: tuple[str, ...] = ()) -> Table:
    """The ``stats`` table as the previous release created it (optionally lacking more columns)."""
    columns = [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("lightcurve_path", Text, nullable=False),
        Column("lightcurve_filename", String(255), nullable=False),
        Column("total", Double),
        Column("mean", Double),
        Column("mu", Double),
        Column("stdev", Double),
        Column("poisson_factor", Double),
        Column("pearson_r", Double),
        Column("pearson_p", Double),
        Column("periodogram", Boolean, nullable=False),
        Column("deliver", Boolean, nullable=False),
        Column("product_type", String(16)),
        Column("product_sha256", String(64)),
        Column("computed_at", DateTime),
        Column("details", JSON),
    ]
    return Table(
        "stats",
        metadata,
        *[c for c in columns if c.name not in without],
        UniqueConstraint("lightcurve_filename", name="uq_stats_lightcurve_filename"),
    )


def _make_old_catalog(url: str, *, other_tables: bool, without: tuple[str, ...] = ()) -> None:
    """An old-release ``stats`` table holding :data:`OLD_ROW`; with ``other_tables`` the rest as today."""
    catalog = Catalog.from_url(url)
    try:
        table = _old_stats_table(MetaData(), without=without)
        table.create(catalog.engine)
        with catalog.engine.begin() as connection:
            connection.execute(table.insert().values({k: v for k, v in OLD_ROW.items() if k not in without}))
        if other_tables:
            Base.metadata.create_all(catalog.engine)  # keeps the existing (old) stats table as it is
    finally:
        catalog.dispose()


def _stats_columns(engine: Engine) -> list[str]:
    return [c["name"] for c in inspect(engine).get_columns("stats")]


@pytest.fixture
def old_catalog(catalog_url: str) -> Iterator[Catalog]:
    """A complete catalog of the previous release: every table, ``stats`` without the new columns."""
    _make_old_catalog(catalog_url, other_tables=True)
    catalog = Catalog.from_url(catalog_url)
    yield catalog
    catalog.dispose()


def test_old_table_is_the_model_minus_the_new_columns() -> None:
    old = [c.name for c in _old_stats_table(MetaData()).columns]
    assert [c.name for c in Stats.__table__.columns if c.name not in NEW_COLUMNS] == old
    assert all(Stats.__table__.c[name].nullable for name in NEW_COLUMNS)


def _assert_old_row_kept(catalog: Catalog) -> None:
    with catalog.session() as session:
        row = session.scalars(select(Stats)).one()
        for name, value in OLD_ROW.items():
            assert getattr(row, name) == value, name
        assert all(getattr(row, name) is None for name in NEW_COLUMNS)


def test_check_schema_adds_missing_columns(old_catalog: Catalog, caplog: pytest.LogCaptureFixture) -> None:
    assert old_catalog.missing_tables() == []
    assert old_catalog.missing_columns() == ADDED
    with caplog.at_level(logging.INFO, logger="hstlc.catalog.store"):
        old_catalog.check_schema()
    assert "stats.variable" in caplog.text and "stats.method_version" in caplog.text
    assert set(NEW_COLUMNS) <= set(_stats_columns(old_catalog.engine))
    assert old_catalog.missing_columns() == []
    _assert_old_row_kept(old_catalog)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hstlc.catalog.store"):
        old_catalog.check_schema()  # nothing left to do
    assert "added column" not in caplog.text
    assert old_catalog.upgrade_schema() == []


def test_init_schema_creates_tables_and_adds_columns(
    catalog_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _make_old_catalog(catalog_url, other_tables=False)
    catalog = Catalog.from_url(catalog_url)
    try:
        with caplog.at_level(logging.INFO, logger="hstlc.catalog.store"):
            created = catalog.init_schema()
        assert created == sorted(set(Base.metadata.tables) - {"stats"})  # still the tables created
        assert "stats.variable" in caplog.text
        assert catalog.missing_tables() == [] and catalog.missing_columns() == []
        _assert_old_row_kept(catalog)
        assert catalog.init_schema() == []
        assert catalog.upgrade_schema() == []
    finally:
        catalog.dispose()


def test_upgrade_schema_returns_added_columns_once(old_catalog: Catalog) -> None:
    assert old_catalog.upgrade_schema() == ADDED
    assert old_catalog.upgrade_schema() == []
    _assert_old_row_kept(old_catalog)


def _check_new_fields_round_trip(catalog: Catalog) -> None:
    values: dict[str, Any] = {
        "variable": True,
        "best_period": 1234.56789012345,
        "fap": 1.234567890123e-12,
        "chi2_reduced": 3.14159265358979,
        "chi2_p": 2.5e-300,
        "method_version": 2,
        "method_settings": "fap<0.001 p<0.001",
    }
    with catalog.session() as session:
        upsert_stats(session, "lb4m01aaq_curve.fits", lightcurve_path="/out/GD71", **values)
        upsert_stats(session, "lb4m02abq_curve.fits", lightcurve_path="/out/GD71", variable=False)
    with catalog.session() as session:
        rows = {r.lightcurve_filename: r for r in session.scalars(select(Stats))}
        for name, value in values.items():
            got = getattr(rows["lb4m01aaq_curve.fits"], name)
            assert got == (pytest.approx(value, rel=1e-14) if isinstance(value, float) else value), name
        assert rows["lb4m01aaq_curve.fits"].variable is True
        assert rows["lb4m02abq_curve.fits"].variable is False
        assert rows["lb4m02abq_curve.fits"].method_version is None
        fingerprints = stats_fingerprints(session)
    assert fingerprints["lb4m01aaq_curve.fits"].method_version == 2
    assert fingerprints["lb4m01aaq_curve.fits"].method_settings == "fap<0.001 p<0.001"
    assert fingerprints["lb4m02abq_curve.fits"] == StatsFingerprint(None, None, None)


def test_new_fields_round_trip_on_upgraded_catalog(old_catalog: Catalog) -> None:
    old_catalog.check_schema()
    with old_catalog.session() as session:
        assert stats_fingerprints(session) == {
            "lb4m01aaq_curve.fits": StatsFingerprint("ab" * 32, "individual", None)
        }
    _check_new_fields_round_trip(old_catalog)


def test_new_fields_round_trip_on_new_catalog(catalog: Catalog) -> None:
    assert catalog.missing_columns() == []
    _check_new_fields_round_trip(catalog)


def test_upgrade_refuses_a_missing_not_null_column(catalog_url: str) -> None:
    _make_old_catalog(catalog_url, other_tables=True, without=("lightcurve_path",))
    catalog = Catalog.from_url(catalog_url)
    try:
        assert catalog.missing_columns() == ["stats.lightcurve_path", *ADDED]
        with pytest.raises(CatalogError, match="table stats lacks column lightcurve_path, which is NOT NULL"):
            catalog.check_schema()
        with pytest.raises(CatalogError, match="lightcurve_path"):
            catalog.upgrade_schema()
        assert catalog.missing_columns() == ["stats.lightcurve_path", *ADDED]  # nothing half-done
    finally:
        catalog.dispose()


def test_upgrade_survives_a_concurrent_upgrade(old_catalog: Catalog, catalog_url: str) -> None:
    """Another process adds a column between our inspection and our ALTER: we skip it and go on."""
    other = Catalog.from_url(catalog_url)
    raced: list[str] = []

    def _other_process_first(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("ALTER TABLE") and not raced:
            raced.append(statement)
            with other.engine.begin() as connection:
                connection.exec_driver_sql(statement)

    event.listen(old_catalog.engine, "before_cursor_execute", _other_process_first)
    try:
        added = old_catalog.upgrade_schema()
    finally:
        event.remove(old_catalog.engine, "before_cursor_execute", _other_process_first)
        other.dispose()
    assert len(raced) == 1 and "variable" in raced[0]
    assert added == ADDED[1:]  # the raced column is not reported as ours
    assert old_catalog.missing_columns() == []
    _assert_old_row_kept(old_catalog)


def test_db_init_says_which_columns_it_added(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hstlc.cli import app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    _make_old_catalog(url, other_tables=True)
    runner = CliRunner()
    first = runner.invoke(app, ["--home-dir", str(tmp_path), "--db", url, "db", "init"])
    assert first.exit_code == 0, first.output
    assert f"Added {len(NEW_COLUMNS)} column(s)" in first.output and "stats.method_settings" in first.output
    second = runner.invoke(app, ["--home-dir", str(tmp_path), "--db", url, "db", "init"])
    assert "up to date" in second.output


# --- indexes: a catalog made before an index existed gains it on first use ------------------------------

LISTING_INDEXES = [
    "ix_metadata_target_datasets", "ix_outputs_composite_filename", "ix_outputs_individual_filename",
]


def _index(name: str) -> Index:
    return next(i for table in Base.metadata.tables.values() for i in table.indexes if i.name == name)


def _drop_listing_indexes(catalog: Catalog) -> None:
    for name in LISTING_INDEXES:
        _index(name).drop(catalog.engine)


def test_an_old_stats_table_gains_its_index_after_its_columns(
    old_catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    assert old_catalog.missing_indexes() == ["ix_stats_listing"]  # it needs columns the old table lacks
    with caplog.at_level(logging.INFO, logger="hstlc.catalog.store"):
        old_catalog.check_schema()
    assert old_catalog.missing_indexes() == [] and old_catalog.missing_columns() == []
    assert "added index(es) ix_stats_listing" in caplog.text
    assert "ix_stats_listing" in {i["name"] for i in inspect(old_catalog.engine).get_indexes("stats")}
    _assert_old_row_kept(old_catalog)


def test_a_catalog_without_the_listing_indexes_gains_them_when_opened(catalog: Catalog,
                                                                      catalog_url: str) -> None:
    _drop_listing_indexes(catalog)
    assert catalog.missing_indexes() == LISTING_INDEXES
    assert catalog.upgrade_schema() == []  # the columns added: none
    assert catalog.missing_indexes() == []
    _drop_listing_indexes(catalog)
    opened = Catalog.open_existing(catalog_url)  # what the read-only listings use
    try:
        assert opened.missing_indexes() == []
    finally:
        opened.dispose()


def test_an_index_that_cannot_be_made_is_a_warning(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _index("ix_outputs_composite_filename").drop(catalog.engine)

    def refused(self: Index, bind: Any, checkfirst: bool = False) -> None:
        raise OperationalError("CREATE INDEX", {}, Exception("permission denied for schema public"))

    monkeypatch.setattr(Index, "create", refused)
    with caplog.at_level(logging.WARNING, logger="hstlc.catalog.store"):
        catalog.check_schema()  # the catalog is still usable
    assert "cannot add index ix_outputs_composite_filename on outputs (permission denied" in caplog.text
    assert catalog.missing_indexes() == ["ix_outputs_composite_filename"]
    assert catalog.status()["outputs"] == 0


def test_an_index_another_process_made_meanwhile_is_skipped(catalog: Catalog, catalog_url: str) -> None:
    _index("ix_outputs_individual_filename").drop(catalog.engine)
    other = Catalog.from_url(catalog_url)
    raced: list[str] = []

    def _other_process_first(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().startswith("CREATE INDEX") and not raced:
            raced.append(statement)
            with other.engine.begin() as connection:
                connection.exec_driver_sql(statement)

    event.listen(catalog.engine, "before_cursor_execute", _other_process_first)
    try:
        catalog.check_schema()
    finally:
        event.remove(catalog.engine, "before_cursor_execute", _other_process_first)
        other.dispose()
    assert len(raced) == 1 and "ix_outputs_individual_filename" in raced[0]
    assert catalog.missing_indexes() == []
