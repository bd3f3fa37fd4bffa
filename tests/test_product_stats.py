"""run_stats on the catalog (SQLite and the servers): incremental by sha256, product choice, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from hstlc.catalog import Catalog, Stats, upsert_metadata, upsert_outputs
from hstlc.config import Settings, load_settings
from hstlc.domain import SECONDS_PER_DAY, LightCurve
from hstlc.errors import CatalogError, InputFileError
from hstlc.product_stats import band_summary, compute_stats, run_stats, stats_for_file, stats_for_files
from hstlc.products import read_lightcurve, write_lightcurve
from hstlc.science.variability import STATS_VERSION
from hstlc.workers import Progress


def write_product(path: Path, *, seed: int, period: float | None = None, amp: float = 0.0,
                  rate: float = 8.0, n: int = 900, step: float = 2.0) -> Path:
    rng = np.random.default_rng(seed)
    times = np.arange(n) * step
    bins = np.full(n, step)
    model = rate + (amp * np.sin(2 * np.pi * times / period) if period else np.zeros(n))
    counts = rng.poisson(model * bins).astype(np.float64)
    zeros = np.zeros(n)
    lc = LightCurve(
        times=times, mjd=56000.0 + times / SECONDS_PER_DAY, bins=bins, gross=counts, background=zeros,
        counts=counts, net=counts / bins, error=np.sqrt(counts), flux=zeros, flux_error=zeros,
        signal_to_noise=zeros, dataset=np.ones(n, dtype=np.int32),
        meta={"STEPSIZE": step, "ROOTNAME": path.name[:9], "EXPSTART": 56000.0},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_lightcurve(lc, path, overwrite=True)


def add_outputs(catalog: Catalog, rootname: str, individual: Path | None, composite: Path | None) -> None:
    with catalog.session() as session:
        row = upsert_metadata(session, f"{rootname}_corrtag_a.fits", path="/data", targname="GD71")
        session.flush()
        upsert_outputs(
            session, row.id,
            individual_path=str(individual.parent) if individual else None,
            individual_filename=individual.name if individual else None,
            composite_path=str(composite.parent) if composite else None,
            composite_filename=composite.name if composite else None,
        )


@pytest.fixture
def stocked(catalog: Catalog, tmp_path: Path) -> dict[str, Path]:
    """Two individual products sharing one composite, plus a periodic third with no composite."""
    out = tmp_path / "outputs" / "GD71"
    comp = tmp_path / "composites" / "hlsp_hstlc_hst_cos-fuv_gd71_g130m_1291_psa_v1_sci.fits"
    files = {
        "a": write_product(out / "lb4m01aaq_curve.fits", seed=1),
        "b": write_product(out / "lb4m01abq_curve.fits", seed=2),
        "c": write_product(out / "lb4m01acq_curve.fits", seed=3, period=200.0, amp=4.0),
        "comp": write_product(comp, seed=4, n=1800),
    }
    add_outputs(catalog, "lb4m01aaq", files["a"], files["comp"])
    add_outputs(catalog, "lb4m01abq", files["b"], files["comp"])
    add_outputs(catalog, "lb4m01acq", files["c"], None)
    return files


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(overrides={"home_dir": tmp_path / "home", **overrides}).settings


def _rows(catalog: Catalog) -> dict[str, Stats]:
    with catalog.session() as session:
        return {row.lightcurve_filename: row for row in session.execute(select(Stats)).scalars()}


def test_first_run_computes_everything_and_stores_rows(
    catalog: Catalog, stocked: dict[str, Path], tmp_path: Path
) -> None:
    calls: list[Progress] = []
    outcomes = run_stats(catalog, _settings(tmp_path), progress=calls.append)
    assert [o.filename for o in outcomes] == sorted(p.name for p in stocked.values())
    assert {o.status for o in outcomes} == {"computed"}
    assert [(c.phase, c.done, c.total, c.failed) for c in calls] == [("stats", i, 4, 0) for i in range(1, 5)]
    assert sorted(c.item for c in calls) == [o.filename for o in outcomes]

    rows = _rows(catalog)
    assert set(rows) == {p.name for p in stocked.values()}
    comp = rows[stocked["comp"].name]
    assert comp.product_type == "composite" and rows[stocked["a"].name].product_type == "individual"
    assert comp.lightcurve_path == str(stocked["comp"].parent)
    periodic = rows[stocked["c"].name]
    assert periodic.periodogram is True and periodic.deliver is True and periodic.variable is True
    assert periodic.best_period == pytest.approx(200.0, rel=0.005) and periodic.fap < 1e-3
    assert periodic.method_version == STATS_VERSION and periodic.method_settings == "fap<0.001 p<0.001"
    constant = rows[stocked["a"].name]
    assert constant.periodogram is False and constant.variable is False
    assert constant.chi2_reduced == pytest.approx(1.0, abs=0.3) and constant.chi2_p > 1e-3
    expected = compute_stats(read_lightcurve(stocked["c"]))
    assert periodic.total == pytest.approx(expected.total)
    assert periodic.poisson_factor == pytest.approx(expected.poisson_factor)
    assert periodic.details is not None
    short = periodic.details["bands"]["short"]
    assert short["best_period"] == pytest.approx(200.0, rel=0.02) and short["fap"] < 1e-3
    assert periodic.details["bands"]["long"]["skipped"].startswith("no period in 3600–36000 s")
    assert periodic.details["verdict"] == "periodic"
    assert rows[stocked["a"].name].details["verdict"] == "constant"
    assert len(periodic.product_sha256 or "") == 64 and periodic.computed_at is not None
    summary = band_summary(outcomes[-1], "short")
    assert summary is not None and summary["best_period"] == pytest.approx(200.0, rel=0.02)


@pytest.mark.slow
def test_second_run_computes_nothing_and_a_changed_file_is_recomputed(
    catalog: Catalog, stocked: dict[str, Path], tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    run_stats(catalog, settings)
    before = {name: (row.product_sha256, row.computed_at, row.total) for name, row in _rows(catalog).items()}

    again = run_stats(catalog, settings)
    assert {o.status for o in again} == {"unchanged"}
    stored = {o.filename: o.values for o in again}  # an unchanged product's verdict, as stored
    assert all(v["method_version"] == STATS_VERSION and "details" in v for v in stored.values())
    assert stored[stocked["c"].name]["periodogram"] is True and again[0].verdict is not None
    assert {n: (r.product_sha256, r.computed_at, r.total) for n, r in _rows(catalog).items()} == before

    write_product(stocked["b"], seed=99, rate=30.0)  # the product changed on disk
    third = {o.filename: o.status for o in run_stats(catalog, settings)}
    assert third.pop(stocked["b"].name) == "computed"
    assert set(third.values()) == {"unchanged"}
    after = _rows(catalog)[stocked["b"].name]
    assert after.product_sha256 != before[stocked["b"].name][0]
    assert after.total != before[stocked["b"].name][2]

    everything = run_stats(catalog, settings, recompute_all=True)
    assert {o.status for o in everything} == {"computed"}


@pytest.mark.slow
def test_stats_of_an_older_method_or_other_settings_are_recomputed(
    catalog: Catalog, stocked: dict[str, Path], tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    run_stats(catalog, settings)
    name = stocked["a"].name
    with catalog.session() as session:  # as the first method left it
        row = session.execute(select(Stats).where(Stats.lightcurve_filename == name)).scalar_one()
        row.method_version, row.method_settings, row.variable = None, None, None
    outcomes = {o.filename: o.status for o in run_stats(catalog, settings)}
    assert outcomes.pop(name) == "computed" and set(outcomes.values()) == {"unchanged"}
    assert _rows(catalog)[name].method_version == STATS_VERSION
    # a stricter FAP threshold changes the verdicts' settings: everything is recomputed
    strict = _settings(tmp_path, periodogram_fap_threshold=1e-6)
    assert {o.status for o in run_stats(catalog, strict)} == {"computed"}
    assert {r.method_settings for r in _rows(catalog).values()} == {"fap<1e-06 p<0.001"}
    original = _settings(tmp_path, flag_rule="original")
    assert {o.status for o in run_stats(catalog, original)} == {"computed"}
    rows = _rows(catalog)
    assert rows[stocked["c"].name].details["flag_rule"] == "original"
    assert {r.method_settings for r in rows.values()} == {"original power>=0.3 pf>1.5"}


@pytest.mark.slow
@pytest.mark.parametrize(("choice", "expected"), [("individual", {"a", "b", "c"}), ("composite", {"comp"})])
def test_product_choice(
    catalog: Catalog, stocked: dict[str, Path], tmp_path: Path, choice: str, expected: set[str]
) -> None:
    outcomes = run_stats(catalog, _settings(tmp_path), products=choice)  # type: ignore[arg-type]
    assert {o.filename for o in outcomes} == {stocked[k].name for k in expected}
    assert {o.product_type for o in outcomes} == {choice}
    with pytest.raises(ValueError, match="products must be one of"):
        run_stats(catalog, _settings(tmp_path), products="all")  # type: ignore[arg-type]


def test_missing_and_corrupt_products_are_reported_not_fatal(
    catalog: Catalog, stocked: dict[str, Path], tmp_path: Path
) -> None:
    stocked["a"].unlink()
    stocked["b"].write_bytes(b"SIMPLE  = not really a FITS file")
    outcomes = {o.filename: o for o in run_stats(catalog, _settings(tmp_path))}
    missing, corrupt = outcomes[stocked["a"].name], outcomes[stocked["b"].name]
    assert missing.status == "missing" and not missing.ok
    assert missing.error == f"lb4m01aaq_curve.fits: no such file ({stocked['a']})"
    assert corrupt.status == "failed"
    assert corrupt.error is not None and corrupt.error.startswith("lb4m01abq_curve.fits: ")
    assert outcomes[stocked["c"].name].status == "computed"
    assert set(_rows(catalog)) == {stocked["c"].name, stocked["comp"].name}
    # once the file is back it is computed
    write_product(stocked["a"], seed=1)
    statuses = {o.filename: o.status for o in run_stats(catalog, _settings(tmp_path))}
    assert statuses[stocked["a"].name] == "computed"


def test_uninitialised_catalog_advises_db_init(tmp_path: Path) -> None:
    empty = Catalog.from_url(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(CatalogError, match="run 'hstlc db init'"):
            run_stats(empty, _settings(tmp_path))
    finally:
        empty.dispose()


def test_outputs_with_full_paths_are_understood(catalog: Catalog, tmp_path: Path) -> None:
    product = write_product(tmp_path / "x" / "lb4m02aaq_curve.fits", seed=5)
    with catalog.session() as session:
        row = upsert_metadata(session, "lb4m02aaq_corrtag_a.fits", path="/data")
        session.flush()
        upsert_outputs(session, row.id, individual_path=str(product), individual_filename=product.name)
    (outcome,) = run_stats(catalog, _settings(tmp_path))
    assert outcome.status == "computed" and outcome.path == product


@pytest.mark.slow
def test_parallel_run_matches_serial(
    request: pytest.FixtureRequest, tmp_path: Path, catalog_url: str
) -> None:
    if not catalog_url.startswith("sqlite"):
        pytest.skip("one backend is enough for the worker-process path")
    request.getfixturevalue("stocked")
    catalog = Catalog.from_url(catalog_url)
    try:
        serial = {o.filename: o.values for o in run_stats(catalog, _settings(tmp_path), recompute_all=True)}
        parallel = run_stats(catalog, _settings(tmp_path, num_cores=2), recompute_all=True)
        on_dask = run_stats(catalog, _settings(tmp_path, scheduler_address="local:2"), recompute_all=True)
    finally:
        catalog.dispose()
    assert [o.status for o in parallel] == [o.status for o in on_dask] == ["computed"] * 4
    assert {o.filename: o.values for o in parallel} == serial
    assert {o.filename: o.values for o in on_dask} == serial


def test_stats_for_file_and_files(tmp_path: Path) -> None:
    product = write_product(tmp_path / "lb4m03aaq_curve.fits", seed=6, period=150.0, amp=4.0)
    settings = _settings(tmp_path, flag_rule="original", periodogram_power_threshold=0.99)
    stats = stats_for_file(product, settings)
    assert stats.band("short").best_period == pytest.approx(150.0, rel=0.02)
    assert stats.periodogram is False  # the settings are used
    assert stats_for_file(product).periodogram is True
    assert stats_for_file(product, _settings(tmp_path, periodogram_fap_threshold=1e-300)).periodogram is False
    with pytest.raises(InputFileError, match=r"lb4m03xxx_curve\.fits: no such file"):
        stats_for_file(tmp_path / "lb4m03xxx_curve.fits")
    good, bad = stats_for_files([product, tmp_path / "nope.fits"])
    assert good.status == "computed" and good.product_type is None and good.values["periodogram"] is True
    assert bad.status == "missing" and bad.as_dict()["error"].startswith("nope.fits: no such file")
